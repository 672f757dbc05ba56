use mcp_runtime::prelude::*;

struct Server;

#[mcp_server]
impl Server {
    #[mcp_tool(name = "ping")]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }

    #[mcp_tool(name = "ping")]
    async fn ping_again(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {}
