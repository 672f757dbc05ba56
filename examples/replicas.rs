//! A server meant to run as several replicas behind a load balancer, with
//! its sessions in Redis: each tool says which replica ran it, so you can
//! watch one session move between them.
//!
//! ```text
//! deploy/run-replicas.sh replicas      # Redis, nginx and three replicas
//! ```
//!
//! or by hand, one replica per port, all with the same two variables:
//!
//! ```text
//! MCP_REDIS_URL=redis://127.0.0.1:6379 \
//! MCP_STATE_SECRET=$(openssl rand -base64 48) \
//! PORT=3001 cargo run --example replicas
//! ```
//!
//! Tools: `whoami` (this replica), `announce` (tells every session following
//! `demo://status` that it changed, from whichever replica runs it), `ask`
//! (asks the client for a name: the answer may come back to another
//! replica), `wait` (runs until cancelled, or 30 s). `REPLICA_NAME` names the
//! replica (default: its port).

use mcp_runtime::prelude::*;
use serde_json::json;
use std::sync::OnceLock;
use std::time::Duration;

/// The running server, so a tool can announce a resource change.
static SERVER: OnceLock<McpServer> = OnceLock::new();

/// This replica's name: `REPLICA_NAME`, else its port.
fn replica() -> String {
    std::env::var("REPLICA_NAME")
        .or_else(|_| std::env::var("PORT"))
        .unwrap_or_else(|_| "3000".to_owned())
}

struct Replicas;

/// Logs `wait cancelled` when a cancelled call ends.
struct ReportCancellation(RequestContext);

impl Drop for ReportCancellation {
    fn drop(&mut self) {
        if self.0.is_cancelled() {
            tracing::info!(replica = %replica(), "wait cancelled");
        }
    }
}

#[mcp_server(
    name = "replicas",
    instructions = "Each tool says which replica ran it."
)]
impl Replicas {
    /// Which replica answered.
    #[mcp_tool(read_only)]
    async fn whoami(&self) -> String {
        format!("replica {}", replica())
    }

    /// Tells every session following `demo://status` that it changed.
    #[mcp_tool]
    async fn announce(&self) -> String {
        let told = SERVER
            .get()
            .map_or(0, |server| server.notify_resource_updated("demo://status"));
        format!("replica {} announced (told {told} here)", replica())
    }

    /// Asks the client for a name.
    #[mcp_tool]
    async fn ask(&self, ctx: &RequestContext) -> Result<String, ToolError> {
        let form = Elicitation::form(
            "What is your name?",
            json!({
                "type": "object",
                "properties": { "name": { "type": "string" } },
                "required": ["name"]
            }),
        );
        let answer = ctx.elicit("name", form).await?;
        let name = answer
            .content
            .as_ref()
            .and_then(|c| c.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("nobody")
            .to_owned();
        Ok(format!("hello {name}, asked on replica {}", replica()))
    }

    /// Runs until the client cancels it, or 30 s pass.
    #[mcp_tool]
    async fn wait(&self, ctx: &RequestContext) -> String {
        // A cancelled call is dropped where it waits: say so on the way out.
        let _report = ReportCancellation(ctx.clone());
        tokio::time::sleep(Duration::from_secs(30)).await;
        "waited 30 s".to_owned()
    }

    /// Works `seconds` seconds, as a task for clients that take tasks, and
    /// names the replica that ran it.
    #[mcp_tool(task = "optional")]
    async fn long_job(
        &self,
        /// How long to work.
        seconds: u64,
    ) -> String {
        tokio::time::sleep(Duration::from_secs(seconds.min(3600))).await;
        format!("replica {} worked {seconds} s", replica())
    }
}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let server = Replicas
        .into_mcp_builder()
        .resource(
            Resource::new("demo://status", |_| async { "all good" })
                .name("status")
                .description("Changes whenever `announce` runs.")
                .mime_type("text/plain"),
        )
        .build()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let _ = SERVER.set(server.clone());
    server.listen().await
}
