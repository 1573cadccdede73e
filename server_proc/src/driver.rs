//! What every transport hands the sans-I/O engine from the operating system: the clock
//! reading a session starts from and the random source for its keys. The engine itself
//! reads no clock and draws no randomness.

use std::time::{Instant, SystemTime};

use engine::{RandomSource, WallClock};

/// The wall clock and the monotonic clock read now, together.
pub fn wall_clock() -> WallClock {
    WallClock {
        instant: Instant::now(),
        wall: SystemTime::now(),
    }
}

/// The thread-local OS-seeded generator (a forked dedicated server reseeds it first).
pub fn os_random() -> RandomSource {
    Box::new(|b: &mut [u8]| rand::fill(b))
}
