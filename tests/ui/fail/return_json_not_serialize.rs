use mcp_runtime::prelude::*;

struct Report {
    total: u64,
}

#[mcp_tool]
async fn report() -> Json<Report> {
    Json(Report { total: 1 })
}

fn main() {}
