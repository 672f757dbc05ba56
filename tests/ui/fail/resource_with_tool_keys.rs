use mcp_runtime::prelude::*;

#[mcp_resource(
    uri = "items://all",
    read_only,
    destructive = false,
    idempotent,
    open_world,
    describe_access = false,
    client_capabilities = "sampling"
)]
async fn items() -> String {
    String::new()
}

fn main() {}
