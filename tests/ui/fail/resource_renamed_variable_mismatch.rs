use mcp_runtime::prelude::*;

// `rename` names the variable the parameter takes: `item_id` now takes `{key}`,
// which the URI does not have, and `{id}` is taken by no parameter.
#[mcp_resource(uri = "items://{id}")]
async fn item(#[arg(rename = "key")] item_id: u32) -> String {
    item_id.to_string()
}

fn main() {}
