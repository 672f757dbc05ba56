use mcp_runtime::prelude::*;

#[mcp_tool(read_only = 1)]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
