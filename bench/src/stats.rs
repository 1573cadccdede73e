//! Latency recording: an HDR histogram in microseconds plus a count of errors by Oracle (or
//! PostgreSQL, or OS) code, summarised as the percentiles the report prints.
//!
//! Errors are counted, not timed: a refused connect is not a fast connect.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency the histogram tracks exactly (60 s); slower samples are clamped to it.
const MAX_TRACKED_US: u64 = 60_000_000;

/// Latencies of one measured operation and the errors it ran into.
#[derive(Debug)]
pub struct Recorder {
    hist: Histogram<u64>,
    errors: BTreeMap<String, u64>,
    stopped_by_time: bool,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    /// An empty recorder (1 µs .. 60 s, 3 significant digits).
    pub fn new() -> Recorder {
        // Constant bounds that hdrhistogram accepts (low >= 1, high >= 2 * low, sigfig <= 5).
        let hist = Histogram::new_with_bounds(1, MAX_TRACKED_US, 3)
            .expect("constant histogram bounds are valid");
        Recorder {
            hist,
            errors: BTreeMap::new(),
            stopped_by_time: false,
        }
    }

    /// Records one successful operation.
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros())
            .unwrap_or(MAX_TRACKED_US)
            .clamp(1, MAX_TRACKED_US);
        self.hist.saturating_record(us);
    }

    /// Counts one failed operation under `code` (`ORA-00020`, `TNS-12541`, `PG-53300`, `io`).
    pub fn error(&mut self, code: impl Into<String>) {
        *self.errors.entry(code.into()).or_insert(0) += 1;
    }

    /// Marks that the loop ended at its time limit before its count.
    pub fn stopped_by_time(&mut self) {
        self.stopped_by_time = true;
    }

    /// Adds another recorder's samples and errors to this one.
    pub fn merge(&mut self, other: &Recorder) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.hist.add(&other.hist);
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_insert(0) += v;
        }
        self.stopped_by_time |= other.stopped_by_time;
    }

    /// Successful samples so far.
    pub fn samples(&self) -> u64 {
        self.hist.len()
    }

    /// The summary the report prints.
    pub fn summary(&self) -> LatencySummary {
        let empty = self.hist.is_empty();
        let q = |p: f64| {
            if empty {
                None
            } else {
                Some(self.hist.value_at_quantile(p))
            }
        };
        LatencySummary {
            samples: self.hist.len(),
            errors: self.errors.clone(),
            stopped_by_time_limit: self.stopped_by_time,
            min_us: if empty { None } else { Some(self.hist.min()) },
            p50_us: q(0.50),
            p90_us: q(0.90),
            p99_us: q(0.99),
            max_us: if empty { None } else { Some(self.hist.max()) },
            mean_us: if empty { None } else { Some(self.hist.mean()) },
        }
    }
}

/// Percentiles of one operation, in microseconds (`None` when nothing succeeded).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LatencySummary {
    /// Successful operations measured.
    pub samples: u64,
    /// Failed operations by code.
    pub errors: BTreeMap<String, u64>,
    /// True when the loop hit its time limit before its count.
    pub stopped_by_time_limit: bool,
    /// Fastest.
    pub min_us: Option<u64>,
    /// Median.
    pub p50_us: Option<u64>,
    /// 90th percentile.
    pub p90_us: Option<u64>,
    /// 99th percentile.
    pub p99_us: Option<u64>,
    /// Slowest.
    pub max_us: Option<u64>,
    /// Mean.
    pub mean_us: Option<f64>,
}

/// The code an orasim client error is counted under: `ORA-nnnnn`.
pub fn oracle_code(e: &client::ClientError) -> String {
    match e.code() {
        Some(c) => format!("ORA-{c:05}"),
        None => "other".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_samples() {
        let mut r = Recorder::new();
        for ms in 1..=100u64 {
            r.record(Duration::from_millis(ms));
        }
        r.error("ORA-00020");
        r.error("ORA-00020");
        let s = r.summary();
        assert_eq!(s.samples, 100);
        assert_eq!(s.errors.get("ORA-00020"), Some(&2));
        // 3 significant digits: within 0.1 % of the exact values.
        let near = |v: Option<u64>, want: u64| v.is_some_and(|v| v.abs_diff(want) <= want / 1000);
        assert!(near(s.p50_us, 50_000), "{s:?}");
        assert!(near(s.p99_us, 99_000), "{s:?}");
        assert!(near(s.max_us, 100_000), "{s:?}");
        assert!(near(s.min_us, 1_000), "{s:?}");
    }

    #[test]
    fn merged_recorders_add_samples_and_errors() {
        let (mut a, mut b) = (Recorder::new(), Recorder::new());
        a.record(Duration::from_millis(1));
        b.record(Duration::from_millis(3));
        b.error("ORA-12520");
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.samples, 2);
        assert_eq!(s.errors.get("ORA-12520"), Some(&1));
        assert!(s.max_us.is_some_and(|m| m >= 2_990));
    }

    #[test]
    fn empty_recorder_reports_no_percentiles() {
        let s = Recorder::new().summary();
        assert_eq!(s.samples, 0);
        assert_eq!(s.p50_us, None);
        assert_eq!(s.max_us, None);
    }

    #[test]
    fn sub_microsecond_and_huge_samples_are_clamped() {
        let mut r = Recorder::new();
        r.record(Duration::from_nanos(10));
        r.record(Duration::from_secs(3600));
        let s = r.summary();
        assert_eq!(s.samples, 2);
        assert_eq!(s.min_us, Some(1));
        assert!(
            s.max_us
                .is_some_and(|m| m >= MAX_TRACKED_US - MAX_TRACKED_US / 1000)
        );
    }
}
