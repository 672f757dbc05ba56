use mcp_runtime::prelude::*;

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Report {
    total: u64,
}

#[mcp_tool]
async fn report() -> Report {
    Report { total: 1 }
}

fn main() {}
