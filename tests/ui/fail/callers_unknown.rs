use mcp_runtime::prelude::*;

struct Server;

#[mcp_server(oauth = dev)]
impl Server {
    /// Deploys, for robots.
    #[mcp_tool(callers = "robots")]
    async fn deploy(&self) -> String {
        "deployed".to_owned()
    }
}

fn main() {}
