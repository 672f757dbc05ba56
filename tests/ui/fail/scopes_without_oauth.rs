use mcp_runtime::prelude::*;

struct Server;

#[mcp_server]
impl Server {
    #[mcp_tool(scopes = "tasks:read")]
    async fn list(&self) -> String {
        String::new()
    }
}

fn main() {}
