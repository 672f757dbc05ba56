use mcp_runtime::prelude::*;

struct Docs;

impl Docs {
    #[mcp_resource(uri = "docs://readme")]
    async fn readme(&self) -> &'static str {
        "Read me."
    }
}

fn main() {}
