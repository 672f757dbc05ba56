use mcp_runtime::prelude::*;

#[mcp_tool]
async fn answer() -> i32 {
    42
}

fn main() {}
