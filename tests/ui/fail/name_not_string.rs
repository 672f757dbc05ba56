use mcp_runtime::prelude::*;

#[mcp_tool(name = ping_tool)]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
