//! Temporary LOBs: the session keeps them (as Oracle keeps them in the session's temporary
//! segment) from their creation — `createlob`, `TO_CLOB`, a LOB a block returns — until the
//! client frees them (the FreeTemporaryLobs piggyback, a FREE_TEMP call) or the session
//! ends. The client holds only a locator naming one; LOB operations (TTC function 96) read,
//! write, trim and measure it. A CLOB is kept as UTF-16 code units (big endian), its
//! offsets and lengths counting them, as an AL32UTF8 database keeps CLOBs and as the
//! locator's "variable length charset" flag tells the driver. The store is bounded: beyond
//! [`MAX_TEMP_LOBS`] LOBs or [`MAX_TEMP_BYTES`] bytes a call gets ORA-01652, as a full
//! temporary tablespace gives.

use std::collections::HashMap;

use tns::ttc::buf::Writer;
use tns::ttc::lob::{self, LOCATOR_LEN, LobOpReply, op};
use tns::ttc::message::{ColumnMetadata, ErrorInfo, msg_type};
use tns::ttc::request::{BindMetadata, LobOp};
use tns::ttc::types::ora_type;

use super::{Action, Session};
use crate::sql::OraError;
use crate::sql::eval::Value;

/// Most temporary LOBs a session holds at once.
pub(super) const MAX_TEMP_LOBS: usize = 65_536;
/// Most bytes the session's temporary LOBs hold together.
pub(super) const MAX_TEMP_BYTES: usize = 64 << 20;
/// Chunk size reported for a temporary LOB (an 8 KiB block's usable bytes, as Oracle).
pub(super) const CHUNK_SIZE: u32 = 8132;
/// Character set id of a CLOB's data (AL16UTF16).
const CLOB_CHARSET: u16 = 2000;

#[derive(Debug)]
struct TempLob {
    blob: bool,
    /// BLOB bytes, or CLOB UTF-16BE code units.
    data: Vec<u8>,
    /// Opened (OPEN) and not closed since.
    open: bool,
}

impl TempLob {
    /// Bytes per unit of offsets and lengths.
    fn unit(&self) -> usize {
        if self.blob { 1 } else { 2 }
    }

    fn len_units(&self) -> u64 {
        (self.data.len() / self.unit()) as u64
    }

    fn value(&self) -> Value {
        if self.blob {
            Value::Blob(self.data.clone())
        } else {
            let units: Vec<u16> = self
                .data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            Value::Clob(String::from_utf16_lossy(&units))
        }
    }
}

/// The session's temporary LOBs.
#[derive(Debug, Default)]
pub(super) struct TempLobs {
    /// Tag in this session's locators (a locator of another session names no LOB here).
    tag: u64,
    next_id: u64,
    lobs: HashMap<u64, TempLob>,
    bytes: usize,
}

/// ORA-01652, the temporary tablespace is full.
fn temp_full() -> OraError {
    OraError::with_args(1652, &["128", "TEMP"], 0)
}

/// ORA-22289 for CLOSE of a LOB that is not open. Oracle leaves the message's operation
/// unfilled for a temporary LOB: the client sees `cannot perform %s operation on an unopened
/// file or LOB` word for word (what ODPI-C's test of closing an unopened temporary LOB
/// expects from the server).
fn close_unopened() -> OraError {
    OraError::with_args(22289, &["%s"], 0)
}

fn clob_bytes(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

impl TempLobs {
    /// A store whose locators carry `tag`.
    pub(super) fn new(tag: u64) -> Self {
        TempLobs {
            tag,
            ..TempLobs::default()
        }
    }

    /// Frees every temporary LOB (the session ends).
    pub(super) fn clear(&mut self) {
        self.lobs.clear();
        self.bytes = 0;
    }

    /// A new temporary LOB holding `data` (CLOB: UTF-16BE): its locator.
    fn create(&mut self, blob: bool, data: Vec<u8>) -> Result<[u8; LOCATOR_LEN], OraError> {
        if self.lobs.len() >= MAX_TEMP_LOBS || self.bytes + data.len() > MAX_TEMP_BYTES {
            return Err(temp_full());
        }
        self.next_id += 1;
        let id = self.next_id;
        self.bytes += data.len();
        self.lobs.insert(
            id,
            TempLob {
                blob,
                data,
                open: false,
            },
        );
        Ok(lob::temp_locator(self.tag, id, blob))
    }

    /// A temporary LOB holding `v` (a CLOB or BLOB value): its locator and size in units.
    pub(super) fn create_from(
        &mut self,
        v: &Value,
    ) -> Result<Option<([u8; LOCATOR_LEN], u64)>, OraError> {
        let (blob, data) = match v {
            Value::Null => return Ok(None),
            Value::Blob(b) => (true, b.clone()),
            Value::Clob(s) => (false, clob_bytes(s)),
            other => (false, clob_bytes(&other.as_text())),
        };
        let size = if blob { data.len() } else { data.len() / 2 } as u64;
        Ok(Some((self.create(blob, data)?, size)))
    }

    fn id(&self, locator: &[u8]) -> Result<u64, OraError> {
        match lob::parse_temp_locator(locator) {
            Some((tag, id)) if tag == self.tag && self.lobs.contains_key(&id) => Ok(id),
            Some(_) => Err(OraError::new(22922, 0)),
            None => Err(OraError::new(22275, 0)),
        }
    }

    /// The contents of the LOB `locator` names (a bind).
    pub(super) fn value(&self, locator: &[u8]) -> Result<Value, OraError> {
        let id = self.id(locator)?;
        Ok(self.lobs.get(&id).map_or(Value::Null, TempLob::value))
    }

    /// Frees the LOBs of a run of locators (the piggyback's array); unknown ones are
    /// ignored, as the client may free a LOB twice.
    pub(super) fn free_all(&mut self, locators: &[u8]) {
        for l in locators.chunks_exact(LOCATOR_LEN) {
            if let Ok(id) = self.id(l)
                && let Some(lob) = self.lobs.remove(&id)
            {
                self.bytes -= lob.data.len();
            }
        }
    }

    /// Carries out one LOB operation.
    fn run(&mut self, req: &LobOp) -> Result<LobOpReply, OraError> {
        let mut reply = LobOpReply {
            locator: (!req.locator.is_empty()).then(|| req.locator.clone()),
            ..LobOpReply::default()
        };
        let operation = req.operation;
        if operation == op::CREATE_TEMP {
            let blob = match u8::try_from(req.dest_offset) {
                Ok(ora_type::BLOB) => true,
                Ok(ora_type::CLOB) => false,
                _ => return Err(OraError::new(22275, 0)),
            };
            reply.locator = Some(self.create(blob, Vec::new())?.to_vec());
            reply.created_charset = Some(if blob { 0 } else { CLOB_CHARSET });
            return Ok(reply);
        }
        if operation == op::FREE_TEMP || operation == op::FREE_TEMP | op::ARRAY {
            self.free_all(&req.locator);
            return Ok(reply);
        }
        let id = self.id(&req.locator)?;
        let total = self.bytes;
        let lob = self
            .lobs
            .get_mut(&id)
            .ok_or_else(|| OraError::new(22922, 0))?;
        let unit = lob.unit();
        let at = |units: u64| {
            usize::try_from(units)
                .unwrap_or(usize::MAX)
                .saturating_mul(unit)
        };
        match operation {
            op::GET_LENGTH => reply.amount = Some(lob.len_units() as i64),
            op::GET_CHUNK_SIZE => reply.amount = Some(i64::from(CHUNK_SIZE)),
            op::READ => {
                let start = at(req.source_offset.max(1) - 1).min(lob.data.len());
                let end = start
                    .saturating_add(at(req.amount.unwrap_or(0)))
                    .min(lob.data.len());
                let data = lob.data[start..end].to_vec();
                reply.amount = Some(((end - start) / unit) as i64);
                reply.data = (!data.is_empty()).then_some(data);
            }
            op::WRITE => {
                let data = req.data.clone().unwrap_or_default();
                let start = at(req.source_offset.max(1) - 1);
                let end = start.saturating_add(data.len());
                let grow = end.saturating_sub(lob.data.len());
                if total.saturating_add(grow) > MAX_TEMP_BYTES {
                    return Err(temp_full());
                }
                if start > lob.data.len() {
                    // A gap is filled with spaces (CLOB) or zero bytes (BLOB), as Oracle does.
                    let pad: &[u8] = if lob.blob { &[0] } else { &[0, b' '] };
                    while lob.data.len() < start {
                        lob.data.extend_from_slice(pad);
                    }
                }
                if lob.data.len() < end {
                    lob.data.resize(end, 0);
                }
                lob.data[start..end].copy_from_slice(&data);
                self.bytes = total + grow;
                if req.amount.is_some() {
                    reply.amount = Some((data.len() / unit) as i64);
                }
            }
            op::TRIM => {
                let new_len = at(req.amount.unwrap_or(0));
                if new_len > lob.data.len() {
                    return Err(OraError::new(22926, 0));
                }
                self.bytes = total - (lob.data.len() - new_len);
                lob.data.truncate(new_len);
                reply.amount = req.amount.map(|a| a as i64);
            }
            op::OPEN => {
                if lob.open {
                    return Err(OraError::new(22293, 0));
                }
                lob.open = true;
                // The open mode the request sent comes back as its amount.
                reply.amount = req.amount.map(|a| a as i64);
            }
            op::CLOSE => {
                if !lob.open {
                    return Err(close_unopened());
                }
                lob.open = false;
            }
            op::IS_OPEN => reply.is_open = Some(lob.open),
            // The BFILE operations: there are no BFILEs here.
            _ => return Err(OraError::new(3115, 0)),
        }
        Ok(reply)
    }
}

/// One ROW_DATA message. A LOB column goes as the client defined it: as its contents when
/// it asked for LONG / LONG RAW (python-oracledb with `fetch_lobs` off; such a value is
/// followed by its indicator and return code) or VARCHAR2 / RAW, else as a new temporary
/// LOB's locator.
pub(super) fn encode_row(
    columns: &[ColumnMetadata],
    defines: &[BindMetadata],
    values: &[Value],
    lobs: &mut TempLobs,
) -> Result<Vec<u8>, OraError> {
    let mut w = Writer::new();
    w.u8(msg_type::ROW_DATA);
    let put = |w: &mut Writer, bytes: Option<Vec<u8>>| match bytes {
        Some(b) if !b.is_empty() => {
            w.dalc(&b);
        }
        _ => {
            w.u8(0);
        }
    };
    for (i, (c, v)) in columns.iter().zip(values).enumerate() {
        if c.buffer_size == 0 {
            continue;
        }
        if !c.is_lob() {
            put(&mut w, v.encode());
            continue;
        }
        match defines.get(i).map(|d| d.ora_type) {
            Some(ora_type::LONG | ora_type::LONG_RAW) => {
                put(&mut w, v.encode());
                w.ub4(0).ub4(0);
            }
            Some(ora_type::VARCHAR | ora_type::CHAR | ora_type::RAW) => put(&mut w, v.encode()),
            _ => {
                let lob = lobs.create_from(v)?;
                lob::encode_lob_value(
                    &mut w,
                    lob.as_ref().map(|(l, size)| (&l[..], *size, CHUNK_SIZE)),
                );
            }
        }
    }
    Ok(w.into_bytes())
}

impl Session {
    /// A LOB operation call (TTC function 96): its reply, or the Oracle error.
    pub(super) fn lob_call(&mut self, req: &LobOp) -> Vec<Action> {
        match self.lobs.run(req) {
            Ok(reply) => {
                let mut w = Writer::new();
                reply.encode(&mut w);
                ErrorInfo {
                    call_status: self.call_status(),
                    ..ErrorInfo::default()
                }
                .encode(&mut w, self.fv());
                vec![Action::Send(w.into_bytes())]
            }
            Err(e) => vec![self.error_bytes_action(self.ora(&e))],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(operation: u32, locator: &[u8]) -> LobOp {
        LobOp {
            operation,
            locator: locator.to_vec(),
            charset: None,
            source_offset: 0,
            dest_offset: 0,
            data: None,
            amount: None,
        }
    }

    fn create(lobs: &mut TempLobs, ty: u8) -> Vec<u8> {
        let mut req = call(op::CREATE_TEMP, &[0; 40]);
        req.dest_offset = u64::from(ty);
        lobs.run(&req).unwrap().locator.unwrap()
    }

    fn write(lobs: &mut TempLobs, l: &[u8], offset: u64, data: &[u8]) -> Result<(), OraError> {
        let mut req = call(op::WRITE, l);
        req.source_offset = offset;
        req.data = Some(data.to_vec());
        lobs.run(&req).map(|_| ())
    }

    fn read(lobs: &mut TempLobs, l: &[u8], offset: u64, amount: u64) -> LobOpReply {
        let mut req = call(op::READ, l);
        req.source_offset = offset;
        req.amount = Some(amount);
        lobs.run(&req).unwrap()
    }

    #[test]
    fn a_clob_counts_utf16_units_pads_gaps_with_spaces_and_trims() {
        let mut lobs = TempLobs::new(9);
        let l = create(&mut lobs, ora_type::CLOB);
        write(&mut lobs, &l, 1, &clob_bytes("héllo")).unwrap();
        write(&mut lobs, &l, 8, &clob_bytes("x")).unwrap();
        let len = lobs.run(&call(op::GET_LENGTH, &l)).unwrap();
        assert_eq!(len.amount, Some(8));
        assert_eq!(lobs.value(&l).unwrap(), Value::Clob("héllo  x".into()));
        let r = read(&mut lobs, &l, 2, 3);
        assert_eq!(r.data, Some(clob_bytes("éll")));
        assert_eq!(r.amount, Some(3));
        // Past the end: no data, amount 0 (python-oracledb returns "").
        let r = read(&mut lobs, &l, 20, 5);
        assert_eq!((r.data, r.amount), (None, Some(0)));
        let mut trim = call(op::TRIM, &l);
        trim.amount = Some(9);
        assert_eq!(lobs.run(&trim).unwrap_err().code, 22926);
        trim.amount = Some(2);
        lobs.run(&trim).unwrap();
        assert_eq!(lobs.value(&l).unwrap(), Value::Clob("hé".into()));
        assert_eq!(lobs.bytes, 4);
    }

    #[test]
    fn freed_and_foreign_locators_name_no_lob() {
        let mut lobs = TempLobs::new(1);
        let a = create(&mut lobs, ora_type::BLOB);
        let b = create(&mut lobs, ora_type::BLOB);
        write(&mut lobs, &a, 3, &[7]).unwrap();
        assert_eq!(lobs.value(&a).unwrap(), Value::Blob(vec![0, 0, 7]));
        let mut both = a.clone();
        both.extend_from_slice(&b);
        lobs.free_all(&both);
        assert_eq!((lobs.lobs.len(), lobs.bytes), (0, 0));
        assert_eq!(lobs.value(&a).unwrap_err().code, 22922);
        let other = TempLobs::new(2).create(true, vec![]).unwrap();
        assert_eq!(lobs.value(&other).unwrap_err().code, 22922);
        assert_eq!(lobs.value(&[0; 40]).unwrap_err().code, 22275);
    }

    #[test]
    fn open_close_and_is_open() {
        let mut lobs = TempLobs::new(3);
        let l = create(&mut lobs, ora_type::CLOB);
        let is_open = |lobs: &mut TempLobs| lobs.run(&call(op::IS_OPEN, &l)).unwrap().is_open;
        assert_eq!(is_open(&mut lobs), Some(false));
        let close = lobs.run(&call(op::CLOSE, &l)).unwrap_err();
        assert_eq!(
            close.text(),
            "ORA-22289: cannot perform %s operation on an unopened file or LOB"
        );
        let mut open = call(op::OPEN, &l);
        open.amount = Some(2);
        assert_eq!(lobs.run(&open).unwrap().amount, Some(2));
        assert_eq!(is_open(&mut lobs), Some(true));
        assert_eq!(
            lobs.run(&open).unwrap_err().text(),
            "ORA-22293: LOB already opened in the same transaction"
        );
        // An open LOB is read and written as any other.
        write(&mut lobs, &l, 1, &clob_bytes("ab")).unwrap();
        assert_eq!(lobs.value(&l).unwrap(), Value::Clob("ab".into()));
        lobs.run(&call(op::CLOSE, &l)).unwrap();
        assert_eq!(is_open(&mut lobs), Some(false));
        // The reply of IS_OPEN: the locator, then the flag.
        let mut w = Writer::new();
        lobs.run(&call(op::IS_OPEN, &l)).unwrap().encode(&mut w);
        let b = w.into_bytes();
        assert_eq!((b[0], b.len(), b[41]), (msg_type::PARAMETER, 42, 0));
        // Other LOB operations (the BFILE ones) stay refused.
        assert_eq!(lobs.run(&call(0x0200, &l)).unwrap_err().code, 3115);
    }

    #[test]
    fn the_store_is_bounded() {
        let mut lobs = TempLobs::new(1);
        let l = create(&mut lobs, ora_type::BLOB);
        let big = vec![1u8; MAX_TEMP_BYTES];
        write(&mut lobs, &l, 1, &big).unwrap();
        assert_eq!(
            write(&mut lobs, &l, 1 + MAX_TEMP_BYTES as u64, &[1])
                .unwrap_err()
                .code,
            1652
        );
        assert_eq!(
            lobs.create_from(&Value::Blob(vec![1])).unwrap_err().code,
            1652
        );
        lobs.clear();
        for _ in 0..MAX_TEMP_LOBS {
            lobs.create(true, Vec::new()).unwrap();
        }
        assert_eq!(lobs.create(true, Vec::new()).unwrap_err().code, 1652);
    }
}
