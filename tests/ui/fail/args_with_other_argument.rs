use mcp_runtime::prelude::*;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Query {
    text: String,
}

#[mcp_tool]
async fn search(#[args] query: Query, limit: u32) -> String {
    format!("{} {limit}", query.text)
}

fn main() {}
