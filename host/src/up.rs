//! placeholder, replaced by its owner
#[derive(clap::Args)]
pub struct UpArgs {}

pub fn run(_args: UpArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
