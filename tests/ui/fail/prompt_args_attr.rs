use mcp_runtime::prelude::*;

#[derive(serde::Deserialize)]
struct Options {
    language: String,
}

#[mcp_prompt]
async fn greet(#[args] options: Options) -> String {
    options.language
}

fn main() {}
