//! placeholder, replaced by its owner
#[derive(clap::Args)]
pub struct MigrateArgs {}

pub fn run(_args: MigrateArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
