use mcp_runtime::prelude::*;

struct Library;

#[mcp_server(name = "library", oauth = auth0)]
impl Library {
    #[mcp_resource(uri = "lib://me")]
    async fn me(auth: Auth) -> String {
        auth.user.user_id
    }

    #[mcp_prompt]
    async fn greet(auth: &Auth, again: Option<&Auth>) -> String {
        format!("Hello {} {}", auth.user.user_id, again.is_some())
    }

    #[mcp_prompt]
    async fn welcome(auth: Option<Auth>) -> String {
        format!("Welcome {}", auth.is_some())
    }
}

fn main() {}
