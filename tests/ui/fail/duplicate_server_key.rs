use mcp_runtime::prelude::*;

struct Server;

#[mcp_server(version = "1.0.0", version = "2.0.0")]
impl Server {
    #[mcp_tool]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {}
