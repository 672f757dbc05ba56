use mcp_runtime::prelude::*;

#[mcp_tool]
async fn whoami(auth: &mut Auth) -> String {
    auth.user.user_id.clone()
}

fn main() {}
