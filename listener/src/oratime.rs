//! Oracle's timestamp and uptime formats (`22-NOV-2026 13:45:01`, `1 days 0 hr. 15 min. 4
//! sec`), used by `listener.log` and `lsnrctl`. Times are rendered in UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

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
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{d:02}-{}-{y:04} {:02}:{:02}:{:02}",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
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

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
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
