//! `spingraph-migrate up | down | status`: `spingraph migrate` alone, the one program of
//! the SpinKube migration image (deploy/Dockerfile).

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "spingraph-migrate",
    version,
    about = "Apply, revert or list spingraph's schema migrations"
)]
struct Cli {
    #[command(flatten)]
    migrate: spingraph_migrate::MigrateArgs,
}

fn main() -> std::process::ExitCode {
    match spingraph_migrate::run(Cli::parse().migrate) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
