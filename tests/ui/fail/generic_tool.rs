use mcp_runtime::prelude::*;

#[mcp_tool]
async fn echo<T: ToString>(value: T) -> String {
    value.to_string()
}

fn main() {}
