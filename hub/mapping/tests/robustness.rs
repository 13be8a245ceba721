//! Property tests: random mapping files, expressions and input documents never panic the
//! engine, and every error is located.

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use switchyard_mapping::{compile_file, compile_str, Mapping};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Pieces of plausible mapping files, so random files get past the TOML parser often.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("version = 1\n".to_string()),
        Just("source = { format = \"json\" }\n".to_string()),
        Just("source = { format = \"canonical\", entity = \"order\" }\n".to_string()),
        Just("target = { format = \"csv\", bom = true }\n".to_string()),
        Just("target = { format = \"canonical\", entity = \"product\" }\n".to_string()),
        Just("[fields]\n".to_string()),
        Just("[fields.items]\neach = \"lines\"\n".to_string()),
        Just("[fields.items.fields]\n".to_string()),
        Just("[lookups.u]\ninline = { a = \"b\" }\nmiss = \"pass\"\n".to_string()),
        "[a-z_.\\[\\]\"]{1,12} = \"[a-z_.\\[\\]$@]{0,12}\"\n",
        "[a-z_]{1,8} = \\{ (from|const|expr|sum|count|each|when|type|lookup|split|pad|round|mul|convert|steps) = \"[ -~]{0,16}\" \\}\n",
        "[a-z_]{1,8} = \\{ from = \"[a-z]{1,5}\", (type|scale|round|upper|pad|substring|split|replace|one_of|mul|steps) = [0-9\\[\\]{}a-z\", =]{0,20} \\}\n",
        "[ -~\n]{0,30}",
    ]
}

fn check_diagnostics(
    text: &str,
    res: Result<Mapping, switchyard_mapping::Diagnostics>,
) -> Result<(), TestCaseError> {
    if let Err(d) = res {
        prop_assert!(!d.0.is_empty());
        let lines = text.lines().count().max(1) + 1;
        for x in &d.0 {
            prop_assert!(
                x.loc.line().is_some_and(|l| l >= 1 && l <= lines),
                "line {:?} out of range in {x}",
                x.loc.line()
            );
            prop_assert!(x.loc.col().is_some_and(|c| c >= 1), "{x}");
            prop_assert!(!x.message.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_mapping_files_give_located_errors(parts in prop::collection::vec(fragment(), 0..10)) {
        let text: String = parts.concat();
        let res = compile_str(&text, Path::new("r.toml"), "r");
        check_diagnostics(&text, res)?;
    }

    #[test]
    fn random_expressions_are_checked_at_load(expr in "[ -~]{0,24}") {
        let text = format!("version = 1\nsource = {{ format = \"json\" }}\ntarget = {{ format = \"json\" }}\n[fields]\nx = {{ expr = '''{expr}''' }}\n");
        let res = compile_str(&text, Path::new("e.toml"), "e");
        if let Ok(m) = &res {
            // Whatever compiled runs without panicking.
            let _ = m.map_document(br#"{"a": 1, "b": [1, 2], "c": "x"}"#);
        }
        check_diagnostics(&text, res)?;
    }
}

fn repo_mappings() -> Vec<Mapping> {
    [
        "http/catalog.out",
        "http/pricelist.in",
        "monopilot/product.import",
        "optima/invoice.out",
        "phonex/order.out",
        "phonex/stock.in",
        "storefront/product.out",
        "export/stock.csv",
    ]
    .iter()
    .map(|n| compile_file(&repo().join(format!("mappings/{n}.toml")), n).unwrap())
    .collect()
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        "[ -~]{0,10}".prop_map(serde_json::Value::String),
        "-?[0-9]{1,30}(\\.[0-9]{1,30})?".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("sku".to_string()),
                        Just("lines".to_string()),
                        Just("quantity".to_string()),
                        Just("unit_price".to_string()),
                        Just("name".to_string()),
                        "[a-z_]{1,8}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_inputs_never_panic_and_failures_are_located(bytes in prop::collection::vec(any::<u8>(), 0..200), value in json_value()) {
        let json = serde_json::to_vec(&value).unwrap();
        for m in repo_mappings() {
            for input in [&bytes[..], &json[..]] {
                match m.map_document(input) {
                    Ok(out) => {
                        for f in &out.failures {
                            prop_assert!(!f.location.is_empty());
                            prop_assert!(!f.error.target.is_empty());
                            prop_assert!(f.error.rule_loc.line().is_none_or(|l| l >= 1));
                        }
                    }
                    Err(e) => prop_assert!(!e.location.is_empty() && !e.message.is_empty()),
                }
            }
        }
    }
}
