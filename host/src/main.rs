//! The `spingraph` command: everything it does is in the library (`cli`).

/// jemalloc, not glibc's malloc: every request allocates and frees its store, instance state,
/// headers and bodies on whichever worker runs it, and glibc's malloc was a tenth of a GET's host
/// CPU (bench/README.md, issue 26: jemalloc +16% GET and `health/live` throughput, RSS within
/// the soak's bar; mimalloc was as fast, but its RSS grew 19% in the soak).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    spingraph::cli::main()
}
