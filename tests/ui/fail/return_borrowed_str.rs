use mcp_runtime::prelude::*;

struct Server {
    greeting: String,
}

#[mcp_server]
impl Server {
    #[mcp_tool]
    async fn greeting(&self) -> &str {
        &self.greeting
    }
}

fn main() {}
