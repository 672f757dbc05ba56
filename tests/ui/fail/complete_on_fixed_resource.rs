use mcp_runtime::prelude::*;

struct Docs;

fn complete_id(_: &CompletionRequest) -> Vec<String> {
    vec!["1".into()]
}

#[mcp_server(name = "docs")]
impl Docs {
    #[mcp_resource(uri = "docs://readme", complete(id = complete_id))]
    async fn readme() -> &'static str {
        "Read me."
    }
}

fn main() {}
