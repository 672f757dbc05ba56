use mcp_runtime::prelude::*;

struct Docs;

#[mcp_server(name = "docs")]
impl Docs {
    #[mcp_prompt(name = "greet")]
    async fn greet(&self) -> String {
        "hello".into()
    }

    #[mcp_prompt(name = "greet")]
    async fn greet_again(&self) -> String {
        "hello again".into()
    }

    #[mcp_resource(uri = "docs://readme")]
    async fn readme(&self) -> String {
        String::new()
    }

    #[mcp_resource(uri = "docs://readme")]
    async fn readme_again(&self) -> String {
        String::new()
    }
}

fn main() {}
