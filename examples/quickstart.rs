//! The first server to run: `cargo run --example quickstart`.
//!
//! Serves three tools at http://127.0.0.1:3000/mcp (`HOST`/`PORT` override):
//! text, structured output, and progress notifications.

use mcp_runtime::prelude::*;
use std::time::Duration;

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    /// `a + b`.
    total: f64,
}

struct Quickstart;

#[mcp_server(
    name = "quickstart",
    instructions = "A demo server: greet someone, add numbers, or count down."
)]
impl Quickstart {
    /// Says hello.
    #[mcp_tool(read_only)]
    async fn greet(
        /// Who to greet; the world if absent.
        name: Option<String>,
    ) -> String {
        format!(
            "Hello, {}! This is a Rust MCP server.",
            name.as_deref().unwrap_or("world")
        )
    }

    /// Adds two numbers.
    #[mcp_tool(read_only, idempotent)]
    async fn add(
        /// The first number.
        a: f64,
        /// The second number.
        b: f64,
    ) -> Json<Sum> {
        Json(Sum { total: a + b })
    }

    /// Counts down, reporting progress every second.
    #[mcp_tool]
    async fn countdown(
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
    println!(
        "\nConnect an MCP client to http://{host}:{port}/mcp\n\
         \n  npx @modelcontextprotocol/inspector --cli http://{host}:{port}/mcp --method tools/list\n\
         \n  curl -s http://{host}:{port}/mcp -H 'Content-Type: application/json' \\\n\
         \x20   -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \\\n\
         \x20   -H 'Mcp-Method: tools/call' -H 'Mcp-Name: add' \\\n\
         \x20   -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"add\",\"arguments\":{{\"a\":2,\"b\":3}},\
         \"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}'\n"
    );
    Quickstart.listen().await
}
