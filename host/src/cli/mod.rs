//! The command line: `up`, `build`, `migrate`, `admin`, `import` and `export` (with the API
//! client they use), and the development signing keys `up` generates when none is configured.

pub mod admin;
pub mod build_app;
pub mod client;
pub mod dev;
pub mod export;
pub mod import;
pub mod up;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "spingraph",
    version,
    about = "Run and operate the spingraph API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the application described by a Spin manifest (like `spin up`).
    Up(Box<up::UpArgs>),
    /// Run every component's build commands, as `spin build` does.
    Build(build_app::BuildArgs),
    /// Apply, revert or list schema migrations.
    Migrate(spingraph_migrate::MigrateArgs),
    /// Operator tasks: bootstrap users.
    Admin(admin::AdminArgs),
    /// Load entities and relationships (NDJSON as `export` writes it, or CSV) through the API's
    /// batch endpoints, resumably. Credentials come from SPINGRAPH_TOKEN, SPINGRAPH_API_KEY or
    /// --credentials-file, never from a flag.
    Import(Box<import::ImportArgs>),
    /// Write the whole live graph (`GET /v1/export`: NDJSON, GraphML or JSON-LD) to a file, kept
    /// only once it is whole. Credentials as for `import`, never from a flag.
    Export(Box<export::ExportArgs>),
}

/// Parses the command line and runs the subcommand; an error is printed with its causes.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up::run(*args),
        Command::Build(args) => build_app::run(args),
        Command::Migrate(args) => spingraph_migrate::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Import(args) => return import::main(*args),
        Command::Export(args) => export::run(*args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
