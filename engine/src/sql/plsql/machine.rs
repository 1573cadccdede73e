//! Running a block. The tree is compiled into a flat list of ops with jumps (IF, CASE and
//! the loops become conditional and plain jumps; blocks and FOR loops open scopes), and a
//! machine runs the ops. All its state is data — the next op, the scopes, the variables —
//! so it can stop after a number of steps and go on at the next call of [`Machine::run`]:
//! the session runs a block in slices between which its transport looks for a BREAK and
//! the instance for a kill, as it does for any call that computes, so an endless loop can
//! neither hold a server nor ignore a cancel. A declared cursor's rows are its query's plan,
//! fetched one per FETCH op, so a fetch loop over a large cursor runs in slices too.

use std::sync::Arc;

use tns::error_text::{ora, ora_line_with};
use tns::ttc::types::Decimal;

use crate::error::pls_line;

use super::super::eval::{EvalContext, QueryPlan, Value, eval_expr};
use super::super::query::{Cond, test};
use super::super::{Expr, OraError, Statement};
use super::{
    Block, CursorDecl, Decl, Embedded, Host, In, InOut, Out, Outcome, PREDEFINED, Procedure, Stmt,
    StmtKind, Target, USER_EXCEPTION, cursor_var, raise_application_error, select_list,
};

/// The implicit cursor's row count (`SQL%ROWCOUNT`), a variable of the outermost scope,
/// as are `SQL%FOUND`, `SQL%NOTFOUND` and `SQL%ISOPEN` (always FALSE).
const ROWCOUNT: &str = "SQL%ROWCOUNT";

/// How many declared cursors may be open at once (ORA-01000 beyond: Oracle's default
/// OPEN_CURSORS); each holds its query's rows.
const MAX_OPEN_CURSORS: usize = 50;

/// The attributes of a declared cursor, kept as variables from its declaration on, in
/// this order; all but ISOPEN carry a name no expression can read while it is closed,
/// so reading them then is INVALID_CURSOR.
const ATTRIBUTES: [&str; 4] = ["ISOPEN", "FOUND", "NOTFOUND", "ROWCOUNT"];

/// The longest text a PL/SQL variable holds (VARCHAR2's limit in PL/SQL).
const MAX_VARCHAR2: usize = 32_767;

/// One op of a compiled block.
#[derive(Debug)]
enum Op {
    Assign(Target, Expr),
    Call(&'static Procedure, Vec<Expr>),
    OpenFor(String, Box<Statement>),
    Raise(Option<String>),
    SelectInto(Box<Statement>, Vec<Target>),
    /// Go to `.1` unless the condition is TRUE.
    Unless(Cond, usize),
    /// Go to `to`, leaving the scopes beyond the first `depth`.
    Jump {
        to: usize,
        depth: usize,
    },
    /// Open the scope of block `.0` of [`Program::blocks`] and declare its variables.
    Enter(usize),
    /// Close the innermost scope.
    Leave,
    /// Open a FOR loop's scope with its index at the first value, or go to `end` when the
    /// range is empty.
    ForRange {
        index: String,
        low: Expr,
        high: Expr,
        reverse: bool,
        end: usize,
    },
    /// Open a cursor FOR loop's scope with the record at the first row, or go to `end`
    /// when the query returns none; over a declared cursor (`cursor`: its number and
    /// arguments), the cursor is open while the loop runs.
    ForQuery {
        record: String,
        query: Box<Statement>,
        cursor: Option<(usize, Vec<Expr>)>,
        end: usize,
    },
    /// `OPEN c (args)`.
    OpenCursor(usize, Vec<Expr>),
    /// `FETCH c INTO targets`.
    Fetch(usize, Vec<Target>),
    /// `FETCH c INTO record`.
    FetchRecord(usize, String),
    /// `CLOSE c`.
    Close(usize),
    /// Next iteration of the innermost (loop) scope: back to `body`, or close the scope and
    /// go on after the loop.
    Next {
        body: usize,
    },
    /// No branch of a CASE statement matched and it has no ELSE.
    CaseNotFound,
}

/// A block's declarations and handlers (ops that start each handler).
#[derive(Debug)]
struct BlockInfo {
    decls: Vec<Decl>,
    handlers: Vec<(Vec<String>, usize)>,
}

/// A compiled block: ops with the line each comes from.
#[derive(Debug)]
struct Program {
    ops: Vec<(usize, Op)>,
    blocks: Vec<BlockInfo>,
    /// The declared cursors by number.
    cursors: Vec<Option<CursorDecl>>,
}

/// Jumps of the loop being compiled still to be pointed at its end or its next iteration.
struct LoopJumps {
    /// Scopes open outside the loop.
    outside: usize,
    /// Scopes open in its body.
    inside: usize,
    /// Where CONTINUE goes, when known before the body (LOOP, WHILE).
    top: Option<usize>,
    exits: Vec<usize>,
    continues: Vec<usize>,
    /// Its label.
    label: Option<String>,
}

#[derive(Default)]
struct Compiler {
    ops: Vec<(usize, Op)>,
    blocks: Vec<BlockInfo>,
    cursors: Vec<Option<CursorDecl>>,
    depth: usize,
    loops: Vec<LoopJumps>,
    /// The label of the loop about to be compiled.
    pending_label: Option<String>,
}

const UNSET: usize = usize::MAX;

impl Compiler {
    fn here(&self) -> usize {
        self.ops.len()
    }

    fn emit(&mut self, line: usize, op: Op) -> usize {
        self.ops.push((line, op));
        self.ops.len() - 1
    }

    /// Points the jump at `at` to `to`.
    fn patch(&mut self, at: usize, to: usize) {
        match &mut self.ops[at].1 {
            Op::Unless(_, t)
            | Op::Jump { to: t, .. }
            | Op::ForRange { end: t, .. }
            | Op::ForQuery { end: t, .. } => *t = to,
            _ => unreachable!("not a jump"),
        }
    }

    fn jump(&mut self, line: usize) -> usize {
        let depth = self.depth;
        self.emit(line, Op::Jump { to: UNSET, depth })
    }

    fn block(&mut self, b: &Block, line: usize) {
        let info = self.blocks.len();
        for d in &b.decls {
            if let Decl::Cursor(c) = d {
                if self.cursors.len() <= c.id {
                    self.cursors.resize(c.id + 1, None);
                }
                self.cursors[c.id] = Some(c.clone());
            }
        }
        self.blocks.push(BlockInfo {
            decls: b.decls.clone(),
            handlers: Vec::new(),
        });
        self.emit(line, Op::Enter(info));
        self.depth += 1;
        self.statements(&b.body);
        let leave = self.emit(line, Op::Leave);
        self.depth -= 1;
        let skip = self.jump(line);
        self.depth += 1;
        for h in &b.handlers {
            let start = self.here();
            self.blocks[info].handlers.push((h.names.clone(), start));
            self.statements(&h.body);
            let depth = self.depth;
            self.emit(line, Op::Jump { to: leave, depth });
        }
        self.depth -= 1;
        let end = self.here();
        self.patch(skip, end);
    }

    fn statements(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            self.statement(s);
        }
    }

    fn branches(
        &mut self,
        line: usize,
        branches: &[(Cond, Vec<Stmt>)],
        otherwise: Option<&[Stmt]>,
        case: bool,
    ) {
        let mut ends = Vec::new();
        for (c, body) in branches {
            let test = self.emit(line, Op::Unless(c.clone(), UNSET));
            self.statements(body);
            ends.push(self.jump(line));
            let next = self.here();
            self.patch(test, next);
        }
        match otherwise {
            Some(body) => self.statements(body),
            None if case => {
                self.emit(line, Op::CaseNotFound);
            }
            None => {}
        }
        let end = self.here();
        for j in ends {
            self.patch(j, end);
        }
    }

    /// A loop body between `open` (the loop's first op, already emitted) and its end.
    fn loop_body(&mut self, body: &[Stmt], top: Option<usize>, scoped: bool) -> LoopJumps {
        let outside = self.depth;
        if scoped {
            self.depth += 1;
        }
        let label = self.pending_label.take();
        self.loops.push(LoopJumps {
            outside,
            inside: self.depth,
            top,
            exits: Vec::new(),
            continues: Vec::new(),
            label,
        });
        self.statements(body);
        let jumps = self.loops.pop().unwrap_or_else(|| unreachable!());
        if scoped {
            self.depth -= 1;
        }
        jumps
    }

    fn statement(&mut self, s: &Stmt) {
        let line = s.line;
        match &s.kind {
            StmtKind::Null => {}
            StmtKind::Assign(t, e) => {
                self.emit(line, Op::Assign(t.clone(), e.clone()));
            }
            StmtKind::Call(p, args) => {
                self.emit(line, Op::Call(p, args.clone()));
            }
            StmtKind::OpenFor(c, _, q) => {
                self.emit(line, Op::OpenFor(c.clone(), q.stmt.clone()));
            }
            StmtKind::Raise(n) => {
                self.emit(line, Op::Raise(n.clone()));
            }
            StmtKind::SelectInto(q, targets) => {
                self.emit(line, Op::SelectInto(q.stmt.clone(), targets.clone()));
            }
            StmtKind::Block(b) => self.block(b, line),
            StmtKind::If(branches, otherwise) => {
                self.branches(line, branches, otherwise.as_deref(), false);
            }
            StmtKind::Case(branches, otherwise) => {
                self.branches(line, branches, otherwise.as_deref(), true);
            }
            StmtKind::Loop(body) => {
                let top = self.here();
                let jumps = self.loop_body(body, Some(top), false);
                let depth = self.depth;
                self.emit(line, Op::Jump { to: top, depth });
                self.end_loop(jumps, top);
            }
            StmtKind::While(c, body) => {
                let top = self.emit(line, Op::Unless(c.clone(), UNSET));
                let jumps = self.loop_body(body, Some(top), false);
                let depth = self.depth;
                self.emit(line, Op::Jump { to: top, depth });
                let end = self.here();
                self.patch(top, end);
                self.end_loop(jumps, top);
            }
            StmtKind::ForRange {
                index,
                low,
                high,
                reverse,
                body,
            } => {
                let open = self.emit(
                    line,
                    Op::ForRange {
                        index: index.clone(),
                        low: low.clone(),
                        high: high.clone(),
                        reverse: *reverse,
                        end: UNSET,
                    },
                );
                self.scoped_loop(line, open, body);
            }
            StmtKind::ForQuery {
                record,
                query,
                body,
            } => {
                let Embedded { stmt, .. } = query;
                let open = self.emit(
                    line,
                    Op::ForQuery {
                        record: record.clone(),
                        query: stmt.clone(),
                        cursor: None,
                        end: UNSET,
                    },
                );
                self.scoped_loop(line, open, body);
            }
            StmtKind::ForCursor {
                record,
                cursor,
                args,
                body,
            } => {
                let Some(Some(decl)) = self.cursors.get(*cursor) else {
                    unreachable!("the parser knows the cursor")
                };
                let query = decl.query.stmt.clone();
                let open = self.emit(
                    line,
                    Op::ForQuery {
                        record: record.clone(),
                        query,
                        cursor: Some((*cursor, args.clone())),
                        end: UNSET,
                    },
                );
                self.scoped_loop(line, open, body);
            }
            StmtKind::OpenCursor(c, args) => {
                self.emit(line, Op::OpenCursor(*c, args.clone()));
            }
            StmtKind::Fetch(c, targets) => {
                self.emit(line, Op::Fetch(*c, targets.clone()));
            }
            StmtKind::FetchRecord(c, record) => {
                self.emit(line, Op::FetchRecord(*c, record.clone()));
            }
            StmtKind::Close(c) => {
                self.emit(line, Op::Close(*c));
            }
            StmtKind::Labeled(label, inner) => {
                let is_loop = matches!(
                    inner.kind,
                    StmtKind::Loop(_)
                        | StmtKind::While(..)
                        | StmtKind::ForRange { .. }
                        | StmtKind::ForQuery { .. }
                        | StmtKind::ForCursor { .. }
                );
                if is_loop {
                    self.pending_label = Some(label.clone());
                }
                self.statement(inner);
            }
            StmtKind::Exit(label, c) | StmtKind::Continue(label, c) => {
                let exit = matches!(s.kind, StmtKind::Exit(..));
                let test = c
                    .as_ref()
                    .map(|c| self.emit(line, Op::Unless(c.clone(), UNSET)));
                // The loop named, else the innermost.
                let target = match label {
                    Some(l) => self.loops.iter().rposition(|j| j.label.as_ref() == Some(l)),
                    None => self.loops.len().checked_sub(1),
                };
                let Some(target) = target else {
                    unreachable!("the parser turns away EXIT outside a loop")
                };
                let l = &self.loops[target];
                let (depth, top) = if exit {
                    (l.outside, None)
                } else {
                    (l.inside, l.top)
                };
                let j = self.emit(
                    line,
                    Op::Jump {
                        to: top.unwrap_or(UNSET),
                        depth,
                    },
                );
                if let Some(l) = self.loops.get_mut(target) {
                    if exit {
                        l.exits.push(j);
                    } else if top.is_none() {
                        l.continues.push(j);
                    }
                }
                if let Some(t) = test {
                    let next = self.here();
                    self.patch(t, next);
                }
            }
        }
    }

    /// A FOR loop after its opening op: the body, then the op of the next iteration.
    fn scoped_loop(&mut self, line: usize, open: usize, body: &[Stmt]) {
        let start = self.here();
        let jumps = self.loop_body(body, None, true);
        let next = self.emit(line, Op::Next { body: start });
        self.end_loop(jumps, next);
        let end = self.here();
        self.patch(open, end);
    }

    /// Points the loop's EXITs after it and its CONTINUEs at `next`.
    fn end_loop(&mut self, jumps: LoopJumps, next: usize) {
        let end = self.here();
        for j in jumps.exits {
            self.patch(j, end);
        }
        for j in jumps.continues {
            self.patch(j, next);
        }
    }
}

fn compile(block: &Block) -> Program {
    let mut c = Compiler::default();
    c.block(block, 1);
    Program {
        ops: c.ops,
        blocks: c.blocks,
        cursors: c.cursors,
    }
}

/// An exception in flight.
#[derive(Debug, Clone)]
struct Raised {
    error: OraError,
    /// The user exception's name, for user exceptions.
    user: Option<String>,
    /// Line of the statement that raised it.
    line: usize,
}

/// What a scope is.
#[derive(Debug)]
enum ScopeKind {
    Block {
        info: usize,
        /// Its declarations are done: its handlers apply.
        active: bool,
        /// Variables once the declarations are done.
        vars_top: usize,
        /// User exceptions it declares.
        exceptions: Vec<String>,
        /// The exception its handler is handling.
        handling: Option<Raised>,
    },
    /// A FOR loop: its index is the scope's first variable.
    Range {
        current: i128,
        last: i128,
        step: i128,
    },
    /// A cursor FOR loop: the record's fields are the scope's first variables; over a
    /// declared cursor, its number.
    Rows {
        plan: Box<QueryPlan>,
        ctx: Box<EvalContext>,
        row: u64,
        cursor: Option<usize>,
    },
}

#[derive(Debug)]
struct Scope {
    /// Variables when it opened.
    vars_base: usize,
    kind: ScopeKind,
}

/// Whether a block ran to its end.
#[derive(Debug)]
pub enum Progress {
    /// It did: what it left behind.
    Done(Outcome),
    /// It used up its steps and goes on at the next [`Machine::run`].
    Running,
}

/// A declared cursor while its block runs.
#[derive(Debug)]
struct Explicit {
    /// Where its attributes are in the variables (`usize::MAX`: not declared now).
    vars: usize,
    /// Open: its rows, the context they are computed in and how many were fetched.
    open: Option<Box<Opened>>,
    /// A cursor FOR loop runs over it.
    in_loop: bool,
}

#[derive(Debug)]
struct Opened {
    plan: QueryPlan,
    ctx: EvalContext,
    row: u64,
}

/// A block being run.
#[derive(Debug)]
pub struct Machine {
    program: Arc<Program>,
    pc: usize,
    /// Binds and, as `variables`, the variables in scope.
    ctx: EvalContext,
    scopes: Vec<Scope>,
    cursors: Vec<(String, u32)>,
    /// The declared cursors by number.
    explicit: Vec<Explicit>,
}

fn integer(code: i128) -> Value {
    Value::Number(Decimal::from_i128(code))
}

fn pls_at(line: usize, detail: &str) -> OraError {
    OraError::with_args(6550, &[&line.to_string(), "1", detail], 0)
}

impl Machine {
    /// A machine at the start of `block`, with the IN values of `ctx.binds`.
    pub fn new(block: &Block, ctx: EvalContext) -> Machine {
        let mut ctx = ctx;
        ctx.variables = vec![
            ("SQLCODE".to_owned(), integer(0)),
            (
                "SQLERRM".to_owned(),
                Value::Str(format!("ORA-0000: {}", ora(0).unwrap_or_default())),
            ),
            (ROWCOUNT.to_owned(), Value::Null),
            ("SQL%FOUND".to_owned(), Value::Null),
            ("SQL%NOTFOUND".to_owned(), Value::Null),
            ("SQL%ISOPEN".to_owned(), integer(0)),
        ];
        let program = compile(block);
        let explicit = program
            .cursors
            .iter()
            .map(|_| Explicit {
                vars: usize::MAX,
                open: None,
                in_loop: false,
            })
            .collect();
        Machine {
            program: Arc::new(program),
            pc: 0,
            ctx,
            scopes: Vec::new(),
            cursors: Vec::new(),
            explicit,
        }
    }

    /// Runs at most `steps` ops. An exception no handler catches ends the block with the
    /// error and Oracle's `ORA-06512: at line n`.
    pub fn run(&mut self, host: &mut dyn Host, steps: u64) -> Result<Progress, OraError> {
        let program = Arc::clone(&self.program);
        for _ in 0..steps {
            let Some((line, op)) = program.ops.get(self.pc) else {
                return Ok(Progress::Done(Outcome {
                    binds: std::mem::take(&mut self.ctx.binds),
                    cursors: std::mem::take(&mut self.cursors),
                }));
            };
            if let Err(raised) = self.op(host, &program, *line, op) {
                self.catch(&program, raised)?;
            }
        }
        Ok(Progress::Running)
    }

    /// Hands `r` to the innermost handler that catches it, or ends the block with it.
    fn catch(&mut self, program: &Program, r: Raised) -> Result<(), OraError> {
        for k in (0..self.scopes.len()).rev() {
            let ScopeKind::Block {
                info,
                active: true,
                vars_top,
                handling: None,
                ..
            } = &self.scopes[k].kind
            else {
                continue;
            };
            let found = program.blocks[*info].handlers.iter().find(|(names, _)| {
                names.is_empty()
                    || names.iter().any(|n| match &r.user {
                        Some(u) => u == n,
                        None => PREDEFINED
                            .iter()
                            .any(|(p, code)| p == n && *code == r.error.code),
                    })
            });
            let Some((_, start)) = found else {
                continue;
            };
            let vars_top = *vars_top;
            self.truncate(k + 1, vars_top);
            let (code, errm) = match &r.user {
                Some(_) => (1, "User-Defined Exception".to_owned()),
                None => (-i128::from(r.error.code), r.error.text()),
            };
            self.ctx
                .variables
                .push(("SQLCODE".to_owned(), integer(code)));
            self.ctx
                .variables
                .push(("SQLERRM".to_owned(), Value::Str(errm)));
            if let ScopeKind::Block { handling, .. } = &mut self.scopes[k].kind {
                *handling = Some(r);
            }
            self.pc = *start;
            return Ok(());
        }
        let mut stack = r.error.text();
        stack.push('\n');
        stack.push_str(&ora_line_with(6512, &[&format!("line {}", r.line)]));
        Err(OraError::from_stack(r.error.code, &stack))
    }

    fn fail(error: OraError, line: usize) -> Raised {
        Raised {
            error,
            user: None,
            line,
        }
    }

    fn eval(&self, e: &Expr, line: usize) -> Result<Value, Raised> {
        eval_expr(e, &self.ctx).map_err(|err| Self::fail(invalid_cursor(err), line))
    }

    /// Closes the scopes beyond the first `depth`.
    fn leave_to(&mut self, depth: usize) {
        if let Some(s) = self.scopes.get(depth) {
            let base = s.vars_base;
            self.truncate(depth, base);
        }
    }

    /// Keeps the first `scopes` scopes and `vars` variables: the cursor FOR loops left
    /// close their cursors, as do the blocks left theirs.
    fn truncate(&mut self, scopes: usize, vars: usize) {
        while self.scopes.len() > scopes {
            let Some(s) = self.scopes.pop() else { break };
            if let ScopeKind::Rows {
                cursor: Some(id), ..
            } = s.kind
            {
                self.explicit[id].in_loop = false;
                self.set_attributes(id, None);
            }
        }
        self.ctx.variables.truncate(vars);
        for c in &mut self.explicit {
            if c.vars != usize::MAX && c.vars >= vars {
                *c = Explicit {
                    vars: usize::MAX,
                    open: None,
                    in_loop: false,
                };
            }
        }
    }

    /// Sets the attributes of cursor `id`: closed (`None`), or open with %FOUND (NULL
    /// before the first fetch) and %ROWCOUNT.
    fn set_attributes(&mut self, id: usize, open: Option<(Option<bool>, u64)>) {
        let at = self.explicit[id].vars;
        if at == usize::MAX || at + ATTRIBUTES.len() > self.ctx.variables.len() {
            return;
        }
        let truth = |b: Option<bool>| b.map_or(Value::Null, |b| integer(i128::from(b)));
        let values = match open {
            None => [integer(0), Value::Null, Value::Null, Value::Null],
            Some((found, count)) => [
                integer(1),
                truth(found),
                truth(found.map(|f| !f)),
                integer(i128::from(count)),
            ],
        };
        for (k, (attr, v)) in ATTRIBUTES.iter().zip(values).enumerate() {
            let mut name = cursor_var(id, attr);
            if open.is_none() && k > 0 {
                name.push('#');
            }
            self.ctx.variables[at + k] = (name, v);
        }
    }

    /// The context cursor `id`'s query runs in: the variables and its parameters, from
    /// `args` or their defaults.
    fn cursor_context(
        &self,
        program: &Program,
        id: usize,
        args: &[Expr],
        line: usize,
    ) -> Result<EvalContext, Raised> {
        if self.explicit[id].open.is_some() || self.explicit[id].in_loop {
            return Err(Self::fail(OraError::new(6511, 0), line));
        }
        let Some(Some(decl)) = program.cursors.get(id) else {
            unreachable!("a cursor the program declares")
        };
        let mut ctx = self.ctx.clone();
        for (k, (name, default)) in decl.params.iter().enumerate() {
            let v = match (args.get(k), default) {
                (Some(e), _) | (None, Some(e)) => self.eval(e, line)?,
                (None, None) => Value::Null,
            };
            let v = fit(v).map_err(|e| Self::fail(e, line))?;
            ctx.variables.push((name.clone(), v));
        }
        Ok(ctx)
    }

    /// The next row of open cursor `id` (`None` past the last), counted.
    fn fetch(&mut self, id: usize, line: usize) -> Result<Option<Vec<(String, Value)>>, Raised> {
        let Some(o) = self.explicit[id].open.as_mut() else {
            return Err(Self::fail(OraError::new(1001, 0), line));
        };
        if o.row >= o.plan.total_rows() {
            let count = o.row;
            self.set_attributes(id, Some((Some(false), count)));
            return Ok(None);
        }
        let values = o.plan.row(o.row, &o.ctx).map_err(|e| Self::fail(e, line))?;
        o.row += 1;
        let count = o.row;
        let row = o
            .plan
            .columns
            .iter()
            .map(|c| c.name.clone())
            .zip(values)
            .collect();
        self.set_attributes(id, Some((Some(true), count)));
        Ok(Some(row))
    }

    fn op(
        &mut self,
        host: &mut dyn Host,
        program: &Program,
        line: usize,
        op: &Op,
    ) -> Result<(), Raised> {
        let mut next = self.pc + 1;
        match op {
            Op::Assign(t, e) => {
                let v = self.eval(e, line)?;
                self.assign(t, v, line)?;
            }
            Op::Call(p, args) => self.call(host, p, args, line)?,
            Op::OpenFor(c, query) => {
                let id = host
                    .open_cursor(query, &self.ctx)
                    .map_err(|e| Self::fail(e, line))?;
                self.cursors.retain(|(n, _)| n != c);
                self.cursors.push((c.clone(), id));
            }
            Op::Raise(n) => return Err(self.raise(n.as_deref(), line)),
            Op::SelectInto(query, targets) => {
                let plan = host
                    .query(query, &self.ctx)
                    .map_err(|e| Self::fail(e, line))?;
                // SQL%ROWCOUNT is 1 after TOO_MANY_ROWS: the rows fetched before the error.
                let (error, count) = match plan.total_rows() {
                    0 => (Some(OraError::new(1403, 0)), 0),
                    1 => (None, 1),
                    _ => (Some(OraError::new(1422, 0)), 1),
                };
                self.assign(&Target::Var(ROWCOUNT.to_owned()), integer(count), line)?;
                let found = integer(i128::from(count > 0));
                self.assign(&Target::Var("SQL%FOUND".to_owned()), found, line)?;
                let not_found = integer(i128::from(count == 0));
                self.assign(&Target::Var("SQL%NOTFOUND".to_owned()), not_found, line)?;
                if let Some(e) = error {
                    return Err(Self::fail(e, line));
                }
                let row = plan.row(0, &self.ctx).map_err(|e| Self::fail(e, line))?;
                if row.len() != targets.len() {
                    let code = if row.len() > targets.len() { 913 } else { 947 };
                    return Err(Self::fail(OraError::new(code, 0), line));
                }
                for (t, v) in targets.iter().zip(row) {
                    self.assign(t, v, line)?;
                }
            }
            Op::Unless(c, to) => {
                let holds = test(c, &self.ctx).map_err(|e| Self::fail(invalid_cursor(e), line))?;
                if holds != Some(true) {
                    next = *to;
                }
            }
            Op::Jump { to, depth } => {
                self.leave_to(*depth);
                next = *to;
            }
            Op::Enter(info) => {
                self.scopes.push(Scope {
                    vars_base: self.ctx.variables.len(),
                    kind: ScopeKind::Block {
                        info: *info,
                        active: false,
                        vars_top: 0,
                        exceptions: Vec::new(),
                        handling: None,
                    },
                });
                let mut exceptions = Vec::new();
                for d in &program.blocks[*info].decls {
                    match d {
                        Decl::Var(n, init) => {
                            let v = match init {
                                Some(e) => self.eval(e, line)?,
                                None => Value::Null,
                            };
                            let v = fit(v).map_err(|e| Self::fail(e, line))?;
                            self.ctx.variables.push((n.clone(), v));
                        }
                        Decl::Exception(n) => exceptions.push(n.clone()),
                        Decl::Cursor(c) => {
                            self.explicit[c.id] = Explicit {
                                vars: self.ctx.variables.len(),
                                open: None,
                                in_loop: false,
                            };
                            for _ in ATTRIBUTES {
                                self.ctx.variables.push((String::new(), Value::Null));
                            }
                            self.set_attributes(c.id, None);
                        }
                        Decl::Record(n, id) => {
                            if let Some(Some(c)) = program.cursors.get(*id) {
                                for column in select_list(&c.query.stmt).unwrap_or_default() {
                                    self.ctx
                                        .variables
                                        .push((format!("{n}.{column}"), Value::Null));
                                }
                            }
                        }
                    }
                }
                let top = self.ctx.variables.len();
                if let Some(Scope {
                    kind:
                        ScopeKind::Block {
                            active,
                            vars_top,
                            exceptions: declared,
                            ..
                        },
                    ..
                }) = self.scopes.last_mut()
                {
                    *active = true;
                    *vars_top = top;
                    *declared = exceptions;
                }
            }
            Op::Leave => {
                let depth = self.scopes.len().saturating_sub(1);
                self.leave_to(depth);
            }
            Op::ForRange {
                index,
                low,
                high,
                reverse,
                end,
            } => {
                let low = self.bound(low, line)?;
                let high = self.bound(high, line)?;
                if low > high {
                    next = *end;
                } else {
                    let (first, last, step) = if *reverse {
                        (high, low, -1)
                    } else {
                        (low, high, 1)
                    };
                    self.scopes.push(Scope {
                        vars_base: self.ctx.variables.len(),
                        kind: ScopeKind::Range {
                            current: first,
                            last,
                            step,
                        },
                    });
                    self.ctx.variables.push((index.clone(), integer(first)));
                }
            }
            Op::ForQuery {
                record,
                query,
                cursor,
                end,
            } => {
                let ctx = match cursor {
                    Some((id, args)) => {
                        let ctx = self.cursor_context(program, *id, args, line)?;
                        self.may_open(line)?;
                        ctx
                    }
                    None => self.ctx.clone(),
                };
                let plan = host.query(query, &ctx).map_err(|e| Self::fail(e, line))?;
                if plan.total_rows() == 0 {
                    next = *end;
                } else {
                    let row = plan.row(0, &ctx).map_err(|e| Self::fail(e, line))?;
                    let base = self.ctx.variables.len();
                    for (c, v) in plan.columns.iter().zip(row) {
                        self.ctx.variables.push((format!("{record}.{}", c.name), v));
                    }
                    let id = cursor.as_ref().map(|(id, _)| *id);
                    self.scopes.push(Scope {
                        vars_base: base,
                        kind: ScopeKind::Rows {
                            plan: Box::new(plan),
                            ctx: Box::new(ctx),
                            row: 0,
                            cursor: id,
                        },
                    });
                    if let Some(id) = id {
                        self.explicit[id].in_loop = true;
                        self.set_attributes(id, Some((Some(true), 1)));
                    }
                }
            }
            Op::OpenCursor(id, args) => {
                let ctx = self.cursor_context(program, *id, args, line)?;
                self.may_open(line)?;
                let Some(Some(decl)) = program.cursors.get(*id) else {
                    unreachable!("a cursor the program declares")
                };
                let plan = host
                    .query(&decl.query.stmt, &ctx)
                    .map_err(|e| Self::fail(e, line))?;
                self.explicit[*id].open = Some(Box::new(Opened { plan, ctx, row: 0 }));
                self.set_attributes(*id, Some((None, 0)));
            }
            Op::Fetch(id, targets) => {
                if let Some(row) = self.fetch(*id, line)? {
                    if row.len() != targets.len() {
                        return Err(Self::fail(pls_at(line, &pls_line(394, &[])), line));
                    }
                    for (t, (_, v)) in targets.iter().zip(row) {
                        self.assign(t, v, line)?;
                    }
                }
            }
            Op::FetchRecord(id, record) => {
                if let Some(row) = self.fetch(*id, line)? {
                    for (column, v) in row {
                        self.assign(&Target::Var(format!("{record}.{column}")), v, line)?;
                    }
                }
            }
            Op::Close(id) => {
                if self.explicit[*id].open.take().is_none() {
                    return Err(Self::fail(OraError::new(1001, 0), line));
                }
                self.set_attributes(*id, None);
            }
            Op::Next { body } => {
                let Some(scope) = self.scopes.last_mut() else {
                    unreachable!("a loop's next op runs in its scope")
                };
                let base = scope.vars_base;
                let mut counted = None;
                let more = match &mut scope.kind {
                    ScopeKind::Range {
                        current,
                        last,
                        step,
                    } => {
                        if current == last {
                            false
                        } else {
                            *current += *step;
                            self.ctx.variables[base].1 = integer(*current);
                            true
                        }
                    }
                    ScopeKind::Rows {
                        plan,
                        ctx,
                        row,
                        cursor,
                    } => {
                        if *row + 1 >= plan.total_rows() {
                            false
                        } else {
                            *row += 1;
                            let values = plan.row(*row, ctx).map_err(|e| Self::fail(e, line))?;
                            for (k, v) in values.into_iter().enumerate() {
                                self.ctx.variables[base + k].1 = v;
                            }
                            counted = cursor.map(|id| (id, *row + 1));
                            true
                        }
                    }
                    ScopeKind::Block { .. } => unreachable!("a loop's next op runs in its scope"),
                };
                if let Some((id, count)) = counted {
                    self.set_attributes(id, Some((Some(true), count)));
                }
                if more {
                    next = *body;
                } else {
                    let depth = self.scopes.len() - 1;
                    self.leave_to(depth);
                }
            }
            Op::CaseNotFound => return Err(Self::fail(OraError::new(6592, 0), line)),
        }
        self.pc = next;
        Ok(())
    }

    /// ORA-01000 when as many declared cursors as may be are open.
    fn may_open(&self, line: usize) -> Result<(), Raised> {
        let open = self
            .explicit
            .iter()
            .filter(|c| c.open.is_some() || c.in_loop)
            .count();
        if open >= MAX_OPEN_CURSORS {
            return Err(Self::fail(OraError::new(1000, 0), line));
        }
        Ok(())
    }

    /// A FOR loop bound: a number rounded to an integer (VALUE_ERROR for NULL).
    fn bound(&self, e: &Expr, line: usize) -> Result<i128, Raised> {
        let v = self.eval(e, line)?;
        let fail = |e| Self::fail(e, line);
        if v == Value::Null {
            return Err(fail(OraError::with_args(6502, &[""], 0)));
        }
        let d = super::super::eval::to_number_value(&v).map_err(fail)?;
        let f = d.to_f64().round();
        if !f.is_finite() || f.abs() > 2_147_483_647.0 {
            return Err(fail(OraError::with_args(6502, &[""], 0)));
        }
        Ok(f as i128)
    }

    fn raise(&self, name: Option<&str>, line: usize) -> Raised {
        let Some(n) = name else {
            let handled = self.scopes.iter().rev().find_map(|s| match &s.kind {
                ScopeKind::Block { handling, .. } => handling.as_ref(),
                _ => None,
            });
            return match handled {
                Some(r) => Raised { line, ..r.clone() },
                None => Self::fail(pls_at(line, &pls_line(367, &[])), line),
            };
        };
        let declared = self.scopes.iter().any(|s| match &s.kind {
            ScopeKind::Block { exceptions, .. } => exceptions.iter().any(|e| e == n),
            _ => false,
        });
        if declared {
            return Raised {
                error: OraError::new(USER_EXCEPTION, 0),
                user: Some(n.to_owned()),
                line,
            };
        }
        match PREDEFINED.iter().find(|(p, _)| *p == n) {
            Some((_, code)) => Self::fail(OraError::new(*code, 0), line),
            None => Self::fail(pls_at(line, &pls_line(201, &[n])), line),
        }
    }

    fn call(
        &mut self,
        host: &mut dyn Host,
        p: &Procedure,
        args: &[Expr],
        line: usize,
    ) -> Result<(), Raised> {
        let mut values = Vec::with_capacity(args.len());
        for (e, mode) in args.iter().zip(p.params) {
            values.push(match mode {
                Out => Value::Null,
                In | InOut => self.eval(e, line)?,
            });
        }
        if p.name == "RAISE_APPLICATION_ERROR" {
            return Err(Self::fail(raise_application_error(&values), line));
        }
        host.call(p, &mut values).map_err(|e| Self::fail(e, line))?;
        for ((e, mode), v) in args.iter().zip(p.params).zip(values) {
            if *mode == In {
                continue;
            }
            match e {
                Expr::Bind(n, at) => self.assign(&Target::Bind(n.clone(), *at), v, line)?,
                Expr::Ident(n, _) => self.assign(&Target::Var(n.clone()), v, line)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn assign(&mut self, t: &Target, v: Value, line: usize) -> Result<(), Raised> {
        match t {
            Target::Bind(b, _) => {
                self.ctx.binds.retain(|(n, _)| n != b);
                self.ctx.binds.push((b.clone(), v));
            }
            Target::Var(n) => {
                let v = fit(v).map_err(|e| Self::fail(e, line))?;
                match self.ctx.variables.iter().rposition(|(m, _)| m == n) {
                    Some(i) => self.ctx.variables[i].1 = v,
                    // An undeclared target (Oracle turns it away at compile time) becomes a
                    // variable of the outermost scope.
                    None => self.ctx.variables.push((n.clone(), v)),
                }
            }
        }
        Ok(())
    }
}

/// A value a variable can hold: text of at most [`MAX_VARCHAR2`] bytes (ORA-06502
/// beyond, so a loop that doubles a string stops there).
fn fit(v: Value) -> Result<Value, OraError> {
    match &v {
        Value::Str(s) if s.len() > MAX_VARCHAR2 => Err(OraError::with_args(
            6502,
            &[": character string buffer too small"],
            0,
        )),
        _ => Ok(v),
    }
}

/// Reading %FOUND, %NOTFOUND or %ROWCOUNT of a closed cursor finds no variable (see
/// [`ATTRIBUTES`]): that is INVALID_CURSOR.
fn invalid_cursor(e: OraError) -> OraError {
    if e.code == 904 && e.message.starts_with("\"%") {
        OraError::new(1001, 0)
    } else {
        e
    }
}
