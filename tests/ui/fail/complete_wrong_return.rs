use mcp_runtime::prelude::*;

fn complete_language(_: &CompletionRequest) -> Vec<&'static str> {
    vec!["en"]
}

#[mcp_prompt(complete(language = complete_language))]
async fn greet(language: String) -> String {
    format!("Greet in {language}")
}

fn main() {}
