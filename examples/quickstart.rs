//! The first server to run: `cargo run --example quickstart`.
//!
//! Serves three tools at http://127.0.0.1:3000/mcp (`HOST`/`PORT` override):
//! text, structured output, and progress notifications.

use mcp_runtime::prelude::*;
use std::time::Duration;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first number.
    a: f64,
    /// The second number.
    b: f64,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    /// `a + b`.
    total: f64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CountdownArgs {
    /// Seconds to count down from (at most 10).
    from: u8,
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let server = McpServer::builder("quickstart", env!("CARGO_PKG_VERSION"))
        .instructions("A demo server: greet someone, add numbers, or count down.")
        .tool(
            Tool::new("greet", || async { "Hello from a Rust MCP server!" })
                .description("Says hello.")
                .read_only(),
        )
        .tool(
            Tool::new("add", |args: AddArgs| async move {
                Json(Sum {
                    total: args.a + args.b,
                })
            })
            .description("Adds two numbers.")
            .read_only()
            .idempotent(),
        )
        .tool(
            Tool::new(
                "countdown",
                |args: CountdownArgs, ctx: RequestContext| async move {
                    let from = args.from.min(10);
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
                },
            )
            .description("Counts down, reporting progress every second."),
        )
        .build()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;

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
    server.listen().await
}
