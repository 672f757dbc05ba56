use mcp_runtime::prelude::*;

#[mcp_tool]
async fn whoami(auth: Auth) -> String {
    auth.user.user_id
}

fn main() {}
