//! The fixture server the official MCP conformance suite expects: tools with
//! the suite's fixed names and contents, written with `#[mcp_server]`, plus
//! its resources, prompts and completions, registered on the builder.
//!
//! `PORT=3001 cargo run --example conformance`, then
//! `npx @modelcontextprotocol/conformance server --url http://127.0.0.1:3001/mcp`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use mcp_runtime::completion::prefix_matches;
use mcp_runtime::input::{ElicitAction, ElicitResult, InputRequests};
use mcp_runtime::prelude::*;
use serde_json::json;
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

/// Asks for a name under `key` and greets by it.
async fn greet_by_name(
    ctx: &RequestContext,
    key: &str,
    question: &str,
) -> Result<String, ToolError> {
    let answer = ctx.elicit(key, name_form(question)).await?;
    Ok(format!("Hello, {}!", answered_name(Some(&answer))))
}

/// A form asking for one required string, `name`.
fn name_form(question: &str) -> Elicitation {
    Elicitation::form(
        question,
        json!({
            "type": "object",
            "properties": { "name": { "type": "string" } },
            "required": ["name"]
        }),
    )
}

/// A form asking for one required boolean, `ok`.
fn confirm_form() -> Elicitation {
    Elicitation::form(
        "Please confirm",
        json!({
            "type": "object",
            "properties": { "ok": { "type": "boolean" } },
            "required": ["ok"]
        }),
    )
}

fn capital_question() -> SamplingRequest {
    SamplingRequest::new(100).user_text("What is the capital of France?")
}

fn answered_name(answer: Option<&ElicitResult>) -> String {
    answer
        .and_then(|a| a.content.as_ref())
        .and_then(|c| c.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("stranger")
        .to_owned()
}

fn action_name(action: ElicitAction) -> &'static str {
    match action {
        ElicitAction::Accept => "accept",
        ElicitAction::Decline => "decline",
        ElicitAction::Cancel => "cancel",
    }
}

/// Sends `requested_schema` as an elicitation and reports what came back.
async fn elicitation_report(
    ctx: &RequestContext,
    requested_schema: serde_json::Value,
) -> Result<String, ToolError> {
    let form = Elicitation::form("Please review and update the form fields", requested_schema);
    let answer = ctx.elicit("form", form).await?;
    Ok(format!(
        "Elicitation completed: action={}, content={}",
        action_name(answer.action),
        json!(answer.content)
    ))
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

    /// Asks the user for their name; on 2026-07-28 that is an
    /// input_required result, answered quickly.
    #[mcp_tool]
    async fn test_streaming_elicitation(ctx: &RequestContext) -> Result<String, ToolError> {
        greet_by_name(ctx, "user_name", "What is your name?").await
    }

    /// Asks the client's model to answer the prompt.
    #[mcp_tool]
    async fn test_sampling(
        ctx: &RequestContext,
        /// What to ask the model.
        prompt: String,
    ) -> Result<String, ToolError> {
        let request = SamplingRequest::new(100).user_text(prompt);
        let answer = ctx.create_message("sampling", request).await?;
        Ok(format!(
            "LLM response: {}",
            answer.text().unwrap_or_default()
        ))
    }

    /// Asks the user for a username and an email address.
    #[mcp_tool]
    async fn test_elicitation(
        ctx: &RequestContext,
        /// What to tell the user.
        message: String,
    ) -> Result<String, ToolError> {
        let form = Elicitation::form(
            message,
            json!({
                "type": "object",
                "properties": {
                    "username": { "type": "string", "description": "User's response" },
                    "email": { "type": "string", "description": "User's email address" }
                },
                "required": ["username", "email"]
            }),
        );
        let answer = ctx.elicit("user_info", form).await?;
        Ok(format!(
            "User response: action={}, content={}",
            action_name(answer.action),
            json!(answer.content)
        ))
    }

    /// Asks for values of every primitive type, each with a default (SEP-1034).
    #[mcp_tool]
    async fn test_elicitation_sep1034_defaults(ctx: &RequestContext) -> Result<String, ToolError> {
        elicitation_report(
            ctx,
            json!({
                "type": "object",
                "properties": {
                    "name": { "type": "string", "description": "User name", "default": "John Doe" },
                    "age": { "type": "integer", "description": "User age", "default": 30 },
                    "score": { "type": "number", "description": "User score", "default": 95.5 },
                    "status": {
                        "type": "string",
                        "description": "User status",
                        "enum": ["active", "inactive", "pending"],
                        "default": "active"
                    },
                    "verified": { "type": "boolean", "description": "Verification status", "default": true }
                }
            }),
        )
        .await
    }

    /// Asks with the five enum shapes of SEP-1330.
    #[mcp_tool]
    async fn test_elicitation_sep1330_enums(ctx: &RequestContext) -> Result<String, ToolError> {
        elicitation_report(
            ctx,
            json!({
                "type": "object",
                "properties": {
                    "untitledSingle": {
                        "type": "string",
                        "description": "Pick one",
                        "enum": ["option1", "option2", "option3"]
                    },
                    "titledSingle": {
                        "type": "string",
                        "description": "Pick one",
                        "oneOf": [
                            { "const": "value1", "title": "First Option" },
                            { "const": "value2", "title": "Second Option" },
                            { "const": "value3", "title": "Third Option" }
                        ]
                    },
                    "legacyEnum": {
                        "type": "string",
                        "description": "Pick one",
                        "enum": ["opt1", "opt2", "opt3"],
                        "enumNames": ["Option One", "Option Two", "Option Three"]
                    },
                    "untitledMulti": {
                        "type": "array",
                        "description": "Pick several",
                        "items": { "type": "string", "enum": ["option1", "option2", "option3"] }
                    },
                    "titledMulti": {
                        "type": "array",
                        "description": "Pick several",
                        "items": {
                            "anyOf": [
                                { "const": "value1", "title": "First Choice" },
                                { "const": "value2", "title": "Second Choice" },
                                { "const": "value3", "title": "Third Choice" }
                            ]
                        }
                    }
                }
            }),
        )
        .await
    }

    /// Asks the user for their name.
    #[mcp_tool]
    async fn test_input_required_result_elicitation(
        ctx: &RequestContext,
    ) -> Result<String, ToolError> {
        greet_by_name(ctx, "user_name", "What is your name?").await
    }

    /// Asks the client's model a question.
    #[mcp_tool]
    async fn test_input_required_result_sampling(
        ctx: &RequestContext,
    ) -> Result<String, ToolError> {
        let answer = ctx
            .create_message("capital_question", capital_question())
            .await?;
        Ok(format!(
            "The model says: {}",
            answer.text().unwrap_or_default()
        ))
    }

    /// Asks the client for its roots.
    #[mcp_tool]
    async fn test_input_required_result_list_roots(
        ctx: &RequestContext,
    ) -> Result<String, ToolError> {
        let roots = ctx.list_roots("client_roots").await?;
        Ok(format!("The client has {} root(s)", roots.len()))
    }

    /// Asks for a confirmation; the answer comes back with the signed state.
    #[mcp_tool]
    async fn test_input_required_result_request_state(
        ctx: &RequestContext,
    ) -> Result<String, ToolError> {
        let answer = ctx.elicit("confirm", confirm_form()).await?;
        Ok(format!(
            "Confirmed: action={} (state-ok)",
            action_name(answer.action)
        ))
    }

    /// Asks three questions at once.
    #[mcp_tool]
    async fn test_input_required_result_multiple_inputs(
        ctx: &RequestContext,
    ) -> Result<String, ToolError> {
        let answers = ctx
            .ask(
                InputRequests::new()
                    .elicit("user_name", name_form("What is your name?"))
                    .sample(
                        "greeting",
                        SamplingRequest::new(50).user_text("Write a short greeting."),
                    )
                    .list_roots("client_roots"),
            )
            .await?;
        let name = answered_name(answers.elicitation("user_name"));
        let roots = answers.roots("client_roots").map_or(0, <[_]>::len);
        Ok(format!("Hello, {name}! The client has {roots} root(s)."))
    }

    /// Asks two questions, one per round.
    #[mcp_tool]
    async fn test_input_required_result_multi_round(
        ctx: &RequestContext,
    ) -> Result<String, ToolError> {
        let name = ctx
            .elicit("step1", name_form("Step 1: What is your name?"))
            .await?;
        let color = ctx
            .elicit(
                "step2",
                Elicitation::form(
                    "Step 2: What is your favorite color?",
                    json!({
                        "type": "object",
                        "properties": { "color": { "type": "string" } },
                        "required": ["color"]
                    }),
                ),
            )
            .await?;
        Ok(format!(
            "{} likes {}",
            answered_name(Some(&name)),
            color
                .content
                .as_ref()
                .and_then(|c| c.get("color"))
                .and_then(|c| c.as_str())
                .unwrap_or("no color")
        ))
    }

    /// Asks for a confirmation; a retry with an altered state is refused by the runtime.
    #[mcp_tool]
    async fn test_input_required_result_tampered_state(
        ctx: &RequestContext,
    ) -> Result<String, ToolError> {
        let answer = ctx.elicit("confirm", confirm_form()).await?;
        Ok(format!("Confirmed: action={}", action_name(answer.action)))
    }

    /// Greets `name` at once, never as a task.
    #[mcp_tool]
    async fn greet(
        /// Who to greet.
        name: String,
    ) -> String {
        format!("Hello, {name}!")
    }

    /// Works `seconds` seconds, then says it is done: a task for clients
    /// that take tasks, a plain call for the others.
    #[mcp_tool(task = "optional")]
    async fn slow_compute(
        /// How long to work.
        seconds: f64,
        /// A name for the job.
        label: Option<String>,
    ) -> String {
        tokio::time::sleep(Duration::from_secs_f64(seconds.clamp(0.0, 3600.0))).await;
        format!(
            "computed {} in {seconds} s",
            label.as_deref().unwrap_or("the job")
        )
    }

    /// Works a second, then fails with a tool error; only ever a task.
    #[mcp_tool(task = "required")]
    async fn failing_job() -> Result<String, ToolError> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Err(ToolError::new("the job failed, as it always does"))
    }

    /// Fails outside its result (a protocol error): the task fails.
    #[mcp_tool(task = "optional")]
    async fn protocol_error_job() -> String {
        tokio::time::sleep(Duration::from_millis(200)).await;
        panic!("a protocol error, on purpose")
    }

    /// Asks the user to confirm before deleting `filename`.
    #[mcp_tool(task = "optional")]
    async fn confirm_delete(
        ctx: &RequestContext,
        /// The file to delete.
        filename: String,
    ) -> Result<String, ToolError> {
        let form = Elicitation::form(
            format!("Delete {filename}?"),
            json!({
                "type": "object",
                "properties": { "confirm": { "type": "boolean" } },
                "required": ["confirm"]
            }),
        );
        let answer = ctx.elicit("confirm", form).await?;
        let confirmed = answer
            .content
            .as_ref()
            .and_then(|c| c.get("confirm"))
            .and_then(serde_json::Value::as_bool)
            == Some(true);
        Ok(if answer.action == ElicitAction::Accept && confirmed {
            format!("deleted {filename}")
        } else {
            format!("kept {filename}")
        })
    }

    /// Asks two questions at once, and answers with both replies.
    #[mcp_tool(task = "optional")]
    async fn multi_input(ctx: &RequestContext) -> Result<String, ToolError> {
        let form = |question: &str| {
            Elicitation::form(
                question,
                json!({
                    "type": "object",
                    "properties": {
                        "name": { "type": "string" },
                        "confirm": { "type": "boolean" }
                    }
                }),
            )
        };
        let answers = ctx
            .ask(
                InputRequests::new()
                    .elicit("first", form("First?"))
                    .elicit("second", form("Second?")),
            )
            .await?;
        let name = |key: &str| answered_name(answers.elicitation(key));
        Ok(format!("got {} and {}", name("first"), name("second")))
    }

    /// Asks for a name in the request, then greets as a task: the
    /// questions come first (input_required rounds), the long part after.
    #[mcp_tool(task = "required", deferred_task)]
    async fn test_tool_with_task(ctx: &RequestContext) -> Result<String, ToolError> {
        let answer = ctx
            .elicit("user_name", name_form("What is your name?"))
            .await?;
        let name = answered_name(Some(&answer));
        let ctx = ctx.start_task().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        if ctx.is_cancelled() {
            return Err(ToolError::new("cancelled"));
        }
        Ok(format!("Hello, {name}!"))
    }

    /// Asks the user if the client can show forms, else its model.
    #[mcp_tool]
    async fn test_input_required_result_capabilities(
        ctx: &RequestContext,
    ) -> Result<String, ToolError> {
        if ctx.client_supports("elicitation") {
            return greet_by_name(ctx, "user_name", "What is your name?").await;
        }
        let answer = ctx
            .create_message("capital_question", capital_question())
            .await?;
        Ok(format!(
            "The model says: {}",
            answer.text().unwrap_or_default()
        ))
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
            Prompt::new(
                "test_input_required_result_prompt",
                |req: PromptRequest| async move {
                    let form = Elicitation::form(
                        "What context should the prompt use?",
                        json!({
                            "type": "object",
                            "properties": { "context": { "type": "string" } },
                            "required": ["context"]
                        }),
                    );
                    let answer = req.context().elicit("user_context", form).await?;
                    let context = answer
                        .content
                        .as_ref()
                        .and_then(|c| c.get("context"))
                        .and_then(|c| c.as_str())
                        .unwrap_or_default()
                        .to_owned();
                    Ok::<_, mcp_runtime::prompts::PromptError>(format!(
                        "Use this context: {context}"
                    ))
                },
            )
            .description("A prompt that asks the user for context first."),
        )
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

/// The suite's schema fixtures: a hand-written JSON Schema 2020-12 input
/// schema kept verbatim (`json-schema-2020-12`), and a tool whose `region`
/// argument is mirrored into `Mcp-Param-Region` (SEP-2243,
/// `http-custom-header-server-validation`).
fn with_schema_fixtures(builder: McpServerBuilder) -> McpServerBuilder {
    type Args = serde_json::Map<String, serde_json::Value>;
    builder
        .tool(
            Tool::new("json_schema_2020_12_tool", |args: Args| async move {
                format!("Received: {}", serde_json::Value::Object(args))
            })
            .description("Tool with JSON Schema 2020-12 features")
            .with_input_schema(serde_json::json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {
                    "address": {
                        "$anchor": "addressDef",
                        "type": "object",
                        "properties": {
                            "street": { "type": "string" },
                            "city": { "type": "string" }
                        }
                    }
                },
                "properties": {
                    "name": { "type": "string" },
                    "address": { "$ref": "#/$defs/address" },
                    "contactMethod": { "type": "string", "enum": ["phone", "email"] },
                    "phone": { "type": "string" },
                    "email": { "type": "string" }
                },
                "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
                "if": {
                    "properties": { "contactMethod": { "const": "phone" } },
                    "required": ["contactMethod"]
                },
                "then": { "required": ["phone"] },
                "else": { "required": ["email"] },
                "additionalProperties": false
            })),
        )
        .tool(
            Tool::new("test_custom_headers", |args: Args| async move {
                format!(
                    "Region: {}",
                    args.get("region").and_then(|r| r.as_str()).unwrap_or("")
                )
            })
            .description(
                "A tool whose region, priority and verbose arguments travel in Mcp-Param-* headers",
            )
            .with_input_schema(serde_json::json!({
                "type": "object",
                "properties": {
                    "region": { "type": "string", "description": "Where to run" },
                    "priority": { "type": "integer", "description": "Scheduling priority" },
                    "verbose": { "type": "boolean", "description": "Log more" },
                    "query": { "type": "string", "description": "Not mirrored" }
                },
                "required": ["region", "query"]
            }))
            .header_param("region", "Region")
            .header_param("priority", "Priority")
            .header_param("verbose", "Verbose"),
        )
}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    // Logs by RUST_LOG; spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    let _tracing = mcp_runtime::operations::init_tracing()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let builder =
        with_schema_fixtures(with_prompts(with_resources(Conformance.into_mcp_builder())));
    let server = with_change_triggers(builder)
        .build()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let _ = SERVER.set(server.clone());
    server.listen().await
}

/// The running server, for the tools that change what it serves.
static SERVER: std::sync::OnceLock<McpServer> = std::sync::OnceLock::new();

/// Tools that change the tool and prompt lists while the server runs, so
/// the suite sees the change announced on its `subscriptions/listen`
/// stream: each adds its item and takes it away again, so the lists end as
/// they were (and stay the same on every replica behind a balancer).
fn with_change_triggers(builder: McpServerBuilder) -> McpServerBuilder {
    builder
        .tool(
            Tool::new("test_trigger_tool_change", || async {
                let server = SERVER
                    .get()
                    .ok_or_else(|| ToolError::new("not serving yet"))?;
                server
                    .add_tool(Tool::new("test_transient_tool", || async {
                        "here for now"
                    }))
                    .map_err(|e| ToolError::new(e.to_string()))?;
                server.remove_tool("test_transient_tool");
                Ok::<_, ToolError>("the tool list changed")
            })
            .description("Adds test_transient_tool and takes it away again."),
        )
        .tool(
            Tool::new("test_trigger_prompt_change", || async {
                let server = SERVER
                    .get()
                    .ok_or_else(|| ToolError::new("not serving yet"))?;
                server
                    .add_prompt(Prompt::new("test_transient_prompt", |_| async {
                        "here for now"
                    }))
                    .map_err(|e| ToolError::new(e.to_string()))?;
                server.remove_prompt("test_transient_prompt");
                Ok::<_, ToolError>("the prompt list changed")
            })
            .description("Adds test_transient_prompt and takes it away again."),
        )
}
