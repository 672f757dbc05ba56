use mcp_runtime::prelude::*;

struct Prompts;

#[mcp_server(name = "prompts")]
impl Prompts {
    #[mcp_prompt]
    async fn greet(&mut self, name: String) -> String {
        format!("Greet {name}")
    }
}

fn main() {}
