use mcp_runtime::prelude::*;

fn complete_language(_: &CompletionRequest) -> Vec<String> {
    vec!["en".into()]
}

fn complete_other(_: &CompletionRequest) -> Vec<String> {
    vec!["fr".into()]
}

#[mcp_prompt(complete(language = complete_language), complete(language = complete_other))]
async fn greet(language: String) -> String {
    format!("Greet in {language}")
}

fn main() {}
