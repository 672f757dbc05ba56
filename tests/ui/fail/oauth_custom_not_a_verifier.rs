use mcp_runtime::prelude::*;

struct Server;

struct NotAVerifier;

#[mcp_server(oauth = custom(NotAVerifier))]
impl Server {
    #[mcp_tool]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {}
