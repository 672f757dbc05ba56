use mcp_runtime::prelude::*;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Query {
    text: String,
}

#[mcp_tool]
async fn search(#[args] query: Query, #[args] other: Query) -> String {
    format!("{} {}", query.text, other.text)
}

fn main() {}
