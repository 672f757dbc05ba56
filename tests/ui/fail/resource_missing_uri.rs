use mcp_runtime::prelude::*;

struct Docs;

#[mcp_server(name = "docs")]
impl Docs {
    #[mcp_resource(name = "readme")]
    async fn readme() -> &'static str {
        "Read me."
    }
}

fn main() {}
