use mcp_runtime::prelude::*;

fn complete_language(_: &CompletionRequest) -> Vec<String> {
    vec!["en".into()]
}

#[mcp_prompt(complete(language))]
async fn greet(language: String) -> String {
    format!("Greet in {language}")
}

#[mcp_prompt(complete = complete_language)]
async fn hello(language: String) -> String {
    format!("Hello in {language}")
}

#[mcp_prompt(complete(language = |_| Vec::new()))]
async fn welcome(language: String) -> String {
    format!("Welcome in {language}")
}

fn main() {}
