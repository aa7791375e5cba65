//! `zuora-sync init`: writes the annotated configuration, never over an existing file unless
//! asked to.

use std::path::Path;

use clap::Args;

use crate::config::template;
use crate::error::{Error, Result, exit};

#[derive(Args, Debug)]
pub(super) struct InitArgs {
    /// The tenant's REST host.
    #[arg(long, default_value = "https://rest.zuora.com")]
    base_url: String,
    /// The OAuth client id (its secret goes in ZUORA_CLIENT_SECRET, not in the file).
    #[arg(long, default_value = "your-oauth-client-id")]
    client_id: String,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

pub(super) fn run(path: &Path, args: InitArgs) -> Result<i32> {
    if path.exists() && !args.force {
        return Err(Error::config(format!(
            "{} already exists; pass --force to replace it",
            path.display()
        )));
    }
    std::fs::write(path, template(&args.base_url, &args.client_id))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    println!(
        "Wrote {}. Set ZUORA_CLIENT_SECRET, then run `zuora-sync discover`.",
        path.display()
    );
    Ok(exit::SUCCESS)
}
