//! The parts of `orasql` (the SQL*Plus of this project) that need no server, so that they
//! are unit-tested line by line against what SQL*Plus 19c prints:
//!
//! - [`logon`]: `user/password@identifier [AS SYSDBA|SYSOPER]`, as on SQL*Plus's command
//!   line and in `CONNECT`;
//! - [`accept`]: `ACCEPT`'s options and the check of its reply;
//! - [`binds`]: bind variables: `VARIABLE`, `:name` in statements, `PRINT`;
//! - [`buffer`]: SQL*Plus's input rules: the SQL buffer (`;` runs, a blank line or `.` ends
//!   it, `/` and `RUN` run it, `LIST`, `APPEND`, `CHANGE`, `DEL`, `INPUT`), PL/SQL blocks
//!   that end only at `/` or `.`, which first words are SQL*Plus commands, and the SP2
//!   messages for those that are neither;
//! - [`settings`]: `SET`, `SHOW` and `COLUMN`, with SQL*Plus's defaults and texts;
//! - [`spool`]: `SPOOL file [CREATE|REPLACE|APPEND]`, `SPOOL OFF`: the copy of the output
//!   in a file;
//! - [`substitution`]: `DEFINE`, `UNDEFINE`, `&name` / `&&name` and VERIFY's `old`/`new`
//!   lines;
//! - [`report`]: `BREAK` and `COMPUTE`: the definitions, their listings, the functions;
//! - [`title`]: `TTITLE` and `BTITLE`, new and old forms;
//! - [`render`]: result sets as SQL*Plus lays them out (heading as wide as the column's data
//!   type, records wider than LINESIZE continued under their own headings, pages of
//!   PAGESIZE lines, NUMWIDTH, `n rows selected.` from FEEDBACK rows on),
//!   DESCRIBE, SHOW PARAMETER, the feedback of other statements and error reports.
//!
//! The binary (`src/bin/orasql.rs`) is the loop around them: terminal, connection, Ctrl-C.

pub mod accept;
pub mod binds;
pub mod buffer;
pub mod logon;
pub mod render;
pub mod report;
pub mod settings;
pub mod spool;
pub mod substitution;
pub mod title;

pub use buffer::{Buffer, Command, ExitCode, Input, SqlErrorAction};
pub use logon::{Logon, parse_logon};
pub use render::{feedback, render_error, render_table};
pub use settings::Settings;

/// `SP2-nnnn: text`: SQL*Plus's own messages, from the one table of message texts.
pub fn sp2(code: u32, args: &[&str]) -> String {
    tns::error_text::Facility::Sp2.line_with(code, args)
}
