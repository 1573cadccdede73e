//! The shared SQL area: statements parsed once per instance and shared by every session
//! that sends the same text, as Oracle's library cache shares cursors between sessions (a
//! "soft parse" instead of a "hard parse"). A shared server serves many sessions, each of
//! which parses `select 1 from dual` at its first execute; with the area that tree is made
//! once for the whole instance.
//!
//! What may be shared: a parse depends only on the text and on whether the database is
//! open ([`crate::sql::parse_in`]), so only statements that parsed without error while it
//! was open are kept, and only looked up while it is open. Keys are the exact text, as in
//! Oracle (case and spaces count). Bounded: texts of at most [`MAX_TEXT`] bytes, at most
//! [`CAPACITY`] statements; when it is full it is emptied and fills again with what is in
//! use (a crude form of Oracle's ageing out).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::Prepared;

/// Statements the area holds at most.
pub const CAPACITY: usize = 256;
/// Longest text kept, in bytes.
pub const MAX_TEXT: usize = 1024;

/// Parsed statements by text, shared by the sessions of an instance (see the module docs).
#[derive(Debug, Default)]
pub struct SharedSql {
    statements: Mutex<HashMap<String, Arc<Prepared>>>,
}

impl SharedSql {
    /// An empty area.
    pub fn new() -> Self {
        SharedSql::default()
    }

    /// Statements held now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Prepared>>> {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The statement parsed from exactly `text`, if held.
    pub(super) fn get(&self, text: &str) -> Option<Arc<Prepared>> {
        self.lock().get(text).cloned()
    }

    /// Keeps `prepared`, parsed from `text`, unless the text is over [`MAX_TEXT`].
    pub(super) fn insert(&self, text: &str, prepared: &Arc<Prepared>) {
        if text.len() > MAX_TEXT {
            return;
        }
        let mut statements = self.lock();
        if statements.len() >= CAPACITY && !statements.contains_key(text) {
            statements.clear();
        }
        statements.insert(text.to_owned(), Arc::clone(prepared));
    }
}
