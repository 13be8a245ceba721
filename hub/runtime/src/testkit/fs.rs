//! Files tests make that a plain `std::fs` call cannot: a FIFO, to check that nothing blocks on
//! one (a reader of a FIFO waits for a writer forever).

use std::path::Path;

/// Make a FIFO at `path` (mode 0600); panics, as a test helper, if it cannot.
pub fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap_or_else(|e| panic!("mkfifo {}: {e}", path.display()));
}
