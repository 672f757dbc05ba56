use mcp_runtime::prelude::*;

#[mcp_tool(scopes = "a", describe_access = "no")]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
