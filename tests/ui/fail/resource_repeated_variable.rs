use mcp_runtime::prelude::*;

#[mcp_resource(uri = "items://{id}/copies/{id}")]
async fn item(id: String) -> String {
    id
}

fn main() {}
