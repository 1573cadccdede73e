//! The session's side of PL/SQL ([`crate::sql::plsql`]): running a block with the client's
//! binds, the built-in procedures' effects on the session (DBMS_OUTPUT's buffer, the
//! end-to-end attributes, the client context, sleeps), REF CURSORs opened for OUT binds,
//! and the reply: the I/O vector with each bind's direction, then the OUT values in the
//! client's bind types, then the end of the call.

use std::collections::VecDeque;
use std::time::Duration;

use tns::ttc::buf::Writer;
use tns::ttc::message::{
    BIND_DIR_INPUT, BIND_DIR_INPUT_OUTPUT, BIND_DIR_OUTPUT, ErrorInfo, encode_describe_body,
    encode_io_vector, msg_type,
};
use tns::ttc::request::{BIND_ARRAY, BindMetadata, BindValue};
use tns::ttc::types::{Decimal, ora_type};

use super::lob::{CHUNK_SIZE, TempLobs};
use super::{Action, Cursor, Session, decode_scalar};
use crate::error::{oru_line, pls_line};
use crate::sql::eval::{EvalContext, QueryPlan, Value};
use crate::sql::plsql::{self, Block, Host, Mode, Procedure};
use crate::sql::{OraError, Statement};

/// DBMS_OUTPUT's buffer of a session (present while enabled).
#[derive(Debug, Default)]
pub(super) struct DbmsOutput {
    /// Bytes the buffer may hold.
    limit: usize,
    /// Bytes it holds.
    bytes: usize,
    /// Complete lines not yet read.
    lines: VecDeque<String>,
    /// A line begun with PUT.
    partial: String,
}

/// DBMS_OUTPUT.ENABLE(NULL) ("unlimited") is bounded here, like everything a session keeps.
const DBMS_OUTPUT_MAX: usize = 1 << 20;
/// The longest DBMS_OUTPUT line.
const DBMS_OUTPUT_LINE_MAX: usize = 32_767;
/// The buffer of DBMS_OUTPUT.ENABLE without an argument.
const DBMS_OUTPUT_DEFAULT: usize = 20_000;

/// REF CURSOR (bind type 102).
const CURSOR: u8 = 102;

/// ORA-20000 with the DBMS_OUTPUT message ORU-`code` about `limit` bytes as its text.
fn oru(code: u32, limit: usize) -> OraError {
    let text = oru_line(code, &[&limit.to_string()]);
    OraError::from_stack(20000, &format!("ORA-20000: {text}"))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(d) => Some(d.to_f64()),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn value_error(detail: &str) -> OraError {
    OraError::with_args(6502, &[detail], 0)
}

impl DbmsOutput {
    fn push_line(&mut self, line: String) -> Result<(), OraError> {
        if line.len() > DBMS_OUTPUT_LINE_MAX {
            return Err(oru(10028, DBMS_OUTPUT_LINE_MAX));
        }
        if self.bytes + line.len() > self.limit {
            return Err(oru(10027, self.limit));
        }
        self.bytes += line.len();
        self.lines.push_back(line);
        Ok(())
    }

    fn pop_line(&mut self) -> Option<String> {
        let l = self.lines.pop_front()?;
        self.bytes -= l.len();
        Some(l)
    }
}

/// Ops a block runs per slice of a call: between slices the transport looks for a BREAK
/// and the instance for a kill, as between the slices of a query that computes.
pub(super) const PLSQL_SLICE: u64 = 20_000;

/// A block being run (see [`plsql::Machine`]) and what its reply needs.
#[derive(Debug)]
pub(super) struct RunningBlock {
    machine: plsql::Machine,
    /// The client's bind names, in bind order.
    names: Vec<String>,
    /// Their metadata.
    meta: Vec<BindMetadata>,
    /// How the block uses each bind.
    modes: Vec<(String, Mode)>,
}

impl Session {
    /// Runs an anonymous block: IN values from the client's bind row, then the first slice.
    pub(super) fn run_plsql(
        &mut self,
        block: &Block,
        stmt: &Statement,
        meta: &[BindMetadata],
        row: &[BindValue],
    ) -> Vec<Action> {
        let names = stmt.bind_names();
        if names.len() > meta.len() || names.len() > row.len() {
            return vec![self.error_bytes_action(self.ora(&OraError::new(1008, 0)))];
        }
        let mut ctx = self.eval_context(stmt.reads_userenv());
        for (i, name) in names.iter().enumerate() {
            let v = match &row[i] {
                BindValue::Bytes(b) => match decode_scalar(meta[i].ora_type, b) {
                    Ok(v) => v,
                    Err(e) => return vec![self.error_bytes_action(self.ora(&e))],
                },
                BindValue::Locator(l) => match self.lobs.value(l) {
                    Ok(v) => v,
                    Err(e) => return vec![self.error_bytes_action(self.ora(&e))],
                },
                _ => Value::Null,
            };
            ctx.binds.push((name.clone(), v));
        }
        self.plsql_sleep = 0.0;
        let running = RunningBlock {
            machine: plsql::Machine::new(block, ctx),
            names,
            meta: meta.to_vec(),
            modes: block.bind_modes(),
        };
        self.step_plsql(Box::new(running))
    }

    /// Runs the next slice of a block: [`Action::Busy`] while it goes on, else its reply
    /// (after the sleeps it asked for).
    pub(super) fn step_plsql(&mut self, mut running: Box<RunningBlock>) -> Vec<Action> {
        let progress = running.machine.run(self, PLSQL_SLICE);
        let outcome = match progress {
            Ok(plsql::Progress::Running) => {
                self.plsql_call = Some(running);
                self.set_active(true);
                return vec![Action::Busy];
            }
            Ok(plsql::Progress::Done(o)) => Ok(o),
            Err(e) => Err(e),
        };
        let secs = std::mem::take(&mut self.plsql_sleep);
        let mut w = Writer::new();
        let reply = outcome.and_then(|o| {
            if !running.names.is_empty() {
                self.encode_out_binds(&mut w, &running, &o)?;
            }
            Ok(())
        });
        let bytes = match reply {
            Ok(()) => {
                ErrorInfo {
                    call_status: self.call_status(),
                    ..ErrorInfo::default()
                }
                .encode(&mut w, self.fv());
                w.into_bytes()
            }
            Err(e) => {
                let mut w = Writer::new();
                self.ora(&e).encode(&mut w, self.fv());
                w.into_bytes()
            }
        };
        if secs > 0.0 && secs.is_finite() {
            self.pending = Some(bytes);
            self.set_active(true);
            vec![Action::Sleep(Duration::from_secs_f64(secs.min(86_400.0)))]
        } else {
            vec![Action::Send(bytes)]
        }
    }

    /// The I/O vector and the ROW_DATA of the OUT and IN OUT binds.
    fn encode_out_binds(
        &mut self,
        w: &mut Writer,
        running: &RunningBlock,
        o: &plsql::Outcome,
    ) -> Result<(), OraError> {
        let (names, meta) = (&running.names, &running.meta);
        let mode = |n: &str| {
            running
                .modes
                .iter()
                .find(|(m, _)| m == n)
                .map_or(Mode::In, |(_, m)| *m)
        };
        let dirs: Vec<u8> = names
            .iter()
            .map(|n| match mode(n) {
                Mode::In => BIND_DIR_INPUT,
                Mode::Out => BIND_DIR_OUTPUT,
                Mode::InOut => BIND_DIR_INPUT_OUTPUT,
            })
            .collect();
        let mut body = Writer::new();
        let mut any = false;
        for (i, n) in names.iter().enumerate() {
            if mode(n) == Mode::In {
                continue;
            }
            any = true;
            let m = &meta[i];
            if m.ora_type == CURSOR {
                let Some((_, id)) = o.cursors.iter().find(|(c, _)| c == n) else {
                    // A REF CURSOR the block never opened.
                    return Err(OraError::new(1001, 0));
                };
                let cols = self
                    .cursors
                    .get(id)
                    .and_then(|c| c.plan.as_ref())
                    .map(|p| p.columns.clone())
                    .unwrap_or_default();
                body.u8(1);
                encode_describe_body(&mut body, &cols, self.fv());
                body.ub2(u16::try_from(*id).unwrap_or(0));
                body.ub4(0);
                continue;
            }
            let v = o
                .binds
                .iter()
                .find(|(k, _)| k == n)
                .map_or(Value::Null, |(_, v)| v.clone());
            if m.flags & BIND_ARRAY != 0 {
                let items = match v {
                    Value::List(items) => items,
                    Value::Null => Vec::new(),
                    one => vec![one],
                };
                let max = usize::try_from(m.max_array_elements).unwrap_or(usize::MAX);
                if items.len() > max {
                    return Err(value_error(": Bulk Bind: Truncated Bind"));
                }
                body.ub4(u32::try_from(items.len()).unwrap_or(0));
                for item in &items {
                    encode_scalar(&mut body, m, item, &mut self.lobs)?;
                }
            } else {
                encode_scalar(&mut body, m, &v, &mut self.lobs)?;
            }
        }
        encode_io_vector(w, &dirs);
        if any {
            w.u8(msg_type::ROW_DATA);
            w.raw(body.as_bytes());
        }
        Ok(())
    }
}

/// One OUT value in the client's bind type, then its truncation count.
/// A CLOB or BLOB goes as a new temporary LOB's locator.
fn encode_scalar(
    w: &mut Writer,
    m: &BindMetadata,
    v: &Value,
    lobs: &mut TempLobs,
) -> Result<(), OraError> {
    if matches!(m.ora_type, ora_type::CLOB | ora_type::BLOB) {
        let lob = match (m.ora_type, v) {
            (ora_type::BLOB, Value::Str(_)) => {
                return Err(OraError::with_args(932, &["BLOB", "CHAR"], 0));
            }
            (ora_type::BLOB, Value::Clob(_)) => {
                return Err(OraError::with_args(932, &["BLOB", "CLOB"], 0));
            }
            (ora_type::BLOB, Value::Number(_)) => {
                return Err(OraError::with_args(932, &["BLOB", "NUMBER"], 0));
            }
            (ora_type::CLOB, Value::Blob(_)) => {
                return Err(OraError::with_args(932, &["CLOB", "BLOB"], 0));
            }
            _ => lobs.create_from(v)?,
        };
        tns::ttc::lob::encode_lob_value(
            w,
            lob.as_ref().map(|(l, size)| (&l[..], *size, CHUNK_SIZE)),
        );
        w.ub4(0);
        return Ok(());
    }
    let bytes = match (m.ora_type, v) {
        (_, Value::Null) => None,
        (ora_type::NUMBER | 3, v) => {
            let d = match v {
                Value::Number(d) => d.clone(),
                Value::Str(s) => Decimal::parse(s.trim())
                    .ok_or_else(|| value_error(": character to number conversion error"))?,
                _ => return Err(value_error("")),
            };
            Some(d.to_oracle_number())
        }
        (ora_type::DATE, v) => match v {
            Value::Date(d) | Value::Timestamp(d) | Value::TimestampTz(d) => {
                Some(d.to_oracle_date())
            }
            _ => return Err(value_error("")),
        },
        (ora_type::TIMESTAMP | ora_type::TIMESTAMP_LTZ, v) => match v {
            Value::Date(d) | Value::Timestamp(d) | Value::TimestampTz(d) => {
                Some(d.to_oracle_timestamp())
            }
            _ => return Err(value_error("")),
        },
        (_, v) => {
            let text = v.as_text();
            let limit = usize::try_from(m.buffer_size).unwrap_or(usize::MAX);
            if limit > 0 && text.len() > limit {
                return Err(value_error(": character string buffer too small"));
            }
            Some(text.into_bytes())
        }
    };
    match bytes {
        Some(b) if !b.is_empty() => {
            w.dalc(&b);
        }
        _ => {
            w.u8(0);
        }
    }
    // Bytes the value lost to the client's buffer (an OUT bind's "actual length"): none.
    w.ub4(0);
    Ok(())
}

fn text_arg(args: &[Value], i: usize) -> String {
    args.get(i).map(Value::as_text).unwrap_or_default()
}

impl Host for Session {
    fn call(&mut self, p: &Procedure, args: &mut [Value]) -> Result<(), OraError> {
        match p.name {
            "DBMS_OUTPUT.ENABLE" => {
                let limit = match args.first() {
                    None => DBMS_OUTPUT_DEFAULT,
                    Some(Value::Null) => DBMS_OUTPUT_MAX,
                    Some(v) => number(v).map_or(DBMS_OUTPUT_DEFAULT, |n| {
                        n.clamp(2000.0, 1_000_000.0) as usize
                    }),
                };
                self.output.get_or_insert_with(DbmsOutput::default).limit = limit;
            }
            "DBMS_OUTPUT.DISABLE" => self.output = None,
            "DBMS_OUTPUT.PUT_LINE" | "DBMS_OUTPUT.PUT" | "DBMS_OUTPUT.NEW_LINE" => {
                if let Some(out) = self.output.as_mut() {
                    out.partial.push_str(&text_arg(args, 0));
                    if p.name != "DBMS_OUTPUT.PUT" {
                        let line = std::mem::take(&mut out.partial);
                        out.push_line(line)?;
                    } else if out.partial.len() > DBMS_OUTPUT_LINE_MAX {
                        out.partial.clear();
                        return Err(oru(10028, DBMS_OUTPUT_LINE_MAX));
                    }
                }
            }
            "DBMS_OUTPUT.GET_LINE" => {
                let line = self.output.as_mut().and_then(DbmsOutput::pop_line);
                let status = i128::from(line.is_none());
                args[0] = line.map_or(Value::Null, Value::Str);
                args[1] = Value::Number(Decimal::from_i128(status));
            }
            "DBMS_OUTPUT.GET_LINES" => {
                let wanted = number(&args[1]).unwrap_or(0.0).max(0.0) as usize;
                let mut lines = Vec::new();
                if let Some(out) = self.output.as_mut() {
                    while lines.len() < wanted {
                        let Some(l) = out.pop_line() else { break };
                        lines.push(Value::Str(l));
                    }
                }
                args[1] = Value::Number(Decimal::from_i128(lines.len() as i128));
                args[0] = Value::List(lines);
            }
            "DBMS_SESSION.SET_IDENTIFIER" | "DBMS_SESSION.CLEAR_IDENTIFIER" => {
                let id = text_arg(args, 0);
                if id.len() > 64 {
                    return Err(value_error(": character string buffer too small"));
                }
                self.info.client_identifier = id;
                self.publish_app_info();
            }
            "DBMS_SESSION.SET_CONTEXT" => {
                let ns = text_arg(args, 0).to_uppercase();
                if ns != "CLIENTCONTEXT" {
                    return Err(OraError::new(1031, 0));
                }
                self.add_context(&ns, &text_arg(args, 1), &text_arg(args, 2));
            }
            "DBMS_SESSION.CLEAR_CONTEXT" | "DBMS_SESSION.CLEAR_ALL_CONTEXT" => {
                let ns = text_arg(args, 0).to_uppercase();
                let attr = text_arg(args, 2).to_uppercase();
                std::sync::Arc::make_mut(&mut self.contexts)
                    .retain(|(n, a, _)| !(*n == ns && (attr.is_empty() || *a == attr)));
            }
            "DBMS_SESSION.SLEEP" | "DBMS_LOCK.SLEEP" => {
                let secs = number(&args[0]).unwrap_or(0.0);
                if secs > 0.0 {
                    self.plsql_sleep += secs;
                }
            }
            "DBMS_APPLICATION_INFO.SET_MODULE" => {
                self.info.module = text_arg(args, 0);
                self.info.action = text_arg(args, 1);
                self.publish_app_info();
            }
            "DBMS_APPLICATION_INFO.SET_ACTION" => {
                self.info.action = text_arg(args, 0);
                self.publish_app_info();
            }
            "DBMS_APPLICATION_INFO.SET_CLIENT_INFO" => {
                self.info.client_info = text_arg(args, 0);
                self.publish_app_info();
            }
            "DBMS_APPLICATION_INFO.READ_MODULE" => {
                args[0] = text_value(&self.info.module);
                args[1] = text_value(&self.info.action);
            }
            "DBMS_APPLICATION_INFO.READ_CLIENT_INFO" => {
                args[0] = text_value(&self.info.client_info);
            }
            other => {
                return Err(OraError::with_args(
                    6550,
                    &["1", "1", &pls_line(201, &[other])],
                    0,
                ));
            }
        }
        Ok(())
    }

    fn query(&mut self, query: &Statement, ctx: &EvalContext) -> Result<QueryPlan, OraError> {
        self.plan(query, ctx)
    }

    fn open_cursor(&mut self, query: &Statement, ctx: &EvalContext) -> Result<u32, OraError> {
        let stmt = super::Prepared::new(query.clone());
        let plan = self.plan(&stmt.stmt, ctx)?;
        if self.cursors.len() >= usize::try_from(self.cfg.max_open_cursors).unwrap_or(usize::MAX) {
            return Err(OraError::new(1000, 0));
        }
        let id = self.alloc_cursor();
        self.dctx.cursor_binds.insert(id, (Vec::new(), true));
        self.cursors.insert(
            id,
            Cursor {
                binds: Vec::new(),
                defines: Vec::new(),
                stmt,
                plan: Some(plan),
                position: 0,
                ctx: Some(ctx.clone()),
            },
        );
        Ok(id)
    }
}

fn text_value(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::Str(s.to_owned())
    }
}

impl Session {
    /// Tells the instance the end-to-end attributes (V$SESSION) after a procedure set them.
    fn publish_app_info(&self) {
        if let Some(slot) = self.slot {
            self.inst.set_app_info(slot, &self.info);
        }
    }
}
