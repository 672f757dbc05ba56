use mcp_runtime::prelude::*;

#[mcp_resource(uri = "items://{id}", mime = "text/plain")]
async fn item(id: String) -> String {
    id
}

#[mcp_prompt(scopes = "")]
async fn greet() -> String {
    String::new()
}

fn main() {
    let _ = McpServer::builder("demo", "1.0.0")
        .resource_template(item)
        .prompt(greet)
        .build();
}
