//! The first server to run: `cargo run --example quickstart`.
//!
//! Serves MCP at http://127.0.0.1:3000/mcp (`HOST`/`PORT` override), signed
//! in with OAuth against the built-in development authorization server
//! (`oauth = dev`): no account needed. `listen` prints the URL, how to sign
//! in with the MCP Inspector (it registers and signs in by itself; a consent
//! page asks you to approve it) and a ready bearer token for curl.
//!
//! Env: `RUST_LOG=info` shows the logs; `MCP_DEV_OAUTH_KEY_FILE=dev-key.pem`
//! keeps tokens valid across restarts; `MCP_DEV_OAUTH_AUTO_APPROVE=1` skips
//! the consent page.

use mcp_runtime::prelude::*;
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

/// Tasks kept at most: a server anyone can call keeps nothing without a bound.
const MAX_TASKS: usize = 100;

#[derive(Default)]
struct Quickstart {
    tasks: Mutex<std::collections::VecDeque<String>>,
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
        if tasks.len() == MAX_TASKS {
            // The oldest task goes first.
            tasks.pop_front();
        }
        tasks.push_back(title);
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

    /// Writes the task list out, which takes a while: a client that takes
    /// tasks gets one at once and polls it.
    #[mcp_tool(name = "export-tasks", scopes = "tasks:read", task = "optional")]
    async fn export_tasks(&self, ctx: &RequestContext) -> Result<String, ToolError> {
        for _ in 0..3 {
            if ctx.is_cancelled() {
                return Err(ToolError::new("cancelled"));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        Ok(format!(
            "{} task(s): {}",
            tasks.len(),
            tasks.iter().cloned().collect::<Vec<_>>().join("; ")
        ))
    }
}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    // Logs only when asked for: without a subscriber, `listen` still prints
    // where it listens, how to sign in, and a token.
    if std::env::var_os("RUST_LOG").is_some_and(|filter| !filter.is_empty()) {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    Quickstart::default().listen().await
}
