use mcp_runtime::prelude::*;

#[mcp_tool(read_only, destructive)]
async fn purge() -> String {
    String::new()
}

fn main() {}
