// `sqlx::migrate!` embeds migrations/ at compile time, but cargo does not know the macro read
// that directory: without this, a new or edited migration leaves a stale MIGRATOR in the
// binaries (and a daemon that refuses the database: "migration N was previously applied but
// has been modified").
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
