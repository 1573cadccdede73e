// The node-oracledb scenarios of tests/tests/session_node.rs: one connection string per
// server type, against the real listener. Prints one JSON line of what it saw.
// argv: <host:port> <service> <user> <password> <server: dedicated|shared>
"use strict";
const oracledb = require("oracledb");
const [hostPort, service, user, password, server] = process.argv.slice(1);
const dsn = `${hostPort}/${service}:${server}`;

// The first ORA- code of the message, else the driver's own (NJS-, DPY-) code.
function code(e) {
  const text = String(e && e.message);
  const ora = /ORA-(\d{5})/.exec(text);
  if (ora) return Number(ora[1]);
  const m = /(NJS-\d{3})/.exec(text);
  return m ? m[1] : text;
}

async function expectError(f) {
  try {
    await f();
    return null;
  } catch (e) {
    return code(e);
  }
}

(async () => {
  const out = { thin: oracledb.thin, version: oracledb.versionString };
  const c = await oracledb.getConnection({ user, password, connectString: dsn });
  out.oracleServerVersion = c.oracleServerVersionString;
  // node-oracledb 26 keeps TZ_EX in its runtime capabilities only when the server offered
  // it, and then takes DBTIMEZONE from the DATA_TYPES reply (6.10 has neither).
  const caps = c._impl && c._impl._protocol && c._impl._protocol.caps;
  out.tzExchange = caps ? [caps.runtimeCaps[1], caps.dbTzOffset === undefined ? "n/a" : caps.dbTzOffset] : null;
  out.select1 = (await c.execute("select 1 from dual")).rows;
  const many = await c.execute("select level from dual connect by level <= 300", [],
    { fetchArraySize: 50 });
  out.rows300 = [many.rows.length, many.rows[0][0], many.rows[299][0]];
  out.binds = (await c.execute("select :a + 1, :b || 'x' from dual", { a: 41, b: "y" })).rows;
  out.dbtz = (await c.execute("select dbtimezone from dual")).rows;
  await c.ping();
  out.ping = true;
  // A call over its callTimeout is interrupted (BREAK → ORA-01013) and the connection
  // goes on.
  c.callTimeout = 300;
  out.callTimeout = await expectError(() =>
    c.execute("begin dbms_session.sleep(3); end;"));
  c.callTimeout = 0;
  out.afterTimeout = (await c.execute("select 2 from dual")).rows;
  const plsql = await c.execute("begin :v := :a * 2; end;", {
    v: { dir: oracledb.BIND_OUT, type: oracledb.NUMBER }, a: 21,
  });
  out.plsqlOut = plsql.outBinds.v;
  out.clientDriver = [...new Set((await c.execute(
    "select client_driver from v$session_connect_info")).rows.map((r) => r[0]))];
  out.missingTable = await expectError(() => c.execute("select * from missing_table"));
  const sid = (await c.execute("select sys_context('USERENV','SID') from dual")).rows[0][0];
  const serial = (await c.execute(
    "select serial# from v$session where sid = :s", { s: sid })).rows[0][0];
  out.wrongPassword = await expectError(() =>
    oracledb.getConnection({ user, password: password + "x", connectString: dsn }));
  out.unknownService = await expectError(() =>
    oracledb.getConnection({ user, password, connectString: `${hostPort}/no_such_service` }));
  const pool = await oracledb.createPool({
    user, password, connectString: dsn, poolMin: 1, poolMax: 4, poolIncrement: 1,
  });
  let acquired = 0;
  for (let i = 0; i < 20; i++) {
    const pc = await pool.getConnection();
    const r = await pc.execute("select :i from dual", { i });
    if (r.rows[0][0] === i) acquired++;
    await pc.close();
  }
  out.poolAcquisitions = acquired;
  await pool.close(0);
  const dba = await oracledb.getConnection({ user, password, connectString: dsn });
  await dba.execute(`alter system kill session '${sid},${serial}'`);
  await dba.close();
  out.killed = await expectError(() => c.execute("select 1 from dual"));
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
