use mcp_runtime::prelude::*;

struct Server;

#[mcp_server]
impl Server {
    #[mcp_tool]
    async fn whoami(&self, auth: &Auth) -> String {
        auth.user.user_id.clone()
    }
}

fn main() {}
