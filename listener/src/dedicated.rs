//! The dedicated server's entry point inside the forked child: turns the received socket
//! back into a blocking `TcpStream` and runs `server_proc`'s dedicated loop with the CONNECT
//! bytes the listener already read (it answers ACCEPT and runs the session).

use std::net::TcpStream;
use std::os::fd::OwnedFd;

use server_proc::dedicated::{DedicatedContext, run_dedicated};

use crate::handoff::HandoffMessage;

/// Runs the session; returns the process exit code.
pub(crate) fn run(client: OwnedFd, msg: HandoffMessage) -> i32 {
    let stream = TcpStream::from(client);
    // The listener accepted the socket non-blocking; O_NONBLOCK lives on the shared open file
    // description, and the listener has closed its copy, so the flag is ours to clear.
    if stream.set_nonblocking(false).is_err() {
        return 1;
    }
    let _ = stream.set_nodelay(true);
    let home = std::path::Path::new(&msg.meta.oracle_home);
    let net = server_proc::driver::ServerNet::of_home(home);
    let mut ctx = DedicatedContext::new(msg.meta.sid, msg.meta.service, msg.meta.oracle_home);
    ctx.global_dbname = msg.meta.global_dbname;
    ctx.inbound_connect_timeout = net.inbound_connect_timeout;
    ctx.expire_time = net.expire_time;
    ctx.recv_timeout = net.recv_timeout;
    ctx.send_timeout = net.send_timeout;
    match run_dedicated(stream, msg.connect_bytes, ctx) {
        Ok(_) => 0,
        Err(_) => 1,
    }
}
