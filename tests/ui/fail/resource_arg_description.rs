use mcp_runtime::prelude::*;

#[mcp_resource(uri = "items://{id}")]
async fn item(#[arg(description = "The item's id")] id: u32) -> String {
    id.to_string()
}

fn main() {}
