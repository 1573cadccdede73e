//! The raw-TCP baseline: a 1-byte echo server on a loopback ephemeral port inside tnsbench
//! itself, serving one connection at a time on its accepting thread (no thread, process or
//! allocation per connection). Nothing connects and answers faster through the kernel's
//! TCP stack, so it is the floor every other number sits on.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Socket timeouts on both sides of the echo.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A running echo server; stopped when dropped.
#[derive(Debug)]
pub struct EchoServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    /// Binds `127.0.0.1:0` and starts accepting.
    pub fn start() -> std::io::Result<EchoServer> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("echo-accept".into())
            .spawn(move || {
                for s in l.incoming() {
                    if stop2.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(s) = s else { continue };
                    // Inline: the bench uses one connection at a time.
                    serve(s);
                }
            })?;
        Ok(EchoServer {
            port,
            stop,
            thread: Some(thread),
        })
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Opens a client connection with timeouts and TCP_NODELAY (as the Oracle client sets).
    pub fn connect(&self) -> std::io::Result<TcpStream> {
        let s = TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

/// One byte there and back on an open connection.
pub fn round_trip(s: &mut TcpStream) -> std::io::Result<()> {
    s.write_all(&[0x5a])?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b)?;
    if b[0] != 0x5a {
        return Err(std::io::Error::other("echo returned a different byte"));
    }
    Ok(())
}

/// The baseline of a connect cycle: connect, one echo, close.
pub fn connect_cycle(server: &EchoServer) -> std::io::Result<()> {
    let mut s = server.connect()?;
    round_trip(&mut s)?;
    let _ = s.shutdown(Shutdown::Both);
    Ok(())
}

fn serve(mut s: TcpStream) {
    if s.set_read_timeout(Some(IO_TIMEOUT)).is_err()
        || s.set_write_timeout(Some(IO_TIMEOUT)).is_err()
        || s.set_nodelay(true).is_err()
    {
        return;
    }
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), IO_TIMEOUT);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_and_stops() {
        let e = EchoServer::start().expect("start");
        let mut s = e.connect().expect("connect");
        for _ in 0..3 {
            round_trip(&mut s).expect("round trip");
        }
        // One connection at a time: close this one before the next.
        drop(s);
        connect_cycle(&e).expect("cycle");
        // Dropping joins the accept thread (the test would hang otherwise).
        drop(e);
    }
}
