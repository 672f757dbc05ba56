use mcp_runtime::prelude::*;

struct Prompts;

fn complete_language(_: &CompletionRequest) -> Vec<String> {
    vec!["en".into()]
}

#[mcp_server(name = "prompts")]
impl Prompts {
    #[mcp_prompt(complete(lang = complete_language))]
    async fn greet(language: String, style: Option<String>) -> String {
        format!("{language} {style:?}")
    }

    #[mcp_prompt(complete(language = complete_language))]
    async fn hello() -> String {
        "hello".into()
    }
}

fn main() {}
