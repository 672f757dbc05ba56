use mcp_runtime::prelude::*;

#[mcp_tool(roles = ["admin", " "])]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
