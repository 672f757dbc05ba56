//! The fixture server the official MCP conformance suite expects: tools with
//! the suite's fixed names and contents, written with `#[mcp_server]`, plus
//! its resources, prompts and completions, registered on the builder.
//!
//! `PORT=3001 cargo run --example conformance`, then
//! `npx @modelcontextprotocol/conformance server --url http://127.0.0.1:3001/mcp`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use mcp_runtime::completion::prefix_matches;
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
async fn log_three_messages(ctx: &RequestContext) -> &'static str {
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

/// The suite's fixtures. It calls the first listed tool with `{}`, so
/// `test_simple_text` comes first.
struct Conformance;

#[mcp_server(name = "mcp-runtime-conformance")]
impl Conformance {
    /// Returns a simple text response.
    #[mcp_tool]
    async fn test_simple_text() -> &'static str {
        "This is a simple text response for testing."
    }

    /// Returns a 1x1 PNG image.
    #[mcp_tool]
    async fn test_image_content() -> Content {
        image()
    }

    /// Returns a tiny WAV clip.
    #[mcp_tool]
    async fn test_audio_content() -> Content {
        Content::Audio {
            data: WAV_TINY.to_owned(),
            mime_type: "audio/wav".to_owned(),
            annotations: None,
        }
    }

    /// Returns an embedded text resource.
    #[mcp_tool]
    async fn test_embedded_resource() -> Content {
        Content::embedded_text(
            "test://embedded-resource",
            Some("text/plain"),
            "This is an embedded resource content.",
        )
    }

    /// Returns text, an image and an embedded resource.
    #[mcp_tool]
    async fn test_multiple_content_types() -> Vec<Content> {
        vec![
            Content::text("Multiple content types test:"),
            image(),
            Content::embedded_text(
                "test://mixed-content-resource",
                Some("application/json"),
                r#"{"test":"data","value":123}"#,
            ),
        ]
    }

    /// Sends three log messages while it runs.
    #[mcp_tool]
    async fn test_tool_with_logging(ctx: &RequestContext) -> &'static str {
        log_three_messages(ctx).await
    }

    /// Reports progress three times while it runs.
    #[mcp_tool]
    async fn test_tool_with_progress(ctx: &RequestContext) -> &'static str {
        for step in [0.0, 50.0, 100.0] {
            ctx.progress(step, Some(100.0), None).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        "Progress completed"
    }

    /// Always fails, as an isError result.
    #[mcp_tool]
    async fn test_error_handling() -> Result<String, ToolError> {
        Err(ToolError::new(
            "This tool intentionally returns an error for testing",
        ))
    }

    /// Logs three messages; sends none unless the client set a log level.
    #[mcp_tool]
    async fn test_logging_tool(ctx: &RequestContext) -> &'static str {
        log_three_messages(ctx).await
    }

    /// Needs the client's sampling capability.
    #[mcp_tool(client_capabilities = "sampling")]
    async fn test_missing_capability() -> &'static str {
        "The client declared sampling."
    }

    /// Asks the client for input through an input_required result.
    #[mcp_tool]
    async fn test_streaming_elicitation(ctx: &RequestContext) -> CallToolResult {
        if !ctx.protocol_version().is_stateless() {
            return CallToolResult::error("this fixture asks for input the 2026-07-28 way");
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
    }
}

/// The suite's resources and resource template.
fn with_resources(builder: McpServerBuilder) -> McpServerBuilder {
    builder
        .resource(
            Resource::new("test://static-text", |_| async {
                "This is the content of the static text resource."
            })
            .name("static-text")
            .description("A static text resource.")
            .mime_type("text/plain"),
        )
        .resource(
            Resource::new("test://static-binary", |_| async {
                Blob(BASE64.decode(PNG_1X1).unwrap_or_default())
            })
            .name("static-binary")
            .description("A static binary resource (a 1x1 PNG).")
            .mime_type("image/png"),
        )
        .resource(
            Resource::new("test://watched-resource", |_| async {
                "This resource can be subscribed to."
            })
            .name("watched-resource")
            .description("A resource clients may subscribe to.")
            .mime_type("text/plain"),
        )
        .resource_template(
            ResourceTemplate::new("test://template/{id}/data", |req: ResourceRequest| async move {
                let id = req.param("id").unwrap_or_default().to_owned();
                serde_json::json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") })
                    .to_string()
            })
            .name("template-data")
            .description("Data for an id.")
            .mime_type("application/json")
            .complete("id", |req| prefix_matches(["1", "2", "3", "123"], req)),
        )
}

/// The suite's prompts.
fn with_prompts(builder: McpServerBuilder) -> McpServerBuilder {
    builder
        .prompt(
            Prompt::new("test_simple_prompt", |_| async {
                "This is a simple prompt for testing."
            })
            .description("A prompt without arguments."),
        )
        .prompt(
            Prompt::new(
                "test_prompt_with_arguments",
                |req: PromptRequest| async move {
                    format!(
                        "Prompt with arguments: arg1='{}', arg2='{}'",
                        req.arg("arg1").unwrap_or_default(),
                        req.arg("arg2").unwrap_or_default()
                    )
                },
            )
            .description("A prompt with two arguments.")
            .required_argument("arg1", "First test argument")
            .required_argument("arg2", "Second test argument")
            .complete("arg1", |req| {
                prefix_matches(["test", "testing", "tested"], req)
            }),
        )
        .prompt(
            Prompt::new(
                "test_prompt_with_embedded_resource",
                |req: PromptRequest| async move {
                    let uri = req.arg("resourceUri").unwrap_or_default().to_owned();
                    vec![
                        PromptMessage::user(Content::embedded_text(
                            uri,
                            Some("text/plain"),
                            "Embedded resource content for testing.",
                        )),
                        PromptMessage::user_text("Please process the embedded resource above."),
                    ]
                },
            )
            .description("A prompt with an embedded resource.")
            .required_argument("resourceUri", "URI of the resource to embed"),
        )
        .prompt(
            Prompt::new("test_prompt_with_image", |_| async {
                vec![
                    PromptMessage::user(image()),
                    PromptMessage::user_text("Please analyze the image above."),
                ]
            })
            .description("A prompt with an image."),
        )
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let builder = with_prompts(with_resources(Conformance.into_mcp_builder()));
    let server = builder
        .build()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    server.listen().await
}
