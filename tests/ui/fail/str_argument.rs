use mcp_runtime::prelude::*;

#[mcp_tool]
async fn greet(name: &str) -> String {
    format!("Hello {name}")
}

fn main() {}
