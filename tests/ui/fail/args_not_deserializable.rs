use mcp_runtime::prelude::*;

struct Query {
    text: String,
}

#[mcp_tool]
async fn search(#[args] query: Query) -> String {
    query.text
}

fn main() {}
