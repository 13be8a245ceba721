//! Writers for outbound X12 and EDIFACT: the partner's delimiters, EDIFACT release-character
//! escaping, X12 refusal of delimiter characters in data (X12 has no escape), trailing empty
//! elements trimmed, and every count (SE01, GE01, IEA01, UNT, UNZ) computed, never typed in.

use crate::syntax::Delimiters;
use crate::tree::BodySegment;

/// Renders one component of a body segment (value, element, repetition, component indexes)
/// onto the line.
type RenderValue<'a> =
    dyn FnMut(&str, usize, usize, usize, &mut String) -> Result<(), WriteError> + 'a;

/// Elements × repetitions × components of a [`BodySegment`], trailing empty elements and
/// components dropped, joined with `d`'s separators; `value` renders one component (escaping
/// or refusing delimiter characters) and may fail.
fn body_line(
    d: &Delimiters,
    seg: &BodySegment,
    value: &mut RenderValue<'_>,
) -> Result<String, WriteError> {
    let mut line = seg.tag.clone();
    let filled = |reps: &Vec<Vec<String>>| reps.iter().any(|c| c.iter().any(|v| !v.is_empty()));
    let n = seg.elements.iter().rposition(filled).map_or(0, |i| i + 1);
    for (e, reps) in seg.elements[..n].iter().enumerate() {
        line.push(d.element as char);
        let reps_n = reps
            .iter()
            .rposition(|c| c.iter().any(|v| !v.is_empty()))
            .map_or(0, |i| i + 1);
        if reps_n > 1 && d.repetition.is_none() {
            return Err(WriteError::Value {
                segment: seg.tag.clone(),
                element: e + 1,
                reason: "a repeated element needs a repetition separator, which this \
                         interchange's version has none of"
                    .into(),
            });
        }
        for (r, comps) in reps[..reps_n].iter().enumerate() {
            if r > 0 {
                if let Some(rep) = d.repetition {
                    line.push(rep as char);
                }
            }
            let m = comps
                .iter()
                .rposition(|v| !v.is_empty())
                .map_or(0, |i| i + 1);
            for (c, v) in comps[..m].iter().enumerate() {
                if c > 0 {
                    line.push(d.component as char);
                }
                value(v, e, r, c, &mut line)?;
            }
        }
    }
    line.push(d.segment as char);
    Ok(line)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    #[error("{segment} element {element}: value {value:?} contains the delimiter {delimiter:?}, which X12 cannot escape")]
    Delimiter {
        segment: String,
        element: usize,
        value: String,
        delimiter: char,
    },
    #[error("{0} written outside its envelope")]
    Envelope(&'static str),
    #[error("{segment} element {element}: {reason}")]
    Value {
        segment: String,
        element: usize,
        reason: String,
    },
}

/// One element: its components (a simple element has one).
pub type Components<'a> = &'a [&'a str];

/// Values of an ISA the caller decides (the rest is fixed by the standard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsaFields {
    pub sender_qualifier: String,
    pub sender: String,
    pub receiver_qualifier: String,
    pub receiver: String,
    /// YYMMDD and HHMM.
    pub date: String,
    pub time: String,
    /// `00401`, `00501`.
    pub version: String,
    pub control: u32,
    pub ack_requested: bool,
    pub test: bool,
}

#[derive(Debug)]
pub struct X12Writer {
    d: Delimiters,
    out: String,
    isa_control: Option<u32>,
    groups: usize,
    group_control: Option<String>,
    sets: usize,
    set_control: Option<String>,
    set_segments: usize,
}

impl X12Writer {
    pub fn new(d: Delimiters) -> Self {
        X12Writer {
            d,
            out: String::new(),
            isa_control: None,
            groups: 0,
            group_control: None,
            sets: 0,
            set_control: None,
            set_segments: 0,
        }
    }

    fn raw_segment(
        &mut self,
        id: &str,
        elements: &[Components<'_>],
        check: bool,
    ) -> Result<(), WriteError> {
        let mut line = String::from(id);
        let n = elements
            .iter()
            .rposition(|e| e.iter().any(|c| !c.is_empty()))
            .map(|i| i + 1)
            .unwrap_or(0);
        for (i, comps) in elements[..n].iter().enumerate() {
            line.push(self.d.element as char);
            let m = comps
                .iter()
                .rposition(|c| !c.is_empty())
                .map(|i| i + 1)
                .unwrap_or(0);
            for (j, c) in comps[..m].iter().enumerate() {
                if j > 0 {
                    line.push(self.d.component as char);
                }
                if check {
                    if let Some(bad) = c.bytes().find(|&b| self.d.is_special(b)) {
                        return Err(WriteError::Delimiter {
                            segment: id.into(),
                            element: i + 1,
                            value: (*c).into(),
                            delimiter: bad as char,
                        });
                    }
                }
                line.push_str(c);
            }
        }
        line.push(self.d.segment as char);
        self.out.push_str(&line);
        if self.set_control.is_some() {
            self.set_segments += 1;
        }
        Ok(())
    }

    /// A segment of simple elements.
    pub fn seg(&mut self, id: &str, elements: &[&str]) -> Result<(), WriteError> {
        let comps: Vec<[&str; 1]> = elements.iter().map(|e| [*e]).collect();
        let refs: Vec<&[&str]> = comps.iter().map(|c| c.as_slice()).collect();
        self.raw_segment(id, &refs, true)
    }

    /// A segment whose elements may be composites.
    pub fn seg_c(&mut self, id: &str, elements: &[Components<'_>]) -> Result<(), WriteError> {
        self.raw_segment(id, elements, true)
    }

    /// A body segment from [`crate::tree::from_tree`]: delimiter characters in free text
    /// become spaces (X12 cannot escape them), in any other value they are refused.
    pub fn body(&mut self, seg: &BodySegment) -> Result<(), WriteError> {
        let d = self.d;
        let line = body_line(&d, seg, &mut |v, e, r, c, line| {
            if seg.is_free_text(e, r, c) {
                let clean: String = v
                    .chars()
                    .map(|ch| {
                        if ch.is_ascii() && d.is_special(ch as u8) {
                            ' '
                        } else {
                            ch
                        }
                    })
                    .collect();
                line.push_str(clean.trim_end());
                return Ok(());
            }
            if let Some(bad) = v.bytes().find(|&b| d.is_special(b)) {
                return Err(WriteError::Delimiter {
                    segment: seg.tag.clone(),
                    element: e + 1,
                    value: v.into(),
                    delimiter: bad as char,
                });
            }
            line.push_str(v);
            Ok(())
        })?;
        self.out.push_str(&line);
        if self.set_control.is_some() {
            self.set_segments += 1;
        }
        Ok(())
    }

    pub fn isa(&mut self, f: &IsaFields) -> Result<(), WriteError> {
        let pad = |s: &str, n: usize| format!("{s:<n$}");
        let rep = self.d.repetition.map(|r| r as char).unwrap_or('U');
        let rep = if f.version.as_str() >= "00402" {
            rep.to_string()
        } else {
            "U".to_string()
        };
        let comp = (self.d.component as char).to_string();
        let ctl = format!("{:09}", f.control);
        let fields = [
            "00".to_string(),
            pad("", 10),
            "00".into(),
            pad("", 10),
            pad(&f.sender_qualifier, 2),
            pad(&f.sender, 15),
            pad(&f.receiver_qualifier, 2),
            pad(&f.receiver, 15),
            f.date.clone(),
            f.time.clone(),
            rep,
            f.version.clone(),
            ctl,
            if f.ack_requested {
                "1".into()
            } else {
                "0".into()
            },
            if f.test { "T".into() } else { "P".into() },
            comp,
        ];
        // The ISA is fixed width: a value that does not fit is refused, never cut.
        let widths = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];
        for (i, (v, w)) in fields.iter().zip(widths).enumerate() {
            if v.chars().count() != w {
                return Err(WriteError::Value {
                    segment: "ISA".into(),
                    element: i + 1,
                    reason: format!("{v:?} does not fit the fixed width {w}"),
                });
            }
        }
        // ISA11 (repetition separator from 00402 on) and ISA16 are separators by definition.
        for (i, v) in fields.iter().enumerate().take(15).filter(|(i, _)| *i != 10) {
            if v.bytes().any(|b| self.d.is_special(b)) {
                return Err(WriteError::Delimiter {
                    segment: "ISA".into(),
                    element: i + 1,
                    value: v.clone(),
                    delimiter: '?',
                });
            }
        }
        let refs: Vec<[&str; 1]> = fields.iter().map(|s| [s.as_str()]).collect();
        let refs: Vec<&[&str]> = refs.iter().map(|c| c.as_slice()).collect();
        // ISA16 is the component separator itself, so it bypasses the delimiter check; and the
        // ISA keeps its (blank-padded) trailing fields, so no trimming either.
        let mut line = String::from("ISA");
        for r in &refs {
            line.push(self.d.element as char);
            line.push_str(r[0]);
        }
        line.push(self.d.segment as char);
        self.out.push_str(&line);
        self.isa_control = Some(f.control);
        Ok(())
    }

    // One argument per GS element the caller decides; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub fn gs(
        &mut self,
        functional_id: &str,
        sender: &str,
        receiver: &str,
        date8: &str,
        time: &str,
        control: u32,
        version: &str,
    ) -> Result<(), WriteError> {
        if self.isa_control.is_none() {
            return Err(WriteError::Envelope("GS"));
        }
        let c = control.to_string();
        self.seg(
            "GS",
            &[
                functional_id,
                sender,
                receiver,
                date8,
                time,
                &c,
                "X",
                version,
            ],
        )?;
        self.group_control = Some(c);
        self.groups += 1;
        self.sets = 0;
        Ok(())
    }

    pub fn st(
        &mut self,
        set_id: &str,
        control: &str,
        implementation: Option<&str>,
    ) -> Result<(), WriteError> {
        if self.group_control.is_none() {
            return Err(WriteError::Envelope("ST"));
        }
        self.set_control = Some(control.to_string());
        self.set_segments = 0;
        self.seg("ST", &[set_id, control, implementation.unwrap_or("")])?;
        self.sets += 1;
        Ok(())
    }

    pub fn se(&mut self) -> Result<(), WriteError> {
        let ctl = self.set_control.clone().ok_or(WriteError::Envelope("SE"))?;
        let count = (self.set_segments + 1).to_string();
        self.seg("SE", &[&count, &ctl])?;
        self.set_control = None;
        Ok(())
    }

    pub fn ge(&mut self) -> Result<(), WriteError> {
        let ctl = self
            .group_control
            .take()
            .ok_or(WriteError::Envelope("GE"))?;
        let n = self.sets.to_string();
        self.seg("GE", &[&n, &ctl])
    }

    pub fn iea(&mut self) -> Result<(), WriteError> {
        let ctl = self.isa_control.take().ok_or(WriteError::Envelope("IEA"))?;
        let n = self.groups.to_string();
        self.seg("IEA", &[&n, &format!("{ctl:09}")])
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// UNB values the caller decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnbFields {
    /// `UNOA`, `UNOB`, `UNOC`.
    pub syntax: String,
    /// `3` or `4`.
    pub syntax_version: String,
    pub sender: String,
    pub sender_qualifier: String,
    pub receiver: String,
    pub receiver_qualifier: String,
    /// YYMMDD (v3) or CCYYMMDD (v4), HHMM.
    pub date: String,
    pub time: String,
    pub control: String,
    pub ack_requested: bool,
    pub test: bool,
}

#[derive(Debug)]
pub struct EdifactWriter {
    d: Delimiters,
    out: String,
    unb_control: Option<String>,
    messages: usize,
    msg_ref: Option<String>,
    msg_segments: usize,
}

impl EdifactWriter {
    /// `una`: write the service string advice (needed whenever the delimiters are not the default).
    pub fn new(d: Delimiters, una: bool) -> Self {
        let mut out = String::new();
        if una || d != Delimiters::EDIFACT_DEFAULT {
            let c = |b: Option<u8>| b.map(|b| b as char).unwrap_or(' ');
            out.push_str(&format!(
                "UNA{}{}{}{}{}{}",
                d.component as char,
                d.element as char,
                d.decimal as char,
                c(d.release),
                c(d.repetition),
                d.segment as char
            ));
        }
        EdifactWriter {
            d,
            out,
            unb_control: None,
            messages: 0,
            msg_ref: None,
            msg_segments: 0,
        }
    }

    fn escape(&self, v: &str, out: &mut String) {
        for ch in v.chars() {
            if ch.is_ascii() && self.d.is_special(ch as u8) {
                if let Some(r) = self.d.release {
                    out.push(r as char);
                }
            }
            out.push(ch);
        }
    }

    pub fn seg_c(&mut self, id: &str, elements: &[Components<'_>]) -> Result<(), WriteError> {
        if self.d.release.is_none() {
            for (i, comps) in elements.iter().enumerate() {
                if let Some(c) = comps
                    .iter()
                    .find(|c| c.bytes().any(|b| self.d.is_special(b)))
                {
                    return Err(WriteError::Delimiter {
                        segment: id.into(),
                        element: i + 1,
                        value: (*c).into(),
                        delimiter: '?',
                    });
                }
            }
        }
        let mut line = String::from(id);
        let n = elements
            .iter()
            .rposition(|e| e.iter().any(|c| !c.is_empty()))
            .map(|i| i + 1)
            .unwrap_or(0);
        for comps in &elements[..n] {
            line.push(self.d.element as char);
            let m = comps
                .iter()
                .rposition(|c| !c.is_empty())
                .map(|i| i + 1)
                .unwrap_or(0);
            for (j, c) in comps[..m].iter().enumerate() {
                if j > 0 {
                    line.push(self.d.component as char);
                }
                self.escape(c, &mut line);
            }
        }
        line.push(self.d.segment as char);
        self.out.push_str(&line);
        if self.msg_ref.is_some() {
            self.msg_segments += 1;
        }
        Ok(())
    }

    pub fn seg(&mut self, id: &str, elements: &[&str]) -> Result<(), WriteError> {
        let comps: Vec<[&str; 1]> = elements.iter().map(|e| [*e]).collect();
        let refs: Vec<&[&str]> = comps.iter().map(|c| c.as_slice()).collect();
        self.seg_c(id, &refs)
    }

    /// A body segment from [`crate::tree::from_tree`], release characters added.
    pub fn body(&mut self, seg: &BodySegment) -> Result<(), WriteError> {
        let d = self.d;
        let line = body_line(&d, seg, &mut |v, e, _, _, line| {
            if d.release.is_none() && v.bytes().any(|b| d.is_special(b)) {
                return Err(WriteError::Delimiter {
                    segment: seg.tag.clone(),
                    element: e + 1,
                    value: v.into(),
                    delimiter: '?',
                });
            }
            self.escape(v, line);
            Ok(())
        })?;
        self.out.push_str(&line);
        if self.msg_ref.is_some() {
            self.msg_segments += 1;
        }
        Ok(())
    }

    pub fn unb(&mut self, f: &UnbFields) -> Result<(), WriteError> {
        self.seg_c(
            "UNB",
            &[
                &[&f.syntax, &f.syntax_version],
                &[&f.sender, &f.sender_qualifier],
                &[&f.receiver, &f.receiver_qualifier],
                &[&f.date, &f.time],
                &[&f.control],
                &[""],
                &[""],
                &[""],
                &[if f.ack_requested { "1" } else { "" }],
                &[""],
                &[if f.test { "1" } else { "" }],
            ],
        )?;
        self.unb_control = Some(f.control.clone());
        Ok(())
    }

    /// `message`: type, version, release, agency, association code (`ORDRSP`,`D`,`96A`,`UN`,`EAN008`).
    pub fn unh(&mut self, reference: &str, message: &[&str]) -> Result<(), WriteError> {
        if self.unb_control.is_none() {
            return Err(WriteError::Envelope("UNH"));
        }
        self.msg_ref = Some(reference.to_string());
        self.msg_segments = 0;
        self.seg_c("UNH", &[&[reference], message])?;
        self.messages += 1;
        Ok(())
    }

    pub fn unt(&mut self) -> Result<(), WriteError> {
        let r = self.msg_ref.clone().ok_or(WriteError::Envelope("UNT"))?;
        let n = (self.msg_segments + 1).to_string();
        self.seg("UNT", &[&n, &r])?;
        self.msg_ref = None;
        Ok(())
    }

    pub fn unz(&mut self) -> Result<(), WriteError> {
        let c = self.unb_control.take().ok_or(WriteError::Envelope("UNZ"))?;
        let n = self.messages.to_string();
        self.seg("UNZ", &[&n, &c])
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x12_refuses_delimiters_in_data_and_counts_segments() {
        let mut w = X12Writer::new(Delimiters::X12_DEFAULT);
        let isa = IsaFields {
            sender_qualifier: "ZZ".into(),
            sender: "US".into(),
            receiver_qualifier: "ZZ".into(),
            receiver: "THEM".into(),
            date: "260101".into(),
            time: "1200".into(),
            version: "00401".into(),
            control: 7,
            ack_requested: false,
            test: true,
        };
        w.isa(&isa).expect("isa");
        w.gs("PR", "US", "THEM", "20260101", "1200", 3, "004010")
            .expect("gs");
        w.st("855", "0001", None).expect("st");
        assert!(matches!(
            w.seg("N1", &["ST", "A*B"]),
            Err(WriteError::Delimiter { element: 2, .. })
        ));
        w.seg("BAK", &["00", "AC", "PO1", "20260101", "", ""])
            .expect("bak");
        w.se().expect("se");
        w.ge().expect("ge");
        w.iea().expect("iea");
        let out = w.finish();
        assert_eq!(out.find("GS").expect("gs"), 106);
        assert!(
            out.ends_with("ST*855*0001~BAK*00*AC*PO1*20260101~SE*3*0001~GE*1*3~IEA*1*000000007~"),
            "{out}"
        );
    }

    #[test]
    fn edifact_escapes_release_characters() {
        let mut w = EdifactWriter::new(Delimiters::EDIFACT_DEFAULT, false);
        let unb = UnbFields {
            syntax: "UNOC".into(),
            syntax_version: "3".into(),
            sender: "S".into(),
            sender_qualifier: "14".into(),
            receiver: "R".into(),
            receiver_qualifier: "14".into(),
            date: "260101".into(),
            time: "1200".into(),
            control: "42".into(),
            ack_requested: false,
            test: false,
        };
        w.unb(&unb).expect("unb");
        w.unh("1", &["ORDRSP", "D", "96A", "UN"]).expect("unh");
        w.seg_c("FTX", &[&["AAI"], &[""], &[""], &["IT'S 50+? OFF: NOW"]])
            .expect("ftx");
        w.unt().expect("unt");
        w.unz().expect("unz");
        let out = w.finish();
        assert_eq!(out, "UNB+UNOC:3+S:14+R:14+260101:1200+42'UNH+1+ORDRSP:D:96A:UN'FTX+AAI+++IT?'S 50?+?? OFF?: NOW'UNT+3+1'UNZ+1+42'");
    }
}
