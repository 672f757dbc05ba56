//! Servers built with `#[mcp_server]` and `#[mcp_tool]`, served on loopback:
//! the listing carries the generated schemas, scopes and annotations, and
//! calls run the functions with the right arguments and caller. Access rules
//! are enforced before a tool runs.
//!
//! Tokens here are minted and checked in-process by the testing kit
//! (`mcp_runtime::testing`), and calls go through its client: these tests are
//! about what the macros generate. Verification of real JWTs from a real
//! identity provider is tested with the resource server.

use mcp_runtime::BuildError;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::{
    ClientError, TestClient, TestIssuer, TestServer, TokenBuilder, ToolInfo,
};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// The identity provider of every server in this file.
fn issuer() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new().expect("a test issuer"))
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

#[mcp_server(name = "tasks", version = "1.2.3", title = "Tasks", oauth = custom(issuer().provider()))]
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

fn start_tasks() -> (TestServer, Arc<AtomicUsize>) {
    let deletions = Arc::new(AtomicUsize::new(0));
    let server = Tasks {
        deletions: Arc::clone(&deletions),
    }
    .into_mcp_builder()
    .stateless(true)
    .build()
    .expect("the tasks server builds");
    (
        TestServer::start(server).expect("the server starts"),
        deletions,
    )
}

/// Alice may do everything; bob may only read.
fn alice(server: &TestServer) -> TestClient {
    client_of(
        server,
        issuer()
            .token()
            .subject("alice")
            .email("alice@example.com")
            .scopes(["tasks:read", "tasks:write", "admin"])
            .roles(["ops"]),
    )
}

fn bob(server: &TestServer) -> TestClient {
    client_of(
        server,
        issuer().token().subject("bob").scopes(["tasks:read"]),
    )
}

/// The tests share one issuer and run in parallel: each token names its
/// server as the audience explicitly.
fn client_of(server: &TestServer, token: TokenBuilder) -> TestClient {
    let token = token.audience(server.url()).sign().expect("a signed token");
    server.client().with_token(token)
}

fn tool<'a>(tools: &'a [ToolInfo], name: &str) -> &'a ToolInfo {
    tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("tool `{name}` is listed"))
}

#[actix_web::test]
async fn listing_carries_generated_schemas_scopes_and_annotations() {
    let (server, _) = start_tasks();
    let tools = alice(&server).list_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["delete-task", "whoami", "create-task", "list-tasks"]
    );

    let delete = tool(&tools, "delete-task");
    assert_eq!(
        delete.description.as_deref(),
        Some("Delete a task.\n\nRequires scopes: tasks:write, admin.")
    );
    assert_eq!(
        delete.meta.as_ref().map(|m| &m["mcp-runtime/access"]),
        Some(&json!({"scopes": ["tasks:write", "admin"]}))
    );
    assert_eq!(delete.annotations, Some(json!({"destructiveHint": true})));
    let schema = &delete.input_schema;
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
    assert!(delete.output_schema.is_none());

    let whoami = tool(&tools, "whoami");
    assert_eq!(whoami.description.as_deref(), Some("Who is calling?"));
    assert!(
        whoami.meta.is_none(),
        "an open tool publishes no access rule"
    );
    assert_eq!(whoami.input_schema["type"], "object");
    assert!(
        whoami.input_schema["properties"]
            .as_object()
            .is_none_or(|p| p.is_empty()),
        "`Option<&Auth>` is not an argument"
    );

    let create = tool(&tools, "create-task");
    assert_eq!(
        create.description.as_deref(),
        Some(
            "Create a task.\n\nRequires one of the scopes: tasks:write, admin. Requires roles: ops."
        )
    );
    let props = &create.input_schema["properties"];
    assert_eq!(props["taskTitle"]["description"], "Short title.");
    assert!(props.get("title").is_none(), "renamed: {props}");
    assert_eq!(props["tags"]["type"], "array");
    assert_eq!(
        create.input_schema["required"],
        json!(["taskTitle", "tags"])
    );

    let list = tool(&tools, "list-tasks");
    assert_eq!(list.title.as_deref(), Some("List tasks"));
    assert_eq!(
        list.annotations,
        Some(
            json!({"title": "List tasks", "readOnlyHint": true, "idempotentHint": true, "openWorldHint": false})
        )
    );
    let output = list.output_schema.as_ref().expect("an output schema");
    assert_eq!(output["type"], "object");
    assert_eq!(output["properties"]["tasks"]["type"], "array");
}

#[actix_web::test]
async fn calls_run_the_function_with_its_arguments_and_caller() {
    let (server, deletions) = start_tasks();
    let alice = alice(&server);
    let result = alice
        .call_tool("delete-task", json!({"id": 7, "force": true}))
        .await
        .expect("delete-task");
    assert_eq!(result.text(), "alice deleted 7 (force: true)");
    assert_eq!(deletions.load(Ordering::SeqCst), 1);

    // An optional argument may be left out.
    let result = alice
        .call_tool("delete-task", json!({"id": 8}))
        .await
        .expect("delete-task");
    assert_eq!(result.text(), "alice deleted 8 (force: false)");

    let result = bob(&server).call_tool("whoami", ()).await.expect("whoami");
    assert_eq!(result.text(), "bob");

    let result = alice
        .call_tool(
            "create-task",
            json!({"taskTitle": "ship", "priority": "high", "tags": ["a", "b"]}),
        )
        .await
        .expect("create-task");
    assert_eq!(result.text(), "created ship Some(High) a,b");

    // The tool logs, so the answer may be an SSE stream: the kit reads either.
    #[derive(serde::Deserialize, PartialEq, Debug)]
    struct Listed {
        tasks: Vec<serde_json::Value>,
    }
    let listed: Listed = alice
        .call_tool_as("list-tasks", ())
        .await
        .expect("list-tasks");
    assert_eq!(
        listed,
        Listed {
            tasks: vec![json!({"id": 1, "title": "write tests"})]
        }
    );
}

#[actix_web::test]
async fn argument_errors_name_the_generated_field() {
    let (server, deletions) = start_tasks();
    let error = alice(&server)
        .call_tool("delete-task", json!({"id": "seven"}))
        .await
        .expect_err("a string is not a task id");
    let ClientError::ToolError(message) = error else {
        panic!("expected an error result: {error:?}");
    };
    assert!(message.contains("`id`"), "{message}");
    assert_eq!(deletions.load(Ordering::SeqCst), 0);
}

#[actix_web::test]
async fn a_missing_scope_is_refused_with_403_before_the_tool_runs() {
    let (server, deletions) = start_tasks();
    let bob = bob(&server);
    let error = bob
        .call_tool("delete-task", json!({"id": 7}))
        .await
        .expect_err("bob may not delete");
    let ClientError::Forbidden { challenge, scopes } = &error else {
        panic!("expected 403: {error:?}");
    };
    assert_eq!(scopes, &["tasks:write", "admin"]);
    assert!(
        challenge.starts_with(r#"Bearer error="insufficient_scope""#)
            && challenge.contains(r#"scope="tasks:write admin""#)
            && challenge.contains(r#"resource_metadata="http://"#),
        "{challenge}"
    );
    assert_eq!(deletions.load(Ordering::SeqCst), 0, "the tool must not run");

    // Roles are checked too: bob has a write scope nowhere and no role.
    let error = bob
        .call_tool("create-task", json!({"taskTitle": "x", "tags": []}))
        .await
        .expect_err("bob may not create");
    assert_eq!(error.status(), Some(403), "{error}");
}

#[actix_web::test]
async fn requests_without_a_valid_token_get_401() {
    let (server, _) = start_tasks();
    let error = server.client().list_tools().await.expect_err("no token");
    let ClientError::Unauthorized { challenge } = &error else {
        panic!("expected 401: {error:?}");
    };
    assert!(
        challenge.starts_with("Bearer resource_metadata=\"http://127.0.0.1:")
            && challenge.ends_with("/.well-known/oauth-protected-resource/mcp\""),
        "{challenge}"
    );

    let error = server
        .client()
        .with_token("forged-token-123")
        .list_tools()
        .await
        .expect_err("not a token");
    let challenge = error.challenge().unwrap_or_default();
    assert_eq!(error.status(), Some(401), "{error}");
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token""#),
        "{challenge}"
    );
    assert!(
        !challenge.contains("forged-token-123"),
        "the token is never echoed"
    );

    // A well-formed token from an untrusted key is refused the same way.
    let forged = issuer()
        .token()
        .subject("alice")
        .scopes(["admin"])
        .forged()
        .expect("a forged token");
    let error = client_of(&server, forged)
        .call_tool("whoami", ())
        .await
        .expect_err("forged");
    assert_eq!(
        error.challenge_param("error").as_deref(),
        Some("invalid_token")
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
    let server = TestServer::start(server).expect("the server starts");
    let result = server
        .client()
        .call_tool("add", json!({"a": 2, "b": 40}))
        .await
        .expect("add");
    assert_eq!(result.text(), "42");
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
