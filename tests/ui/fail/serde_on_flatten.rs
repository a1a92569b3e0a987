use proxmox_mcp::{Api, ToolOutput, ToolResult, pve_tool};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct Options {
    verbose: Option<bool>,
}

/// A `#[flatten]` argument has no key of its own: its fields are the parameters.
#[pve_tool(path = "/version", method = GET)]
async fn version(api: Api, #[flatten] #[serde(default)] options: Options) -> ToolResult {
    let _ = (api, options.verbose);
    Ok(ToolOutput::new("", ()))
}

fn main() {}
