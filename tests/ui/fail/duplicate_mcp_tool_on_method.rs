use mcp_runtime::prelude::*;

struct Server;

#[mcp_server]
impl Server {
    #[mcp_tool(name = "ping")]
    #[mcp_tool(read_only)]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {}
