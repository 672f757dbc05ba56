use mcp_runtime::prelude::*;

#[mcp_tool]
fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
