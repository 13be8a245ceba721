//! Mapping whole documents and streams; per-record failures carry everything a dead letter needs.

use crate::exec::{RuleError, RunState};
use crate::formats::read::{read_all, InputError, InputRecord, JsonLines};
use crate::formats::write::{write_records, WriteError};
use crate::formats::Format;
use crate::plan::Mapping;
use serde_json::Value;
use std::io::{BufRead, Write};

/// A record that failed: the input record, where it was, the rule that failed and the
/// mapping version (content hash), so it can go to the dead-letter queue and be replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFailure {
    pub record_number: usize,
    pub location: String,
    pub input: Value,
    /// The document around the record when `$doc.` paths may read it (replay with
    /// [`Mapping::map_record_in`]).
    pub doc: Option<std::sync::Arc<Value>>,
    pub error: RuleError,
    pub mapping: String,
    pub mapping_hash: String,
}

impl std::fmt::Display for RecordFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.error)
    }
}

/// The result of mapping a document: good records in order, failures beside them.
#[derive(Debug, Default)]
pub struct MapOutcome {
    pub records: Vec<Value>,
    pub failures: Vec<RecordFailure>,
    /// The input was one JSON object (not an array), so JSON output is one object.
    pub single: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("input {0}")]
    Input(#[from] InputError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl Mapping {
    /// Maps already-read records; one failing record does not stop the others.
    pub fn map_records(&self, records: Vec<InputRecord>) -> MapOutcome {
        let mut state = RunState::default();
        let mut out = MapOutcome::default();
        for r in records {
            let res = match &r.doc {
                Some(doc) => self.map_record_in(&r.value, doc, &mut state),
                None => self.map_record(&r.value, &mut state),
            };
            match res {
                Ok(v) => out.records.push(v),
                Err(error) => out.failures.push(self.failure(r, error)),
            }
        }
        out
    }

    fn failure(&self, r: InputRecord, error: RuleError) -> RecordFailure {
        RecordFailure {
            record_number: r.number,
            location: r.location,
            input: r.value,
            doc: r.doc,
            error,
            mapping: self.name.clone(),
            mapping_hash: self.hash.clone(),
        }
    }

    /// Reads a document in the mapping's source format and maps every record.
    pub fn map_document(&self, input: &[u8]) -> Result<MapOutcome, InputError> {
        let records = read_all(&self.source, input)?;
        let single = matches!(self.source.format, Format::Json | Format::Canonical(_))
            && self.source.records.is_none()
            && !self.source.lines
            && input
                .iter()
                .copied()
                .find(|b| !b.is_ascii_whitespace() && *b != 0xef && *b != 0xbb && *b != 0xbf)
                == Some(b'{');
        let mut out = self.map_records(records);
        out.single = single;
        Ok(out)
    }

    /// Writes mapped records in `format` (the mapping's target format unless overridden).
    pub fn write(
        &self,
        out: &mut dyn Write,
        outcome: &MapOutcome,
        format: Option<Format>,
    ) -> Result<(), WriteError> {
        write_records(
            out,
            &self.target,
            &self.root,
            &outcome.records,
            format.unwrap_or(self.target.format),
            outcome.single,
        )
    }

    /// Streams JSON-lines input to JSON-lines output record by record, in constant memory.
    /// Failures go to `on_failure`; returns (records written, records failed).
    pub fn map_jsonl_stream(
        &self,
        input: impl BufRead,
        out: &mut dyn Write,
        mut on_failure: impl FnMut(RecordFailure),
    ) -> Result<(usize, usize), RunError> {
        let mut state = RunState::default();
        let (mut ok, mut failed) = (0, 0);
        let mut line = Vec::with_capacity(256);
        for r in JsonLines::new(input) {
            let r = r?;
            match self.map_record(&r.value, &mut state) {
                Ok(v) => {
                    line.clear();
                    serde_json::to_writer(&mut line, &v).map_err(WriteError::from)?;
                    line.push(b'\n');
                    out.write_all(&line).map_err(WriteError::from)?;
                    ok += 1;
                }
                Err(e) => {
                    failed += 1;
                    on_failure(self.failure(r, e));
                }
            }
        }
        Ok((ok, failed))
    }
}
