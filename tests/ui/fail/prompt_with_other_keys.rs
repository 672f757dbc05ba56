use mcp_runtime::prelude::*;

#[mcp_prompt(
    uri = "prompts://greet",
    mime_type = "text/plain",
    read_only,
    destructive,
    idempotent,
    open_world,
    describe_access = false,
    client_capabilities = ["sampling"]
)]
async fn greet() -> String {
    String::new()
}

fn main() {}
