//! Located diagnostics: every problem in a mapping file as `file:line:col: message` plus a hint.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a mapping file (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loc {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
}

impl Loc {
    /// Line and column of byte `offset` in `text` (columns count characters, not bytes).
    pub fn at(file: &Path, text: &str, offset: usize) -> Loc {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = text
            .get(line_start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        Loc {
            file: file.to_path_buf(),
            line,
            col,
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// One problem found while loading or checking a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub loc: Loc,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            loc,
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// All diagnostics of one load, so callers can print every problem at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

fn render(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_line_and_column() {
        let text = "a = 1\nbé = 2\n";
        let l = Loc::at(Path::new("m.toml"), text, text.find('=').unwrap());
        assert_eq!((l.line, l.col), (1, 3));
        let off = text.rfind('=').unwrap();
        let l = Loc::at(Path::new("m.toml"), text, off);
        assert_eq!((l.line, l.col), (2, 4));
        assert_eq!(l.to_string(), "m.toml:2:4");
    }
}
