use mcp_runtime::prelude::*;

#[mcp_tool]
struct Ping;

fn main() {}
