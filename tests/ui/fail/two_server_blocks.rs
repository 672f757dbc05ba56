use mcp_runtime::prelude::*;

struct Server;

#[mcp_server]
impl Server {
    #[mcp_tool]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

#[mcp_server]
impl Server {
    #[mcp_tool]
    async fn pong(&self) -> String {
        "ping".to_owned()
    }
}

fn main() {}
