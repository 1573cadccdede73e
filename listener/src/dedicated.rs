//! The dedicated server's entry point inside the forked child: turns the received socket
//! back into a blocking `TcpStream` and runs the session with the CONNECT bytes the listener
//! already read.

use std::net::TcpStream;
use std::os::fd::OwnedFd;

use crate::handoff::HandoffMessage;

/// Runs the session; returns the process exit code.
pub(crate) fn run(client: OwnedFd, msg: HandoffMessage) -> i32 {
    let stream = TcpStream::from(client);
    if stream.set_nonblocking(false).is_err() {
        return 1;
    }
    // Pending: server_proc::dedicated::run_dedicated (tns helper) answers the CONNECT.
    let _ = msg;
    drop(stream);
    0
}
