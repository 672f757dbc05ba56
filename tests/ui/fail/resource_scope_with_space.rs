use mcp_runtime::prelude::*;

#[mcp_resource(uri = "docs://secret", scopes = ["docs:read docs:secret"], roles = [])]
async fn secret() -> &'static str {
    "psst"
}

fn main() {}
