use mcp_runtime::prelude::*;

struct Prompts;

#[mcp_server(name = "prompts")]
impl Prompts {
    #[mcp_prompt]
    fn greet(name: String) -> String {
        format!("Greet {name}")
    }
}

fn main() {}
