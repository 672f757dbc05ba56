use mcp_runtime::prelude::*;

#[mcp_tool]
async fn ping() -> impl std::fmt::Display {
    "pong"
}

fn main() {}
