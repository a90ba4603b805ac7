//! `spingraph`: the Spin-compatible host (`up`, `build`), schema migrations (`migrate`)
//! and operator tasks (`admin`).

mod access_log;
mod admin;
mod allowed_hosts;
mod build;
mod capabilities;
mod compose;
mod deny;
mod dev;
mod engine;
mod failure;
mod guest_output;
mod loader;
mod manifest;
mod metrics;
mod router;
mod server;
mod spin_compat;
mod state;
mod up;
mod watch;

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
    Build(build::BuildArgs),
    /// Apply, revert or list schema migrations.
    Migrate(spingraph_migrate::MigrateArgs),
    /// Operator tasks: bootstrap users.
    Admin(admin::AdminArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up::run(*args),
        Command::Build(args) => build::run(args),
        Command::Migrate(args) => spingraph_migrate::run(args),
        Command::Admin(args) => admin::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
