use mcp_runtime::prelude::*;

#[mcp_tool]
async fn whoami(auth: Option<Auth>) -> String {
    auth.map(|a| a.user.user_id).unwrap_or_default()
}

fn main() {}
