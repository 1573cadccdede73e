//! The shared-server views and `ALTER SYSTEM SET` as the engine parses and evaluates them
//! over fixed snapshot rows (the SGA produces such rows; see `server_proc::sga::shared`).

use engine::rows::{
    CircuitRow, DispatcherRow, ParameterRow, QueueRow, SharedServerMonitorRow, SharedServerRow,
};
use engine::views::{AlterSystem, Cell, QueryContext, Scope, Snapshot, Statement, parse};

fn snapshot() -> Snapshot {
    Snapshot {
        dispatchers: vec![DispatcherRow {
            name: "D000".into(),
            network: "(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=4000))".into(),
            paddr: "00000000AA000100".into(),
            status: "WAIT",
            accept: true,
            messages: 10,
            bytes: 2000,
            breaks: 1,
            owned: 2,
            created: 5,
            idle: 100,
            busy: 3,
            listener: 0,
            conf_indx: 0,
            connections: 5,
        }],
        shared_servers: vec![
            SharedServerRow {
                name: "S000".into(),
                paddr: "00000000AA000200".into(),
                status: "EXEC",
                messages: 4,
                bytes: 400,
                breaks: 0,
                circuit: Some("00000000AB000000".into()),
                idle: 1,
                busy: 2,
                requests: 2,
            },
            SharedServerRow {
                name: "S001".into(),
                paddr: "00000000AA000300".into(),
                status: "WAIT(COMMON)",
                messages: 0,
                bytes: 0,
                breaks: 0,
                circuit: None,
                idle: 9,
                busy: 0,
                requests: 0,
            },
        ],
        circuits: vec![CircuitRow {
            circuit: "00000000AB000000".into(),
            dispatcher: "00000000AA000100".into(),
            server: "00000000AA000200".into(),
            saddr: "00000000AC000000".into(),
            status: "NORMAL",
            queue: "SERVER",
            messages: 4,
            bytes: 400,
            breaks: 0,
        }],
        queues: vec![QueueRow {
            paddr: "00".into(),
            kind: "COMMON",
            queued: 1,
            wait: 30,
            totalq: 7,
        }],
        shared_server_monitor: Some(SharedServerMonitorRow {
            maximum_connections: 3,
            maximum_sessions: 2,
            servers_started: 1,
            servers_terminated: 0,
            servers_highwater: 2,
        }),
        parameters: vec![ParameterRow {
            num: 319,
            name: "shared_servers".into(),
            kind: 3,
            value: Some("2".into()),
            default_value: Some("0".into()),
            isdefault: false,
            issys_modifiable: "IMMEDIATE",
            ismodified: true,
            description: "number of shared servers to start up",
        }],
        ..Snapshot::default()
    }
}

fn run(sql: &str) -> Vec<Vec<Cell>> {
    let Some(Statement::Query(q)) = parse(sql).unwrap() else {
        panic!("not a V$ query: {sql}")
    };
    q.execute(&snapshot(), &QueryContext::default())
        .unwrap()
        .rows
}

fn t(s: &str) -> Cell {
    Cell::Text(s.into())
}

#[test]
fn shared_server_views_answer_with_oracle_columns() {
    assert_eq!(
        run("select name, status, accept, owned from v$dispatcher"),
        vec![vec![t("D000"), t("WAIT"), t("YES"), Cell::Int(2)]]
    );
    assert_eq!(
        run("select name from v$shared_server where status = 'WAIT(COMMON)'"),
        vec![vec![t("S001")]]
    );
    assert_eq!(
        run("select count(*) from v$shared_server"),
        vec![vec![Cell::Int(2)]]
    );
    assert_eq!(
        run("select c.queue, s.name from v$circuit c, v$shared_server s where c.server = s.paddr"),
        vec![vec![t("SERVER"), t("S000")]]
    );
    assert_eq!(
        run("select type, queued, wait, totalq from v$queue"),
        vec![vec![t("COMMON"), Cell::Int(1), Cell::Int(30), Cell::Int(7)]]
    );
    assert_eq!(
        run("select servers_started, servers_highwater from v$shared_server_monitor"),
        vec![vec![Cell::Int(1), Cell::Int(2)]]
    );
    assert_eq!(
        run(
            "select value, isdefault, ismodified, issys_modifiable from v$parameter where name = 'shared_servers'"
        ),
        vec![vec![t("2"), t("FALSE"), t("SYSTEM_MOD"), t("IMMEDIATE")]]
    );
    assert!(run("select * from v$dispatcher_config").is_empty());
    assert_eq!(parse("select * from v$nosuch").unwrap_err().code, 942);
}

#[test]
fn alter_system_set_forms() {
    let set = |sql: &str| match parse(sql).unwrap() {
        Some(Statement::AlterSystem(a)) => a,
        other => panic!("{sql}: {other:?}"),
    };
    assert_eq!(
        set("ALTER SYSTEM SET SHARED_SERVERS=4"),
        AlterSystem::Set {
            name: "shared_servers".into(),
            value: "4".into(),
            scope: None
        }
    );
    assert_eq!(
        set("alter system set max_shared_servers = 4 scope=memory sid='*';"),
        AlterSystem::Set {
            name: "max_shared_servers".into(),
            value: "4".into(),
            scope: Some(Scope::Memory)
        }
    );
    assert_eq!(
        set(
            "alter system set dispatchers='(PROTOCOL=TCP)(DISPATCHERS=3)(CONNECTIONS=5)' scope=both"
        ),
        AlterSystem::Set {
            name: "dispatchers".into(),
            value: "(PROTOCOL=TCP)(DISPATCHERS=3)(CONNECTIONS=5)".into(),
            scope: Some(Scope::Both)
        }
    );
    assert_eq!(
        parse("alter system set shared_servers=4 scope=disk")
            .unwrap_err()
            .code,
        922
    );
    assert_eq!(parse("alter system set").unwrap_err().code, 2065);
}
