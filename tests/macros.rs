//! Servers built with `#[mcp_server]` and `#[mcp_tool]`, served on loopback:
//! the listing carries the generated schemas, scopes and annotations, and
//! calls run the functions with the right arguments and caller. Access rules
//! are enforced before a tool runs.
//!
//! Tokens here are checked by a small in-process verifier: these tests are
//! about what the macros generate. Verification of real JWTs from a real
//! identity provider is tested with the resource server.

mod support;

use mcp_runtime::BuildError;
use mcp_runtime::auth::{AuthError, TokenVerifier, VerifyFuture};
use mcp_runtime::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Accepts two fixed tokens; refuses everything else.
struct FixedTokens;

impl TokenVerifier for FixedTokens {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(async move {
            let claims = match token {
                "token-alice" => json!({
                    "sub": "alice", "email": "alice@example.com",
                    "scope": "tasks:read tasks:write admin", "roles": ["ops"]
                }),
                "token-bob" => json!({ "sub": "bob", "scope": "tasks:read" }),
                _ => return Err(AuthError::InvalidToken("token not recognized".into())),
            };
            let claims = claims.as_object().cloned().unwrap_or_default();
            Ok(Auth::from_claims(token, claims))
        })
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct TaskId(u64);

/// Priority of a new task.
#[derive(serde::Deserialize, schemars::JsonSchema, Debug)]
#[serde(rename_all = "lowercase")]
enum Priority {
    Low,
    High,
}

/// A task as returned by `list-tasks`.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct TaskView {
    id: u64,
    title: String,
}

/// The output of `list-tasks`: structured content is always an object.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct TaskList {
    tasks: Vec<TaskView>,
}

struct Tasks {
    deletions: Arc<AtomicUsize>,
}

#[mcp_server(name = "tasks", version = "1.2.3", title = "Tasks", oauth = custom(FixedTokens))]
impl Tasks {
    /// Delete a task.
    #[mcp_tool(name = "delete-task", scopes = ["tasks:write", "admin"], destructive)]
    async fn delete_task(
        &self,
        auth: &Auth,
        /// The task to delete.
        id: TaskId,
        force: Option<bool>,
    ) -> Result<String, ToolError> {
        self.deletions.fetch_add(1, Ordering::SeqCst);
        Ok(format!(
            "{} deleted {} (force: {})",
            auth.user.user_id,
            id.0,
            force.unwrap_or(false)
        ))
    }

    /// Who is calling?
    #[mcp_tool(read_only)]
    async fn whoami(auth: Option<&Auth>) -> String {
        auth.map_or_else(|| "nobody".to_owned(), |a| a.user.user_id.clone())
    }

    /// Create a task.
    #[mcp_tool(name = "create-task", any_scope = ["tasks:write", "admin"], roles = "ops")]
    async fn create_task(
        &self,
        #[arg(description = "Short title.", rename = "taskTitle")] title: String,
        priority: Option<Priority>,
        tags: Vec<String>,
    ) -> String {
        format!("created {title} {priority:?} {}", tags.join(","))
    }

    /// List tasks.
    #[mcp_tool(
        name = "list-tasks",
        title = "List tasks",
        read_only,
        idempotent,
        open_world = false
    )]
    async fn list_tasks(&self, ctx: RequestContext) -> Json<TaskList> {
        ctx.log(LoggingLevel::Info, None, "listing").await;
        Json(TaskList {
            tasks: vec![TaskView {
                id: 1,
                title: "write tests".into(),
            }],
        })
    }
}

fn start_tasks() -> (support::TestServer, Arc<AtomicUsize>) {
    let deletions = Arc::new(AtomicUsize::new(0));
    let server = Tasks {
        deletions: Arc::clone(&deletions),
    }
    .into_mcp_builder()
    .stateless(true)
    .build()
    .expect("the tasks server builds");
    (support::start(server), deletions)
}

struct Reply {
    status: u16,
    challenge: Option<String>,
    body: Value,
    text: String,
}

async fn rpc(url: &str, token: Option<&str>, method: &str, params: Value) -> Reply {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ASCII challenge").to_owned());
    let text = response.text().await.expect("a body");
    // A tool that logs answers with an SSE stream; the response is its last event.
    let json_text = if text.starts_with("event:") || text.starts_with("data:") {
        text.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .rfind(|d| d.contains("\"id\""))
            .unwrap_or_default()
    } else {
        &text
    };
    let body = serde_json::from_str(json_text).unwrap_or(Value::Null);
    Reply {
        status,
        challenge,
        body,
        text,
    }
}

async fn list_tools(url: &str, token: &str) -> Vec<Value> {
    let reply = rpc(url, Some(token), "tools/list", json!({})).await;
    assert_eq!(reply.status, 200, "tools/list: {}", reply.text);
    reply.body["result"]["tools"]
        .as_array()
        .cloned()
        .expect("a tools array")
}

fn tool<'a>(tools: &'a [Value], name: &str) -> &'a Value {
    tools
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("tool `{name}` is listed"))
}

#[actix_web::test]
async fn listing_carries_generated_schemas_scopes_and_annotations() {
    let (server, _) = start_tasks();
    let tools = list_tools(&server.url, "token-alice").await;
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        ["delete-task", "whoami", "create-task", "list-tasks"]
    );

    let delete = tool(&tools, "delete-task");
    assert_eq!(
        delete["description"],
        "Delete a task.\n\nRequires scopes: tasks:write, admin."
    );
    assert_eq!(
        delete["_meta"]["mcp-runtime/access"],
        json!({"scopes": ["tasks:write", "admin"]})
    );
    assert_eq!(delete["annotations"], json!({"destructiveHint": true}));
    let schema = &delete["inputSchema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["id"]));
    assert_eq!(
        schema["properties"]["id"]["description"],
        "The task to delete."
    );
    assert_eq!(schema["properties"]["id"]["$ref"], "#/$defs/TaskId");
    assert_eq!(schema["$defs"]["TaskId"]["type"], "integer");
    assert!(
        schema["properties"]["force"].is_object(),
        "optional argument listed: {schema}"
    );
    assert!(delete.get("outputSchema").is_none());

    let whoami = tool(&tools, "whoami");
    assert_eq!(whoami["description"], "Who is calling?");
    assert!(
        whoami.get("_meta").is_none(),
        "an open tool publishes no access rule"
    );
    assert_eq!(whoami["inputSchema"]["type"], "object");
    assert!(
        whoami["inputSchema"]["properties"]
            .as_object()
            .is_none_or(|p| p.is_empty()),
        "`Option<&Auth>` is not an argument"
    );

    let create = tool(&tools, "create-task");
    assert_eq!(
        create["description"],
        "Create a task.\n\nRequires one of the scopes: tasks:write, admin. Requires roles: ops."
    );
    let props = &create["inputSchema"]["properties"];
    assert_eq!(props["taskTitle"]["description"], "Short title.");
    assert!(props.get("title").is_none(), "renamed: {props}");
    assert_eq!(props["tags"]["type"], "array");
    assert_eq!(
        create["inputSchema"]["required"],
        json!(["taskTitle", "tags"])
    );

    let list = tool(&tools, "list-tasks");
    assert_eq!(list["title"], "List tasks");
    assert_eq!(
        list["annotations"],
        json!({"title": "List tasks", "readOnlyHint": true, "idempotentHint": true, "openWorldHint": false})
    );
    assert_eq!(list["outputSchema"]["type"], "object");
    assert_eq!(list["outputSchema"]["properties"]["tasks"]["type"], "array");
}

#[actix_web::test]
async fn calls_run_the_function_with_its_arguments_and_caller() {
    let (server, deletions) = start_tasks();
    let reply = rpc(
        &server.url,
        Some("token-alice"),
        "tools/call",
        json!({"name": "delete-task", "arguments": {"id": 7, "force": true}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.body["result"]["content"][0]["text"],
        "alice deleted 7 (force: true)"
    );
    assert_eq!(deletions.load(Ordering::SeqCst), 1);

    // An optional argument may be left out.
    let reply = rpc(
        &server.url,
        Some("token-alice"),
        "tools/call",
        json!({"name": "delete-task", "arguments": {"id": 8}}),
    )
    .await;
    assert_eq!(
        reply.body["result"]["content"][0]["text"], "alice deleted 8 (force: false)",
        "{}",
        reply.text
    );

    let reply = rpc(
        &server.url,
        Some("token-bob"),
        "tools/call",
        json!({"name": "whoami", "arguments": {}}),
    )
    .await;
    assert_eq!(
        reply.body["result"]["content"][0]["text"], "bob",
        "{}",
        reply.text
    );

    let reply = rpc(
        &server.url,
        Some("token-alice"),
        "tools/call",
        json!({"name": "create-task", "arguments": {"taskTitle": "ship", "priority": "high", "tags": ["a", "b"]}}),
    )
    .await;
    assert_eq!(
        reply.body["result"]["content"][0]["text"], "created ship Some(High) a,b",
        "{}",
        reply.text
    );

    let reply = rpc(
        &server.url,
        Some("token-alice"),
        "tools/call",
        json!({"name": "list-tasks"}),
    )
    .await;
    assert_eq!(
        reply.body["result"]["structuredContent"],
        json!({"tasks": [{"id": 1, "title": "write tests"}]}),
        "{}",
        reply.text
    );
}

#[actix_web::test]
async fn argument_errors_name_the_generated_field() {
    let (server, deletions) = start_tasks();
    let reply = rpc(
        &server.url,
        Some("token-alice"),
        "tools/call",
        json!({"name": "delete-task", "arguments": {"id": "seven"}}),
    )
    .await;
    assert_eq!(reply.body["result"]["isError"], true, "{}", reply.text);
    let message = reply.body["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("`id`"), "{message}");
    assert_eq!(deletions.load(Ordering::SeqCst), 0);
}

#[actix_web::test]
async fn a_missing_scope_is_refused_with_403_before_the_tool_runs() {
    let (server, deletions) = start_tasks();
    let reply = rpc(
        &server.url,
        Some("token-bob"),
        "tools/call",
        json!({"name": "delete-task", "arguments": {"id": 7}}),
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    let challenge = reply.challenge.unwrap_or_default();
    assert!(
        challenge.starts_with(r#"Bearer error="insufficient_scope""#)
            && challenge.contains(r#"scope="tasks:write admin""#)
            && challenge.contains(r#"resource_metadata="http://"#),
        "{challenge}"
    );
    assert_eq!(deletions.load(Ordering::SeqCst), 0, "the tool must not run");

    // Roles are checked too: bob has a write scope nowhere and no role.
    let reply = rpc(
        &server.url,
        Some("token-bob"),
        "tools/call",
        json!({"name": "create-task", "arguments": {"taskTitle": "x", "tags": []}}),
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.text);
}

#[actix_web::test]
async fn requests_without_a_valid_token_get_401() {
    let (server, _) = start_tasks();
    let reply = rpc(&server.url, None, "tools/list", json!({})).await;
    assert_eq!(reply.status, 401, "{}", reply.text);
    let challenge = reply.challenge.unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer resource_metadata=\"http://127.0.0.1:")
            && challenge.ends_with("/.well-known/oauth-protected-resource/mcp\""),
        "{challenge}"
    );

    let reply = rpc(
        &server.url,
        Some("forged-token-123"),
        "tools/list",
        json!({}),
    )
    .await;
    assert_eq!(reply.status, 401);
    let challenge = reply.challenge.unwrap_or_default();
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token""#),
        "{challenge}"
    );
    assert!(
        !reply.text.contains("forged-token-123") && !challenge.contains("forged-token-123"),
        "the token is never echoed"
    );
}

/// Adds two numbers.
#[mcp_tool(read_only)]
async fn add(
    /// First addend.
    a: i64,
    /// Second addend.
    b: i64,
) -> String {
    (a + b).to_string()
}

/// Needs a scope, so it cannot be served without authentication.
#[mcp_tool(scopes = "admin")]
async fn reset() -> &'static str {
    "reset"
}

#[actix_web::test]
async fn free_function_tools_register_through_the_builder() {
    assert_eq!(add::call(2, 3).await, "5", "the function stays callable");
    let server = McpServer::builder("calc", "1.0.0")
        .tool(add)
        .stateless(true)
        .build()
        .expect("builds");
    let server = support::start(server);
    let reply = rpc(
        &server.url,
        None,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 2, "b": 40}}),
    )
    .await;
    assert_eq!(
        reply.body["result"]["content"][0]["text"], "42",
        "{}",
        reply.text
    );
}

#[test]
fn servers_that_could_never_run_a_tool_do_not_build() {
    let error = McpServer::builder("calc", "1.0.0")
        .tool(reset)
        .build()
        .expect_err("a scoped tool without authentication");
    assert!(
        matches!(&error, BuildError::UnreachableTools(names) if names == &["reset".to_owned()]),
        "{error}"
    );

    struct Hosted;
    #[mcp_server(oauth = keycloak)]
    impl Hosted {
        #[mcp_tool]
        async fn ping() -> &'static str {
            "pong"
        }
    }
    // Nothing in this test process sets the provider's variables.
    let error = Hosted
        .into_mcp_server()
        .expect_err("keycloak needs its settings");
    let text = error.to_string();
    assert!(
        text.contains("MCP_USE_OAUTH_KEYCLOAK_SERVER_URL=https://keycloak.example.com"),
        "the error names the variable and shows an example: {text}"
    );
}

#[test]
fn defaults_come_from_the_crate() {
    struct Plain;
    #[mcp_server]
    impl Plain {}
    let server = Plain.into_mcp_server().expect("builds");
    assert_eq!(server.info().name, env!("CARGO_PKG_NAME"));
    assert_eq!(server.info().version, env!("CARGO_PKG_VERSION"));
}
