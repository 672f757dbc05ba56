use mcp_runtime::prelude::*;

#[mcp_tool]
async fn greet(name: String) -> String {
    format!("Hello {name}")
}

async fn twice() -> String {
    greet("a".to_owned()).await
}

fn main() {
    let _ = twice();
}
