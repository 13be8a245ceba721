//! The 850 / ORDERS intake mappings over real fixtures: each example pair under
//! `fixtures/mappings/edi/` holds exactly the EDI tree our parser builds from the fixture
//! (so `switchyard check` runs the mapping on what the import job really maps), and the
//! mapping turns it into the expected intake record.
//!
//! `SWITCHYARD_BLESS=1 cargo test -p switchyard --test edi_order_mapping` rewrites the pairs
//! after a deliberate change of the tree or the mapping.

use serde_json::Value;
use std::path::{Path, PathBuf};
use switchyard_edi::regroup::mapping_tree;
use switchyard_edi::Unit;
use switchyard_mapping::{MappingRegistry, RunState};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

const CASES: &[(&str, &str, &str)] = &[
    (
        "x12/850_004010_good.edi",
        "edi/x12-850.order.in",
        "po_004010",
    ),
    (
        "x12/850_005010_good.edi",
        "edi/x12-850.order.in",
        "po_005010",
    ),
    (
        "edifact/ORDERS_D96A_good.edi",
        "edi/edifact-orders.order.in",
        "orders_d96a",
    ),
    (
        "edifact/ORDERS_D01B_good.edi",
        "edi/edifact-orders.order.in",
        "orders_d01b",
    ),
];

fn tree_of(fixture: &str) -> Value {
    let raw = std::fs::read(root().join("fixtures/edi").join(fixture)).expect("fixture");
    let Some(Unit::Interchange(ic)) = switchyard_edi::read_all(&raw).into_iter().next() else {
        panic!("{fixture} does not parse");
    };
    let set = ic
        .groups
        .iter()
        .flat_map(|g| &g.sets)
        .next()
        .expect("a set");
    mapping_tree(&ic, set).expect("tree")
}

fn read_json(p: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(p).ok()?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

#[test]
fn intake_mappings_map_the_parsers_trees_of_the_fixtures() {
    let bless = std::env::var_os("SWITCHYARD_BLESS").is_some();
    let (registry, report) = MappingRegistry::load(root().join("mappings"));
    assert!(
        report.failed.is_empty(),
        "mappings fail to load: {:?}",
        report.failed
    );
    for (fixture, name, case) in CASES {
        let mapping = registry
            .get(name)
            .unwrap_or_else(|| panic!("mapping {name}"));
        let dir = root().join("fixtures/mappings").join(name);
        let input = dir.join(format!("{case}.input.json"));
        let expected = dir.join(format!("{case}.expected.json"));
        let tree = tree_of(fixture);
        let out = mapping
            .map_record(&tree, &mut RunState::default())
            .unwrap_or_else(|e| panic!("{fixture} through {name}: {e}"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&input, serde_json::to_string_pretty(&tree).unwrap() + "\n").unwrap();
            std::fs::write(
                &expected,
                serde_json::to_string_pretty(&out).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        assert_eq!(
            read_json(&input).as_ref(),
            Some(&tree),
            "{}: not the tree of {fixture}",
            input.display()
        );
        assert_eq!(
            read_json(&expected).as_ref(),
            Some(&out),
            "{}",
            expected.display()
        );
    }
}

#[test]
fn the_mapped_fields_are_the_standards_fields() {
    let (registry, _) = MappingRegistry::load(root().join("mappings"));
    let x12 = registry.get("edi/x12-850.order.in").unwrap();
    let po = x12
        .map_record(
            &tree_of("x12/850_004010_good.edi"),
            &mut RunState::default(),
        )
        .unwrap();
    assert_eq!(po["customer_po"], "PO-4410");
    assert_eq!(po["order_date"], "20260301");
    assert_eq!(po["requested_delivery"], "20260315");
    assert_eq!(po["buyer_ids"][0]["qualifier"], "92");
    assert_eq!(po["buyer_ids"][0]["id"], "0001");
    assert_eq!(po["lines"][0]["product_ids"][1]["qualifier"], "UP");
    assert_eq!(po["lines"][0]["product_ids"][1]["id"], "012345678905");
    assert_eq!(po["lines"][1]["requested_date"], "20260318");
    assert_eq!(po["lines"][1]["uom"], "CW");

    let ed = registry.get("edi/edifact-orders.order.in").unwrap();
    let o = ed
        .map_record(
            &tree_of("edifact/ORDERS_D96A_good.edi"),
            &mut RunState::default(),
        )
        .unwrap();
    assert_eq!(o["customer_po"], "PO-7781");
    assert_eq!(o["buyer_ids"][0]["id"], "5412345000013");
    assert_eq!(o["currency"], "EUR");
    assert_eq!(o["lines"][0]["quantity"], "12");
    assert_eq!(o["lines"][0]["description"], "FLAT BAR A36");
    assert_eq!(o["lines"][1]["unit_price"], "212");
    // D01B: BGM C106 composite and a decimal comma in the QTY, read as a point.
    let d01b = ed
        .map_record(
            &tree_of("edifact/ORDERS_D01B_good.edi"),
            &mut RunState::default(),
        )
        .unwrap();
    assert_eq!(d01b["customer_po"], "PO-7782");
    assert_eq!(d01b["order_date"], "202603010800");
    assert_eq!(d01b["order_date_format"], "203");
    assert_eq!(d01b["lines"][0]["quantity"], "10.5");
}
