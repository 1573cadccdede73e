//! `SCM_RIGHTS` over a `SOCK_SEQPACKET` socket pair: one message carries one client socket
//! and the hand-off metadata (service, SID, CONNECT bytes) as its payload, so message
//! boundaries never merge and the fd can never arrive without its context.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};

/// Largest hand-off message accepted (metadata + CONNECT bytes + overflow descriptor).
pub const MAX_MESSAGE: usize = 128 * 1024;

/// One received message: its payload and the fd that came with it.
pub type Received = (Vec<u8>, Option<OwnedFd>);

/// Errors of the fd-passing channel.
#[derive(Debug, thiserror::Error)]
pub enum FdPassError {
    /// Creating the socket pair failed.
    #[error("socketpair(AF_UNIX, SOCK_SEQPACKET) failed: {source}")]
    SocketPair {
        /// errno.
        source: nix::Error,
    },
    /// `sendmsg` failed (EPIPE when the spawner is gone).
    #[error("sendmsg(SCM_RIGHTS) failed: {source}")]
    Send {
        /// errno.
        source: nix::Error,
    },
    /// `recvmsg` failed, or the kernel truncated the control data (ENOBUFS).
    #[error("recvmsg(SCM_RIGHTS) failed: {source}")]
    Receive {
        /// errno.
        source: nix::Error,
    },
    /// The payload was larger than [`MAX_MESSAGE`].
    #[error("hand-off message of {len} bytes exceeds {MAX_MESSAGE}")]
    TooLarge {
        /// Payload length.
        len: usize,
    },
}

/// A connected pair of `SOCK_SEQPACKET | SOCK_CLOEXEC` Unix sockets.
pub fn seqpacket_pair() -> Result<(OwnedFd, OwnedFd), FdPassError> {
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|source| FdPassError::SocketPair { source })
}

/// Sends `fd` and `payload` as one message. Retries EINTR.
pub fn send_fd(
    sock: BorrowedFd<'_>,
    fd: BorrowedFd<'_>,
    payload: &[u8],
) -> Result<(), FdPassError> {
    send_fd_with(sock, fd, payload, MsgFlags::MSG_NOSIGNAL)
}

/// Sends a message without a descriptor (a control message). Retries EINTR.
pub fn send_plain(sock: BorrowedFd<'_>, payload: &[u8]) -> Result<(), FdPassError> {
    loop {
        match nix::sys::socket::send(sock.as_raw_fd(), payload, MsgFlags::MSG_NOSIGNAL) {
            Err(nix::Error::EINTR) => continue,
            Err(source) => return Err(FdPassError::Send { source }),
            Ok(_) => return Ok(()),
        }
    }
}

/// Sends `fd` and `payload` as one message without waiting: `Err(Send { source: EAGAIN })`
/// when the receiver's queue is full. What the listener uses on a hand-off channel it keeps
/// open to a dispatcher, so a dispatcher that falls behind never stalls the listener.
pub fn send_fd_nowait(
    sock: BorrowedFd<'_>,
    fd: BorrowedFd<'_>,
    payload: &[u8],
) -> Result<(), FdPassError> {
    send_fd_with(
        sock,
        fd,
        payload,
        MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
    )
}

fn send_fd_with(
    sock: BorrowedFd<'_>,
    fd: BorrowedFd<'_>,
    payload: &[u8],
    flags: MsgFlags,
) -> Result<(), FdPassError> {
    if payload.len() > MAX_MESSAGE {
        return Err(FdPassError::TooLarge { len: payload.len() });
    }
    let iov = [IoSlice::new(payload)];
    let fds = [fd.as_raw_fd()];
    loop {
        match sendmsg::<()>(
            sock.as_raw_fd(),
            &iov,
            &[ControlMessage::ScmRights(&fds)],
            flags,
            None,
        ) {
            Err(nix::Error::EINTR) => continue,
            Err(source) => return Err(FdPassError::Send { source }),
            Ok(_) => return Ok(()),
        }
    }
}

/// Connects a `SOCK_SEQPACKET | SOCK_CLOEXEC` socket to `path` (a dispatcher's hand-off
/// socket), with a 2 s send timeout.
pub fn connect_seqpacket(path: &std::path::Path) -> Result<OwnedFd, FdPassError> {
    use nix::sys::socket::{UnixAddr, connect, setsockopt, socket, sockopt::SendTimeout};
    let sock = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|source| FdPassError::SocketPair { source })?;
    let addr = UnixAddr::new(path).map_err(|source| FdPassError::Send { source })?;
    connect(sock.as_raw_fd(), &addr).map_err(|source| FdPassError::Send { source })?;
    let _ = setsockopt(&sock, SendTimeout, &nix::sys::time::TimeVal::new(2, 0));
    Ok(sock)
}

/// Connects to `path` ([`connect_seqpacket`]) and sends `fd` with `payload` as one message
/// (a hand-off to a connection broker); the connection is closed afterwards.
pub fn send_fd_to_path(
    path: &std::path::Path,
    fd: BorrowedFd<'_>,
    payload: &[u8],
) -> Result<(), FdPassError> {
    let sock = connect_seqpacket(path)?;
    send_fd(sock.as_fd(), fd, payload)
}

/// Receives one message: `Ok(None)` at EOF (peer closed), otherwise the payload and the
/// fd that came with it (if any). Received fds are CLOEXEC and owned at once.
pub fn recv_fd(sock: BorrowedFd<'_>) -> Result<Option<Received>, FdPassError> {
    let mut space = nix::cmsg_space!([RawFd; 4]);
    loop {
        // The next message's length first (a hand-off is about 500 bytes): a zeroed buffer
        // of MAX_MESSAGE for each message cost more than everything else a dispatcher does
        // to take a connection.
        let len = match nix::sys::socket::recv(
            sock.as_raw_fd(),
            &mut [],
            MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC,
        ) {
            Err(nix::Error::EINTR) => continue,
            Err(source) => return Err(FdPassError::Receive { source }),
            Ok(n) => n,
        };
        // A longer message than MAX_MESSAGE comes back truncated, as before.
        let mut buf = vec![0u8; len.min(MAX_MESSAGE)];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::Error::EINTR) => continue,
            Err(source) => return Err(FdPassError::Receive { source }),
            Ok(m) => m,
        };
        let bytes = msg.bytes;
        let truncated = msg.flags.contains(MsgFlags::MSG_TRUNC);
        let mut first: Option<OwnedFd> = None;
        let cmsgs = msg
            .cmsgs()
            .map_err(|source| FdPassError::Receive { source })?;
        for c in cmsgs {
            if let ControlMessageOwned::ScmRights(fds) = c {
                for raw in fds {
                    // SAFETY: the kernel just installed `raw` in our fd table for this
                    // message; nothing else refers to it, so we take sole ownership.
                    let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                    if first.is_none() {
                        first = Some(owned);
                    } // any extra fd is dropped, i.e. closed
                }
            }
        }
        if bytes == 0 && first.is_none() {
            return Ok(None);
        }
        if truncated {
            return Err(FdPassError::TooLarge { len: bytes });
        }
        buf.truncate(bytes);
        return Ok(Some((buf, first)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn a_message_comes_back_whole_with_its_descriptor() {
        let (a, b) = seqpacket_pair().unwrap();
        let (mut ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        send_fd(a.as_fd(), theirs.as_fd(), b"hand-off").unwrap();
        send_fd(a.as_fd(), theirs.as_fd(), &[7u8; 3000]).unwrap();
        let (payload, fd) = recv_fd(b.as_fd()).unwrap().unwrap();
        assert_eq!(payload, b"hand-off");
        assert_eq!(payload.capacity(), payload.len());
        let mut passed = std::os::unix::net::UnixStream::from(fd.unwrap());
        passed.write_all(b"x").unwrap();
        let mut got = [0u8; 1];
        ours.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"x");
        let (payload, fd) = recv_fd(b.as_fd()).unwrap().unwrap();
        assert_eq!(payload, vec![7u8; 3000]);
        assert!(fd.is_some());
    }

    #[test]
    fn the_largest_message_passes_and_one_byte_more_is_refused() {
        let (a, b) = seqpacket_pair().unwrap();
        let big = vec![1u8; MAX_MESSAGE];
        send_plain(a.as_fd(), &big).unwrap();
        let (payload, fd) = recv_fd(b.as_fd()).unwrap().unwrap();
        assert_eq!(payload.len(), MAX_MESSAGE);
        assert!(fd.is_none());
        send_plain(a.as_fd(), &vec![1u8; MAX_MESSAGE + 1]).unwrap();
        assert!(matches!(
            recv_fd(b.as_fd()),
            Err(FdPassError::TooLarge { len }) if len == MAX_MESSAGE
        ));
    }

    #[test]
    fn a_closed_peer_is_the_end() {
        let (a, b) = seqpacket_pair().unwrap();
        send_plain(a.as_fd(), b"last").unwrap();
        drop(a);
        assert_eq!(recv_fd(b.as_fd()).unwrap().unwrap().0, b"last");
        assert!(recv_fd(b.as_fd()).unwrap().is_none());
    }
}
