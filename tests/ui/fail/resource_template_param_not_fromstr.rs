use mcp_runtime::prelude::*;

struct Docs;

struct PageId;

#[mcp_server(name = "docs")]
impl Docs {
    #[mcp_resource(uri = "docs://pages/{id}")]
    async fn page(id: PageId) -> String {
        let _ = id;
        String::new()
    }
}

fn main() {}
