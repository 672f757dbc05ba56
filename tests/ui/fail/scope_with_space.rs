use mcp_runtime::prelude::*;

#[mcp_tool(scopes = "tasks:read tasks:write")]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
