//! `DBMS_CONNECTION_POOL`: the calls that administer the DRCP pool, as a statement the
//! session hands to the instance ([`crate::port::InstanceHooks::connection_pool`]). A
//! block may hold one such call (and NULL statements); its arguments are literals, given
//! by position or by name (`param_name => 'MAXSIZE'`), with Oracle's defaults
//! (`pool_name => 'SYS_DEFAULT_CONNECTION_POOL'`). A later PL/SQL layer can dispatch to
//! [`PoolCall`] the same way.

use super::Expr;
use crate::error::pls_line;

/// The pool every call names unless told otherwise.
pub const DEFAULT_POOL: &str = "SYS_DEFAULT_CONNECTION_POOL";

/// One `DBMS_CONNECTION_POOL` procedure call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolCall {
    /// `START_POOL(pool_name)`.
    Start {
        /// Pool.
        pool: String,
    },
    /// `STOP_POOL(pool_name)`.
    Stop {
        /// Pool.
        pool: String,
    },
    /// `RESTORE_DEFAULTS(pool_name)`.
    RestoreDefaults {
        /// Pool.
        pool: String,
    },
    /// `ALTER_PARAM(pool_name, param_name, param_value)`.
    AlterParam {
        /// Pool.
        pool: String,
        /// Parameter name.
        name: String,
        /// Value as given.
        value: String,
    },
    /// `CONFIGURE_POOL(pool_name, minsize, maxsize, ...)`: the parameters given.
    Configure {
        /// Pool.
        pool: String,
        /// `(name, value)` of each parameter given (upper case names).
        params: Vec<(String, String)>,
    },
}

/// CONFIGURE_POOL's parameters after `pool_name`, in order.
const CONFIGURE_PARAMS: [&str; 10] = [
    "MINSIZE",
    "MAXSIZE",
    "INCRSIZE",
    "SESSION_CACHED_CURSORS",
    "INACTIVITY_TIMEOUT",
    "MAX_THINK_TIME",
    "MAX_USE_SESSION",
    "MAX_LIFETIME_SESSION",
    "MAX_TXN_THINK_TIME",
    "NUM_CBROK",
];

/// An argument: its name when given as `name => value`, and its literal value
/// (`None` = NULL).
pub type Arg = (Option<String>, Option<String>);

/// The literal value of an argument expression.
pub fn literal(e: &Expr) -> Option<Option<String>> {
    match e {
        // In Oracle '' is NULL (`ALTER_PARAM('', 'MINSIZE', '10')` names the default pool).
        Expr::Str(s) if s.is_empty() => Some(None),
        Expr::Str(s) => Some(Some(s.clone())),
        Expr::Number(d) => Some(Some(d.to_string())),
        Expr::Null => Some(None),
        Expr::Neg(inner) => match inner.as_ref() {
            Expr::Number(d) => Some(Some(format!("-{d}"))),
            _ => None,
        },
        _ => None,
    }
}

/// Builds the call of `procedure` (upper case, without the package) from its arguments;
/// `Err` carries the PLS- text for a procedure or argument that does not exist.
pub fn call(procedure: &str, args: &[Arg]) -> Result<PoolCall, String> {
    let formals: Vec<&str> = match procedure {
        "START_POOL" | "STOP_POOL" | "RESTORE_DEFAULTS" => vec!["POOL_NAME"],
        "ALTER_PARAM" => vec!["POOL_NAME", "PARAM_NAME", "PARAM_VALUE"],
        "CONFIGURE_POOL" => std::iter::once("POOL_NAME")
            .chain(CONFIGURE_PARAMS)
            .collect(),
        other => {
            return Err(pls_line(302, &[other]));
        }
    };
    let wrong = || pls_line(306, &[procedure]);
    let mut values: Vec<Option<Option<String>>> = vec![None; formals.len()];
    let mut named = false;
    for (i, (name, value)) in args.iter().enumerate() {
        let at = match name {
            Some(n) => {
                named = true;
                formals
                    .iter()
                    .position(|f| f.eq_ignore_ascii_case(n))
                    .ok_or_else(wrong)?
            }
            None if named => return Err(wrong()),
            None => i,
        };
        let slot = values.get_mut(at).ok_or_else(wrong)?;
        if slot.is_some() {
            return Err(wrong());
        }
        *slot = Some(value.clone());
    }
    let pool = values[0]
        .clone()
        .flatten()
        .unwrap_or_else(|| DEFAULT_POOL.to_owned());
    Ok(match procedure {
        "START_POOL" => PoolCall::Start { pool },
        "STOP_POOL" => PoolCall::Stop { pool },
        "RESTORE_DEFAULTS" => PoolCall::RestoreDefaults { pool },
        "ALTER_PARAM" => {
            let (Some(Some(name)), Some(Some(value))) = (values[1].clone(), values[2].clone())
            else {
                return Err(wrong());
            };
            PoolCall::AlterParam { pool, name, value }
        }
        _ => PoolCall::Configure {
            pool,
            params: formals
                .iter()
                .zip(values)
                .skip(1)
                .filter_map(|(f, v)| Some(((*f).to_owned(), v.flatten()?)))
                .collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn positional_named_and_defaults() {
        assert_eq!(
            call("START_POOL", &[]),
            Ok(PoolCall::Start {
                pool: DEFAULT_POOL.into()
            })
        );
        assert_eq!(
            call(
                "ALTER_PARAM",
                &[
                    (None, s("SYS_DEFAULT_CONNECTION_POOL")),
                    (None, s("MAXSIZE")),
                    (None, s("2"))
                ]
            ),
            Ok(PoolCall::AlterParam {
                pool: DEFAULT_POOL.into(),
                name: "MAXSIZE".into(),
                value: "2".into()
            })
        );
        assert_eq!(
            call(
                "CONFIGURE_POOL",
                &[
                    (Some("maxsize".into()), s("8")),
                    (Some("MINSIZE".into()), s("1"))
                ]
            ),
            Ok(PoolCall::Configure {
                pool: DEFAULT_POOL.into(),
                params: vec![
                    ("MINSIZE".into(), "1".into()),
                    ("MAXSIZE".into(), "8".into())
                ]
            })
        );
        assert!(call("ALTER_PARAM", &[(None, None), (None, s("MAXSIZE"))]).is_err());
        assert!(call("START_POOL", &[(None, None), (None, None)]).is_err());
        assert!(call("NO_SUCH", &[]).unwrap_err().starts_with("PLS-00302"));
    }
}
