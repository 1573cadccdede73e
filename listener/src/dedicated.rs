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
    let inbound = server_proc::driver::inbound_connect_timeout(home);
    let expire = server_proc::driver::expire_time(home);
    let recv = server_proc::driver::recv_timeout(home);
    let send = server_proc::driver::send_timeout(home);
    let mut ctx = DedicatedContext::new(msg.meta.sid, msg.meta.service, msg.meta.oracle_home);
    ctx.global_dbname = msg.meta.global_dbname;
    ctx.inbound_connect_timeout = inbound;
    ctx.expire_time = expire;
    ctx.recv_timeout = recv;
    ctx.send_timeout = send;
    match run_dedicated(stream, msg.connect_bytes, ctx) {
        Ok(_) => 0,
        Err(_) => 1,
    }
}
