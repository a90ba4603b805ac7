//! `sqlx::migrate!` embeds the files of `migrations/` when this crate compiles, but cargo tracks
//! only the files it read: a migration added later would not be embedded until something else
//! changed. Watching the directory rebuilds the crate when a file is added, removed or edited
//! (as sqlx's own `cargo sqlx migrate build-script` sets up).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
