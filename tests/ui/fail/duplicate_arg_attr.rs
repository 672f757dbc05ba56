use mcp_runtime::prelude::*;

#[mcp_tool]
async fn greet(
    #[arg(description = "Who")]
    #[arg(rename = "who")]
    name: String,
) -> String {
    format!("Hello {name}")
}

fn main() {}
