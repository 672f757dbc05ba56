use mcp_runtime::prelude::*;

struct Server<T>(T);

#[mcp_server]
impl<T: Send + Sync + 'static> Server<T> {
    #[mcp_tool]
    async fn ping(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {}
