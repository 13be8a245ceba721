//! Located problems: every warning or error names where it is, in words a partner's support
//! person understands, and carries a machine code the acknowledgement builders map to
//! AK3/AK4/AK5/AK9, TA1 and CONTRL codes.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Tolerated deviation (a BOM, a padded ISA): the document is still accepted.
    Warning,
    /// The document (or the part named by the location) is rejected.
    Error,
}

/// What went wrong, as a closed set so acknowledgements can map it to standard codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    // tolerated deviations
    ByteOrderMark,
    IsaNotFixedWidth,
    /// Segments broken across lines (a file wrapped at a fixed width).
    WrappedLines,
    // input that is not an interchange at all
    NoHeader,
    BadHeader,
    UnsupportedSyntax,
    // envelopes
    MissingTrailer,
    UnexpectedSegmentOutsideSet,
    ControlNumberMismatch,
    CountMismatch,
    DuplicateControlNumber,
    // transaction set structure
    UnsupportedSet,
    UnrecognizedSegment,
    UnexpectedSegment,
    MissingSegment,
    SegmentOverMaxUse,
    LoopOverMax,
    Hierarchy,
    // elements
    MissingElement,
    TooManyElements,
    TooShort,
    TooLong,
    InvalidCharacter,
    InvalidCode,
    InvalidDate,
    InvalidTime,
    InvalidNumber,
    /// A relational condition (X12 syntax note P/R/C/L) requires an element that is missing.
    ConditionalRequired,
    /// A relational condition (X12 syntax note E) excludes an element that is present.
    ExclusionViolated,
}

/// Where a problem is. Every field is optional because an envelope problem has no set and a
/// segment problem may have no element; absent fields are left out of the JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interchange: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// `850`, `ORDERS`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<String>,
    /// 1-based position of the segment in the whole file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_index: Option<usize>,
    /// 1-based position inside its transaction set / message (ST or UNH is 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_position: Option<usize>,
    /// Loop / segment group the segment is in (`N1`, `PO1`, `HL`, `SG2`, `SG25`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loop_id: Option<String>,
    /// 1-based element position (ISA01 is 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<usize>,
    /// 1-based component position inside a composite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<usize>,
    /// Byte offset of the segment in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(i) = &self.interchange {
            parts.push(format!("interchange {i}"));
        }
        if let Some(g) = &self.group {
            parts.push(format!("group {g}"));
        }
        if let Some(s) = &self.set {
            match &self.set_type {
                Some(t) => parts.push(format!("{t} {s}")),
                None => parts.push(format!("set {s}")),
            }
        }
        if let Some(seg) = &self.segment_id {
            let mut s = format!("segment {seg}");
            match (self.segment_index, self.set_position) {
                (Some(i), Some(p)) => s.push_str(&format!(" (#{i} in file, #{p} in set)")),
                (Some(i), None) => s.push_str(&format!(" (#{i} in file)")),
                (None, Some(p)) => s.push_str(&format!(" (#{p} in set)")),
                (None, None) => {}
            }
            parts.push(s);
        }
        if let Some(e) = self.element {
            let name = self
                .segment_id
                .as_deref()
                .map(|s| format!("{s}{e:02}"))
                .unwrap_or_else(|| format!("element {e}"));
            match self.component {
                Some(c) => parts.push(format!("{name} component {c}")),
                None => parts.push(name),
            }
        }
        if let Some(o) = self.byte_offset {
            parts.push(format!("byte {o}"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// One located problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub location: Location,
    /// Which group / set of the interchange (indexes into `Interchange::groups` and the
    /// group's `sets`) the issue belongs to, so acknowledgements can sort issues per set even
    /// when a partner reuses control numbers.
    #[serde(skip)]
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    pub group: Option<usize>,
    pub set: Option<usize>,
}

impl Issue {
    pub fn error(code: Code, location: Location, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            location,
            scope: Scope::default(),
        }
    }
    pub fn warning(code: Code, location: Location, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            code,
            message: message.into(),
            location,
            scope: Scope::default(),
        }
    }
    pub fn in_scope(mut self, group: Option<usize>, set: Option<usize>) -> Self {
        self.scope = Scope { group, set };
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let loc = self.location.to_string();
        if loc.is_empty() {
            write!(f, "{sev}: {}", self.message)
        } else {
            write!(f, "{sev} at {loc}: {}", self.message)
        }
    }
}
