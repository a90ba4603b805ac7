//! Times `verify` natively with the production parameters: the baseline `bench/run` sets the
//! wasm login against (same code, compiled for the machine instead of for wasm).
//!
//! `cargo run --release -p spingraph-password --example verify_time [rounds]` prints the mean
//! seconds per verification.

use std::time::Instant;

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(5)
        .max(1);
    let password = "correct horse battery staple";
    let phc = spingraph_password::hash(password).expect("hashing a valid password");
    let start = Instant::now();
    for _ in 0..rounds {
        assert!(spingraph_password::verify(password, &phc));
    }
    println!("{:.6}", start.elapsed().as_secs_f64() / f64::from(rounds));
}
