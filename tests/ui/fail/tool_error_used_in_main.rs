use mcp_runtime::prelude::*;

// One mistake, one error: the tool still registers, so `main` compiles.
#[mcp_tool(scope = "admin")]
async fn purge() -> String {
    String::new()
}

fn main() {
    let _ = McpServer::builder("demo", "1.0.0").tool(purge).build();
    let _ = purge::call();
}
