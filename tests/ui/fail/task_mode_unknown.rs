use mcp_runtime::prelude::*;

#[mcp_tool(task = "sometimes")]
async fn build() -> String {
    "built".to_owned()
}

#[mcp_tool(tasks = "optional")]
async fn export() -> String {
    "exported".to_owned()
}

#[mcp_tool(deferred_task)]
async fn gather() -> String {
    "gathered".to_owned()
}

fn main() {}
