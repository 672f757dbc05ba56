use mcp_runtime::prelude::*;

#[mcp_tool]
async fn whoami(auth: &Auth, again: Option<&Auth>) -> String {
    format!("{} {}", auth.user.user_id, again.is_some())
}

fn main() {}
