use mcp_runtime::prelude::*;

struct Docs;

#[mcp_server(name = "docs")]
impl Docs {
    #[mcp_resource(uri = "docs://readme")]
    fn readme() -> &'static str {
        "Read me."
    }
}

fn main() {}
