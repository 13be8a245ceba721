// `sqlx::migrate!` embeds migrations/ at compile time; without this a new or edited
// migration leaves a stale MIGRATOR in the binaries.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
