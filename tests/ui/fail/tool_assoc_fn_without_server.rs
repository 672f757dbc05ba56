use mcp_runtime::prelude::*;

struct Server;

impl Server {
    #[mcp_tool]
    async fn ping() -> String {
        "pong".to_owned()
    }
}

fn main() {}
