use mcp_runtime::prelude::*;
use std::rc::Rc;

struct Server {
    greeting: Rc<String>,
}

#[mcp_server]
impl Server {
    #[mcp_tool]
    async fn ping(&self) -> String {
        self.greeting.to_string()
    }
}

fn main() {}
