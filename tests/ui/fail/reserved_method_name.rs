use mcp_runtime::prelude::*;

struct Server;

#[mcp_server]
impl Server {
    #[mcp_tool]
    async fn listen(&self) -> String {
        "listening".to_owned()
    }
}

fn main() {}
