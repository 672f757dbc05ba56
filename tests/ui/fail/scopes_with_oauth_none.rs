use mcp_runtime::prelude::*;

struct Server;

#[mcp_server(oauth = none)]
impl Server {
    #[mcp_tool(roles = "admin")]
    async fn list(&self) -> String {
        String::new()
    }
}

fn main() {}
