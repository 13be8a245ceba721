//! The expression language: jq, embedded through jaq.
//!
//! # Why jaq (and not a home-grown language)
//!
//! Integration specialists already write jq; jaq implements it in Rust with a loader that
//! reports lexing and parsing errors and undefined names with the offending slice of the code,
//! which becomes a byte offset inside the TOML value and so a `file:line:col` at load time.
//! Measured on this machine (2 shared cores; `cargo run --release --example jaq_eval`, figures
//! in README.md): compiling an expression takes 0.5–1.5 ms (the jq standard library is parsed
//! per compile; this happens once per mapping load, never per record); evaluating one costs
//! about 5 µs per record against 0.2–0.5 µs for a native rule, half of it converting the
//! record into jaq's value type (numbers through their text, which keeps decimal digits).
//! So the common cases (copy, constant, string functions, decimal arithmetic, lookups, unit
//! conversion) are declarative rules evaluated natively, and expressions are for the rest;
//! `$root` is only converted when an expression mentions it. jaq's arithmetic runs through
//! `f64`, so money arithmetic belongs in the exact `add`/`mul`/`round` steps.
//!
//! Expressions see the current record (or loop item) as `.` and the whole input record as
//! `$root`. The first output is the value; no output means "missing".

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, Compiler, Ctx, Vars};
use jaq_json::Val;
use serde_json::Value;

type D = data::JustLut<Val>;

/// A compiled jq filter.
pub struct Expr {
    pub source: String,
    /// Whether the filter mentions `$root`; if not, the record is not converted for it.
    uses_root: bool,
    filter: jaq_core::Filter<D>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

/// A compile error with its byte offset inside the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

impl Expr {
    pub fn compile(code: &str) -> Result<Expr, Vec<ExprError>> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let program = File { code, path: () };
        let span = |part: &str| jaq_core::load::span(code, part).start;
        let modules = loader.load(&arena, program).map_err(|errs| {
            let mut out = Vec::new();
            for (_file, err) in errs {
                match err {
                    jaq_core::load::Error::Io(v) => {
                        out.extend(v.into_iter().map(|(s, m)| ExprError {
                            offset: span(s),
                            message: m,
                        }))
                    }
                    jaq_core::load::Error::Lex(v) => {
                        out.extend(v.into_iter().map(|(expect, s)| ExprError {
                            offset: span(s),
                            message: format!("expected {}", lex_expect(&expect)),
                        }))
                    }
                    jaq_core::load::Error::Parse(v) => {
                        out.extend(v.into_iter().map(|(expect, found)| {
                            let (offset, found) = if found.is_empty() {
                                (code.len(), "end of expression".to_string())
                            } else {
                                (
                                    span(found),
                                    format!("'{}'", found.chars().take(20).collect::<String>()),
                                )
                            };
                            ExprError {
                                offset,
                                message: format!("expected {}, found {found}", expect.as_str()),
                            }
                        }))
                    }
                }
            }
            out
        })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .with_global_vars(["$root"])
            .compile(modules)
            .map_err(|errs| {
                errs.into_iter()
                    .flat_map(|(_file, v)| v.into_iter())
                    .map(|(name, undef)| ExprError {
                        offset: span(name),
                        message: format!("undefined {} '{name}'", undef.as_str()),
                    })
                    .collect::<Vec<_>>()
            })?;
        Ok(Expr {
            source: code.to_string(),
            uses_root: code.contains("$root"),
            filter,
        })
    }

    /// Runs on `input` with `$root`; the first output, `None` when it yields nothing.
    pub fn eval(&self, input: &Value, root: &Value) -> Result<Option<Value>, String> {
        let root = if self.uses_root {
            to_val(root)?
        } else {
            Val::Null
        };
        self.eval_val(to_val(input)?, root)
    }

    pub fn eval_val(&self, input: Val, root: Val) -> Result<Option<Value>, String> {
        let ctx = Ctx::<D>::new(&self.filter.lut, Vars::new([root]));
        let mut out = self.filter.id.run((ctx, input)).map(jaq_core::unwrap_valr);
        match out.next() {
            None => Ok(None),
            Some(Ok(v)) => from_val(&v).map(Some),
            Some(Err(e)) => Err(format!("expression failed: {e}")),
        }
    }

    /// Whether the first output is truthy (anything but `false`/`null`/no output).
    pub fn test(&self, input: &Value, root: &Value) -> Result<bool, String> {
        Ok(!matches!(
            self.eval(input, root)?,
            None | Some(Value::Null) | Some(Value::Bool(false))
        ))
    }
}

fn lex_expect(e: &jaq_core::load::lex::Expect<&str>) -> &'static str {
    use jaq_core::load::lex::Expect;
    // `Expect::as_str` panics on unusual delimiters, so name them here.
    match e {
        Expect::Digit => "digit",
        Expect::Ident => "identifier",
        Expect::Delim("(") => "closing parenthesis",
        Expect::Delim("[") => "closing bracket",
        Expect::Delim("{") => "closing brace",
        Expect::Delim(_) => "closing delimiter",
        Expect::Escape => "string escape sequence",
        Expect::Unicode => "4-digit hexadecimal code point",
        Expect::Token => "token",
        _ => "something else",
    }
}

/// serde_json → jaq, directly; numbers go through their text so decimal digits are kept
/// (jaq stores non-integer literals as decimal text).
pub fn to_val(v: &Value) -> Result<Val, String> {
    Ok(match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::from(*b),
        Value::Number(n) => match n.as_i64().and_then(|i| isize::try_from(i).ok()) {
            Some(i) => Val::from(i),
            None => {
                let text = n.to_string();
                Val::Num(
                    jaq_json::read::parse_single_num(text.as_bytes())
                        .ok_or_else(|| format!("cannot pass number {text} to expression"))?,
                )
            }
        },
        Value::String(s) => Val::from(s.clone()),
        Value::Array(a) => a.iter().map(to_val).collect::<Result<Val, String>>()?,
        Value::Object(m) => {
            let mut out = jaq_json::Map::default();
            for (k, x) in m {
                out.insert(Val::from(k.clone()), to_val(x)?);
            }
            Val::obj(out)
        }
    })
}

pub fn from_val(v: &Val) -> Result<Value, String> {
    let text = v.to_string();
    serde_json::from_str(&text)
        .map_err(|e| format!("expression produced a value that is not JSON ({e}): {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evaluates_with_root() {
        let e = Expr::compile(r#".name + " / " + $root.code"#).unwrap();
        assert_eq!(
            e.eval(&json!({"name": "bar"}), &json!({"code": "X1"}))
                .unwrap(),
            Some(json!("bar / X1"))
        );
        let t = Expr::compile(".qty > 10").unwrap();
        assert!(t.test(&json!({"qty": 11}), &json!(null)).unwrap());
        assert!(!t.test(&json!({"qty": 1}), &json!(null)).unwrap());
        assert_eq!(
            Expr::compile("empty")
                .unwrap()
                .eval(&json!(1), &json!(1))
                .unwrap(),
            None
        );
    }

    #[test]
    fn keeps_decimal_text() {
        let e = Expr::compile(".price").unwrap();
        let v: Value = serde_json::from_str(r#"{"price": 12.50}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&e.eval(&v, &v).unwrap().unwrap()).unwrap(),
            "12.50"
        );
    }

    #[test]
    fn compile_errors_have_offsets() {
        let errs = Expr::compile(".a | nosuchfn(1)").unwrap_err();
        assert_eq!(errs[0].offset, 5, "{errs:?}");
        assert!(errs[0].message.contains("nosuchfn"), "{errs:?}");
        let errs = Expr::compile(".a + (").unwrap_err();
        assert!(!errs.is_empty());
        let errs = Expr::compile("if . then 1").unwrap_err();
        assert!(
            errs[0].message.contains("else or end") || errs[0].message.contains("end"),
            "{errs:?}"
        );
        assert!(Expr::compile("$nope").is_err());
    }

    #[test]
    fn runtime_errors_are_reported() {
        let e = Expr::compile(".a + 1").unwrap();
        assert!(e
            .eval(&json!({"a": "x"}), &json!(null))
            .unwrap_err()
            .contains("expression failed"));
    }
}
