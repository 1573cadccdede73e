//! The interpreter on its own: control flow, loops, SELECT INTO, cursor FOR loops,
//! exceptions and their handlers, the compile errors, and slices of steps; BOOLEAN
//! variables, the implicit cursor's attributes, declared cursors and labels.

use tns::ttc::types::{DateTime, Decimal};

use super::super::eval::{EvalContext, QueryPlan, Value, plan_query};
use super::super::{OraError, Statement, parse};
use super::{Host, Machine, Outcome, Procedure, Progress};

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

/// Runs `m` to its end in slices of 1,000 steps: how many slices it took, and the outcome.
fn run_in_slices(m: &mut Machine, host: &mut TestHost) -> (u32, Outcome) {
    let mut slices = 0;
    loop {
        slices += 1;
        match m.run(host, 1000) {
            Ok(Progress::Running) => {}
            Ok(Progress::Done(o)) => return (slices, o),
            Err(e) => panic!("{e:?}"),
        }
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
    let (slices, outcome) = run_in_slices(&mut m, &mut host);
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

#[test]
fn boolean_variables_hold_conditions_true_false_and_null() {
    let text = "declare
  n number := :n;
  b boolean := n > 3;
  t constant boolean := true;
  f boolean default false;
  u boolean;
  v boolean := null;
begin
  if b then dbms_output.put_line('big'); else dbms_output.put_line('small'); end if;
  if u is null and v is null and t is not null then dbms_output.put_line('nulls'); end if;
  if not f and t then dbms_output.put_line('not f'); end if;
  -- Three-valued logic: NULL AND FALSE is FALSE, NULL OR TRUE is TRUE, NOT NULL is NULL.
  if not (u and f) then dbms_output.put_line('u and f false'); end if;
  if u or t then dbms_output.put_line('u or t'); end if;
  if not u then dbms_output.put_line('wrong'); elsif u is null then dbms_output.put_line('not u null'); end if;
  u := b = t;
  if u then dbms_output.put_line('b = true'); end if;
  if b <> f then dbms_output.put_line('b <> false'); end if;
  dbms_output.put_line(case when b then 'yes' when not b then 'no' else 'unknown' end);
  while not f loop f := true; dbms_output.put_line('once'); end loop;
  loop exit when t; end loop;
  declare b number := 7; begin dbms_output.put_line('shadowed ' || b); end;
  b := null;
  if b is null then dbms_output.put_line('b null'); end if;
end;";
    let out = |n: i128| run(text, &[("N", num(n))]).map(|r| r.0).unwrap();
    assert_eq!(
        out(5),
        [
            "big",
            "nulls",
            "not f",
            "u and f false",
            "u or t",
            "not u null",
            "b = true",
            "b <> false",
            "yes",
            "once",
            "shadowed 7",
            "b null"
        ]
    );
    assert_eq!(
        out(1),
        [
            "small",
            "nulls",
            "not f",
            "u and f false",
            "u or t",
            "not u null",
            "no",
            "once",
            "shadowed 7",
            "b null"
        ]
    );
    // A NULL number makes the condition, and so the variable, NULL.
    let (lines, _) = run(
        "declare n number; b boolean := n > 3; begin if b is null then dbms_output.put_line('unknown'); end if; end;",
        &[],
    )
    .unwrap();
    assert_eq!(lines, ["unknown"]);
}

#[test]
fn a_boolean_is_no_value_of_sql_or_of_a_procedure() {
    assert_eq!(
        parse_error("declare b boolean; begin\n  b := 5;\nend;"),
        "ORA-06550: line 2, column 8:\nPLS-00382: expression is of wrong type"
    );
    assert_eq!(
        parse_error("declare b boolean := 'x'; begin null; end;"),
        "ORA-06550: line 1, column 22:\nPLS-00382: expression is of wrong type"
    );
    assert_eq!(
        parse_error("declare b boolean := true; n number; begin n := b; end;"),
        "ORA-06550: line 1, column 49:\nPLS-00382: expression is of wrong type"
    );
    assert_eq!(
        parse_error("declare n number := 1 > 0; begin null; end;"),
        "ORA-06550: line 1, column 21:\nPLS-00382: expression is of wrong type"
    );
    assert_eq!(
        parse_error("begin :x := 1 = 1; end;"),
        "ORA-06550: line 1, column 13:\nPLS-00382: expression is of wrong type"
    );
    assert_eq!(
        parse_error("declare b boolean := true; begin dbms_output.put_line(b); end;"),
        "ORA-06550: line 1, column 34:\nPLS-00306: wrong number or types of arguments in call to 'PUT_LINE'"
    );
    assert_eq!(
        parse_error("begin dbms_output.put_line(sql%found); end;"),
        "ORA-06550: line 1, column 7:\nPLS-00306: wrong number or types of arguments in call to 'PUT_LINE'"
    );
}

#[test]
fn sql_found_notfound_and_isopen_follow_select_into() {
    let show = "dbms_output.put_line(case when sql%found then 'F' when sql%notfound then 'N' else '-' end || case when sql%isopen then 'O' else 'C' end);";
    let text = format!(
        "declare n number; begin
  {show}
  select 1 into n from dual; {show}
  begin select 1 into n from dual where 1 = 0; exception when no_data_found then {show} end;
  begin select level into n from dual connect by level <= 3; exception when too_many_rows then {show} end;
  if sql%found is not null and not sql%isopen then dbms_output.put_line(sql%rowcount); end if;
end;"
    );
    assert_eq!(output(&text), ["-C", "FC", "NC", "FC", "1"]);
}

#[test]
fn explicit_cursors_open_fetch_close_and_their_attributes() {
    let text = "declare
  k number := 10;
  cursor c(p number, q number default 2) is
    select level n, level * p m from dual connect by level <= q + 1;
  x number := -1;
  y number := -1;
begin
  if not c%isopen then dbms_output.put_line('closed'); end if;
  open c(k);
  k := 1000;
  if c%isopen and c%found is null and c%notfound is null then
    dbms_output.put_line('open ' || c%rowcount);
  end if;
  loop
    fetch c into x, y;
    exit when c%notfound;
    dbms_output.put_line(x || ':' || y || ':' || c%rowcount);
  end loop;
  -- Past the last row: the variables keep the last values; fetching again stays there.
  fetch c into x, y;
  dbms_output.put_line(x || ':' || y || ':' || c%rowcount || case when c%found then 'F' else 'N' end);
  close c;
  open c(1, 0);
  fetch c into x, y;
  dbms_output.put_line(x || ':' || y || ':' || c%rowcount);
  close c;
  if not c%isopen then dbms_output.put_line('closed again'); end if;
end;";
    assert_eq!(
        output(text),
        [
            "closed",
            "open 0",
            "1:10:1",
            "2:20:2",
            "3:30:3",
            "3:30:3N",
            "1:1:1",
            "closed again"
        ]
    );
}

#[test]
fn rowtype_records_and_for_loops_over_declared_cursors() {
    let text = "declare
  cursor c(lim number) is select level n, 'r' || level t from dual connect by level <= lim;
  r c%rowtype;
begin
  if r.n is null then dbms_output.put_line('empty'); end if;
  open c(2);
  loop
    fetch c into r;
    exit when c%notfound;
    dbms_output.put_line(r.n || r.t);
  end loop;
  close c;
  for x in c(3) loop
    dbms_output.put_line(x.t || ' ' || c%rowcount || case when c%isopen then ' open' end);
  end loop;
  if not c%isopen then dbms_output.put_line('closed'); end if;
  for x in c(5) loop exit when x.n = 2; end loop;
  open c(1);
  close c;
end;";
    assert_eq!(
        output(text),
        [
            "empty",
            "1r1",
            "2r2",
            "r1 1 open",
            "r2 2 open",
            "r3 3 open",
            "closed"
        ]
    );
}

#[test]
fn cursor_errors_are_oracles() {
    let e = |t: &str| error(t);
    assert_eq!(
        e("declare cursor c is select 1 from dual; begin\n  open c;\n  open c;\nend;"),
        "ORA-06511: PL/SQL: cursor already open\nORA-06512: at line 3"
    );
    assert_eq!(
        e("declare cursor c is select 1 from dual; n number; begin\n  fetch c into n;\nend;"),
        "ORA-01001: invalid cursor\nORA-06512: at line 2"
    );
    assert_eq!(
        e("declare cursor c is select 1 from dual; begin open c; close c;\n  close c;\nend;"),
        "ORA-01001: invalid cursor\nORA-06512: at line 2"
    );
    // %FOUND, %NOTFOUND and %ROWCOUNT of a closed cursor; %ISOPEN is FALSE.
    assert_eq!(
        e("declare cursor c is select 1 from dual; begin\n  if c%found then null; end if;\nend;"),
        "ORA-01001: invalid cursor\nORA-06512: at line 2"
    );
    assert_eq!(
        e(
            "declare cursor c is select 1 from dual; begin open c; close c;\n  dbms_output.put_line(c%rowcount);\nend;"
        ),
        "ORA-01001: invalid cursor\nORA-06512: at line 2"
    );
    assert_eq!(
        e(
            "declare cursor c is select 1 x from dual; begin\n  for r in c loop\n    open c;\n  end loop;\nend;"
        ),
        "ORA-06511: PL/SQL: cursor already open\nORA-06512: at line 3"
    );
    // The predefined exceptions catch them.
    assert_eq!(
        output(
            "declare cursor c is select 1 from dual; begin begin open c; open c; exception when cursor_already_open then dbms_output.put_line('open ' || sqlcode); end; close c; close c; exception when invalid_cursor then dbms_output.put_line('invalid ' || sqlcode); end;"
        ),
        ["open -6511", "invalid -1001"]
    );
    // A block's cursors close when it ends, by its end or by an exception.
    assert_eq!(
        output(
            "begin for i in 1..3 loop declare cursor c is select i from dual; n number; begin open c; fetch c into n; dbms_output.put_line(n); if i = 2 then raise zero_divide; end if; exception when zero_divide then null; end; end loop; end;"
        ),
        ["1", "2", "3"]
    );
    // A compile error when the select list tells how many columns there are, else when
    // the FETCH runs.
    assert_eq!(
        parse_error(
            "declare cursor c is select 1, 2 from dual; n number; begin open c;\n  fetch c into n;\nend;"
        ),
        "ORA-06550: line 2, column 3:\nPLS-00394: wrong number of values in the INTO list of a FETCH statement"
    );
    assert_eq!(
        e(
            "declare cursor c is select * from (select 1 a, 2 b from dual); n number; begin open c;\n  fetch c into n;\nend;"
        ),
        "ORA-06550: line 2, column 1:\nPLS-00394: wrong number of values in the INTO list of a FETCH statement\nORA-06512: at line 2"
    );
    // At most 50 declared cursors open at once (OPEN_CURSORS' default).
    let many: String = (0..51)
        .map(|k| format!("cursor c{k} is select {k} from dual; "))
        .collect();
    let opens: String = (0..51).map(|k| format!("open c{k};\n")).collect();
    assert_eq!(
        e(&format!("declare {many}begin\n{opens}end;")),
        "ORA-01000: maximum open cursors exceeded\nORA-06512: at line 52"
    );
    assert_eq!(
        parse_error("declare cursor c(a number) is select a from dual; begin open c(1, 2); end;"),
        "ORA-06550: line 1, column 62:\nPLS-00306: wrong number or types of arguments in call to 'C'"
    );
    assert_eq!(
        parse_error("declare cursor c(a number) is select a from dual; begin open c; end;"),
        "ORA-06550: line 1, column 62:\nPLS-00306: wrong number or types of arguments in call to 'C'"
    );
    assert_eq!(
        parse_error("declare n number; begin close nosuch; end;"),
        "ORA-06550: line 1, column 31:\nPLS-00201: identifier 'NOSUCH' must be declared"
    );
    assert_eq!(
        parse_error("declare cursor c is select 1 from nosuch; begin null; end;"),
        "ORA-06550: line 1, column 35:\nPL/SQL: ORA-00942: table or view does not exist"
    );
}

#[test]
fn labels_name_the_loop_exit_and_continue_leave() {
    assert_eq!(
        output(
            "begin
  <<outer>>
  for i in 1..3 loop
    <<inner>>
    for j in 1..3 loop
      continue outer when j > i;
      exit outer when i = 3;
      dbms_output.put_line(i || j);
    end loop inner;
  end loop outer;
  <<w>> while true loop loop exit w; end loop; end loop;
  <<blk>> declare n number := 1; begin <<l>> loop n := n + 1; if n > 3 then exit l; end if; end loop l; dbms_output.put_line(n); end blk;
end;"
        ),
        ["11", "21", "22"].into_iter().chain(["4"]).collect::<Vec<_>>()
    );
    // CONTINUE outer inside a cursor FOR loop and a declared cursor's loop.
    assert_eq!(
        output(
            "declare cursor c is select level n from dual connect by level <= 3; begin <<o>> for r in c loop for q in (select level m from dual connect by level <= 3) loop continue o when q.m = 2; dbms_output.put_line(r.n || q.m); end loop; end loop; end;"
        ),
        ["11", "21", "31"]
    );
    assert_eq!(
        parse_error("begin <<b>> begin loop\n  exit b; end loop; end; end;"),
        "ORA-06550: line 2, column 8:\nPLS-00374: illegal EXIT/CONTINUE statement; must appear inside the loop labeled 'B'"
    );
    assert_eq!(
        parse_error("begin loop continue nosuch; end loop; end;"),
        "ORA-06550: line 1, column 21:\nPLS-00441: EXIT/CONTINUE statement may have a label here; 'NOSUCH' is not a label"
    );
}

#[test]
fn a_fetch_loop_over_a_big_cursor_runs_in_slices() {
    let mut host = TestHost::default();
    let text = "declare cursor c is select level n from dual connect by level <= 1000000; n number; s number := 0; begin open c; loop fetch c into n; exit when c%notfound; s := s + n; end loop; close c; :s := s; end;";
    let mut m = Machine::new(&block(text), ctx(&[("S", Value::Null)]));
    for _ in 0..5 {
        assert!(matches!(m.run(&mut host, 1000), Ok(Progress::Running)));
    }
    let text = text.replace("1000000", "2000");
    let mut m = Machine::new(&block(&text), ctx(&[("S", Value::Null)]));
    let (slices, outcome) = run_in_slices(&mut m, &mut host);
    assert!(slices > 5, "{slices}");
    assert!(
        outcome.binds.contains(&("S".to_owned(), num(2001000))),
        "{:?}",
        outcome.binds
    );
}
