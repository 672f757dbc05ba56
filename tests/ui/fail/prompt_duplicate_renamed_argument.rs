use mcp_runtime::prelude::*;

#[mcp_prompt]
async fn greet(language: String, #[arg(rename = "language")] dialect: String) -> String {
    format!("{language} {dialect}")
}

fn main() {}
