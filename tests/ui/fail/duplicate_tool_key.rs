use mcp_runtime::prelude::*;

#[mcp_tool(name = "ping", name = "pong")]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
