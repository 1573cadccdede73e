//! Counts the network round trips of one connect cycle by relaying it through a loopback
//! proxy that watches the direction of the bytes: every time the server starts answering
//! after the client has spoken, one round trip has completed. Counting on the wire (instead
//! of trusting the client's own counters) works the same for orasim, PostgreSQL and
//! PgBouncer, and sees the TNS CONNECT/ACCEPT exchange that no TTC counter includes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::time::Duration;

/// Timeouts on both legs of the relay.
const IO_TIMEOUT: Duration = Duration::from_secs(15);

const NONE: u8 = 0;
const CLIENT: u8 = 1;
const SERVER: u8 = 2;

/// Runs `cycle(proxy_port)` with a one-connection relay to `127.0.0.1:upstream` in between
/// and returns the completed round trips it saw (`None` if the relay failed or `cycle`
/// returned an error).
pub fn count_round_trips(
    upstream: u16,
    cycle: impl FnOnce(u16) -> Result<(), String>,
) -> Option<u32> {
    let l = TcpListener::bind("127.0.0.1:0").ok()?;
    let port = l.local_addr().ok()?.port();
    let trips = Arc::new(AtomicU32::new(0));
    let last = Arc::new(AtomicU8::new(NONE));
    let (t2, l2) = (trips.clone(), last.clone());
    l.set_nonblocking(true).ok()?;
    let cycle_done = Arc::new(AtomicBool::new(false));
    let done = cycle_done.clone();
    let relay = std::thread::spawn(move || -> std::io::Result<()> {
        // Bounded accept: a cycle that fails before connecting must not hang the relay.
        let deadline = std::time::Instant::now() + IO_TIMEOUT;
        let down = loop {
            match l.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if done.load(Ordering::SeqCst) || std::time::Instant::now() > deadline {
                        return Err(e);
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(e),
            }
        };
        down.set_nonblocking(false)?;
        let up = TcpStream::connect_timeout(&([127, 0, 0, 1], upstream).into(), IO_TIMEOUT)?;
        for s in [&down, &up] {
            s.set_read_timeout(Some(IO_TIMEOUT))?;
            s.set_write_timeout(Some(IO_TIMEOUT))?;
            s.set_nodelay(true)?;
        }
        let (down_r, up_w) = (down.try_clone()?, up.try_clone()?);
        let (t3, l3) = (t2.clone(), l2.clone());
        let c2s = std::thread::spawn(move || pump(down_r, up_w, CLIENT, &t3, &l3));
        pump(up, down, SERVER, &t2, &l2);
        let _ = c2s.join();
        Ok(())
    });
    let ok = cycle(port).is_ok();
    cycle_done.store(true, Ordering::SeqCst);
    let relayed = relay.join().ok().and_then(Result::ok).is_some();
    (ok && relayed).then(|| trips.load(Ordering::SeqCst))
}

/// Copies `from` to `to`, counting a round trip each time the server starts a new burst.
fn pump(mut from: TcpStream, mut to: TcpStream, dir: u8, trips: &AtomicU32, last: &AtomicU8) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                // Record the direction before forwarding, so the answer cannot overtake it.
                let before = last.swap(dir, Ordering::SeqCst);
                if dir == SERVER && before == CLIENT {
                    trips.fetch_add(1, Ordering::SeqCst);
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::echo::{self, EchoServer};

    #[test]
    fn counts_echo_round_trips() {
        let e = EchoServer::start().expect("echo");
        let n = count_round_trips(e.port(), |port| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(IO_TIMEOUT))
                .map_err(|e| e.to_string())?;
            for _ in 0..3 {
                echo::round_trip(&mut s).map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        assert_eq!(n, Some(3));
    }

    #[test]
    fn a_failed_cycle_counts_nothing() {
        let e = EchoServer::start().expect("echo");
        let n = count_round_trips(e.port(), |port| {
            drop(TcpStream::connect(("127.0.0.1", port)));
            Err("failed".into())
        });
        assert_eq!(n, None);
        // A cycle that never connects: the relay gives up instead of hanging.
        assert_eq!(count_round_trips(e.port(), |_| Err("no".into())), None);
    }
}
