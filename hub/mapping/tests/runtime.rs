//! Running mappings: formats in and out, rules, located runtime errors.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use switchyard_mapping::cli::{map_to, MapArgs, OutputFormat};
use switchyard_mapping::{compile_file, compile_str, Mapping};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mapping(text: &str) -> Mapping {
    compile_str(text, Path::new("t.toml"), "t").unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn demo_catalog_maps_every_row() {
    let m = compile_file(
        &repo().join("mappings/http/catalog.out.toml"),
        "http/catalog.out",
    )
    .unwrap();
    let input = std::fs::read(repo().join("fixtures/catalog/catalog.csv")).unwrap();
    let out = m.map_document(&input).unwrap();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.records.len(), 20);
    let coil = out
        .records
        .iter()
        .find(|r| r["sku"] == "HR-COIL-A1011-0.075")
        .unwrap();
    assert_eq!(coil["unit"], "CWT");
    assert_eq!(
        serde_json::to_string(&coil["price"]).unwrap(),
        r#"{"amount":52.00,"currency":"USD"}"#
    );
    assert_eq!(serde_json::to_string(&coil["stock"]).unwrap(), "845.5");
    for r in &out.records {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["sku", "title", "unit", "price", "stock"]);
    }
}

#[test]
fn optima_totals_agree_with_the_core_model() {
    let m = compile_file(
        &repo().join("mappings/optima/invoice.out.toml"),
        "optima/invoice.out",
    )
    .unwrap();
    let input =
        std::fs::read(repo().join("fixtures/mappings/optima/invoice.out/fv-2026-11.input.json"))
            .unwrap();
    let inv: switchyard_core::model::Invoice = serde_json::from_slice(&input).unwrap();
    let out = m.map_document(&input).unwrap();
    let r = &out.records[0];
    assert_eq!(
        r["WartoscNetto"].to_string(),
        format!("{:.2}", inv.net_total())
    );
    // The gross is the Optima adapter's: VAT per rate (adapters/optima/src/polish.rs), which
    // can differ by a grosz from the core model's per-line VAT.
    assert!(r.get("WartoscBrutto").is_none());
    assert_eq!(r["Pozycja"].as_array().unwrap().len(), inv.lines.len());
}

#[test]
fn product_import_yields_core_products() {
    let m = compile_file(&repo().join("mappings/monopilot/product.import.toml"), "p").unwrap();
    let input =
        std::fs::read(repo().join("fixtures/mappings/monopilot/product.import/valid.input.csv"))
            .unwrap();
    let out = m.map_document(&input).unwrap();
    for r in out.records {
        let p: switchyard_core::model::Product = serde_json::from_value(r).unwrap();
        assert!(!p.web_visible);
    }
}

#[test]
fn canonical_targets_are_validated_by_the_core_types() {
    let m = mapping("version = 1\nsource = { format = \"json\" }\ntarget = { format = \"canonical\", entity = \"product\" }\n[fields]\nsku = \"sku\"\nname = \"name\"\nbase_uom = \"unit\"\nweb_visible = true\n");
    let out = m.map_document(br#"[{"sku": "A", "name": "a", "unit": "EA"}, {"sku": "B", "name": "b", "unit": "BOX"}]"#).unwrap();
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.failures.len(), 1);
    assert_eq!(out.failures[0].location, "record 2 at /1");
    assert!(
        out.failures[0]
            .error
            .message
            .contains("not a valid canonical product"),
        "{}",
        out.failures[0].error
    );
    assert!(
        out.failures[0].error.message.contains("BOX"),
        "{}",
        out.failures[0].error
    );
}

#[test]
fn xml_in_with_attributes_and_located_errors() {
    let m = mapping(
        r#"version = 1
source = { format = "xml", records = "PriceList.Item" }
target = { format = "jsonl" }
[fields]
sku = { from = "@code", required = true }
price = { from = "Price.#text", type = "decimal", scale = 2 }
currency = { from = "Price.@currency", default = "EUR" }
"#,
    );
    let xml = br#"<?xml version="1.0"?>
<PriceList>
  <Item code="A1"><Price currency="USD">10.5</Price></Item>
  <Item><Price>3</Price></Item>
  <Item code="C3"><Price currency="PLN">x</Price></Item>
</PriceList>"#;
    let out = m.map_document(xml).unwrap();
    assert_eq!(
        out.records,
        vec![json!({"sku": "A1", "price": "10.50", "currency": "USD"})]
    );
    assert_eq!(out.failures.len(), 2);
    assert_eq!(out.failures[0].location, "record 2 at /PriceList/Item[2]");
    assert_eq!(out.failures[0].error.target, "sku");
    assert_eq!(out.failures[1].location, "record 3 at /PriceList/Item[3]");
    assert!(
        out.failures[1]
            .error
            .message
            .contains("'x' is not a decimal"),
        "{}",
        out.failures[1].error
    );
    assert_eq!(out.failures[1].error.rule_loc.to_string(), "t.toml:6:9");
    // A dead letter replays with the document it came from.
    let f = &out.failures[0];
    let doc = f
        .doc
        .as_ref()
        .expect("records selected from a document keep it");
    let mut fixed = f.input.clone();
    fixed["@code"] = serde_json::json!("B2");
    let replayed = m
        .map_record_in(&fixed, doc, &mut switchyard_mapping::RunState::default())
        .unwrap();
    assert_eq!(
        replayed,
        json!({"sku": "B2", "price": "3.00", "currency": "EUR"})
    );
}

#[test]
fn jsonl_streams_and_keeps_going_after_a_bad_record() {
    let m = mapping("version = 1\nsource = { format = \"jsonl\" }\ntarget = { format = \"jsonl\" }\n[fields]\nid = { from = \"id\", type = \"integer\" }\n");
    let input = b"{\"id\": \"1\"}\n{\"id\": \"one\"}\n\n{\"id\": 3}\n";
    let mut out = Vec::new();
    let mut failures = Vec::new();
    let (ok, failed) = m
        .map_jsonl_stream(&input[..], &mut out, |f| failures.push(f))
        .unwrap();
    assert_eq!((ok, failed), (2, 1));
    assert_eq!(String::from_utf8(out).unwrap(), "{\"id\":1}\n{\"id\":3}\n");
    assert_eq!(failures[0].location, "record 2, line 2");
    assert_eq!(failures[0].input, json!({"id": "one"}));
    assert_eq!(failures[0].mapping_hash, m.hash);
    // A malformed line stops the stream with its location.
    let err = m
        .map_jsonl_stream(&b"{\"id\": 1}\n{oops\n"[..], &mut Vec::new(), |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("record 2, line 2"), "{err}");
}

#[test]
fn rules_cover_strings_numbers_units_and_loops() {
    let m = mapping(
        r#"version = 1
source = { format = "json" }
target = { format = "json" }
[fields]
code = { from = "code", pad = { width = 8, char = "0" } }
prefix = { from = "code", substring = { start = 0, len = 2 } }
last = { from = "path", split = { sep = "/", index = -1 } }
label = { concat = ["name", "' ('", "code", "')'"] }
weight_lb = { from = "length", convert = { from_unit = "@unit", to_unit = "LB", factor = { from = "lb_per_ft" }, factor_unit = "LB/FT" }, round = 2 }
length_m = { from = "length", convert = { from_unit = "FT", to_unit = "M" }, type = "decimal", scale = 3, rounding = "half_even" }
big = { from = "qty", when = '(.qty | tonumber) > 10' }
flag = { from = "active", type = "boolean" }
shipped = { from = "shipped", type = "date", in_format = "%d.%m.%Y" }
line_count = { count = "lines" }
total_qty = { sum = "lines[].qty" }
[fields.by_sku]
each = "lines"
group_by = "sku"
filter = { path = "qty", not_equals = "0" }
[fields.by_sku.fields]
sku = "sku"
qty = { sum = "qty" }
lines = { count = true }
first_qty = { from = "qty" }
"#,
    );
    let input = json!({
        "code": "A7", "path": "a/b/c", "name": "Bar", "length": "20", "unit": "FT", "lb_per_ft": "1.7",
        "qty": "5", "active": "yes", "shipped": "03.11.2026",
        "lines": [{"sku": "X", "qty": "2"}, {"sku": "Y", "qty": "0"}, {"sku": "X", "qty": "3.5"}, {"sku": "Z", "qty": "1"}]
    });
    let out = m.map_document(input.to_string().as_bytes()).unwrap();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let expected = json!({
        "code": "000000A7", "prefix": "A7", "last": "c", "label": "Bar (A7)", "weight_lb": "34.00", "length_m": "6.096",
        "flag": true, "shipped": "2026-11-03", "line_count": 4, "total_qty": "6.5",
        "by_sku": [
            {"sku": "X", "qty": "5.5", "lines": 2, "first_qty": "2"},
            {"sku": "Z", "qty": "1", "lines": 1, "first_qty": "1"}
        ]
    });
    assert_eq!(out.records[0], expected);
}

#[test]
fn map_command_prints_csv_and_sets_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.json");
    std::fs::write(&input, r#"{"rows": [{"product": {"sku": "S1", "name": "Bar"}, "location": "L1", "on_hand": "1,5", "uom": "ft", "unit_cost": "2", "counted_at": "2026-01-02T10:00:00Z"}]}"#).unwrap();
    let args = MapArgs {
        mapping: repo().join("mappings/export/stock.csv.toml"),
        input: input.clone(),
        format: None,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        map_to(&args, &mut out, &mut err),
        0,
        "{}",
        String::from_utf8_lossy(&err)
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\u{feff}product.sku,product.name,location,on_hand,uom,unit_cost,value,counted_on\r\nS1,Bar,L1,1.500,FT,2.0000,3.00,2026-01-02\r\n"
    );
    let args = MapArgs {
        format: Some(OutputFormat::Jsonl),
        ..args
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(map_to(&args, &mut out, &mut err), 0);
    let line: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(line["product"]["sku"], "S1");
    // Unreadable input: exit 2 with the location.
    std::fs::write(&input, "{\"rows\": [").unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(map_to(&args, &mut out, &mut err), 2);
    assert!(String::from_utf8(err).unwrap().contains("in.json: line 1:"));
}

#[test]
fn lookups_apply_their_miss_policies() {
    let m = mapping(
        r#"version = 1
source = { format = "csv" }
target = { format = "json" }
[lookups.strict]
inline = { a = "A" }
miss = "error"
[lookups.pass]
inline = { a = "A" }
miss = "pass"
[lookups.dflt]
inline = { a = "A" }
miss = "default"
default = "?"
[fields]
p = { from = "k", lookup = "pass" }
d = { from = "k", lookup = "dflt" }
s = { from = "k", lookup = "strict" }
"#,
    );
    let out = m.map_document(b"k\na\nb\n").unwrap();
    assert_eq!(out.records, vec![json!({"p": "A", "d": "A", "s": "A"})]);
    assert_eq!(out.failures[0].location, "record 2, CSV line 3");
    assert_eq!(out.failures[0].error.target, "s");
}

#[test]
fn canonical_entities_as_json_lines_stream_through_map() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("p.toml");
    std::fs::write(
        &mapping,
        "version = 1\nsource = { format = \"canonical\", entity = \"inventory_level\", lines = true }\ntarget = { format = \"jsonl\" }\n[fields]\nsku = \"sku\"\nqty = { from = \"available\", type = \"decimal\", scale = 1 }\n",
    )
    .unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        "{\"sku\":\"A\",\"location\":\"L\",\"on_hand\":\"3\",\"available\":\"2.25\",\"allocated\":\"1\",\"on_order\":\"0\",\"uom\":\"EA\",\"updated_at\":null}\n{\"sku\":\"B\",\"location\":\"L\",\"on_hand\":\"1\",\"available\":\"1\",\"allocated\":\"0\",\"on_order\":\"0\",\"uom\":\"EA\",\"updated_at\":null}\n",
    )
    .unwrap();
    let args = MapArgs {
        mapping,
        input,
        format: None,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        map_to(&args, &mut out, &mut err),
        0,
        "{}",
        String::from_utf8_lossy(&err)
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"sku\":\"A\",\"qty\":\"2.3\"}\n{\"sku\":\"B\",\"qty\":\"1.0\"}\n"
    );
    // `lines` is only for canonical formats.
    let d = compile_str("version = 1\nsource = { format = \"json\", lines = true }\ntarget = { format = \"json\" }\n[fields]\na = \"a\"\n", Path::new("l.toml"), "l").unwrap_err();
    assert!(
        d.to_string()
            .contains("l.toml:2:37: lines applies to the canonical format"),
        "{d}"
    );
}
