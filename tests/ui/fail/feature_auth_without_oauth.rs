use mcp_runtime::prelude::*;

struct Library;

#[mcp_server(name = "library")]
impl Library {
    #[mcp_resource(uri = "lib://me")]
    async fn me(auth: &Auth) -> String {
        auth.user.user_id.clone()
    }

    #[mcp_prompt]
    async fn greet(auth: &Auth) -> String {
        format!("Hello {}", auth.user.user_id)
    }

    // Anonymous callers are fine with `Option<&Auth>`.
    #[mcp_resource(uri = "lib://maybe")]
    async fn maybe(auth: Option<&Auth>) -> String {
        format!("{}", auth.is_some())
    }
}

fn main() {}
