use mcp_runtime::prelude::*;

fn complete_id(_: &CompletionRequest) -> Vec<String> {
    vec!["1".into()]
}

#[mcp_resource(uri = "notes://{folder}/{id}", complete(note = complete_id))]
async fn note(folder: String, id: u32) -> String {
    format!("{folder}/{id}")
}

fn main() {}
