//! The interpreter on its own: control flow, loops, SELECT INTO, cursor FOR loops,
//! exceptions and their handlers, the compile errors, and slices of steps.

use tns::ttc::types::{DateTime, Decimal};

use super::super::eval::{EvalContext, QueryPlan, Value, plan_query};
use super::super::{OraError, Statement, parse};
use super::{Host, Machine, Procedure, Progress};

/// A host that keeps DBMS_OUTPUT's lines and plans queries with the SQL subset.
#[derive(Default)]
struct TestHost {
    lines: Vec<String>,
    queries: usize,
}

impl Host for TestHost {
    fn call(&mut self, p: &Procedure, args: &mut [Value]) -> Result<(), OraError> {
        assert_eq!(p.name, "DBMS_OUTPUT.PUT_LINE", "unexpected call");
        self.lines.push(args[0].as_text());
        Ok(())
    }

    fn query(&mut self, query: &Statement, ctx: &EvalContext) -> Result<QueryPlan, OraError> {
        self.queries += 1;
        plan_query(query, ctx)
    }

    fn open_cursor(&mut self, _: &Statement, _: &EvalContext) -> Result<u32, OraError> {
        Ok(7)
    }
}

fn ctx(binds: &[(&str, Value)]) -> EvalContext {
    EvalContext {
        user: "SCOTT".into(),
        userenv: Vec::new(),
        now: DateTime::from_unix(1_795_355_107, 0),
        binds: binds
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect(),
        tz_offset_minutes: 0,
        contexts: Default::default(),
        columns: Vec::new(),
        level: 0,
        rownum: 0,
        nls: Default::default(),
        variables: Vec::new(),
    }
}

fn num(n: i128) -> Value {
    Value::Number(Decimal::from_i128(n))
}

fn block(text: &str) -> super::Block {
    match parse(text) {
        Ok(Statement::Plsql(b)) => b,
        other => panic!("{text}: {other:?}"),
    }
}

/// DBMS_OUTPUT's lines and the binds a block left.
type Ran = (Vec<String>, Vec<(String, Value)>);

/// Runs `text` to its end: DBMS_OUTPUT's lines and the binds, or the error text.
fn run(text: &str, binds: &[(&str, Value)]) -> Result<Ran, String> {
    let mut host = TestHost::default();
    let mut m = Machine::new(&block(text), ctx(binds));
    match m.run(&mut host, u64::MAX) {
        Ok(Progress::Done(o)) => Ok((host.lines, o.binds)),
        Ok(Progress::Running) => unreachable!("unlimited steps"),
        Err(e) => Err(e.text()),
    }
}

fn output(text: &str) -> Vec<String> {
    run(text, &[]).unwrap_or_else(|e| panic!("{text}: {e}")).0
}

fn error(text: &str) -> String {
    match run(text, &[]) {
        Err(e) => e,
        Ok(r) => panic!("{text}: no error: {r:?}"),
    }
}

fn parse_error(text: &str) -> String {
    match parse(text) {
        Err(e) => e.text(),
        Ok(s) => panic!("{text}: parsed: {s:?}"),
    }
}

#[test]
fn if_elsif_else_and_case_statements() {
    let text = "declare n number := :n; begin
  if n < 0 then dbms_output.put_line('neg');
  elsif n = 0 then dbms_output.put_line('zero');
  elsif n is null then dbms_output.put_line('null');
  else dbms_output.put_line('pos'); end if;
  case n when 1 then dbms_output.put_line('one'); when 2 then null; else dbms_output.put_line('other'); end case;
  case when n > 1 then dbms_output.put_line('big'); when n <= 1 then dbms_output.put_line('small'); end case;
end;";
    let out = |n: Value| run(text, &[("N", n)]).map(|r| r.0);
    assert_eq!(out(num(-3)).unwrap(), ["neg", "other", "small"]);
    assert_eq!(out(num(0)).unwrap(), ["zero", "other", "small"]);
    assert_eq!(out(num(1)).unwrap(), ["pos", "one", "small"]);
    assert_eq!(out(num(2)).unwrap(), ["pos", "big"]);
    // NULL: no IF branch but the IS NULL one, no CASE branch and no ELSE in the last one.
    assert_eq!(
        out(Value::Null).unwrap_err(),
        "ORA-06592: CASE not found while executing CASE statement\nORA-06512: at line 7"
    );
    assert_eq!(
        output(
            "begin case 1 when 2 then null; end case; exception when case_not_found then dbms_output.put_line('caught ' || sqlcode); end;"
        ),
        ["caught -6592"]
    );
}

#[test]
fn loops_exit_continue_while_and_for() {
    assert_eq!(
        output(
            "declare i number := 0; begin loop i := i + 1; continue when i = 2; exit when i > 4; dbms_output.put_line(i); end loop; end;"
        ),
        ["1", "3", "4"]
    );
    assert_eq!(
        output(
            "declare i number := 3; begin while i > 0 loop dbms_output.put_line(i); i := i - 1; end loop; end;"
        ),
        ["3", "2", "1"]
    );
    assert_eq!(
        output(
            "begin for i in 1..3 loop dbms_output.put_line(i); end loop; for i in reverse 1 .. 3 loop dbms_output.put_line(i); end loop; end;"
        ),
        ["1", "2", "3", "3", "2", "1"]
    );
    // An empty range runs nothing; the bounds are rounded; EXIT and CONTINUE inside nested
    // blocks and IFs leave them.
    assert_eq!(
        output(
            "begin for i in 3..1 loop dbms_output.put_line(i); end loop; for i in 0.6..2.4 loop declare x number := i * 10; begin if i = 2 then exit; end if; dbms_output.put_line(x); end; end loop; end;"
        ),
        ["10"]
    );
    assert_eq!(
        output(
            "begin for i in 1..4 loop begin if mod(i, 2) = 0 then continue; end if; dbms_output.put_line(i); end; end loop; end;"
        ),
        ["1", "3"]
    );
    // Nested loops: EXIT leaves the inner one only; the index is the loop's own.
    assert_eq!(
        output(
            "declare i number := 100; begin for i in 1..2 loop for j in 1..3 loop exit when j > i; dbms_output.put_line(i || j); end loop; end loop; dbms_output.put_line(i); end;"
        ),
        ["11", "21", "22", "100"]
    );
    assert_eq!(
        error("begin for i in null..3 loop null; end loop; end;"),
        "ORA-06502: PL/SQL: numeric or value error\nORA-06512: at line 1"
    );
}

#[test]
fn select_into_and_its_exceptions() {
    let (lines, binds) = run(
        "declare n number; s varchar2(10); begin
  select count(*), 'x' || :a into n, s from dual connect by level <= 5;
  select n * 2 into :o from dual;
  dbms_output.put_line(n || s);
end;",
        &[("A", Value::Str("y".into())), ("O", Value::Null)],
    )
    .unwrap();
    assert_eq!(lines, ["5xy"]);
    assert!(binds.contains(&("O".to_owned(), num(10))), "{binds:?}");
    assert_eq!(
        error(
            "declare n number; begin\n  select level into n from dual connect by level <= 2;\nend;"
        ),
        "ORA-01422: exact fetch returns more than requested number of rows\nORA-06512: at line 2"
    );
    assert_eq!(
        error("declare n number; begin select 1 into n from dual where 1 = 0; end;"),
        "ORA-01403: no data found\nORA-06512: at line 1"
    );
    assert_eq!(
        output(
            "declare n number; begin select 1 into n from dual where 1 = 0; exception when no_data_found then dbms_output.put_line('none ' || sqlcode); end;"
        ),
        ["none -1403"]
    );
    assert_eq!(
        output(
            "declare n number; begin select level into n from dual connect by level <= 3; exception when too_many_rows then dbms_output.put_line(sqlerrm); end;"
        ),
        ["ORA-01422: exact fetch returns more than requested number of rows"]
    );
    // Variables in the query's WHERE, from the dictionary views.
    assert_eq!(
        output(
            "declare p varchar2(30) := 'NLS_SORT'; v varchar2(30); begin select value into v from nls_session_parameters where parameter = p; dbms_output.put_line(v); end;"
        ),
        ["BINARY"]
    );
    assert_eq!(
        parse_error("declare n number; begin select 1 from dual; end;"),
        "ORA-06550: line 1, column 25:\nPLS-00428: an INTO clause is expected in this SELECT statement"
    );
    assert_eq!(
        parse_error("declare n number; begin select 1 into n from nosuch; end;"),
        "ORA-06550: line 1, column 46:\nPL/SQL: ORA-00942: table or view does not exist"
    );
}

#[test]
fn cursor_for_loops_read_the_record_and_the_variables() {
    assert_eq!(
        output(
            "declare k number := 2; begin for r in (select level n, level * k sq from dual connect by level <= 3) loop dbms_output.put_line(r.n || ':' || r.sq); end loop; end;"
        ),
        ["1:2", "2:4", "3:6"]
    );
    assert_eq!(
        output(
            "begin for r in (select parameter from nls_database_parameters where parameter like 'NLS_%CHARACTERSET') loop dbms_output.put_line(r.parameter); end loop; end;"
        ),
        ["NLS_CHARACTERSET", "NLS_NCHAR_CHARACTERSET"]
    );
    // No row: the body never runs; EXIT leaves the loop early.
    assert_eq!(
        output(
            "begin for r in (select 1 x from dual where 1 = 2) loop dbms_output.put_line('no'); end loop; for r in (select level x from dual connect by level <= 1000000) loop exit when r.x > 2; dbms_output.put_line(r.x); end loop; end;"
        ),
        ["1", "2"]
    );
}

#[test]
fn handlers_see_variables_and_exceptions_propagate_out_of_loops() {
    assert_eq!(
        output(
            "declare n number := 0; e exception; begin
  for i in 1..10 loop
    n := n + i;
    if n > 5 then raise e; end if;
  end loop;
exception when e then dbms_output.put_line('n=' || n || ' ' || sqlcode);
end;"
        ),
        ["n=6 1"]
    );
    // A handler inside a loop catches each iteration's exception and the loop goes on.
    assert_eq!(
        output(
            "begin for i in 1..3 loop begin if i = 2 then raise zero_divide; end if; dbms_output.put_line(i); exception when zero_divide then dbms_output.put_line('z' || i); end; end loop; end;"
        ),
        ["1", "z2", "3"]
    );
    // An exception in a handler goes to the enclosing block, not to the same handlers.
    assert_eq!(
        output(
            "begin begin raise no_data_found; exception when no_data_found then raise zero_divide; when zero_divide then dbms_output.put_line('inner'); end; exception when zero_divide then dbms_output.put_line('outer ' || sqlcode); end;"
        ),
        ["outer -1476"]
    );
}

#[test]
fn compile_errors_of_loops() {
    assert_eq!(
        parse_error("begin for i in 1..3 loop\n  i := 5;\nend loop; end;"),
        "ORA-06550: line 2, column 3:\nPLS-00363: expression 'I' cannot be used as an assignment target"
    );
    assert_eq!(
        parse_error(
            "declare n number; begin for i in 1..3 loop select 1 into i from dual; end loop; end;"
        ),
        "ORA-06550: line 1, column 58:\nPLS-00363: expression 'I' cannot be used as an assignment target"
    );
    // An OUT argument that cannot take a value: named, at the argument, as Oracle 19c
    // prints it (`PLS-00363: expression '10' cannot be used as an assignment target`).
    assert_eq!(
        parse_error("begin dbms_output.get_line(10, :s); end;"),
        "ORA-06550: line 1, column 28:\nPLS-00363: expression '10' cannot be used as an assignment target"
    );
    assert_eq!(
        parse_error("begin for i in 1..2 loop dbms_output.get_line(:l,\n i); end loop; end;"),
        "ORA-06550: line 2, column 2:\nPLS-00363: expression 'I' cannot be used as an assignment target"
    );
    assert_eq!(
        parse_error("begin null;\n  exit;\nend;"),
        "ORA-06550: line 2, column 3:\nPLS-00376: illegal EXIT/CONTINUE statement; it must appear inside a loop"
    );
    assert!(parse_error("begin if 1 = 1 then null; end loop; end;").contains("PLS-00103"));
    // After the loop, the name is assignable again.
    assert_eq!(
        output(
            "declare i number; begin for i in 1..2 loop null; end loop; i := 9; dbms_output.put_line(i); end;"
        ),
        ["9"]
    );
}

#[test]
fn an_endless_loop_runs_in_slices_and_strings_stop_at_32767() {
    let mut host = TestHost::default();
    let mut m = Machine::new(
        &block("declare n number := 0; begin loop n := n + 1; end loop; end;"),
        ctx(&[]),
    );
    for _ in 0..5 {
        assert!(matches!(m.run(&mut host, 1000), Ok(Progress::Running)));
    }
    // A loop that ends does so in whatever number of slices it takes.
    let mut m = Machine::new(
        &block(
            "declare n number := 0; begin while n < 2500 loop n := n + 1; end loop; :o := n; end;",
        ),
        ctx(&[("O", Value::Null)]),
    );
    let mut slices = 0;
    let outcome = loop {
        slices += 1;
        match m.run(&mut host, 1000) {
            Ok(Progress::Running) => {}
            Ok(Progress::Done(o)) => break o,
            Err(e) => panic!("{e:?}"),
        }
    };
    assert!(slices > 5, "{slices}");
    assert!(outcome.binds.contains(&("O".to_owned(), num(2500))));
    assert_eq!(
        error("declare s varchar2(32767) := 'x'; begin loop s := s || s; end loop; end;"),
        "ORA-06502: PL/SQL: numeric or value error: character string buffer too small\nORA-06512: at line 1"
    );
}

#[test]
fn nesting_deeper_than_the_parser_allows_is_pls_00102_not_a_stack_overflow() {
    // On a thread of Rust's default stack (2 MiB), in an unoptimized build.
    let nested = |depth: usize| {
        format!(
            "begin {} null; {} end;",
            "if 1 = 1 then begin ".repeat(depth),
            "end; end if; ".repeat(depth)
        )
    };
    let parsed = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let deepest = super::MAX_NESTING / 2 - 1;
            let ok = parse(&nested(deepest)).map(|_| ());
            let deep = parse(&nested(10_000)).map(|_| ()).map_err(|e| e.text());
            (ok, deep)
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert_eq!(parsed.0, Ok(()));
    let err = parsed.1.unwrap_err();
    assert!(
        err.ends_with("PLS-00102: parser stack overflow because nesting is too deep"),
        "{err}"
    );
}

#[test]
fn true_and_false_conditions_and_sql_rowcount() {
    assert_eq!(
        output(
            "declare i number := 0; begin while true loop i := i + 1; exit when i = 3; end loop; if false then i := 0; elsif not false and i = 3 then dbms_output.put_line(i); end if; end;"
        ),
        ["3"]
    );
    assert_eq!(
        output(
            "declare n number; begin dbms_output.put_line(nvl(to_char(sql%rowcount), 'null')); select 5 into n from dual; dbms_output.put_line(sql%rowcount); begin select 1 into n from dual where 1 = 0; exception when no_data_found then dbms_output.put_line(sql%rowcount); end; begin select level into n from dual connect by level <= 4; exception when too_many_rows then dbms_output.put_line(sql%rowcount); end; end;"
        ),
        ["null", "1", "0", "1"]
    );
    // In SQL, TRUE is no condition.
    assert!(parse("select 1 from dual where true").is_err());
}

#[test]
fn the_deepest_expressions_inside_the_deepest_blocks_fit_a_session_stack() {
    // Blocks nested as deep as PL/SQL allows, around an expression and a query as deep as
    // SQL allows (CASE: the construct with the largest frames), on a session's stack.
    let max = crate::sql::MAX_NESTING_DEPTH - 4;
    let case = format!(
        "{}2{}",
        "case when 1 = 1 then ".repeat(max),
        " end".repeat(max)
    );
    let paren = format!("{}3{}", "(".repeat(max), ")".repeat(max));
    let blocks = super::MAX_NESTING - 2;
    let text = format!(
        "begin {} dbms_output.put_line({case}); for r in (select {paren} x from (select 1 from dual) where {case} = 2) loop dbms_output.put_line(r.x); end loop; {} end;",
        "begin ".repeat(blocks),
        "end; ".repeat(blocks),
    );
    let deeper = format!("{}3{}", "(".repeat(max + 10), ")".repeat(max + 10));
    let too_deep = text.replacen(&paren, &deeper, 1);
    let (lines, error) = std::thread::Builder::new()
        .stack_size(crate::SESSION_STACK)
        .spawn(move || (output(&text), parse_error(&too_deep)))
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert_eq!(lines, ["2", "3"]);
    assert!(
        error.ends_with("PL/SQL: ORA-03095: expression level is too deep, maximum 255"),
        "{error}"
    );
}
