use mcp_runtime::prelude::*;

#[mcp_tool(rate = "10 per minute")]
async fn search() -> String {
    "found".to_owned()
}

#[mcp_tool(rate = "0/min")]
async fn export() -> String {
    "exported".to_owned()
}

#[mcp_tool(rate_limit = "10/min")]
async fn build() -> String {
    "built".to_owned()
}

fn main() {}
