//! The migrations are embedded by `sqlx::migrate!`, which cargo does not know to watch:
//! without this, a new migration file would not rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations-postgres");
}
