use mcp_runtime::prelude::*;

struct Docs;

#[mcp_server(name = "docs")]
impl Docs {
    #[mcp_resource(uri = "docs://pages/{+id}")]
    async fn page(id: String) -> String {
        id
    }
}

fn main() {}
