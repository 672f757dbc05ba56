use mcp_runtime::prelude::*;

#[mcp_tool(scope = "tasks:read")]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
