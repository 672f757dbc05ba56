use mcp_runtime::prelude::*;

#[mcp_tool]
async fn greet(#[arg(rename = "")] name: String) -> String {
    format!("Hello {name}")
}

fn main() {}
