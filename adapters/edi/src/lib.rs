//! EDI for Switchyard: X12 (004010, 005010) and EDIFACT (D96A, D01B) parsing, envelope control
//! checks, validation against compact segment tables, acknowledgements (997/999/TA1/CONTRL) and
//! generation of outbound 855/856/810 and ORDRSP/DESADV/INVOIC from the canonical model.
//!
//! Everything here is pure (no database, no I/O beyond the `BufRead` the caller hands in):
//! control numbers for outbound documents are passed in, so the store can allocate them.
//!
//! * [`reader::InterchangeReader`]: streaming over any `BufRead`, one interchange at a time
//!   (memory bounded by the largest interchange plus a 64 KiB chunk); [`read_all`] for bytes.
//! * [`interchange::Interchange`]: segments, groups, sets, envelope control checks and issues.
//! * [`validate::validate`]: per-set validation against [`spec`], returns a
//!   [`validate::Validation`] (located issues plus a status per set).
//! * [`ack`]: 997 / 999 / TA1 ([`ack::x12_ack`]) and CONTRL ([`ack::contrl`]) builders.
//! * [`writer`], [`generate`]: the envelope of outbound 855/856/810 and ORDRSP/DESADV/INVOIC
//!   around the body segments mapping files produce ([`tree::from_tree`]), for a
//!   [`partner::PartnerProfile`]; SSCC-18 helpers.
//! * [`tree`]: one set as a JSON tree shaped by its structure table ([`tree::to_tree`]) and
//!   back to body segments ([`tree::from_tree`]), for mapping files in both directions.
//! * [`regroup`]: an EDIFACT tree carried between directories' segment group numbers, so one
//!   mapping file serves D96A and D01B.
//! * [`cli`]: `switchyard edi parse|validate|ack` ([`cli::EdiArgs`], [`cli::run`]).
//! * [`synth`]: bulk synthetic documents for benchmarks and memory checks.

pub mod ack;
pub mod cli;
pub mod generate;
pub mod interchange;
pub mod partner;
pub mod reader;
pub mod regroup;
pub mod report;
pub mod spec;
pub mod syntax;
pub mod synth;
pub mod tree;
pub mod validate;
pub mod writer;

pub use interchange::{Group, Header, Interchange, TxSet};
pub use reader::{read_all, InterchangeReader, Unit};
pub use report::{Code, Issue, Location, Severity};
pub use syntax::{Delimiters, Segment, Standard};
