use mcp_runtime::prelude::*;

async fn ping() -> String {
    "pong".to_owned()
}

fn main() {
    let _ = McpServer::builder("x", "1").tool(ping).build();
}
