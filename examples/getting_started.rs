//! A greeter: one tool anyone signed in may call, one that needs `admin`.

use mcp_runtime::prelude::*;

struct Greeter;

#[mcp_server(name = "greeter", version = "1.0.0", oauth = dev)]
impl Greeter {
    /// Says hello to someone.
    #[mcp_tool(read_only)]
    async fn hello(
        /// Who to greet.
        name: String,
    ) -> String {
        format!("Hello, {name}!")
    }

    /// Forgets everyone greeted so far.
    #[mcp_tool(scopes = "admin", destructive)]
    async fn forget() -> String {
        "Forgotten.".into()
    }
}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    Greeter.listen().await
}
