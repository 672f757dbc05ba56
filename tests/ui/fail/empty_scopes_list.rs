use mcp_runtime::prelude::*;

#[mcp_tool(scopes = [])]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
