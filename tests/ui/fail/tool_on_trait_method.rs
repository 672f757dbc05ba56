use mcp_runtime::prelude::*;

trait Pinger {
    #[mcp_tool]
    async fn ping(&self) -> String;
}

fn main() {}
