//! Process titles as `ps` shows them. Oracle operators look for `tnslsnr LISTENER` and
//! `oracleORCL (LOCAL=NO)`; Linux shows `/proc/<pid>/cmdline`, which is the original argv
//! memory, so the title is written over that area in place (and `comm` is set with
//! `prctl(PR_SET_NAME)` for `top`/`ps -o comm`). The title can never be longer than the
//! original argv area; it is truncated to fit. Capture `std::env::args()` **before**
//! setting a title: afterwards they read back the title.

use std::ffi::CString;
use std::fs;

/// The argv memory area of this process, located once from `/proc/self/stat`.
#[derive(Debug, Clone, Copy)]
pub struct ArgvArea {
    start: usize,
    len: usize,
}

/// Errors locating the argv area.
#[derive(Debug, thiserror::Error)]
pub enum TitleError {
    /// `/proc/self/stat` could not be read or parsed.
    #[error("cannot locate argv area in /proc/self/stat: {detail}")]
    Locate {
        /// What failed.
        detail: String,
    },
}

impl ArgvArea {
    /// Finds `arg_start`/`arg_end` (fields 48 and 49 of `/proc/self/stat`).
    pub fn locate() -> Result<Self, TitleError> {
        let stat = fs::read_to_string("/proc/self/stat").map_err(|e| TitleError::Locate {
            detail: e.to_string(),
        })?;
        parse_stat(&stat).ok_or_else(|| TitleError::Locate {
            detail: "unexpected format".to_string(),
        })
    }

    /// Capacity of the area in bytes (including the final NUL).
    pub fn capacity(&self) -> usize {
        self.len
    }

    /// Overwrites the area with `title` (truncated to fit, NUL padded) and sets `comm` to
    /// the first 15 bytes of `comm`.
    pub fn set(&self, title: &str, comm: &str) {
        if self.len > 1 {
            let bytes = title.as_bytes();
            let n = bytes.len().min(self.len - 1);
            let dst = self.start as *mut u8;
            // SAFETY: [start, start+len) is this process's argv block as reported by the
            // kernel; it is mapped, writable stack memory that nothing in this program reads
            // any more (args were captured before, per the module contract). We write
            // exactly `len` bytes: `n < len` title bytes followed by NULs.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, n);
                std::ptr::write_bytes(dst.add(n), 0, self.len - n);
            }
        }
        let short: String = comm.chars().filter(|c| *c != '\0').take(15).collect();
        if let Ok(c) = CString::new(short) {
            let _ = nix::sys::prctl::set_name(&c);
        }
    }
}

fn parse_stat(stat: &str) -> Option<ArgvArea> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` begins with field 3 (state); field N is at index N - 3.
    let start: usize = fields.get(48 - 3)?.parse().ok()?;
    let end: usize = fields.get(49 - 3)?.parse().ok()?;
    if end <= start || start == 0 {
        return None;
    }
    Some(ArgvArea {
        start,
        len: end - start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arg_bounds_even_with_parens_in_comm() {
        let mut fields = vec!["S".to_string()];
        for i in 4..=52 {
            fields.push(i.to_string());
        }
        let stat = format!("123 (we ird) name) {}", fields.join(" "));
        let a = parse_stat(&stat).expect("parse");
        assert_eq!(a.start, 48);
        assert_eq!(a.len, 1);
    }

    #[test]
    fn locates_own_argv() {
        let a = ArgvArea::locate().expect("locate");
        let cmdline = std::fs::read("/proc/self/cmdline").expect("cmdline");
        assert_eq!(a.capacity(), cmdline.len());
    }
}
