//! Oracle's timestamp and uptime formats (`22-NOV-2026 13:45:01`, `1 days 0 hr. 15 min. 4
//! sec`), used by `listener.log` and `lsnrctl`. Times are rendered in UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `DD-MON-YYYY HH24:MI:SS`.
pub fn format_timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_unix(secs)
}

/// `DD-MON-YYYY HH24:MI:SS` of seconds since the epoch.
pub fn format_unix(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    tns::ttc::types::DateTime::from_unix(secs, 0).dd_mon_yyyy_hh24_mi_ss()
}

/// `D days H hr. M min. S sec`.
pub fn format_uptime(d: Duration) -> String {
    let s = d.as_secs();
    format!(
        "{} days {} hr. {} min. {} sec",
        s / 86_400,
        (s % 86_400) / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_oracle() {
        assert_eq!(format_unix(0), "01-JAN-1970 00:00:00");
        assert_eq!(format_unix(1_273_923_744), "15-MAY-2010 11:42:24");
        assert_eq!(format_unix(951_782_400), "29-FEB-2000 00:00:00");
        assert_eq!(
            format_uptime(Duration::from_secs(86_400 + 15 * 60 + 4)),
            "1 days 0 hr. 15 min. 4 sec"
        );
    }
}
