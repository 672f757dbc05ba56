use mcp_runtime::prelude::*;

#[mcp_tool(summary = "Pings")]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
