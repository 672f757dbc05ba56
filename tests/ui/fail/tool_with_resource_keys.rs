use mcp_runtime::prelude::*;

#[mcp_tool(uri = "items://{id}", mime_type = "text/plain", complete(id = complete_id))]
async fn item(id: String) -> String {
    id
}

fn complete_id(_: &CompletionRequest) -> Vec<String> {
    Vec::new()
}

fn main() {}
