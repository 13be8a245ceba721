//! The evidence behind the jaq decision (README.md, `expr` module docs): how long compiling
//! an expression takes, and what evaluating one costs per record next to native rules.
//! `cargo run --release -p switchyard-mapping --example jaq_eval`

use serde_json::json;
use std::path::Path;
use std::time::Instant;
use switchyard_mapping::expr::Expr;
use switchyard_mapping::{compile_str, RunState};

fn main() {
    let exprs = [
        ".a + .b",
        r#"if .web_visible then "active" else "draft" end"#,
        r#"[.lines[] | select(.qty > 0) | .sku] | join(",")"#,
    ];
    for code in exprs {
        let n = 200;
        let t = Instant::now();
        for _ in 0..n {
            Expr::compile(code).expect("compiles");
        }
        println!(
            "compile {code:?}: {:.1} µs",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
    let bad = Instant::now();
    let errs = Expr::compile(".a | nosuch(1)").unwrap_err();
    println!(
        "error {:?} at byte {} found in {:.1} µs",
        errs[0].message,
        errs[0].offset,
        bad.elapsed().as_secs_f64() * 1e6
    );

    let record = json!({"sku": "A36-FB", "name": "Flat bar", "a": 1, "b": 2, "web_visible": true, "lines": [{"sku": "X", "qty": 1}, {"sku": "Y", "qty": 0}]});
    let per_record = |text: &str| {
        let m = compile_str(text, Path::new("x.toml"), "x").expect("compiles");
        let mut state = RunState::default();
        let n = 200_000;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(m.map_record(&record, &mut state).expect("maps"));
        }
        t.elapsed().as_secs_f64() * 1e9 / n as f64
    };
    let head =
        "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\n";
    let native = per_record(&format!(
        "{head}status = {{ from = \"web_visible\", type = \"boolean\" }}\n"
    ));
    let lookup = per_record(&format!("{head}status = {{ from = \"web_visible\", lookup = \"s\" }}\n[lookups.s]\ninline = {{ true = \"active\", false = \"draft\" }}\nmiss = \"error\"\n"));
    let jq = per_record(&format!("{head}status = {{ expr = '{}' }}\n", exprs[1]));
    let n = 200_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(switchyard_mapping::expr::to_val(&record).expect("converts"));
    }
    let convert = t.elapsed().as_secs_f64() * 1e9 / n as f64;
    println!("converting the record to jaq's value: {convert:.0} ns");
    println!("one rule per record: native coercion {native:.0} ns, lookup {lookup:.0} ns, jq expression {jq:.0} ns ({:.1}x native)", jq / native);
}
