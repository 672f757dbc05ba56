use mcp_runtime::prelude::*;

#[mcp_tool]
async fn ping(_: u32) -> String {
    "pong".to_owned()
}

fn main() {}
