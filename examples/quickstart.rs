//! The first server to run: `cargo run --example quickstart`.
//!
//! Serves MCP at http://127.0.0.1:3000/mcp (`HOST`/`PORT` override), signed
//! in with OAuth against the built-in development authorization server
//! (`oauth = dev`): no account needed. It prints a ready bearer token for
//! curl; MCP clients such as the Inspector register and sign in by
//! themselves (a consent page asks you to approve them).
//!
//! Env: `MCP_DEV_OAUTH_KEY_FILE=dev-key.pem` keeps tokens valid across
//! restarts; `MCP_DEV_OAUTH_AUTO_APPROVE=1` skips the consent page.

use mcp_runtime::prelude::*;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    /// `a + b`.
    total: f64,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct WhoAmI {
    /// The user id (`sub`).
    user: String,
    /// The client the token was issued to.
    client: Option<String>,
    /// The scopes granted.
    scopes: Vec<String>,
}

#[derive(Default)]
struct Quickstart {
    tasks: Mutex<Vec<String>>,
}

#[mcp_server(
    name = "quickstart",
    instructions = "A demo server: see who you are, add numbers, count down, or keep tasks.",
    oauth = dev
)]
impl Quickstart {
    /// Who is calling: the user, the client and the granted scopes.
    #[mcp_tool(read_only)]
    async fn whoami(&self, auth: &Auth) -> Json<WhoAmI> {
        Json(WhoAmI {
            user: auth.user.user_id.clone(),
            client: auth.client_id.clone(),
            scopes: auth.scopes.clone(),
        })
    }

    /// Adds two numbers.
    #[mcp_tool(read_only, idempotent)]
    async fn add(
        &self,
        /// The first number.
        a: f64,
        /// The second number.
        b: f64,
    ) -> Json<Sum> {
        Json(Sum { total: a + b })
    }

    /// Adds a task to the list (needs the `tasks:write` scope).
    #[mcp_tool(name = "add-task", scopes = "tasks:write")]
    async fn add_task(
        &self,
        /// What to do.
        title: String,
    ) -> String {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.push(title);
        format!("{} task(s) to do", tasks.len())
    }

    /// Counts down, reporting progress every second.
    #[mcp_tool]
    async fn countdown(
        &self,
        ctx: &RequestContext,
        /// Seconds to count down from (at most 10).
        from: u8,
    ) -> Result<String, ToolError> {
        let from = from.min(10);
        for left in (1..=from).rev() {
            if ctx.is_cancelled() {
                return Err(ToolError::new("cancelled"));
            }
            ctx.progress(
                f64::from(from - left),
                Some(f64::from(from)),
                Some(&format!("{left}...")),
            )
            .await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Ok("Liftoff!".to_owned())
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
    let ip: IpAddr = if host == "localhost" {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse()
            .map_err(|_| invalid(format!("HOST must be an IP address, got `{host}`")))?
    };
    let port: u16 = port
        .parse()
        .map_err(|_| invalid(format!("PORT must be a port number, got `{port}`")))?;

    let server = Quickstart::default()
        .into_mcp_server()
        .map_err(|e| invalid(e.to_string()))?;
    let running = server.clone().bind(SocketAddr::new(ip, port))?;
    let token = server
        .dev_token(["tasks:write"])
        .map_err(|e| invalid(e.to_string()))?;
    let url = format!("http://{host}:{port}/mcp");
    println!(
        "\nMCP endpoint: {url}\n\
         \nSign in with the MCP Inspector (it registers, opens the consent page, and gets a token):\n\
         \n  npx @modelcontextprotocol/inspector\n\
         \nOr call a tool with this development token (valid 1 h, scope tasks:write):\n\
         \n  TOKEN={token}\n\
         \n  curl -s {url} -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n\
         \x20   -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \\\n\
         \x20   -H 'Mcp-Method: tools/call' -H 'Mcp-Name: whoami' \\\n\
         \x20   -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"whoami\",\"arguments\":{{}},\
         \"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}'\n"
    );
    running.await
}
