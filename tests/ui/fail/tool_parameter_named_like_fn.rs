use mcp_runtime::prelude::*;

#[mcp_tool]
async fn echo(echo: String) -> String {
    echo
}

fn main() {}
