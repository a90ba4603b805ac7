//! The `spingraph` command: everything it does is in the library (`cli`).

fn main() -> std::process::ExitCode {
    spingraph::cli::main()
}
