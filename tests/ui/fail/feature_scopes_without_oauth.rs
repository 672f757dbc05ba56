use mcp_runtime::prelude::*;

struct Library;

#[mcp_server(name = "library", oauth = none)]
impl Library {
    #[mcp_resource(uri = "lib://secret", scopes = "lib:secret")]
    async fn secret() -> &'static str {
        "psst"
    }

    #[mcp_resource(uri = "lib://books/{id}", any_scope = ["lib:read", "lib:admin"])]
    async fn book(id: u32) -> String {
        format!("book {id}")
    }

    #[mcp_prompt(roles = "librarian")]
    async fn catalogue() -> &'static str {
        "the catalogue"
    }
}

fn main() {}
