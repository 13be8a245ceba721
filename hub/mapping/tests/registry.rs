//! Hot reload: changed files swap in, broken files keep the previous version, and every
//! version stays addressable by its content hash.

use switchyard_mapping::MappingRegistry;

const GOOD_V1: &str = "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\nname = { from = \"n\" }\n";
const GOOD_V2: &str = "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\nname = { from = \"n\", upper = true }\n";
const BROKEN: &str = "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\nname = { from = \"n\", upper = \"yes\" }\n";

#[test]
fn reload_swaps_changed_files_and_keeps_old_versions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("shop")).unwrap();
    let file = dir.path().join("shop/product.out.toml");
    std::fs::write(&file, GOOD_V1).unwrap();
    let (mut reg, report) = MappingRegistry::load(dir.path());
    assert!(report.is_clean());
    assert_eq!(report.updated.len(), 1);
    let v1 = reg.get("shop/product.out").expect("loaded by name");
    assert_eq!(v1.hash.len(), 64);

    let input = br#"{"n": "flat bar"}"#;
    let out = v1.map_document(input).unwrap();
    assert_eq!(out.records[0]["name"], "flat bar");

    // Unchanged files are not reloaded.
    let r = reg.reload();
    assert_eq!((r.updated.len(), r.unchanged), (0, 1));

    std::fs::write(&file, GOOD_V2).unwrap();
    let r = reg.reload();
    assert_eq!(r.updated.len(), 1);
    let v2 = reg.get("shop/product.out").unwrap();
    assert_ne!(v1.hash, v2.hash);
    assert_eq!(
        v2.map_document(input).unwrap().records[0]["name"],
        "FLAT BAR"
    );

    // A broken edit keeps v2 running and reports located errors.
    std::fs::write(&file, BROKEN).unwrap();
    let r = reg.reload();
    assert_eq!(r.failed.len(), 1);
    let diag = r.failed[0].1.to_string();
    assert!(
        diag.contains("product.out.toml:5:30: upper must be true or false"),
        "{diag}"
    );
    assert_eq!(reg.get("shop/product.out").unwrap().hash, v2.hash);
    assert!(reg.errors("shop/product.out").is_some());

    // Old versions stay addressable for dead-letter replays.
    assert_eq!(
        reg.get_version(&v1.hash)
            .unwrap()
            .map_document(input)
            .unwrap()
            .records[0]["name"],
        "flat bar"
    );

    // Fixing the file clears the error; deleting it removes the name but not the versions.
    std::fs::write(&file, GOOD_V1).unwrap();
    let r = reg.reload();
    assert!(r.is_clean());
    assert_eq!(reg.get("shop/product.out").unwrap().hash, v1.hash);
    assert!(reg.errors("shop/product.out").is_none());
    std::fs::remove_file(&file).unwrap();
    let r = reg.reload();
    assert_eq!(r.removed, vec!["shop/product.out".to_string()]);
    assert!(reg.get("shop/product.out").is_none());
    assert!(reg.get_version(&v2.hash).is_some());
}

#[test]
fn lookup_file_changes_change_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("lookups")).unwrap();
    std::fs::write(dir.path().join("lookups/u.csv"), "key,value\nszt,EA\n").unwrap();
    std::fs::write(
        dir.path().join("m.toml"),
        "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[lookups.u]\nfile = \"lookups/u.csv\"\nmiss = \"error\"\n[fields]\nu = { from = \"u\", lookup = \"u\" }\n",
    )
    .unwrap();
    let (mut reg, report) = MappingRegistry::load(dir.path());
    assert!(report.is_clean(), "{:?}", report.failed);
    assert_eq!(
        reg.names().collect::<Vec<_>>(),
        vec!["m"],
        "lookup CSVs are not mappings"
    );
    let h1 = reg.get("m").unwrap().hash.clone();
    std::fs::write(
        dir.path().join("lookups/u.csv"),
        "key,value\nszt,EA\nkg,KG\n",
    )
    .unwrap();
    let r = reg.reload();
    assert_eq!(r.updated.len(), 1);
    assert_ne!(reg.get("m").unwrap().hash, h1);
    assert_eq!(
        reg.get("m")
            .unwrap()
            .map_document(br#"{"u": "kg"}"#)
            .unwrap()
            .records[0]["u"],
        "KG"
    );

    // Nothing changed: the compiled mapping stays (it is not compiled again).
    let current = reg.get("m").unwrap();
    let r = reg.reload();
    assert_eq!((r.updated.len(), r.unchanged), (0, 1));
    assert!(std::sync::Arc::ptr_eq(&current, &reg.get("m").unwrap()));

    // The lookup file gone: the unchanged mapping file is compiled again and fails, located,
    // while the last good version keeps running.
    std::fs::remove_file(dir.path().join("lookups/u.csv")).unwrap();
    let r = reg.reload();
    assert_eq!(r.failed.len(), 1);
    assert!(
        r.failed[0]
            .1
            .to_string()
            .contains("lookup table file 'lookups/u.csv' not found"),
        "{}",
        r.failed[0].1
    );
    assert_eq!(reg.get("m").unwrap().hash, current.hash);
}
