use mcp_runtime::prelude::*;

struct Server;

#[mcp_server(oauth = octa)]
impl Server {
    #[mcp_tool]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {}
