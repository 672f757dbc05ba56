use mcp_runtime::prelude::*;

#[mcp_resource(uri = "items://{id}")]
async fn item(#[args] id: String) -> String {
    id
}

fn main() {}
