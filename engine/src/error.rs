//! The engine's one error: an Oracle error with its code, text and the offset in the SQL
//! text, as the client receives it. The SQL subset, the V$ views and the instance port all
//! return it, so nothing is converted by hand between them.

use thiserror::Error;

/// An Oracle error raised while parsing or running a statement.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", self.text())]
pub struct OraError {
    /// The ORA number.
    pub code: u32,
    /// The message after `ORA-nnnnn: `.
    pub message: String,
    /// Offset in the SQL text (0-based), reported to the client.
    pub offset: u32,
}

impl OraError {
    /// An error at an offset.
    pub fn new(code: u32, message: impl Into<String>, offset: usize) -> Self {
        OraError {
            code,
            message: message.into(),
            offset: u32::try_from(offset).unwrap_or(0),
        }
    }

    /// `ORA-nnnnn: message`.
    pub fn text(&self) -> String {
        format!("ORA-{:05}: {}", self.code, self.message)
    }

    /// ORA-00900.
    pub fn invalid_sql() -> Self {
        OraError::new(900, "invalid SQL statement", 0)
    }
}
