use mcp_runtime::prelude::*;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Query {
    text: String,
}

#[mcp_tool]
async fn search(
    #[args]
    #[arg(description = "The query")]
    query: Query,
) -> String {
    query.text
}

fn main() {}
