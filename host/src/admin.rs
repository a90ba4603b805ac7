//! placeholder, replaced by its owner
#[derive(clap::Args)]
pub struct AdminArgs {}

pub fn run(_args: AdminArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
