//! Diagnostics shared by every parser in this crate.
//!
//! Oracle's own tools are terse about configuration mistakes ("TNS-12154" and nothing
//! else); a simulator used by DBAs must say *where* and *what*. Every parser returns its
//! model together with a list of [`Diagnostic`]s that render like a compiler message:
//! `file:line:col: error: expected ')' ...`.

use std::fmt;
use std::sync::Arc;

/// How bad a diagnostic is. Errors mean part of the file was skipped; warnings mean the
/// file was understood but something looks wrong or is not modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Understood, but suspicious or not modelled (unknown parameter, odd value).
    Warning,
    /// Part of the input could not be understood and was skipped.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A 1-based line and column (columns count characters, a tab counts as one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

/// One message about one place in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name as given by the caller (or `<string>` for in-memory text).
    pub file: Arc<str>,
    /// Where in the file.
    pub pos: Pos,
    /// Error or warning.
    pub severity: Severity,
    /// What was wrong, phrased as what was expected where possible.
    pub message: String,
}

impl Diagnostic {
    /// An error at `pos` in `file`.
    pub fn error(file: &Arc<str>, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: Arc::clone(file),
            pos,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    /// A warning at `pos` in `file`.
    pub fn warning(file: &Arc<str>, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: Arc::clone(file),
            pos,
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.pos.line, self.pos.col, self.severity, self.message
        )
    }
}

/// A model together with everything that was said while building it.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    /// The model built from everything that could be understood.
    pub value: T,
    /// Errors and warnings, in file order (included files appear where they were included).
    pub diagnostics: Vec<Diagnostic>,
}

impl<T> Parsed<T> {
    /// True when at least one diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

/// Maps byte offsets in a text to [`Pos`]. Built once per file.
///
/// Parsers ask for positions in increasing order, so the last answer is cached and the
/// next column is counted from there: a long one-line descriptor costs linear time, not
/// quadratic (the listener parses every CONNECT's descriptor on its event loop). In ASCII
/// text, where a character is a byte, the column is the byte distance from the line start.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    /// Byte offset where each line starts.
    starts: Vec<usize>,
    /// The text is ASCII.
    ascii: bool,
    /// Last answer: (offset, line index, 1-based column).
    last: std::cell::Cell<(usize, usize, u32)>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            starts,
            ascii: text.is_ascii(),
            last: std::cell::Cell::new((0, 0, 1)),
        }
    }

    /// True when the text is one line (no `\n`).
    pub(crate) fn single_line(&self) -> bool {
        self.starts.len() == 1
    }

    /// Position of byte `offset` in `text` (the same text the index was built from).
    pub(crate) fn pos(&self, text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        if self.ascii {
            return Pos {
                line: u32::try_from(line + 1).unwrap_or(u32::MAX),
                col: u32::try_from(offset - start + 1).unwrap_or(u32::MAX),
            };
        }
        let (last_off, last_line, last_col) = self.last.get();
        let col = if last_line == line && last_off <= offset {
            let more = text.get(last_off..offset).map_or(0, |s| s.chars().count());
            last_col.saturating_add(u32::try_from(more).unwrap_or(u32::MAX))
        } else {
            let n = text.get(start..offset).map_or(0, |s| s.chars().count());
            u32::try_from(n + 1).unwrap_or(u32::MAX)
        };
        self.last.set((offset, line, col));
        Pos {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            col,
        }
    }
}
