use mcp_runtime::prelude::*;

struct Server;

trait Pinger {
    async fn ping(&self) -> String;
}

#[mcp_server]
impl Pinger for Server {
    #[mcp_tool]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {}
