//! Notification templates: `<name>.subject.txt`, `<name>.txt` and `<name>.html` per notice
//! (and `digest`), rendered by minijinja. All are read and compiled when the daemon is built,
//! so a missing file or a syntax error is a located config problem, not a failed mail. The
//! HTML part is autoescaped (minijinja escapes by the `.html` name); text parts are not.

use minijinja::Environment;
use serde::Serialize;
use std::path::Path;
use switchyard_core::notify::Notice;

/// The template set name of the daily digest mail.
pub const DIGEST: &str = "digest";

/// A rendered mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Every template set, compiled.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

/// The names of every template set.
pub fn names() -> impl Iterator<Item = &'static str> {
    Notice::ALL.iter().map(|n| n.as_str()).chain([DIGEST])
}

const PARTS: [&str; 3] = ["subject.txt", "txt", "html"];

impl Templates {
    /// Read and compile every set under `dir`; the problems name the file (and line).
    pub fn load(dir: &Path) -> Result<Self, Vec<String>> {
        let mut env = Environment::new();
        // A variable the data lacks is an error, not an empty string: a mail saying "your
        // order  has shipped" is worse than a dead letter replayed once the template is fixed.
        // (`{% if x %}` on a missing `x` is still allowed: optional fields read naturally.)
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        let mut problems = Vec::new();
        for name in names() {
            for part in PARTS {
                let file = format!("{name}.{part}");
                let path = dir.join(&file);
                match std::fs::read_to_string(&path) {
                    Ok(source) => {
                        if let Err(e) = env.add_template_owned(file.clone(), source) {
                            problems.push(format!("{}: {}", path.display(), describe(&e)));
                        }
                    }
                    Err(e) => problems.push(format!("{}: {e}", path.display())),
                }
            }
        }
        if problems.is_empty() {
            Ok(Self { env })
        } else {
            Err(problems)
        }
    }

    /// Render the set `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: &impl Serialize) -> Result<Rendered, String> {
        let part = |p: &str| -> Result<String, String> {
            let file = format!("{name}.{p}");
            let t = self
                .env
                .get_template(&file)
                .map_err(|e| format!("{file}: {}", describe(&e)))?;
            t.render(ctx)
                .map_err(|e| format!("{file}: {}", describe(&e)))
        };
        let subject = part("subject.txt")?;
        Ok(Rendered {
            // One line: a header cannot hold a line break.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: part("txt")?,
            html: part("html")?,
        })
    }
}

fn describe(e: &minijinja::Error) -> String {
    match e.line() {
        Some(line) => format!("line {line}: {e}"),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write_all(dir: &Path, html: &str) {
        for name in names() {
            std::fs::write(
                dir.join(format!("{name}.subject.txt")),
                "Order {{ order.number }}\n",
            )
            .unwrap();
            std::fs::write(dir.join(format!("{name}.txt")), "Hi {{ customer.name }}").unwrap();
            std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
        }
    }

    #[test]
    fn html_is_escaped_text_is_not_and_problems_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path(), "<p>Hi {{ customer.name }}</p>");
        let t = Templates::load(dir.path()).unwrap();
        let r = t
            .render(
                "order_shipped",
                &json!({"order": {"number": "SO-1"}, "customer": {"name": "A&B <x>"}}),
            )
            .unwrap();
        assert_eq!(r.subject, "Order SO-1");
        assert_eq!(r.text, "Hi A&B <x>");
        assert_eq!(r.html, "<p>Hi A&amp;B &lt;x&gt;</p>");
        // A missing variable is an error naming the file.
        let err = t
            .render("order_shipped", &json!({"order": {}}))
            .unwrap_err();
        assert!(err.starts_with("order_shipped.subject.txt"), "{err}");

        write_all(dir.path(), "<p>{% if %}</p>");
        std::fs::remove_file(dir.path().join("low_stock.txt")).unwrap();
        let problems = Templates::load(dir.path()).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("low_stock.txt")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("digest.html: line 1")),
            "{problems:?}"
        );
    }
}
