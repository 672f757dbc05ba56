use mcp_runtime::prelude::*;

#[mcp_resource(uri = "docs://pages/{page}")]
async fn page(page: u32) -> String {
    format!("page {page}")
}

fn main() {}
