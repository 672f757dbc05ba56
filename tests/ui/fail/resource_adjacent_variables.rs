use mcp_runtime::prelude::*;

#[mcp_resource(uri = "items://{shelf}{id}")]
async fn item(shelf: String, id: String) -> String {
    format!("{shelf}{id}")
}

fn main() {}
