//! What the EDI end-to-end tests share: the partner they play, and readers of what they find in
//! mailboxes (directory listings, documents split into segments and elements).

use std::path::Path;

/// The X12 trading partner most EDI tests play (`[partners.acme]` without its mailbox): ISA
/// 12/5551234567 sending to us as ZZ/SWITCHYARD, 004010.
pub const ACME_X12: &str = r#"standard = "x12"
version = "004010"
us = { qualifier = "ZZ", id = "SWITCHYARD" }
them = { qualifier = "12", id = "5551234567" }"#;

/// Names of the complete files in `dir` (no dot files), sorted; empty when the directory does
/// not exist (yet).
pub fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                // A mailbox writes `.NAME.UUID.tmp` and renames it when complete: a test
                // looking while a document is being written must not read half of one.
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// An X12 document as segments of elements, using the delimiters in its ISA.
pub fn x12_segments(text: &str) -> Vec<Vec<String>> {
    let bytes = text.as_bytes();
    assert!(text.starts_with("ISA"), "{text}");
    let element = bytes[3] as char;
    let terminator = bytes[105] as char;
    text.split(terminator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.split(element).map(str::to_owned).collect())
        .collect()
}

/// An EDIFACT document with the default delimiters as segments of elements (components are
/// left joined; the documents these tests read carry no release characters).
pub fn edifact_segments(text: &str) -> Vec<Vec<String>> {
    let body = text.strip_prefix("UNA").map(|t| &t[6..]).unwrap_or(text);
    body.split('\'')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.split('+').map(str::to_owned).collect())
        .collect()
}
