use mcp_runtime::prelude::*;

struct Server;

#[mcp_server(oauth = "auth0")]
impl Server {
    #[mcp_tool]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {}
