//! Load-time checks: every problem of a mapping is reported at once, located and with a hint.

use std::path::Path;
use switchyard_mapping::compile_str;

fn errors(text: &str) -> Vec<String> {
    match compile_str(text, Path::new("m/broken.toml"), "broken") {
        Ok(_) => panic!("mapping should not compile"),
        Err(d) => {
            d.0.iter()
                .map(|d| {
                    format!(
                        "{}:{}: {}",
                        d.loc.line().unwrap_or(0),
                        d.loc.col().unwrap_or(0),
                        d.message
                    )
                })
                .collect()
        }
    }
}

#[test]
fn reports_all_errors_with_positions() {
    let text = r#"version = 1
source = { format = "canonical", entity = "order" }
target = { format = "canonical", entity = "product" }

[fields]
sku = "order_numbr"
name = { from = "lines[].sku", type = "integer" }
web_visible = { const = "yes" }
colour = "customer_id"
description = { expr = '.customer_id | nosuch' }
tax_code = { from = "currency", lookup = "tax_codes" }
product_type = { from = "status", frobnicate = true }
"#;
    let errs = errors(text);
    let expect = [
        "5:1: missing required target field 'base_uom' of product",
        "6:7: unknown source path 'order_numbr'",
        "7:8: target field 'name' is a string, but the rule converts to integer",
        "8:15: constant \"yes\" does not fit target field 'web_visible' (boolean)",
        "9:1: unknown target field 'colour'",
        "10:40: bad expression: undefined filter 'nosuch'",
        "11:42: missing lookup table 'tax_codes'",
        "12:35: unknown rule key 'frobnicate' in 'product_type'",
    ];
    for e in expect {
        assert!(
            errs.iter().any(|x| x.starts_with(e)),
            "missing {e:?} in {errs:#?}"
        );
    }
    assert_eq!(errs.len(), expect.len(), "{errs:#?}");
}

#[test]
fn syntax_errors_are_located() {
    let errs = errors("version = 1\nsource = { format = \"csv\" \n");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("2:"), "{errs:?}");
    assert!(errs[0].contains("toml syntax"), "{errs:?}");
}

#[test]
fn structural_errors_have_hints() {
    let text = "version = 2\nsource = { format = \"yaml\" }\n[fields]\na = { from = \"x..y\" }\nb = { from = \"x\", type = \"decimal\", rounding = \"bankers\" }\n";
    let d = compile_str(text, Path::new("m.toml"), "m").unwrap_err();
    let all = d.to_string();
    for needle in [
        "m.toml:1:11: unsupported version 2",
        "unknown source format 'yaml'",
        "missing [target] table",
        "bad source path 'x..y'",
        "unknown rounding mode",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in\n{all}");
    }
    assert!(
        d.0.iter().all(|x| x.hint.is_some()),
        "every diagnostic has a hint: {all}"
    );
}

#[test]
fn bad_lookup_files_and_regexes_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("lookups")).unwrap();
    std::fs::write(dir.path().join("lookups/dup.csv"), "code,v\na,1\na,2\n").unwrap();
    let file = dir.path().join("x.toml");
    let text = r#"version = 1
source = { format = "json" }
target = { format = "csv" }
[lookups.dup]
file = "lookups/dup.csv"
key = "code"
value = "v"
miss = "error"
[lookups.gone]
file = "lookups/missing.csv"
miss = "pass"
[lookups.nopolicy]
inline = { a = "b" }
[fields]
a = { from = "a", replace = { pattern = "([a-", with = "" } }
[fields.lines]
each = "lines"
fields = { sku = "sku" }
"#;
    std::fs::write(&file, text).unwrap();
    let all = switchyard_mapping::compile_file(&file, "x")
        .unwrap_err()
        .to_string();
    for needle in [
        "line 3: duplicate key 'a'",
        "lookup table file 'lookups/missing.csv' not found",
        "lookup 'nopolicy' has no miss policy",
        "bad regex",
        "a CSV target cannot hold the array 'lines'",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in\n{all}");
    }
}

#[test]
fn expression_errors_point_into_the_expression() {
    let text = "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\nx = { expr = \".a + (\" }\ny = { when = 'if .a then 1', from = \"a\" }\n";
    let errs = errors(text);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs[0].starts_with("5:") && errs[0].contains("bad expression"),
        "{errs:?}"
    );
    assert!(
        errs[1].starts_with("6:") && errs[1].contains("bad expression"),
        "{errs:?}"
    );
}

#[test]
fn required_fields_are_checked_in_nested_objects_and_loops() {
    let text = r#"version = 1
source = { format = "json" }
target = { format = "canonical", entity = "invoice" }
[fields]
invoice_number = "no"
issue_date = { from = "date", type = "date" }
currency = { const = "PLN" }
"seller.name" = "seller"
[fields.buyer]
id = "buyer_id"
name = "buyer"
[fields.lines]
each = "items"
[fields.lines.fields]
sku = "sku"
quantity = { from = "qty", type = "decimal" }
"#;
    let errs = errors(text);
    for e in [
        "missing required target field 'seller.id' of seller",
        "missing required target field 'lines[].unit_price' of lines[]",
        "missing required target field 'lines[].vat_rate'",
    ] {
        assert!(
            errs.iter().any(|x| x.contains(e)),
            "missing {e:?} in {errs:#?}"
        );
    }
    assert!(
        !errs.iter().any(|x| x.contains("buyer.")),
        "buyer is complete: {errs:#?}"
    );
}
