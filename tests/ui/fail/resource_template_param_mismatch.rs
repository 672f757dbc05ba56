use mcp_runtime::prelude::*;

struct Docs;

#[mcp_server(name = "docs")]
impl Docs {
    #[mcp_resource(uri = "docs://pages/{id}")]
    async fn page(page_id: u32) -> String {
        format!("page {page_id}")
    }
}

fn main() {}
