use mcp_runtime::prelude::*;

#[mcp_tool(any_scope = ["tasks:read", "tasks:read"])]
async fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
