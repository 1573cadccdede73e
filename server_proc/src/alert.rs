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
/// `TNS-12535` after a timeout). One `write` of an `O_APPEND` file, so entries of several
/// processes never interleave; nothing is written when the log does not exist (a SID that
/// is no database).
pub fn append(oracle_home: &std::path::Path, sid: &str, message: &str) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .open(crate::instance::alert_log_path(oracle_home, sid))
    {
        let entry = format!("{}\n{message}\n", alert_timestamp(SystemTime::now()));
        let _ = f.write_all(entry.as_bytes());
    }
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
}
