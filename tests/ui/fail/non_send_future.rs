use mcp_runtime::prelude::*;
use std::rc::Rc;

async fn tick() {}

#[mcp_tool]
async fn count() -> String {
    let counter = Rc::new(1);
    tick().await;
    counter.to_string()
}

fn main() {}
