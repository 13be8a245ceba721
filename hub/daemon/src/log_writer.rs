//! The daemon's log output, with every known credential value masked.
//!
//! Any crate may log an error that quotes a partner's answer, and a careless partner quotes our
//! credentials back; masking at each call site would miss one. So the formatted line is masked
//! on its way to stderr with the process's [`SecretValues`] (filled in as secrets are
//! resolved). tracing-subscriber formats an event into one buffer and writes it through a
//! writer made for that event; the writer here keeps the bytes until it is dropped, so a value
//! split across two `write` calls is still masked.

use std::io::Write;
use switchyard_core::redact::SecretValues;
use tracing_subscriber::fmt::MakeWriter;

/// Makes a [`MaskedLine`] per event.
pub struct MaskedStderr {
    values: &'static SecretValues,
}

impl MaskedStderr {
    pub fn new() -> Self {
        Self {
            values: SecretValues::process(),
        }
    }
}

impl Default for MaskedStderr {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> MakeWriter<'a> for MaskedStderr {
    type Writer = MaskedLine;

    fn make_writer(&'a self) -> MaskedLine {
        MaskedLine {
            values: self.values,
            buffer: Vec::with_capacity(256),
        }
    }
}

/// One event's output, masked and written to stderr when dropped.
pub struct MaskedLine {
    values: &'static SecretValues,
    buffer: Vec<u8>,
}

impl Write for MaskedLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for MaskedLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buffer);
        // Nowhere to report a failed write to stderr.
        let _ = std::io::stderr().write_all(self.values.redact(&text).as_bytes());
    }
}
