use mcp_runtime::prelude::*;

struct Server {
    count: u64,
}

#[mcp_server]
impl Server {
    #[mcp_tool]
    async fn bump(&mut self) -> String {
        self.count += 1;
        self.count.to_string()
    }
}

fn main() {}
