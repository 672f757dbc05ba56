use mcp_runtime::prelude::*;

#[mcp_prompt(name = "greet")]
struct Greet;

fn main() {}
