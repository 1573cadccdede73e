//! A long-lived python-oracledb process the instance end-to-end tests drive one command at
//! a time, so that a test can interleave client calls with what happens to the processes
//! (`kill -9` of a dedicated server, `lsnrctl stop`, `oradb shutdown`) in between.
//!
//! Commands are JSON lines on the driver's stdin; each gets one JSON line back:
//! `{"ok": true, "result": ...}` or `{"ok": false, "error": "<message>", "code": <ORA n>}`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

/// The driver program.
const DRIVER: &str = r#"
import json, sys, threading, time, re
import oracledb

conns, pools, jobs = {}, {}, {}

def code_of(e):
    m = re.search(r"ORA-(\d{5})", str(e))
    return int(m.group(1)) if m else None

def run(conn, sql, params):
    with conn.cursor() as c:
        c.execute(sql, params or {})
        if c.description:
            return [list(map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v, r)) for r in c.fetchall()]
        return c.rowcount

def session_of(conn):
    with conn.cursor() as c:
        c.execute("select sid, serial# from v$session where sid = sys_context('USERENV','SID')")
        sid, serial = c.fetchone()
        c.execute("select p.spid from v$session s, v$process p where s.paddr = p.addr and s.sid = :s", s=sid)
        return {"sid": sid, "serial": serial, "spid": int(c.fetchone()[0])}

def drcp_args(cmd):
    # DRCP connection class and purity ("SELF" / "NEW"), when the command names them.
    out = {}
    if "cclass" in cmd:
        out["cclass"] = cmd["cclass"]
    if "purity" in cmd:
        out["purity"] = getattr(oracledb, "PURITY_" + cmd["purity"])
    return out

def do(cmd):
    op = cmd["op"]
    if op == "connect":
        c = oracledb.connect(user=cmd["user"], password=cmd["password"], dsn=cmd["dsn"], **drcp_args(cmd))
        conns[cmd["name"]] = c
        return session_of(c)
    if op == "exec":
        return run(conns[cmd["name"]], cmd["sql"], cmd.get("params"))
    if op == "start":
        name = cmd["name"]
        def job():
            t0 = time.monotonic()
            try:
                r = {"ok": True, "result": run(conns[name], cmd["sql"], cmd.get("params"))}
            except Exception as e:
                r = {"ok": False, "error": str(e), "code": code_of(e)}
            r["elapsed"] = time.monotonic() - t0
            jobs[name] = r
        t = threading.Thread(target=job)
        t.start()
        jobs[name + "/thread"] = t
        return None
    if op == "wait":
        jobs[cmd["name"] + "/thread"].join(cmd.get("timeout", 60))
        return jobs.pop(cmd["name"], None)
    if op == "close":
        conns.pop(cmd["name"]).close()
        return None
    if op == "pool":
        pools[cmd["name"]] = oracledb.create_pool(user=cmd["user"], password=cmd["password"], dsn=cmd["dsn"], min=cmd["min"], max=cmd["max"], increment=1, ping_interval=cmd.get("ping_interval", 60), **drcp_args(cmd))
        return None
    if op == "pool_session":
        with pools[cmd["name"]].acquire() as c:
            return session_of(c)
    if op == "pool_exec":
        with pools[cmd["name"]].acquire(**drcp_args(cmd)) as c:
            if "client_identifier" in cmd:
                c.client_identifier = cmd["client_identifier"]
            return run(c, cmd["sql"], cmd.get("params"))
    if op == "set_identifier":
        conns[cmd["name"]].client_identifier = cmd["value"]
        return None
    if op == "connect_job":
        # In a thread: connect, run one statement, close; `wait` gives the outcome.
        name = cmd["name"]
        def job():
            t0 = time.monotonic()
            try:
                c = oracledb.connect(user=cmd["user"], password=cmd["password"], dsn=cmd["dsn"], **drcp_args(cmd))
                r = {"ok": True, "result": [session_of(c), run(c, cmd["sql"], None)]}
                c.close()
            except Exception as e:
                r = {"ok": False, "error": str(e), "code": code_of(e)}
            r["elapsed"] = time.monotonic() - t0
            jobs[name] = r
        t = threading.Thread(target=job)
        t.start()
        jobs[name + "/thread"] = t
        return None
    raise ValueError("unknown op " + op)

for line in sys.stdin:
    try:
        out = {"ok": True, "result": do(json.loads(line))}
    except Exception as e:
        out = {"ok": False, "error": str(e), "code": code_of(e)}
    print(json.dumps(out), flush=True)
"#;

/// A running driver; killed on drop.
#[derive(Debug)]
pub struct PyDriver {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The raw JSON.
    pub json: Value,
}

impl Reply {
    /// Whether the command succeeded.
    pub fn ok(&self) -> bool {
        self.json["ok"] == json!(true)
    }

    /// The result (on success).
    pub fn result(&self) -> &Value {
        &self.json["result"]
    }

    /// The error message (on failure).
    pub fn error(&self) -> String {
        self.json["error"].as_str().unwrap_or("").to_string()
    }

    /// The first ORA code of the error, if any.
    pub fn code(&self) -> Option<u64> {
        self.json["code"].as_u64()
    }
}

impl PyDriver {
    /// Starts the driver with the python-oracledb venv.
    pub fn start() -> PyDriver {
        let mut child = Command::new(crate::py::python())
            .arg("-u")
            .arg("-c")
            .arg(DRIVER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python driver");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        PyDriver {
            child,
            stdin,
            lines,
        }
    }

    /// Sends one command and waits (at most `limit`) for its reply.
    pub fn call_within(&mut self, cmd: Value, limit: Duration) -> Reply {
        writeln!(self.stdin, "{cmd}").expect("write to driver");
        self.stdin.flush().expect("flush driver");
        let line = self
            .lines
            .recv_timeout(limit)
            .unwrap_or_else(|e| panic!("driver gave no answer to {cmd} within {limit:?}: {e}"));
        Reply {
            json: serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad reply {line}: {e}")),
        }
    }

    /// Sends one command and waits up to 60 s for its reply.
    pub fn call(&mut self, cmd: Value) -> Reply {
        self.call_within(cmd, Duration::from_secs(60))
    }

    /// `connect` as `name`; returns `(sid, serial, spid)` or the failed reply.
    pub fn connect(
        &mut self,
        name: &str,
        dsn: &str,
        user: &str,
        password: &str,
    ) -> Result<(u64, u64, u32), Reply> {
        let r = self.call(
            json!({"op": "connect", "name": name, "dsn": dsn, "user": user, "password": password}),
        );
        if !r.ok() {
            return Err(r);
        }
        let v = r.result();
        Ok((
            v["sid"].as_u64().unwrap_or(0),
            v["serial"].as_u64().unwrap_or(0),
            u32::try_from(v["spid"].as_u64().unwrap_or(0)).unwrap_or(0),
        ))
    }

    /// `exec` `sql` on connection `name`.
    pub fn exec(&mut self, name: &str, sql: &str) -> Reply {
        self.call(json!({"op": "exec", "name": name, "sql": sql}))
    }
}

impl Drop for PyDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
