use mcp_runtime::prelude::*;

#[mcp_resource(uri = "docs://readme")]
async fn readme() -> &'static str {
    "Read me."
}

fn main() {}
