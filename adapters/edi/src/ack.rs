//! Acknowledgements as pure functions: inbound interchange + its validation + the control
//! numbers we allocated (the store does the allocation) → document text.
//!
//! * X12: one interchange back to the sender (ISA sender/receiver swapped, the inbound
//!   delimiters, version and test flag mirrored) holding an optional TA1 and a `GS*FA` group
//!   with one 997 (or 999 for 005010 groups when asked) per inbound functional group.
//! * EDIFACT: a CONTRL with UCI for the interchange and UCM/UCS/UCD for rejected messages.
//!
//! Inbound acknowledgements (997/999/TA1/CONTRL, functional id `FA`) are never acknowledged.
//!
//! An ack must itself be a valid document: a mirrored envelope value that is invalid is
//! replaced by the partner profile's ([`AckOptions::envelope`]), never echoed, and a duplicate
//! interchange gets only the interchange-level rejection (TA1 R/025, UCI 4/26). The codes come
//! from the one table in [`codes`].

use crate::interchange::{Group, Interchange};
use crate::partner::PartyId;
use crate::report::{Code, Issue};
use crate::syntax::Standard;
use crate::validate::{SetStatus, Validation};
use crate::writer::{EdifactWriter, IsaFields, UnbFields, WriteError, X12Writer};
use chrono::NaiveDateTime;

/// Control numbers for the acknowledgement, allocated by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckControls {
    pub interchange: u32,
    pub group: u32,
    /// First ST02 / UNH reference; each further set takes the next number.
    pub first_set: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FunctionalAck {
    #[default]
    F997,
    /// 999 for 005010 groups (older groups still get a 997).
    F999,
    None,
}

/// Our identifiers and the partner's, from the partner profile. An acknowledgement normally
/// mirrors the inbound envelope; where a mirrored value is itself invalid (an ISA05 of `nn`, a
/// syntax identifier `XXXX`) it says these instead, because an ack that echoes an invalid value
/// is rejected by the partner's translator before the error it reports is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeIds {
    pub us: PartyId,
    pub them: PartyId,
    /// ISA12 of ours (`00401`, `00501`).
    pub isa_version: String,
    /// UNB syntax identifier and version of ours (`UNOC`, `3`).
    pub syntax: String,
    pub syntax_version: String,
}

/// What the partner's profile asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckOptions {
    pub functional: FunctionalAck,
    /// Send a TA1 when the partner sets ISA14 = 1.
    pub ta1_when_requested: bool,
    /// Send a TA1 whenever the interchange envelope has errors.
    pub ta1_on_envelope_error: bool,
    pub now: NaiveDateTime,
    /// What to answer an invalid envelope value with; `None` (no profile, e.g. the CLI): such
    /// an interchange gets no acknowledgement, a [`WriteError`] naming the value instead.
    pub envelope: Option<EnvelopeIds>,
}

/// The 999 implementation guide (ST03, and GS08 of a group of 999s).
const X231A1: &str = "005010X231A1";

/// AK5/IK5 or AK9 acknowledgement code.
fn ack_code(accepted: usize, received: usize, group_error: bool) -> &'static str {
    if group_error || accepted == 0 && received > 0 {
        "R"
    } else if accepted < received {
        "P"
    } else {
        "A"
    }
}

pub mod codes;
use codes::{x12_note, X12Note, X12Site};

/// Where an issue inside set `g` lands in a 997 / 999 (the table is in [`codes`]).
fn ak_level(i: &Issue, v5010: bool) -> X12Note {
    let seg = i.location.segment_id.as_deref();
    let known_tag = i.code == Code::UnrecognizedSegment
        && seg.is_some_and(|id| {
            id.len() <= 3
                && crate::spec::x12::tables()
                    .is_ok_and(|t| t.segment(crate::spec::tag_key(id)).is_some())
        });
    x12_note(
        i.code,
        X12Site {
            at_trailer: seg == Some("SE"),
            component: i.location.component.is_some(),
            v5010,
            known_tag,
        },
    )
}

/// TA105 note code for the first interchange-level error.
fn ta1_note(issues: &[Issue]) -> Option<&'static str> {
    let first = issues
        .iter()
        .find(|i| i.is_error() && i.scope.group.is_none() && i.scope.set.is_none())?;
    let isa_element = match first.location.segment_id.as_deref() {
        Some("ISA") => first.location.element,
        _ => None,
    };
    Some(codes::ta1_note(first.code, isa_element))
}

/// Whether the inbound envelope segment at `seg` (the ISA/UNB at 0, or a GS/UNG) has an error
/// on element `n`. A header of the wrong shape (`BadHeader` without an element) counts as wrong
/// everywhere.
fn envelope_invalid(ic: &Interchange, v: &Validation, seg: usize, n: usize) -> bool {
    let at = Some(ic.segment(seg).index);
    v.issues.iter().any(|i| {
        // A duplicate names ISA13 / UNB05 but the value itself is valid.
        i.is_error()
            && i.code != Code::DuplicateControlNumber
            && i.scope.set.is_none()
            && i.location.segment_index == at
            && (i.location.element == Some(n)
                || i.location.element.is_none() && i.code == Code::BadHeader)
    })
}

/// Who the acknowledgement is from and to, as (qualifier, id): us as the inbound's receiver
/// (elements `els[0]` of envelope segment `seg`) and them as its sender (`els[1]`), each pair
/// mirrored when both its values are valid, else the profile's.
fn addressees(
    ic: &Interchange,
    v: &Validation,
    seg: (usize, &str),
    els: [(usize, usize); 2],
    ids: Option<&EnvelopeIds>,
) -> Result<[(String, String); 2], WriteError> {
    let h = &ic.header;
    let inbound = [
        (h.receiver_qualifier.as_str(), h.receiver.as_str()),
        (h.sender_qualifier.as_str(), h.sender.as_str()),
    ];
    let mut out: [(String, String); 2] = Default::default();
    for (k, ((q, id), echo)) in els.into_iter().zip(inbound).enumerate() {
        out[k] = if !envelope_invalid(ic, v, seg.0, q) && !envelope_invalid(ic, v, seg.0, id) {
            (echo.0.to_string(), echo.1.to_string())
        } else {
            let p = ids
                .map(|p| if k == 0 { &p.us } else { &p.them })
                .ok_or_else(|| no_profile(seg.1, q, echo.0, echo.1))?;
            (p.qualifier.clone(), p.id.clone())
        };
    }
    Ok(out)
}

fn no_profile(seg: &str, n: usize, a: &str, b: &str) -> WriteError {
    WriteError::Value {
        segment: seg.into(),
        element: n,
        reason: format!(
            "the inbound {seg}{n:02} ({a:?} / {b:?}) is invalid and no partner profile gives our \
             own identifiers to answer with (an acknowledgement never echoes an invalid value)"
        ),
    }
}

/// The inbound value at element `n` of envelope segment `seg`, or an error when it is invalid:
/// values only the inbound can give (its control reference, date and time) have no
/// substitute.
fn echo<'a>(
    ic: &Interchange,
    v: &Validation,
    seg: (usize, &str),
    n: usize,
    value: &'a str,
) -> Result<&'a str, WriteError> {
    if envelope_invalid(ic, v, seg.0, n) {
        return Err(WriteError::Value {
            segment: seg.1.into(),
            element: n,
            reason: format!(
                "the inbound {}{n:02} {value:?} is invalid; an acknowledgement cannot echo it",
                seg.1
            ),
        });
    }
    Ok(value)
}

/// A duplicate interchange (its control reference from this sender seen before) is answered
/// at the interchange level only: a TA1 R/025 or a CONTRL UCI 4/26, never also an
/// acknowledgement that accepts its groups.
fn is_duplicate(v: &Validation) -> bool {
    v.issues
        .iter()
        .any(|i| i.is_error() && i.code == Code::DuplicateControlNumber && i.scope.group.is_none())
}

/// Marks `ic` as a duplicate in its validation `v`: its control reference from this sender was
/// received before, in an earlier input (the mailbox finds the first copy already stored), so
/// it is answered exactly as a duplicate within one input is ([`x12_ack`]: TA1 R/025 alone;
/// [`contrl`]: UCI action 4, syntax error 26, alone). A validation that already says so (the
/// reader found both copies in one input) is left as it is.
pub fn mark_duplicate(ic: &Interchange, v: &mut Validation) {
    if is_duplicate(v) {
        return;
    }
    let mut loc = ic.seg_loc(0, None, None);
    loc.element = Some(if ic.standard == Standard::X12 { 13 } else { 5 });
    v.issues.push(Issue::error(
        Code::DuplicateControlNumber,
        loc,
        format!(
            "duplicate interchange: control number {} from this sender was already received",
            ic.header.control
        ),
    ));
}

fn sanitize(v: &str, ic: &Interchange) -> String {
    v.chars()
        .map(|c| {
            if c.is_ascii() && ic.delimiters.is_special(c as u8) || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .take(99)
        .collect()
}

fn is_ack_group(g: &Group) -> bool {
    g.functional_id == "FA"
        || g.sets
            .iter()
            .all(|s| matches!(s.set_type.as_str(), "997" | "999" | "CONTRL"))
}

/// The X12 acknowledgement interchange for `ic`, or `None` when nothing is due (no TA1 asked
/// for, and every group is itself an acknowledgement or acks are switched off).
pub fn x12_ack(
    ic: &Interchange,
    v: &Validation,
    ctl: &AckControls,
    opts: &AckOptions,
) -> Result<Option<String>, WriteError> {
    let duplicate = is_duplicate(v);
    let ta1_due = duplicate
        || (opts.ta1_when_requested && ic.header.ack_requested)
        || (opts.ta1_on_envelope_error && ta1_note(&v.issues).is_some());
    let groups: Vec<usize> = (0..ic.groups.len())
        .filter(|&g| ic.groups[g].header.is_some() && !is_ack_group(&ic.groups[g]))
        .collect();
    let functional_due = !duplicate && opts.functional != FunctionalAck::None && !groups.is_empty();
    if !ta1_due && !functional_due {
        return Ok(None);
    }
    // Mirror the partner's delimiters unless they are unusable (then the standard ones).
    let d = if ic.delimiters.is_distinct() {
        ic.delimiters
    } else {
        crate::syntax::Delimiters::X12_DEFAULT
    };
    let mut w = X12Writer::new(d);
    let ids = opts.envelope.as_ref();
    let version = if ic.header.syntax_version.len() == 5 && !envelope_invalid(ic, v, 0, 12) {
        ic.header.syntax_version.clone()
    } else {
        ids.map_or("00401", |p| p.isa_version.as_str()).to_string()
    };
    let h = &ic.header;
    let isa = (0, "ISA");
    let [(us_q, us), (them_q, them)] = addressees(ic, v, isa, [(7, 8), (5, 6)], ids)?;
    w.isa(&IsaFields {
        sender_qualifier: us_q,
        sender: us,
        receiver_qualifier: them_q,
        receiver: them,
        date: opts.now.format("%y%m%d").to_string(),
        time: opts.now.format("%H%M").to_string(),
        version,
        control: ctl.interchange,
        ack_requested: false,
        test: ic.header.test,
    })?;
    if ta1_due {
        let note = if duplicate {
            Some(codes::ta1_note(Code::DuplicateControlNumber, None))
        } else {
            ta1_note(&v.issues)
        };
        let code = if note.is_some() { "R" } else { "A" };
        w.seg(
            "TA1",
            &[
                echo(ic, v, isa, 13, &h.control)?,
                echo(ic, v, isa, 9, &h.date)?,
                echo(ic, v, isa, 10, &h.time)?,
                code,
                note.unwrap_or("000"),
            ],
        )?;
    }
    if functional_due {
        let first = &ic.groups[groups[0]];
        // A group of 999s names the 999's implementation guide in GS08 as in ST03
        // (005010X231A1); pyx12 found us sending the bare 005010 there, which picks no 999
        // map. A 997 group keeps the acknowledged group's version.
        let all_999 = opts.functional == FunctionalAck::F999
            && groups
                .iter()
                .all(|&g| ic.groups[g].version.starts_with("005010"));
        let gs08 = if all_999 {
            X231A1
        } else {
            first.version.as_str()
        };
        // GS02/GS03 mirrored, or ours and theirs when the inbound ones are invalid.
        let gs = first.header.unwrap_or(0);
        let app = |n: usize, echo: &str, pick: fn(&EnvelopeIds) -> &PartyId| {
            if !envelope_invalid(ic, v, gs, n) {
                return Ok(echo.to_string());
            }
            ids.map(|p| pick(p).application().to_string())
                .ok_or_else(|| no_profile("GS", n, echo, ""))
        };
        let gs_sender = app(3, &first.receiver, |p| &p.us)?;
        let gs_receiver = app(2, &first.sender, |p| &p.them)?;
        w.gs(
            "FA",
            &gs_sender,
            &gs_receiver,
            &opts.now.format("%Y%m%d").to_string(),
            &opts.now.format("%H%M").to_string(),
            ctl.group,
            gs08,
        )?;
        for (&g, set_ctl) in groups.iter().zip(ctl.first_set..) {
            let group = &ic.groups[g];
            let use_999 =
                opts.functional == FunctionalAck::F999 && group.version.starts_with("005010");
            functional_group_ack(&mut w, ic, v, g, set_ctl, use_999)?;
        }
        w.ge()?;
    }
    w.iea()?;
    Ok(Some(w.finish()))
}

fn functional_group_ack(
    w: &mut X12Writer,
    ic: &Interchange,
    v: &Validation,
    g: usize,
    set_ctl: u32,
    use_999: bool,
) -> Result<(), WriteError> {
    let group = &ic.groups[g];
    let v5010 = group.version.starts_with("005010");
    let ctl = format!("{set_ctl:04}");
    let (set_id, impl_ref) = if use_999 {
        ("999", Some(X231A1))
    } else {
        ("997", None)
    };
    w.st(
        set_id,
        &ctl,
        if v5010 {
            impl_ref.or(Some(group.version.as_str()))
        } else {
            None
        },
    )?;
    let gs08 = if v5010 { group.version.as_str() } else { "" };
    w.seg("AK1", &[&group.functional_id, &group.control, gs08])?;
    let mut accepted = 0;
    for (s, set) in group.sets.iter().enumerate() {
        let st03 = if v5010 { set.version.as_str() } else { "" };
        w.seg("AK2", &[&set.set_type, &set.control, st03])?;
        let status = v
            .set_status
            .get(g)
            .and_then(|x| x.get(s))
            .copied()
            .unwrap_or(SetStatus::Rejected);
        let mut set_codes: Vec<&str> = Vec::new();
        // Segment-level notes, grouped by segment (one AK3/IK3 then its AK4/IK4s).
        let mut last_seg: Option<usize> = None;
        let mut notes = 0;
        for issue in v.set_issues(g, s) {
            let level = ak_level(issue, v5010);
            if let X12Note::Set(code) = level {
                if issue.is_error() || code == "1" {
                    set_codes.push(code);
                }
                continue;
            }
            if !issue.is_error() || notes >= 99 || level == X12Note::NotReported {
                continue;
            }
            let seg_id = issue.location.segment_id.clone().unwrap_or_default();
            let pos = issue.location.set_position.unwrap_or(0).to_string();
            let loop_id = issue.location.loop_id.clone().unwrap_or_default();
            let loop_id: String = loop_id.chars().take(4).collect();
            let (seg_tag, el_tag) = if use_999 {
                ("IK3", "IK4")
            } else {
                ("AK3", "AK4")
            };
            match level {
                X12Note::Segment(Some(code)) => {
                    w.seg(seg_tag, &[&seg_id, &pos, &loop_id, code])?;
                    last_seg = None;
                }
                // No 718 code fits: the 997 names the segment without AK304 (optional
                // there); the 999 guide requires IK304, so it says IK502 = 5 alone.
                X12Note::Segment(None) => {
                    if !use_999 {
                        w.seg(seg_tag, &[&seg_id, &pos, &loop_id])?;
                    }
                    last_seg = None;
                }
                X12Note::Element(code) => {
                    if last_seg != issue.location.segment_index {
                        w.seg(seg_tag, &[&seg_id, &pos, &loop_id, "8"])?;
                        last_seg = issue.location.segment_index;
                    }
                    let el = issue.location.element.unwrap_or(1).to_string();
                    let comp = issue
                        .location
                        .component
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                    let bad = issue
                        .message
                        .split('"')
                        .nth(1)
                        .map(|b| sanitize(b, ic))
                        .unwrap_or_default();
                    w.seg_c(el_tag, &[&[&el, &comp], &[""], &[code], &[&bad]])?;
                }
                X12Note::Set(_) | X12Note::NotReported => {}
            }
            notes += 1;
        }
        let (code, extra) = match status {
            SetStatus::Accepted | SetStatus::AcceptedWithWarnings => ("A", None),
            SetStatus::NotSupported => ("R", Some("1")),
            SetStatus::Rejected => (
                "R",
                if set_codes.is_empty() {
                    Some("5")
                } else {
                    None
                },
            ),
        };
        if code == "A" {
            accepted += 1;
        }
        let mut codes: Vec<&str> = set_codes.clone();
        codes.extend(extra);
        codes.dedup();
        codes.truncate(5);
        let mut els = vec![code];
        els.extend(codes);
        w.seg(if use_999 { "IK5" } else { "AK5" }, &els)?;
    }
    // Group-level problems (GE count / control number / missing GE).
    let mut group_codes: Vec<&str> = v
        .issues
        .iter()
        .filter(|i| i.is_error() && i.scope.group == Some(g) && i.scope.set.is_none())
        .filter_map(|i| codes::x12_group_code(i.code))
        .collect();
    group_codes.dedup();
    group_codes.truncate(5);
    let received = group.sets.len();
    let included = group
        .trailer
        .map(|t| ic.segment(t).get(1).into_owned())
        .filter(|n| n.parse::<u32>().is_ok())
        .unwrap_or_else(|| received.to_string());
    let code = ack_code(accepted, received, !group_codes.is_empty());
    let (r, a) = (
        received.to_string(),
        if group_codes.is_empty() {
            accepted.to_string()
        } else {
            "0".into()
        },
    );
    let mut els = vec![code, &included, &r, &a];
    els.extend(group_codes);
    w.seg("AK9", &els)?;
    w.se()
}

/// The CONTRL for an EDIFACT interchange: UCI action 7 (accepted) or 4 (rejected), plus a UCM
/// (with UCS/UCD for located errors) for every rejected message. `None` for an inbound CONTRL.
pub fn contrl(
    ic: &Interchange,
    v: &Validation,
    ctl: &AckControls,
    opts: &AckOptions,
) -> Result<Option<String>, WriteError> {
    let now = opts.now;
    let ids = opts.envelope.as_ref();
    if ic.standard != Standard::Edifact
        || ic.groups.iter().all(is_ack_group) && !ic.groups.is_empty()
    {
        return Ok(None);
    }
    let d = if ic.delimiters.is_distinct() {
        ic.delimiters
    } else {
        crate::syntax::Delimiters::EDIFACT_DEFAULT
    };
    let mut w = EdifactWriter::new(d, ic.una);
    let unb = (0, "UNB");
    let (syntax, version) = match ic.header.syntax_version.split_once(':') {
        Some(sv) if !envelope_invalid(ic, v, 0, 1) => sv,
        _ => ids
            .map(|p| (p.syntax.as_str(), p.syntax_version.as_str()))
            .ok_or_else(|| no_profile("UNB", 1, &ic.header.syntax_version, ""))?,
    };
    let h = &ic.header;
    let [(us_q, us), (them_q, them)] = addressees(ic, v, unb, [(3, 3), (2, 2)], ids)?;
    let date = if version == "4" {
        now.format("%Y%m%d")
    } else {
        now.format("%y%m%d")
    }
    .to_string();
    w.unb(&UnbFields {
        syntax: syntax.into(),
        syntax_version: version.into(),
        sender: us.clone(),
        sender_qualifier: us_q.clone(),
        receiver: them.clone(),
        receiver_qualifier: them_q.clone(),
        date,
        time: now.format("%H%M").to_string(),
        control: ctl.interchange.to_string(),
        ack_requested: false,
        test: ic.header.test,
    })?;
    // The CONTRL of syntax 4 is its own message version (4.1, with UCF/UCM groups for UNG
    // groups); syntax 1-3 partners read the directory-independent `CONTRL:D:3:UN`.
    let msg_version: [&str; 4] = if version == "4" {
        ["CONTRL", "4", "1", "UN"]
    } else {
        ["CONTRL", "D", "3", "UN"]
    };
    w.unh(&ctl.first_set.to_string(), &msg_version)?;
    let duplicate = is_duplicate(v);
    let envelope_err = v.issues.iter().find(|i| {
        i.is_error()
            && i.scope.group.is_none()
            && (!duplicate || i.code == Code::DuplicateControlNumber)
    });
    let action = if envelope_err.is_some() { "4" } else { "7" };
    let ucd_code = |i: &Issue| codes::edifact(i.code);
    let env_code = envelope_err.map(ucd_code).unwrap_or("");
    w.seg_c(
        "UCI",
        &[
            &[echo(ic, v, unb, 5, &h.control)?],
            &[&them, &them_q],
            &[&us, &us_q],
            &[action],
            &[env_code],
        ],
    )?;
    if duplicate {
        // Answered at the interchange level only (as X12's TA1 R/025).
        w.unt()?;
        w.unz()?;
        return Ok(Some(w.finish()));
    }
    // Messages outside any UNG first (segment group 1), then one UCF per UNG group with the
    // UCMs of its rejected messages (segment groups 3/4): the CONTRL structure's order.
    let (loose, grouped): (Vec<usize>, Vec<usize>) =
        (0..ic.groups.len()).partition(|&g| ic.groups[g].header.is_none());
    for &g in &loose {
        contrl_messages(&mut w, ic, v, g, &ucd_code)?;
    }
    for &g in &grouped {
        let group = &ic.groups[g];
        let group_err = v
            .issues
            .iter()
            .find(|i| i.is_error() && i.scope.group == Some(g) && i.scope.set.is_none());
        let all_rejected = !group.sets.is_empty()
            && (0..group.sets.len()).all(|s| {
                !matches!(
                    v.set_status.get(g).and_then(|x| x.get(s)).copied(),
                    Some(SetStatus::Accepted | SetStatus::AcceptedWithWarnings)
                )
            });
        let action = if group_err.is_some() || all_rejected {
            "4"
        } else {
            "7"
        };
        w.seg_c(
            "UCF",
            &[
                &[&group.control],
                &[&group.sender],
                &[&group.receiver],
                &[action],
                &[group_err.map(ucd_code).unwrap_or("")],
            ],
        )?;
        contrl_messages(&mut w, ic, v, g, &ucd_code)?;
    }
    w.unt()?;
    w.unz()?;
    Ok(Some(w.finish()))
}

/// UCM (with UCS/UCD) for every rejected message of group `g`.
fn contrl_messages(
    w: &mut EdifactWriter,
    ic: &Interchange,
    v: &Validation,
    g: usize,
    ucd_code: &dyn Fn(&Issue) -> &'static str,
) -> Result<(), WriteError> {
    let group = &ic.groups[g];
    {
        for (s, set) in group.sets.iter().enumerate() {
            let status = v
                .set_status
                .get(g)
                .and_then(|x| x.get(s))
                .copied()
                .unwrap_or(SetStatus::Rejected);
            if matches!(
                status,
                SetStatus::Accepted | SetStatus::AcceptedWithWarnings
            ) {
                continue;
            }
            let mut parts = set.version.split(':');
            let (ver, rel, agency) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            let first = v
                .set_issues(g, s)
                .find(|i| i.is_error())
                .map(ucd_code)
                .unwrap_or(if status == SetStatus::NotSupported {
                    codes::edifact(Code::UnsupportedSet)
                } else {
                    ""
                });
            w.seg_c(
                "UCM",
                &[
                    &[&set.control],
                    &[&set.set_type, ver, rel, agency],
                    &["4"],
                    &[first],
                ],
            )?;
            let mut last: Option<usize> = None;
            for issue in v.set_issues(g, s).filter(|i| i.is_error()).take(99) {
                let pos = issue.location.set_position.unwrap_or(0).to_string();
                if last != issue.location.segment_index {
                    let seg_code = if issue.location.element.is_none() {
                        ucd_code(issue)
                    } else {
                        ""
                    };
                    w.seg("UCS", &[&pos, seg_code])?;
                    last = issue.location.segment_index;
                }
                if let Some(el) = issue.location.element {
                    let el = el.to_string();
                    let comp = issue
                        .location
                        .component
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                    w.seg_c("UCD", &[&[ucd_code(issue)], &[&el, &comp]])?;
                }
            }
        }
    }
    Ok(())
}
