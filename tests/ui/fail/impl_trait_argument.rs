use mcp_runtime::prelude::*;

#[mcp_tool]
async fn greet(name: impl ToString) -> String {
    name.to_string()
}

fn main() {}
