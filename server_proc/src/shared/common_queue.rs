//! The common queue between the dispatchers and the shared servers: bounded, first in first
//! out, with crossbeam's channel interface (`try_send`, `recv_timeout` and their errors), but
//! a shared server with nothing to take goes to sleep at once.
//!
//! Why not crossbeam's channel: its receiver spins and then calls `sched_yield` a few times
//! before it parks, which a shared server did after every request it answered (about 24
//! `sched_yield` calls per shared connect cycle, `strace -f -c` on oradb); on a machine with
//! two cores that is CPU taken from the dispatcher and the client for a request that does not
//! come that soon. Here a receiver sleeps on a condition variable, and a sender wakes one only
//! when one sleeps.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use crossbeam_channel::{RecvTimeoutError, TrySendError};

/// A queue of at most `limit` items, with its sending and receiving ends.
pub fn bounded<T>(limit: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            senders: 1,
            receivers: 1,
            sleeping: 0,
        }),
        ready: Condvar::new(),
        limit,
    });
    (Sender(Arc::clone(&shared)), Receiver(shared))
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled when an item arrives and a receiver sleeps, or the last sender left.
    ready: Condvar,
    limit: usize,
}

struct State<T> {
    items: VecDeque<T>,
    senders: usize,
    receivers: usize,
    /// Receivers waiting on `ready` now.
    sleeping: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sending end (one per dispatcher, and the instance's own).
pub struct Sender<T>(Arc<Shared<T>>);

/// The receiving end (the shared server pool's; its threads share it).
pub struct Receiver<T>(Arc<Shared<T>>);

impl<T> Sender<T> {
    /// Queues `item` unless the queue is full or nobody receives any more.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let mut s = self.0.lock();
        if s.receivers == 0 {
            return Err(TrySendError::Disconnected(item));
        }
        if s.items.len() >= self.0.limit {
            return Err(TrySendError::Full(item));
        }
        s.items.push_back(item);
        let wake = s.sleeping > 0;
        drop(s);
        if wake {
            self.0.ready.notify_one();
        }
        Ok(())
    }
}

impl<T> Receiver<T> {
    /// The oldest item, waiting up to `timeout` for one; `Disconnected` once the queue is
    /// empty and every sender is gone.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let deadline = Instant::now() + timeout;
        let mut s = self.0.lock();
        loop {
            if let Some(item) = s.items.pop_front() {
                return Ok(item);
            }
            if s.senders == 0 {
                return Err(RecvTimeoutError::Disconnected);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(RecvTimeoutError::Timeout);
            }
            s.sleeping += 1;
            s = self
                .0
                .ready
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            s.sleeping -= 1;
        }
    }

    /// Items waiting now.
    pub fn len(&self) -> usize {
        self.0.lock().items.len()
    }

    /// Nothing waits now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.0.lock().senders += 1;
        Sender(Arc::clone(&self.0))
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.senders -= 1;
        let last = s.senders == 0;
        drop(s);
        if last {
            self.0.ready.notify_all();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.0.lock().receivers -= 1;
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("waiting", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_in_first_out_up_to_the_limit() {
        let (tx, rx) = bounded(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
        assert_eq!(rx.len(), 2);
        assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(1));
        tx.try_send(3).unwrap();
        assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(2));
        assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(3));
        assert!(rx.is_empty());
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(20)),
            Err(RecvTimeoutError::Timeout)
        );
    }

    #[test]
    fn a_sleeping_receiver_is_woken_by_an_item_and_by_the_last_sender_leaving() {
        let (tx, rx) = bounded::<u32>(4);
        let rx = Arc::new(rx);
        let r = Arc::clone(&rx);
        let waiter = std::thread::spawn(move || {
            let first = r.recv_timeout(Duration::from_secs(10));
            let second = r.recv_timeout(Duration::from_secs(10));
            (first, second)
        });
        // Let it go to sleep before the item comes.
        while rx.0.lock().sleeping == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        tx.try_send(7).unwrap();
        let other = tx.clone();
        drop(tx);
        drop(other);
        let (first, second) = waiter.join().unwrap();
        assert_eq!(first, Ok(7));
        // Not Timeout: the last sender's leaving woke it.
        assert_eq!(second, Err(RecvTimeoutError::Disconnected));
    }

    #[test]
    fn items_queued_before_the_senders_left_are_still_taken() {
        let (tx, rx) = bounded(4);
        tx.try_send("a").unwrap();
        drop(tx);
        assert_eq!(rx.recv_timeout(Duration::ZERO), Ok("a"));
        assert_eq!(
            rx.recv_timeout(Duration::ZERO),
            Err(RecvTimeoutError::Disconnected)
        );
    }

    #[test]
    fn nothing_is_queued_once_the_receiver_is_gone() {
        let (tx, rx) = bounded(4);
        drop(rx);
        assert!(matches!(tx.try_send(1), Err(TrySendError::Disconnected(1))));
    }
}
