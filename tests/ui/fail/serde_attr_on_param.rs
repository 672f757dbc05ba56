use mcp_runtime::prelude::*;

#[mcp_tool]
async fn list(#[serde(default)] limit: u32) -> String {
    limit.to_string()
}

fn main() {}
