//! Located problems: every problem Switchyard finds in a file a person wrote (the config,
//! partner sections, schedules, mapping files, example pairs) is one [`Diagnostic`], printed
//! as `file:line:col: message` with an optional hint, so editors and CI logs can jump to it.
//!
//! Positions come from the parsers' own byte spans (toml / toml_edit), turned into lines and
//! columns by [`LineCol::of`]; nothing searches the text for a key by hand.

use std::fmt;
use std::path::{Path, PathBuf};

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

impl LineCol {
    /// The line and column of byte `offset` in `text` (clamped to the text).
    pub fn of(text: &str, offset: usize) -> LineCol {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = text[line_start..offset].chars().count() + 1;
        LineCol { line, col }
    }
}

/// A place in a file: the file, and where in it when the problem has a place.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loc {
    pub file: PathBuf,
    pub at: Option<LineCol>,
}

impl Loc {
    pub fn new(file: impl Into<PathBuf>, line: usize, col: usize) -> Loc {
        Loc {
            file: file.into(),
            at: Some(LineCol { line, col }),
        }
    }

    /// The file as a whole (a missing file, a problem with no single place).
    pub fn file(file: impl Into<PathBuf>) -> Loc {
        Loc {
            file: file.into(),
            at: None,
        }
    }

    /// Byte `offset` of `text`, the contents of `file`.
    pub fn at(file: &Path, text: &str, offset: usize) -> Loc {
        Loc {
            file: file.to_path_buf(),
            at: Some(LineCol::of(text, offset)),
        }
    }

    pub fn line(&self) -> Option<usize> {
        self.at.map(|p| p.line)
    }

    pub fn col(&self) -> Option<usize> {
        self.at.map(|p| p.col)
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(LineCol { line, col }) => write!(f, "{}:{line}:{col}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// One problem, located.
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

    /// A problem with the file as a whole.
    pub fn in_file(file: &Path, message: impl Into<String>) -> Self {
        Self::new(Loc::file(file), message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.message.trim_end())?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Every problem of one load or check, so callers print them all at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(v: Vec<Diagnostic>) -> Self {
        Diagnostics(v)
    }
}

/// A file's text with its path, for turning parser byte offsets into diagnostics.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<Self, Diagnostic> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Diagnostic::in_file(path, format!("cannot read: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            text,
        })
    }

    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    pub fn loc(&self, offset: Option<usize>) -> Loc {
        Loc {
            file: self.path.clone(),
            at: offset.map(|o| LineCol::of(&self.text, o)),
        }
    }

    /// A diagnostic at byte `offset` (the whole file when `None`).
    pub fn diagnostic_at(&self, offset: Option<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.loc(offset), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(
            LineCol::of(text, text.find('=').unwrap()),
            LineCol { line: 1, col: 3 }
        );
        // Columns count characters: `é` is two bytes and one column.
        assert_eq!(
            LineCol::of(text, text.rfind('=').unwrap()),
            LineCol { line: 2, col: 4 }
        );
        // An offset inside a character moves back to its start rather than panicking.
        assert_eq!(
            LineCol::of(text, text.find('é').unwrap() + 1),
            LineCol { line: 2, col: 2 }
        );
        assert_eq!(LineCol::of(text, 10_000), LineCol { line: 3, col: 1 });
    }

    #[test]
    fn diagnostics_print_file_line_col_and_hint() {
        let s = SourceFile::new("a.toml", "ab\ncde\nf");
        assert_eq!(
            s.diagnostic_at(Some(4), "bad").to_string(),
            "a.toml:2:2: bad"
        );
        assert_eq!(
            s.diagnostic_at(None, "missing").hint("copy it").to_string(),
            "a.toml: missing\n  hint: copy it"
        );
        let all = Diagnostics(vec![
            s.diagnostic_at(Some(0), "one"),
            s.diagnostic_at(Some(7), "two"),
        ]);
        assert_eq!(all.to_string(), "a.toml:1:1: one\na.toml:3:1: two");
    }
}
