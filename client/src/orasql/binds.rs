//! Bind variables: `VAR[IABLE] [name [type]]`, `:name` in SQL and PL/SQL, `PRI[NT]`.
//!
//! SQL*Plus keeps the variables on the client and binds them for real: a statement that
//! names `:n` is sent with a bind for each distinct name (in order of first appearance,
//! as the server numbers them), a PL/SQL block's binds are IN OUT and what the block left
//! in them is kept, so `EXECUTE :n := 42` then `select :n from dual` sees 42. A name
//! that was not declared stops the statement before it is sent (SP2-0552). PRINT shows a
//! variable as a query of it would (heading the name in upper case, as wide as its type).
//!
//! The types are NUMBER, CHAR [(n)] and VARCHAR2 (n) (n in bytes, an optional BYTE);
//! anything else gets SQL*Plus's usage text.

use super::sp2;
use crate::connection::{Bind, Column};
use crate::wire::Value;

/// What SQL*Plus prints for a VARIABLE command it cannot read.
pub const USAGE: &str = "Usage: VAR[IABLE] [ <variable> [ NUMBER | CHAR | CHAR (n [CHAR|BYTE]) |
                    VARCHAR2 (n [CHAR|BYTE]) | NCHAR | NCHAR (n) |
                    NVARCHAR2 (n) | CLOB | NCLOB | BLOB | BFILE
                    REFCURSOR | BINARY_FLOAT | BINARY_DOUBLE ] ]";

/// The largest CHAR and VARCHAR2 variables, in bytes.
const MAX_CHAR: u32 = 2000;
const MAX_VARCHAR2: u32 = 32767;

/// A bind variable's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    /// NUMBER.
    Number,
    /// CHAR(n).
    Char(u32),
    /// VARCHAR2(n).
    Varchar2(u32),
}

impl VarType {
    /// Reads `NUMBER`, `CHAR`, `CHAR (n [BYTE])`, `VARCHAR2 (n [BYTE])` (any case, blanks
    /// anywhere).
    pub fn parse(text: &str) -> Option<VarType> {
        let t: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if t == "NUMBER" {
            return Some(VarType::Number);
        }
        if t == "CHAR" {
            return Some(VarType::Char(1));
        }
        let (word, size) = t.strip_suffix(')')?.split_once('(')?;
        let n: u32 = size.strip_suffix("BYTE").unwrap_or(size).parse().ok()?;
        match word {
            "CHAR" if (1..=MAX_CHAR).contains(&n) => Some(VarType::Char(n)),
            "VARCHAR2" if (1..=MAX_VARCHAR2).contains(&n) => Some(VarType::Varchar2(n)),
            _ => None,
        }
    }

    /// The type as VARIABLE lists it.
    pub fn name(self) -> String {
        match self {
            VarType::Number => "NUMBER".to_string(),
            VarType::Char(n) => format!("CHAR({n})"),
            VarType::Varchar2(n) => format!("VARCHAR2({n})"),
        }
    }
}

/// One declared variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// The name as declared (matched without regard to case).
    pub name: String,
    /// Its type.
    pub ty: VarType,
    /// Its value (NULL until something sets it).
    pub value: Value,
}

impl Variable {
    /// The bind that carries this variable's value.
    pub fn bind(&self) -> Bind {
        let text = match &self.value {
            Value::Null => None,
            v => Some(v.to_string()),
        };
        match self.ty {
            VarType::Number => Bind::Number(match &self.value {
                Value::Number(d) => Some(d.clone()),
                _ => None,
            }),
            VarType::Char(size) => Bind::Char { value: text, size },
            VarType::Varchar2(size) => Bind::Text { value: text, size },
        }
    }

    /// The column PRINT shows it under: its name in upper case, as wide as its type.
    pub fn column(&self) -> Column {
        let (type_name, max_size) = match self.ty {
            VarType::Number => ("NUMBER", 0),
            VarType::Char(n) => ("CHAR", n),
            VarType::Varchar2(n) => ("VARCHAR2", n),
        };
        Column {
            name: self.name.to_ascii_uppercase(),
            ora_type: 0,
            type_name,
            precision: 0,
            scale: 0,
            max_size,
            nullable: true,
        }
    }
}

/// Why a VARIABLE, PRINT or statement could not use a variable; `Display` is SQL*Plus's
/// text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindError {
    /// A name that was not declared (SP2-0552), spelled as SQL*Plus echoes it.
    NotDeclared(String),
    /// A name that cannot be a variable's (SP2-0553).
    IllegalName(String),
    /// A type VARIABLE does not take: the usage text.
    Usage,
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::NotDeclared(n) => f.write_str(&sp2(552, &[n])),
            BindError::IllegalName(n) => f.write_str(&sp2(553, &[n])),
            BindError::Usage => f.write_str(USAGE),
        }
    }
}

/// A statement's binds: the variables' names (upper case, each once, in order of first
/// appearance) and the binds carrying their values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatementBinds {
    /// The names.
    pub names: Vec<String>,
    /// One bind per name.
    pub binds: Vec<Bind>,
}

/// The session's bind variables, in order of declaration.
#[derive(Debug, Default)]
pub struct Variables {
    vars: Vec<Variable>,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(char::is_alphabetic)
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '#'))
}

impl Variables {
    /// None declared.
    pub fn new() -> Self {
        Variables::default()
    }

    /// The variable `name` (any case).
    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.vars.iter().find(|v| v.name.eq_ignore_ascii_case(name))
    }

    /// `VARIABLE [name [type]]`: declares (or redeclares, NULL again) a variable, or lists
    /// one or all. Returns what to print.
    pub fn variable_command(&mut self, args: &str) -> Result<String, BindError> {
        let args = args.trim();
        if args.is_empty() {
            let listed: Vec<String> = self.vars.iter().map(listing).collect();
            return Ok(listed.join("\n"));
        }
        let end = args
            .find(|c: char| c.is_whitespace() || c == '(')
            .unwrap_or(args.len());
        let (name, rest) = (&args[..end], args[end..].trim());
        if rest.is_empty() {
            return self
                .get(name)
                .map(listing)
                .ok_or_else(|| BindError::NotDeclared(name.to_string()));
        }
        if !valid_name(name) {
            return Err(BindError::IllegalName(name.to_string()));
        }
        let ty = VarType::parse(rest).ok_or(BindError::Usage)?;
        let var = Variable {
            name: name.to_string(),
            ty,
            value: Value::Null,
        };
        match self
            .vars
            .iter_mut()
            .find(|v| v.name.eq_ignore_ascii_case(name))
        {
            Some(v) => *v = var,
            None => self.vars.push(var),
        }
        Ok(String::new())
    }

    /// The variables `PRINT names` shows (all of them when `names` is empty), each or the
    /// error for a name that was not declared (SQL*Plus goes on with the next name).
    pub fn print(&self, names: &str) -> Vec<Result<&Variable, BindError>> {
        if names.trim().is_empty() {
            return self.vars.iter().map(Ok).collect();
        }
        names
            .split_whitespace()
            .map(|n| {
                self.get(n)
                    .ok_or_else(|| BindError::NotDeclared(n.to_ascii_uppercase()))
            })
            .collect()
    }

    /// The binds of a statement: every `:name` outside literals, quoted identifiers and
    /// comments. A name not declared is SP2-0552.
    pub fn for_statement(&self, sql: &str) -> Result<StatementBinds, BindError> {
        let mut out = StatementBinds::default();
        for name in bind_names(sql) {
            if out.names.contains(&name) {
                continue;
            }
            let var = self
                .get(&name)
                .ok_or_else(|| BindError::NotDeclared(name.clone()))?;
            out.binds.push(var.bind());
            out.names.push(name);
        }
        Ok(out)
    }

    /// Keeps what a PL/SQL block left in its binds (a CHAR blank-padded to its length).
    pub fn store(&mut self, names: &[String], values: &[Vec<Value>]) {
        for (name, value) in names.iter().zip(values) {
            let Some(var) = self
                .vars
                .iter_mut()
                .find(|v| v.name.eq_ignore_ascii_case(name))
            else {
                continue;
            };
            let value = value.first().cloned().unwrap_or(Value::Null);
            var.value = match (var.ty, value) {
                (VarType::Char(n), Value::Text(t)) => {
                    let pad = (n as usize).saturating_sub(t.len());
                    Value::Text(format!("{t}{}", " ".repeat(pad)))
                }
                (_, v) => v,
            };
        }
    }
}

/// `variable   name` / `datatype   TYPE`, as VARIABLE lists a variable.
fn listing(v: &Variable) -> String {
    format!("variable   {}\ndatatype   {}\n", v.name, v.ty.name())
}

/// The bind names of `sql` in upper case, in order, repeats included: a `:` followed by a
/// name, outside '...' and q'[...]' literals, "..." identifiers, `--` and `/* */`
/// comments; `:=` is PL/SQL's assignment.
pub fn bind_names(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    let skip_to = |from: usize, end: &str| -> usize {
        let rest: String = chars[from..].iter().collect();
        rest.find(end).map_or(chars.len(), |at| {
            from + rest[..at].chars().count() + end.len()
        })
    };
    let ident = |c: char| c.is_alphanumeric() || matches!(c, '_' | '$' | '#');
    while i < chars.len() {
        let q_quote = matches!(chars[i], 'q' | 'Q')
            && chars.get(i + 1) == Some(&'\'')
            && (i == 0 || !ident(chars[i - 1]));
        match chars[i] {
            // q'[...]': the literal ends at the closing delimiter and a quote.
            _ if q_quote => {
                let close = match chars.get(i + 2) {
                    Some('[') => ']',
                    Some('{') => '}',
                    Some('(') => ')',
                    Some('<') => '>',
                    Some(c) => *c,
                    None => break,
                };
                i = skip_to(i + 3, &format!("{close}'"));
            }
            '\'' => i = skip_to(i + 1, "'"),
            '"' => i = skip_to(i + 1, "\""),
            '-' if chars.get(i + 1) == Some(&'-') => i = skip_to(i + 2, "\n"),
            '/' if chars.get(i + 1) == Some(&'*') => i = skip_to(i + 2, "*/"),
            ':' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && ident(chars[end]) {
                    end += 1;
                }
                if end > start {
                    let name: String = chars[start..end].iter().collect();
                    names.push(name.to_ascii_uppercase());
                }
                i = end.max(start);
            }
            _ => i += 1,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use tns::ttc::types::Decimal;

    #[test]
    fn types_parse_as_sqlplus_takes_them() {
        assert_eq!(VarType::parse("number"), Some(VarType::Number));
        assert_eq!(VarType::parse("char"), Some(VarType::Char(1)));
        assert_eq!(VarType::parse("VARCHAR2 (20)"), Some(VarType::Varchar2(20)));
        assert_eq!(
            VarType::parse("varchar2(20 byte)"),
            Some(VarType::Varchar2(20))
        );
        assert_eq!(VarType::parse("char(2001)"), None);
        assert_eq!(VarType::parse("number(9,2)"), None);
        assert_eq!(VarType::parse("varchar2"), None);
        assert_eq!(VarType::Varchar2(20).name(), "VARCHAR2(20)");
    }

    #[test]
    fn variable_declares_lists_and_refuses() {
        let mut v = Variables::new();
        assert_eq!(v.variable_command(""), Ok(String::new()));
        assert_eq!(v.variable_command("n number"), Ok(String::new()));
        assert_eq!(v.variable_command("msg varchar2(10)"), Ok(String::new()));
        assert_eq!(
            v.variable_command("N"),
            Ok("variable   n\ndatatype   NUMBER\n".to_string())
        );
        assert_eq!(
            v.variable_command(""),
            Ok(
                "variable   n\ndatatype   NUMBER\n\nvariable   msg\ndatatype   VARCHAR2(10)\n"
                    .to_string()
            )
        );
        assert_eq!(
            v.variable_command("nosuch").unwrap_err().to_string(),
            "SP2-0552: Bind variable \"nosuch\" not declared."
        );
        assert_eq!(
            v.variable_command("1x number").unwrap_err().to_string(),
            "SP2-0553: Illegal variable name \"1x\"."
        );
        let usage = v.variable_command("x date").unwrap_err().to_string();
        assert!(usage.starts_with("Usage: VAR[IABLE] [ <variable> [ NUMBER | CHAR |"));
        assert_eq!(usage.lines().count(), 4);
    }

    #[test]
    fn statements_bind_each_name_once_and_stop_at_an_undeclared_one() {
        assert_eq!(
            bind_names("select :a, ':b', \"c:d\", :A -- :e\n from dual /* :f */ where x = :g"),
            vec!["A", "A", "G"]
        );
        assert_eq!(bind_names("begin :n := :n + 1; end;"), vec!["N", "N"]);
        assert_eq!(
            bind_names("select q'[it's :x]', seq:b, Q'!:y!' from dual where :c = 1"),
            vec!["B", "C"]
        );
        let mut v = Variables::new();
        v.variable_command("n number").unwrap();
        v.variable_command("s char(3)").unwrap();
        let b = v
            .for_statement("begin :n := :n + 1; :s := 'a'; end;")
            .unwrap();
        assert_eq!(b.names, vec!["N", "S"]);
        assert_eq!(
            b.binds,
            vec![
                Bind::Number(None),
                Bind::Char {
                    value: None,
                    size: 3
                }
            ]
        );
        v.store(
            &b.names,
            &[
                vec![Value::Number(Decimal::parse("42").unwrap())],
                vec![Value::Text("a".into())],
            ],
        );
        assert_eq!(v.get("s").unwrap().value, Value::Text("a  ".into()));
        assert_eq!(
            v.for_statement("select :n from dual").unwrap().binds,
            vec![Bind::Number(Some(Decimal::parse("42").unwrap()))]
        );
        assert_eq!(
            v.for_statement("select :n, :zz from dual").unwrap_err(),
            BindError::NotDeclared("ZZ".into())
        );
    }

    #[test]
    fn print_goes_on_after_an_undeclared_name() {
        let mut v = Variables::new();
        v.variable_command("a number").unwrap();
        v.variable_command("b varchar2(5)").unwrap();
        let got = v.print("a nosuch b");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].as_ref().unwrap().column().name, "A");
        assert_eq!(
            got[1].as_ref().unwrap_err().to_string(),
            "SP2-0552: Bind variable \"NOSUCH\" not declared."
        );
        assert_eq!(got[2].as_ref().unwrap().column().max_size, 5);
        assert_eq!(v.print("").len(), 2);
    }
}
