//! The engine's one error: an Oracle error with its code, text and the offset in the SQL
//! text, as the client receives it. The SQL subset, the V$ views and the instance port all
//! return it, so nothing is converted by hand between them. Its text comes from
//! [`tns::error_text`], Oracle's own wording; the engine writes no message of its own. The
//! lines of other facilities that an ORA- error carries as its text, the PL/SQL compiler's
//! under ORA-06550 and DBMS_OUTPUT's under ORA-20000, come from there too ([`pls_line`],
//! [`oru_line`]).

use thiserror::Error;
use tns::error_text::Facility;
use tns::ttc::message::ErrorInfo;

/// An Oracle error raised while parsing or running a statement.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", self.text())]
pub struct OraError {
    /// The ORA number.
    pub code: u32,
    /// The message after `ORA-nnnnn: ` (with the further lines of the stack, if any).
    pub message: String,
    /// Offset in the SQL text (0-based), reported to the client.
    pub offset: u32,
}

impl OraError {
    /// ORA-`code` with Oracle's text, at `offset` in the SQL text (0 where there is none).
    pub fn new(code: u32, offset: usize) -> Self {
        OraError::with_args(code, &[], offset)
    }

    /// ORA-`code` with Oracle's text, its `%s` markers filled from `args` in order.
    pub fn with_args(code: u32, args: &[&str], offset: usize) -> Self {
        let message = tns::error_text::ora_text_with(code, args);
        debug_assert!(message.is_some(), "ORA-{code:05} is not in tns::error_text");
        OraError {
            code,
            message: message.unwrap_or_default(),
            offset: u32::try_from(offset).unwrap_or(0),
        }
    }

    /// An error whose display is a whole stack as Oracle prints it (`ORA-nnnnn: text`, then
    /// further lines), such as the instance's and the password file's errors.
    pub fn from_stack(code: u32, stack: &str) -> Self {
        let prefix = format!("ORA-{code:05}: ");
        OraError {
            code,
            message: stack.strip_prefix(&prefix).unwrap_or(stack).to_string(),
            offset: 0,
        }
    }

    /// `ORA-nnnnn: message` (`ORA-nnnnn` alone when there is no text).
    pub fn text(&self) -> String {
        if self.message.is_empty() {
            format!("ORA-{:05}", self.code)
        } else {
            format!("ORA-{:05}: {}", self.code, self.message)
        }
    }

    /// The error as the client receives it (code and text; no cursor or offset).
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo::error(self.code, self.text())
    }

    /// ORA-00900.
    pub fn invalid_sql() -> Self {
        OraError::new(900, 0)
    }
}

/// `PLS-nnnnn: text` from [`tns::error_text`], its `%s` markers filled from `args`: the
/// PL/SQL compiler's line that ORA-06550 carries after its position.
pub fn pls_line(code: u32, args: &[&str]) -> String {
    line(Facility::Pls, code, args)
}

/// `ORU-nnnnn: text` from [`tns::error_text`], its `%s` markers filled from `args`: a
/// DBMS_OUTPUT message, raised as the text of ORA-20000.
pub fn oru_line(code: u32, args: &[&str]) -> String {
    line(Facility::Oru, code, args)
}

fn line(facility: Facility, code: u32, args: &[&str]) -> String {
    debug_assert!(
        facility.text(code).is_some(),
        "{}-{code:05} is not in tns::error_text",
        facility.prefix()
    );
    facility.line_with(code, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_filled_and_stacks_keep_their_further_lines() {
        let e = OraError::with_args(904, &["\"NOSUCH\""], 7);
        assert_eq!(e.text(), "ORA-00904: \"NOSUCH\": invalid identifier");
        assert_eq!(e.offset, 7);
        // ORA-03137 has eight markers; Oracle prints the unused ones as empty brackets.
        assert_eq!(
            OraError::with_args(3137, &["12"], 0).text(),
            "ORA-03137: malformed TTC packet from client rejected: [12] [] [] [] [] [] [] []"
        );
        let s = OraError::from_stack(
            1034,
            "ORA-01034: ORACLE not available\nORA-27101: shared memory realm does not exist",
        );
        assert_eq!(
            s.message,
            "ORACLE not available\nORA-27101: shared memory realm does not exist"
        );
        assert_eq!(
            s.text(),
            "ORA-01034: ORACLE not available\nORA-27101: shared memory realm does not exist"
        );
    }
}
