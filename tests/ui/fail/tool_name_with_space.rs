use mcp_runtime::prelude::*;

#[mcp_tool(name = "has space")]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
