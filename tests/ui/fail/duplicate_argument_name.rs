use mcp_runtime::prelude::*;

#[mcp_tool]
async fn greet(name: String, #[arg(rename = "name")] nickname: String) -> String {
    format!("{name} {nickname}")
}

fn main() {}
