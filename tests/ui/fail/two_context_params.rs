use mcp_runtime::prelude::*;

#[mcp_tool]
async fn work(ctx: RequestContext, again: &RequestContext) -> String {
    drop((ctx, again));
    String::new()
}

fn main() {}
