//! The incremental request decoder: linear in the bytes received, capped per phase.
//!
//! A request has no length prefix and no "last packet" marker, so its end is found only by
//! parsing it. Re-parsing the whole buffer each time a DATA packet arrives costs O(N²) for a
//! request delivered in N pieces — an unauthenticated peer sending one byte per packet could
//! make the server spend quadratic CPU. Here the grammar ([`super::grammar`]) is an `async fn`
//! that reads one field at a time from a [`Feed`]; when a field is incomplete it returns
//! `Pending` and the compiler-built state machine keeps everything decoded so far, so the next
//! attempt resumes at that field instead of at the start of the request (a checkpoint per
//! field, without hand-written parser states). The field also says how many bytes it still
//! lacks ([`TtcError::NeedMore::needed`]) and no attempt is made before they are there, so a
//! large value arriving in many packets is read once. Nothing here is asynchronous in the I/O
//! sense: the future is polled with a no-op waker, only from [`RequestDecoder::next_request`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::{BindMetadata, DecodeContext, MAX_REQUEST, PRE_LOGIN_MAX_REQUEST, Request, grammar};
use crate::ttc::buf::{Reader, TtcError};

/// The bytes and the decoding position shared by a [`RequestDecoder`] and the parse in
/// progress.
#[derive(Debug, Default)]
pub(super) struct Feed {
    /// Buffered bytes; the request being decoded starts at `start`.
    buf: Vec<u8>,
    /// Offset of the current request in `buf` (bytes before it belong to requests already
    /// returned and are dropped at the next push).
    start: usize,
    /// Bytes of the current request read so far (fields complete).
    pos: usize,
    /// No attempt before `buf.len()` reaches this: the field that ran out needs that much.
    need: usize,
    /// Bytes looked at by all attempts, for the linearity tests and measurements.
    examined: u64,
    /// Session facts the grammar needs, copied from the [`DecodeContext`] at each attempt.
    field_version: u8,
    logged_on: bool,
    returning_binds: Option<fn(&[u8]) -> usize>,
    /// A REEXECUTE asks for the binds of a cursor: the question and its answer.
    asked_cursor: Option<u32>,
    cursor_answer: Option<(Vec<BindMetadata>, bool)>,
}

impl Feed {
    /// One attempt at one field (or a small group of fields read together).
    fn attempt<T>(
        &mut self,
        read: &mut impl FnMut(&mut Reader<'_>) -> Result<T, TtcError>,
    ) -> Poll<Result<T, TtcError>> {
        if self.buf.len() < self.need {
            return Poll::Pending;
        }
        let mut r = Reader::new(&self.buf[self.start + self.pos..]);
        let result = read(&mut r);
        let looked = r.position();
        self.examined += u64::try_from(looked).unwrap_or(u64::MAX);
        match result {
            Ok(v) => {
                self.pos += looked;
                Poll::Ready(Ok(v))
            }
            Err(TtcError::NeedMore { needed, .. }) => {
                self.need = self.buf.len() + needed.max(1);
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl Feed {
    /// A run of items read whole in one attempt: each `item` from where the last one ended,
    /// until `limit` items, an item that says the run is over (`Ok(None)`, consumed), or one
    /// that is not all there yet (not consumed; the caller reads it field by field). The
    /// fields of that incomplete item the probe did read count as examined.
    fn attempt_run<T>(
        &mut self,
        limit: usize,
        item: &mut impl FnMut(&mut Reader<'_>) -> Result<Option<T>, TtcError>,
    ) -> Result<(Vec<T>, bool), TtcError> {
        let mut r = Reader::new(&self.buf[self.start + self.pos..]);
        let (mut items, mut ended, mut probed) = (Vec::new(), false, 0);
        while items.len() < limit {
            let mut probe = r.clone();
            match item(&mut probe) {
                Ok(Some(v)) => {
                    r = probe;
                    items.push(v);
                }
                Ok(None) => {
                    r = probe;
                    ended = true;
                    break;
                }
                Err(TtcError::NeedMore { .. }) => {
                    probed = probe.position() - r.position();
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let read = r.position();
        self.examined += u64::try_from(read + probed).unwrap_or(u64::MAX);
        self.pos += read;
        Ok((items, ended))
    }
}

/// The grammar's handle on the [`Feed`]: every read goes through [`Input::read`] or
/// [`Input::read_run`].
#[derive(Debug, Clone)]
pub(super) struct Input(Arc<Mutex<Feed>>);

impl Input {
    fn feed(&self) -> MutexGuard<'_, Feed> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads with `read` at the current position, waiting (`Pending`) until the bytes it
    /// needs have arrived. `read` runs again from the same position after a `Pending`, so
    /// it must read a bounded number of bytes.
    pub(super) async fn read<T>(
        &self,
        mut read: impl FnMut(&mut Reader<'_>) -> Result<T, TtcError>,
    ) -> Result<T, TtcError> {
        std::future::poll_fn(|_| self.feed().attempt(&mut read)).await
    }

    /// The items of a list that have arrived whole, read in one attempt instead of one
    /// attempt per field: what a request that came in one packet costs (a DATA_TYPES list
    /// of 300 entries, the pairs of an AUTH call). Never waits: fewer items than asked for
    /// (even none) when one is still arriving, which the grammar then reads field by field
    /// as before, so a list that trickles in is still read about once. The bool: an item
    /// ended the list (see [`Feed::attempt_run`]).
    pub(super) fn read_run<T>(
        &self,
        limit: usize,
        mut item: impl FnMut(&mut Reader<'_>) -> Result<Option<T>, TtcError>,
    ) -> Result<(Vec<T>, bool), TtcError> {
        self.feed().attempt_run(limit, &mut item)
    }

    /// The negotiated field version.
    pub(super) fn field_version(&self) -> u8 {
        self.feed().field_version
    }

    /// True once the session is logged on.
    pub(super) fn logged_on(&self) -> bool {
        self.feed().logged_on
    }

    /// How many binds of `sql` are RETURNING INTO binds (see
    /// [`DecodeContext::returning_binds`]).
    pub(super) fn returning_binds(&self, sql: &[u8]) -> usize {
        let hook = self.feed().returning_binds;
        hook.map_or(0, |f| f(sql))
    }

    /// (bind metadata with a value, is query) of a cursor, from the [`DecodeContext`] of
    /// the attempt.
    pub(super) async fn cursor_binds(&self, cursor_id: u32) -> (Vec<BindMetadata>, bool) {
        self.feed().asked_cursor = Some(cursor_id);
        std::future::poll_fn(|_| match self.feed().cursor_answer.take() {
            Some(a) => Poll::Ready(a),
            None => Poll::Pending,
        })
        .await
    }
}

type Parse = Pin<Box<dyn Future<Output = Result<Request, TtcError>> + Send>>;

/// Accumulates TTC bytes from DATA packets and yields complete requests.
///
/// Phase rules (the phase is [`DecodeContext::logged_on`] of the last
/// [`Self::next_request`]): before login only PROTOCOL, DATA_TYPES and the AUTH calls decode
/// (anything else is [`TtcError::NotLoggedOn`] as soon as its function code is read), and at
/// most [`PRE_LOGIN_MAX_REQUEST`] bytes are ever buffered — clients do not pipeline before
/// login, and [`Self::push`] drops what lies beyond, so a flood costs neither memory nor
/// parsing. After login each request may have up to [`MAX_REQUEST`] bytes. An incomplete
/// request above its cap is [`TtcError::TooLarge`] at once. After an error the buffer is
/// empty.
pub struct RequestDecoder {
    feed: Input,
    parse: Option<Parse>,
    /// Phase seen by the last `next_request`, for `push`.
    logged_on: bool,
    /// `push` dropped bytes (before login, beyond the cap).
    overflow: bool,
}

impl Default for RequestDecoder {
    fn default() -> Self {
        RequestDecoder {
            feed: Input(Arc::new(Mutex::new(Feed::default()))),
            parse: None,
            logged_on: false,
            overflow: false,
        }
    }
}

impl std::fmt::Debug for RequestDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestDecoder")
            .field("pending", &self.pending())
            .field("parsing", &self.parse.is_some())
            .field("logged_on", &self.logged_on)
            .field("overflow", &self.overflow)
            .finish()
    }
}

impl RequestDecoder {
    /// An empty decoder (before login).
    pub fn new() -> Self {
        RequestDecoder::default()
    }

    /// Appends the payload of a DATA packet. Before login, bytes beyond
    /// [`PRE_LOGIN_MAX_REQUEST`] (+1, to tell "exactly full" from "over") are not kept; the
    /// next [`Self::next_request`] reports [`TtcError::TooLarge`].
    pub fn push(&mut self, payload: &[u8]) {
        let mut f = self.feed.feed();
        if f.start > 0 {
            let start = f.start;
            f.buf.drain(..start);
            f.need = f.need.saturating_sub(start);
            f.start = 0;
        }
        let keep = if self.logged_on {
            payload.len()
        } else {
            let room = (PRE_LOGIN_MAX_REQUEST + 1).saturating_sub(f.buf.len());
            if payload.len() > room {
                self.overflow = true;
            }
            payload.len().min(room)
        };
        f.buf.extend_from_slice(&payload[..keep]);
    }

    /// Bytes buffered and not yet part of a complete request.
    pub fn pending(&self) -> usize {
        let f = self.feed.feed();
        f.buf.len() - f.start
    }

    /// Bytes looked at by all decoding attempts since the decoder was made (a byte read by
    /// two attempts counts twice): what the linearity tests and measurements compare with
    /// the bytes received.
    pub fn bytes_examined(&self) -> u64 {
        self.feed.feed().examined
    }

    /// Drops buffered bytes and the request in progress (after a break/reset).
    pub fn clear(&mut self) {
        self.parse = None;
        self.overflow = false;
        let mut f = self.feed.feed();
        f.buf.clear();
        f.start = 0;
        f.pos = 0;
        f.need = 0;
        f.asked_cursor = None;
        f.cursor_answer = None;
    }

    /// The next complete request, if the buffered bytes hold one. `Ok(None)`: need more
    /// bytes. Errors: [`TtcError::Invalid`] (bytes that cannot be a request),
    /// [`TtcError::NotLoggedOn`] (a call other than the login exchange before login),
    /// [`TtcError::TooLarge`] (over the phase's cap); the buffer is then empty.
    pub fn next_request(&mut self, ctx: &DecodeContext) -> Result<Option<Request>, TtcError> {
        self.logged_on = ctx.logged_on;
        let limit = ctx.max_request();
        if self.pending() == 0 {
            if self.overflow {
                // What `push` dropped followed the requests already returned.
                self.clear();
                return Err(TtcError::TooLarge { limit });
            }
            return Ok(None);
        }
        {
            let mut f = self.feed.feed();
            f.field_version = ctx.field_version;
            f.logged_on = ctx.logged_on;
            f.returning_binds = ctx.returning_binds;
        }
        let feed = self.feed.clone();
        let parse = self
            .parse
            .get_or_insert_with(|| Box::pin(grammar::request(feed)));
        let mut cx = Context::from_waker(Waker::noop());
        let polled = loop {
            let polled = parse.as_mut().poll(&mut cx);
            let mut f = self.feed.feed();
            match (&polled, f.asked_cursor.take()) {
                (Poll::Pending, Some(id)) => {
                    f.cursor_answer = Some(
                        ctx.cursor_binds
                            .get(&id)
                            .cloned()
                            .unwrap_or((Vec::new(), true)),
                    );
                }
                _ => break polled,
            }
        };
        match polled {
            Poll::Ready(Ok(req)) => {
                self.parse = None;
                let mut f = self.feed.feed();
                if f.pos > limit {
                    drop(f);
                    self.clear();
                    return Err(TtcError::TooLarge { limit });
                }
                f.start += f.pos;
                f.pos = 0;
                f.need = 0;
                if f.start == f.buf.len() {
                    f.buf.clear();
                    f.start = 0;
                }
                Ok(Some(req))
            }
            Poll::Ready(Err(e)) => {
                self.clear();
                Err(e)
            }
            Poll::Pending => {
                if self.overflow || self.pending() > limit {
                    self.clear();
                    return Err(TtcError::TooLarge { limit });
                }
                Ok(None)
            }
        }
    }
}

impl DecodeContext {
    /// The largest request the current phase allows.
    pub fn max_request(&self) -> usize {
        if self.logged_on {
            MAX_REQUEST
        } else {
            PRE_LOGIN_MAX_REQUEST
        }
    }
}
