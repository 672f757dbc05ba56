use mcp_runtime::prelude::*;

#[mcp_tool]
async unsafe fn ping() -> String {
    "pong".to_owned()
}

fn main() {}
