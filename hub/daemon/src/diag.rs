//! Located problems in config and schedule files, printed as `file:line:col: message`.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(path: &Path, position: Option<(usize, usize)>, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.position.unwrap_or((1, 1));
        // TOML errors carry a multi-line message; keep only the first line after the location.
        let message = self.message.trim().lines().next().unwrap_or_default();
        write!(f, "{}:{line}:{col}: {message}", self.path.display())
    }
}

impl std::error::Error for Diagnostic {}

/// A file's text with its path, for turning byte offsets into line and column.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<Self, Diagnostic> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Diagnostic::new(path, None, format!("cannot read: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            text,
        })
    }

    /// 1-based line and column of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }

    pub fn diagnostic_at(&self, offset: Option<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.path, offset.map(|o| self.position(o)), message)
    }

    /// The position of the first line that starts with `needle` (after whitespace), for
    /// problems found after parsing (e.g. an adapter rejecting its partner table).
    pub fn find_line(&self, needle: &str) -> Option<(usize, usize)> {
        self.text
            .lines()
            .enumerate()
            .find(|(_, l)| l.trim_start().starts_with(needle))
            .map(|(i, l)| (i + 1, l.len() - l.trim_start().len() + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let s = SourceFile {
            path: "a.toml".into(),
            text: "ab\ncde\nf".into(),
        };
        assert_eq!(s.position(0), (1, 1));
        assert_eq!(s.position(4), (2, 2));
        assert_eq!(s.position(7), (3, 1));
        assert_eq!(
            s.diagnostic_at(Some(4), "bad\nmore").to_string(),
            "a.toml:2:2: bad"
        );
        assert_eq!(s.find_line("cde"), Some((2, 1)));
    }
}
