//! The alert log's layout, as Oracle Database 12.2 and later write the text alert log
//! (`alert_<SID>.log`): each message is preceded by a line holding its timestamp in ISO 8601
//! with microseconds and the time zone offset (`2026-12-05T08:43:04.752321+00:00`), and the
//! message itself stands alone on the lines after it — no level, no module path. The
//! instance logs through `tracing`; [`AlertFormat`] is the formatter that gives its events
//! this layout, so every thread's messages (pmon, lreg, dispatchers) read as Oracle's do.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `YYYY-MM-DDTHH:MI:SS.FFFFFF+00:00` for `t` (UTC, the instance's clock).
pub fn alert_timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let dt = tns::ttc::types::DateTime::from_unix(secs, 0);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        dt.year,
        dt.month,
        dt.day,
        dt.hour,
        dt.minute,
        dt.second,
        d.subsec_micros()
    )
}

/// The `tracing` event formatter of the alert log: timestamp line, then the message.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlertFormat;

impl<S, N> FormatEvent<S, N> for AlertFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writeln!(writer, "{}", alert_timestamp(SystemTime::now()))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Appends `message` under a timestamp line to instance `sid`'s alert log from a process
/// that does not log through the instance's `tracing` (a dedicated server, the startup
/// driver), as Oracle's server processes write their own entries (a dedicated server's
/// `TNS-12535` after a timeout). See [`append_to`].
pub fn append(oracle_home: &std::path::Path, sid: &str, message: &str) {
    append_to(&crate::instance::alert_log_path(oracle_home, sid), message);
}

/// Appends `message` under a timestamp line to the alert log at `path`: one `write` of an
/// `O_APPEND` file, so entries of several processes never interleave; nothing is written
/// when the log does not exist (a SID that is no database).
pub fn append_to(path: &std::path::Path, message: &str) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(path) {
        let entry = format!("{}\n{message}\n", alert_timestamp(SystemTime::now()));
        let _ = f.write_all(entry.as_bytes());
    }
}

/// Who asked for a kill and whose session it hit, for [`kill_session_entry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KillEntry {
    /// The victim's `(sid, serial#)`.
    pub(crate) session: (u32, u32),
    /// `ALTER SYSTEM KILL SESSION` (false) or `... IMMEDIATE` / `DISCONNECT SESSION` (true).
    pub(crate) immediate: bool,
    /// `DISCONNECT SESSION` rather than `KILL SESSION`.
    pub(crate) disconnect: bool,
    /// The requester's V$PROCESS.PID (0 for `oradb kill-session`, which holds no process
    /// slot) and OS pid (a shared session's: its dispatcher's thread id).
    pub(crate) requestor: (u32, i32),
    /// The victim's owning process: V$PROCESS.PID and OS pid.
    pub(crate) owner: (u32, i32),
}

/// The alert log entry Oracle 12.2 and later write for `ALTER SYSTEM KILL SESSION`:
/// `KILL SESSION for sid=(S, N):` and the indented `Reason`, `Mode` (`KILL SOFT -/-/-`,
/// `KILL HARD SAFE -/-/-` with IMMEDIATE), `Requestor`, `Owner` and `Result` lines.
pub(crate) fn kill_session_entry(k: &KillEntry) -> String {
    let (sid, serial) = k.session;
    let reason = if k.disconnect {
        "alter system disconnect session"
    } else {
        "alter system kill session"
    };
    let mode = if k.immediate || k.disconnect {
        "KILL HARD SAFE -/-/-"
    } else {
        "KILL SOFT -/-/-"
    };
    format!(
        "KILL SESSION for sid=({sid}, {serial}):\n  Reason = {reason}\n  Mode = {mode}\n  \
         Requestor = USER (orapid = {}, ospid = {}, inst = 1)\n  \
         Owner = Process: USER (orapid = {}, ospid = {})\n  Result = ORA-0",
        k.requestor.0, k.requestor.1, k.owner.0, k.owner.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_read_as_oracle_writes_them() {
        let t = UNIX_EPOCH + Duration::from_micros(1_796_460_184_752_321);
        assert_eq!(alert_timestamp(t), "2026-12-05T08:43:04.752321+00:00");
    }

    #[test]
    fn an_immediate_kill_is_a_hard_one() {
        let entry = kill_session_entry(&KillEntry {
            session: (67, 40381),
            immediate: true,
            disconnect: false,
            requestor: (33, 42991),
            owner: (43, 41840),
        });
        assert_eq!(
            entry,
            "KILL SESSION for sid=(67, 40381):\n  Reason = alter system kill session\n  \
             Mode = KILL HARD SAFE -/-/-\n  Requestor = USER (orapid = 33, ospid = 42991, inst = 1)\n  \
             Owner = Process: USER (orapid = 43, ospid = 41840)\n  Result = ORA-0"
        );
    }
}
