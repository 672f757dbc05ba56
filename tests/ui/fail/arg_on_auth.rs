use mcp_runtime::prelude::*;

#[mcp_tool]
async fn whoami(#[arg(description = "The caller")] auth: &Auth) -> String {
    auth.user.user_id.clone()
}

fn main() {}
