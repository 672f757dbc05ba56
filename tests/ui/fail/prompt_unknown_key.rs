use mcp_runtime::prelude::*;

struct Prompts;

#[mcp_server(name = "prompts")]
impl Prompts {
    #[mcp_prompt(name = "greet", uri = "x://greet")]
    async fn greet(name: String) -> String {
        format!("Greet {name}")
    }
}

fn main() {}
