//! The fixture server the official MCP conformance suite expects: tools with
//! the suite's fixed names and contents.
//!
//! `PORT=3001 cargo run --example conformance`, then
//! `npx @modelcontextprotocol/conformance server --url http://127.0.0.1:3001/mcp`.

use mcp_runtime::prelude::*;
use std::time::Duration;

const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV_TINY: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

fn image() -> Content {
    Content::Image {
        data: PNG_1X1.to_owned(),
        mime_type: "image/png".to_owned(),
        annotations: None,
    }
}

/// Logs three messages 50 ms apart. On 2026-07-28 the client gets them only
/// if its request named a log level.
async fn log_three_messages(_: NoArgs, ctx: RequestContext) -> &'static str {
    for message in [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ] {
        ctx.log(LoggingLevel::Info, Some("conformance"), message)
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    "Logged three messages"
}

fn server() -> Result<McpServer, mcp_runtime::BuildError> {
    McpServer::builder("mcp-runtime-conformance", env!("CARGO_PKG_VERSION"))
        // The suite calls the first listed tool with `{}`: keep this one first.
        .tool(
            Tool::new("test_simple_text", || async {
                "This is a simple text response for testing."
            })
            .description("Returns a simple text response."),
        )
        .tool(
            Tool::new("test_image_content", || async { image() })
                .description("Returns a 1x1 PNG image."),
        )
        .tool(
            Tool::new("test_audio_content", || async {
                Content::Audio {
                    data: WAV_TINY.to_owned(),
                    mime_type: "audio/wav".to_owned(),
                    annotations: None,
                }
            })
            .description("Returns a tiny WAV clip."),
        )
        .tool(
            Tool::new("test_embedded_resource", || async {
                Content::embedded_text(
                    "test://embedded-resource",
                    Some("text/plain"),
                    "This is an embedded resource content.",
                )
            })
            .description("Returns an embedded text resource."),
        )
        .tool(
            Tool::new("test_multiple_content_types", || async {
                vec![
                    Content::text("Multiple content types test:"),
                    image(),
                    Content::embedded_text(
                        "test://mixed-content-resource",
                        Some("application/json"),
                        r#"{"test":"data","value":123}"#,
                    ),
                ]
            })
            .description("Returns text, an image and an embedded resource."),
        )
        .tool(
            Tool::new("test_tool_with_logging", log_three_messages)
                .description("Sends three log messages while it runs."),
        )
        .tool(
            Tool::new(
                "test_tool_with_progress",
                |_: NoArgs, ctx: RequestContext| async move {
                    for step in [0.0, 50.0, 100.0] {
                        ctx.progress(step, Some(100.0), None).await;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    "Progress completed"
                },
            )
            .description("Reports progress three times while it runs."),
        )
        .tool(
            Tool::new("test_error_handling", || async {
                Err::<String, _>(ToolError::new(
                    "This tool intentionally returns an error for testing",
                ))
            })
            .description("Always fails, as an isError result."),
        )
        .tool(
            Tool::new("test_logging_tool", log_three_messages)
                .description("Logs three messages; sends none unless the client set a log level."),
        )
        .tool(
            Tool::new("test_missing_capability", || async {
                "The client declared sampling."
            })
            .requires_client_capability("sampling")
            .description("Needs the client's sampling capability."),
        )
        .tool(
            Tool::new(
                "test_streaming_elicitation",
                |_: NoArgs, ctx: RequestContext| async move {
                    if !ctx.protocol_version().is_stateless() {
                        return CallToolResult::error(
                            "this fixture asks for input the 2026-07-28 way",
                        );
                    }
                    let mut requests = serde_json::Map::new();
                    requests.insert(
                        "user_name".to_owned(),
                        serde_json::json!({
                            "method": "elicitation/create",
                            "params": {
                                "mode": "form",
                                "message": "What is your name?",
                                "requestedSchema": {
                                    "type": "object",
                                    "properties": { "name": { "type": "string" } },
                                    "required": ["name"]
                                }
                            }
                        }),
                    );
                    CallToolResult::input_required(requests, None)
                },
            )
            .description("Asks the client for input through an input_required result."),
        )
        .build()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let server = server().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    server.listen().await
}
