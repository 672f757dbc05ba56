use mcp_runtime::prelude::*;

struct Server;

#[mcp_server(oauth = okta)]
impl Server {
    #[mcp_tool]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {}
