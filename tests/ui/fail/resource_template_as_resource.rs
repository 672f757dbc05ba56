use mcp_runtime::prelude::*;

#[mcp_resource(uri = "docs://pages/{page}")]
async fn read_page(page: u32) -> String {
    format!("page {page}")
}

fn main() {
    let _ = McpServer::builder("docs", "1").resource(read_page);
}
