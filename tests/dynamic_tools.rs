//! Tools, resources and prompts added and removed while the server runs:
//! `McpServer::add_tool` / `remove_tool` (and `add_resource`,
//! `add_resource_template`, `remove_resource`, `add_prompt`,
//! `remove_prompt`), announced with `notifications/*/list_changed` on the
//! sessions' GET streams and on the 2026-07-28 `subscriptions/listen`
//! streams that asked for them.

mod support;

use mcp_runtime::testing::{ClientError, NotificationStream, TestClient, TestServer};

use mcp_runtime::prelude::*;
use mcp_runtime::tools::RegistryError;
use serde_json::{Value, json};
use std::time::Duration;

const VERSION: &str = "2025-11-25";
const INVALID_PARAMS: i64 = -32602;

/// Arguments of `echo`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    text: String,
}

fn server() -> McpServer {
    McpServer::builder("dynamic-test", "1.0.0")
        .tool(Tool::new("fixed", || async { "fixed" }))
        .build()
        .expect("valid server")
}

/// The names of the tools `client` is offered.
async fn tool_names(client: &TestClient) -> Vec<String> {
    let tools = client.list_tools().await.expect("tools/list answers");
    tools.into_iter().map(|tool| tool.name).collect()
}

/// The JSON-RPC error code `client`'s `method` request is refused with.
async fn rpc_error(client: &TestClient, method: &str, params: Value) -> i64 {
    match client.rpc(method, params).await {
        Err(ClientError::Rpc { code, .. }) => code,
        other => panic!("{method}: expected a JSON-RPC error, got {other:?}"),
    }
}

/// Opens the GET stream of `client`'s session (after its handshake).
async fn open_stream(client: &TestClient) -> Stream {
    Stream(client.notifications().await.expect("a GET stream"))
}

/// An open notification stream, read message by message.
struct Stream(NotificationStream);

impl Stream {
    /// The next JSON-RPC message on the stream (keep-alive comments skipped).
    async fn next_message(&mut self) -> Value {
        self.0
            .next(Duration::from_secs(10))
            .await
            .expect("a message on the stream within 10 s")
    }
}

#[tokio::test]
async fn added_and_removed_tools_are_announced_listed_and_callable() {
    let server = server();
    let handle = server.clone();
    let running = TestServer::start(server).expect("the server starts");

    let session = running.client();
    let initialize = session.initialize().await.expect("initialize").capabilities;
    assert_eq!(
        initialize["tools"]["listChanged"],
        json!(true),
        "capabilities: {initialize}"
    );
    let mut stream = open_stream(&session).await;
    assert_eq!(tool_names(&session).await, ["fixed"]);

    handle
        .add_tool(Tool::new("echo", |args: EchoArgs| async move { args.text }))
        .expect("a valid tool is added");
    let message = stream.next_message().await;
    assert_eq!(message["method"], "notifications/tools/list_changed");
    assert!(message.get("id").is_none(), "a notification: {message}");
    assert_eq!(tool_names(&session).await, ["fixed", "echo"]);
    assert_eq!(handle.tool_names(), ["fixed", "echo"]);
    let reply = session
        .call_tool("echo", json!({ "text": "hi" }))
        .await
        .expect("echo runs");
    assert_eq!(
        json!(reply.content),
        json!([{ "type": "text", "text": "hi" }]),
        "{reply:?}"
    );

    assert!(handle.remove_tool("echo"), "echo was there");
    let message = stream.next_message().await;
    assert_eq!(message["method"], "notifications/tools/list_changed");
    assert_eq!(tool_names(&session).await, ["fixed"]);
    // The client takes only the answer to its own request id.
    let code = rpc_error(
        &session,
        "tools/call",
        json!({ "name": "echo", "arguments": { "text": "hi" } }),
    )
    .await;
    assert_eq!(code, INVALID_PARAMS);

    // Nothing removed, nothing announced: the next message is the next change.
    assert!(!handle.remove_tool("echo"), "echo is gone");
    handle
        .add_tool(Tool::new("again", || async { "again" }))
        .expect("a valid tool is added");
    let message = stream.next_message().await;
    assert_eq!(message["method"], "notifications/tools/list_changed");
    assert_eq!(tool_names(&session).await, ["fixed", "again"]);
    let reply = session.call_tool("fixed", ()).await.expect("fixed runs");
    assert_eq!(
        json!(reply.content),
        json!([{ "type": "text", "text": "fixed" }]),
        "{reply:?}"
    );
}

#[tokio::test]
async fn invalid_tools_are_refused_and_nothing_changes() {
    let server = server();
    let handle = server.clone();
    let running = TestServer::start(server).expect("the server starts");
    let session = running.client();

    assert_eq!(
        handle.add_tool(Tool::new("fixed", || async { "twin" })),
        Err(RegistryError::DuplicateName("fixed".into()))
    );
    assert_eq!(
        handle.add_tool(Tool::new("bad name", || async { "x" })),
        Err(RegistryError::InvalidName("bad name".into()))
    );
    assert_eq!(
        handle.add_tool(Tool::new("", || async { "x" })),
        Err(RegistryError::InvalidName(String::new()))
    );
    // A tool only an authenticated caller could use, on a server without OAuth.
    assert_eq!(
        handle.add_tool(Tool::new("secret", || async { "x" }).scopes(["admin"])),
        Err(RegistryError::Unreachable("secret".into()))
    );
    assert_eq!(handle.tool_names(), ["fixed"]);
    assert_eq!(tool_names(&session).await, ["fixed"]);
}

#[test]
fn stateless_servers_do_not_advertise_list_changed_but_still_change() {
    let server = McpServer::builder("dynamic-test", "1.0.0")
        .stateless(true)
        .build()
        .expect("valid server");
    let handle = server.clone();
    let running = TestServer::start(server).expect("the server starts");
    handle
        .add_tool(Tool::new("late", || async { "late" }))
        .expect("added without any session");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let client = running.client().stateless();
        let result = client
            .rpc(
                "initialize",
                json!({
                    "protocolVersion": VERSION,
                    "capabilities": {},
                    "clientInfo": { "name": "c", "version": "1" }
                }),
            )
            .await
            .expect("initialize answers");
        assert!(
            result["capabilities"]["tools"].get("listChanged").is_none(),
            "no GET stream, no listChanged: {result}"
        );
        let reply = client.call_tool("late", ()).await.expect("late runs");
        assert_eq!(
            json!(reply.content),
            json!([{ "type": "text", "text": "late" }]),
            "{reply:?}"
        );
    });
}

#[tokio::test]
async fn resources_and_prompts_change_at_run_time_and_are_announced() {
    let server = McpServer::builder("dynamic-test", "1.0.0")
        .resource(Resource::new("notes://index", |_| async { "index" }).name("index"))
        .prompt(Prompt::new("hello", |_| async { "Hello!" }))
        .build()
        .expect("valid server");
    let handle = server.clone();
    let running = TestServer::start(server).expect("the server starts");
    let session = running.client();
    let initialize = session.initialize().await.expect("initialize").capabilities;
    assert_eq!(
        initialize["resources"]["listChanged"],
        json!(true),
        "{initialize}"
    );
    assert_eq!(
        initialize["prompts"]["listChanged"],
        json!(true),
        "{initialize}"
    );
    let mut stream = open_stream(&session).await;
    let uris = |reply: &Value| -> Vec<String> {
        reply["resources"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|r| r["uri"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };

    handle
        .add_resource(Resource::new("notes://late", |_| async { "late" }).name("late"))
        .expect("a new resource");
    assert_eq!(
        stream.next_message().await["method"],
        "notifications/resources/list_changed"
    );
    let listed = session
        .rpc("resources/list", json!({}))
        .await
        .expect("resources/list");
    assert_eq!(uris(&listed), ["notes://index", "notes://late"]);
    let read = session
        .read_resource("notes://late")
        .await
        .expect("resources/read");
    assert_eq!(read.contents[0]["text"], "late", "{read:?}");

    handle
        .add_resource_template(ResourceTemplate::new("notes://{id}/text", |r: ResourceRequest| async move {
            format!("note {}", r.param("id").unwrap_or_default())
        }))
        .expect("a new template");
    assert_eq!(
        stream.next_message().await["method"],
        "notifications/resources/list_changed"
    );
    let read = session
        .read_resource("notes://7/text")
        .await
        .expect("resources/read");
    assert_eq!(read.contents[0]["text"], "note 7", "{read:?}");

    handle
        .add_prompt(Prompt::new("bye", |_| async { "Bye!" }))
        .expect("a new prompt");
    assert_eq!(
        stream.next_message().await["method"],
        "notifications/prompts/list_changed"
    );
    let got = session.get_prompt("bye", ()).await.expect("prompts/get");
    assert_eq!(got.messages[0]["content"]["text"], "Bye!", "{got:?}");

    // A clash changes nothing and announces nothing.
    assert!(
        handle
            .add_resource(Resource::new("notes://late", |_| async { "twin" }))
            .is_err()
    );
    assert!(
        handle
            .add_prompt(Prompt::new("bye", |_| async { "twin" }))
            .is_err()
    );
    // Access rules on a server without OAuth could never be met.
    assert!(
        handle
            .add_prompt(Prompt::new("secret", |_| async { "x" }).scopes(["admin"]))
            .is_err()
    );

    assert!(handle.remove_resource("notes://late"));
    assert_eq!(
        stream.next_message().await["method"],
        "notifications/resources/list_changed"
    );
    assert!(handle.remove_prompt("bye"));
    assert_eq!(
        stream.next_message().await["method"],
        "notifications/prompts/list_changed"
    );
    assert!(!handle.remove_prompt("bye"), "already gone");
    let listed = session
        .rpc("resources/list", json!({}))
        .await
        .expect("resources/list");
    assert_eq!(uris(&listed), ["notes://index"]);
    let gone = rpc_error(&session, "prompts/get", json!({"name": "bye"})).await;
    assert_eq!(gone, INVALID_PARAMS);
}

/// The `_meta` subscription id a listen stream's message carries.
fn subscription_of(message: &Value) -> &Value {
    &message["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"]
}

#[tokio::test]
async fn listen_streams_get_what_they_asked_for_in_any_session_mode() {
    for stateless in [false, true] {
        let server = McpServer::builder("dynamic-test", "1.0.0")
            .resource(Resource::new("notes://index", |_| async { "index" }).name("index"))
            .stateless(stateless)
            .build()
            .expect("valid server");
        let handle = server.clone();
        let running = TestServer::start(server).expect("the server starts");
        let client = running.client();
        let discovered = client
            .raw("POST")
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "server/discover")
            .body(
                json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {}
                }}})
                .to_string(),
            )
            .send()
            .await
            .expect("server/discover")
            .rpc()
            .expect("a result");
        let capabilities = &discovered["result"]["capabilities"];
        assert_eq!(capabilities["tools"]["listChanged"], true, "{capabilities}");
        assert_eq!(
            capabilities["resources"]["listChanged"], true,
            "{capabilities}"
        );
        assert_eq!(
            capabilities["resources"]["subscribe"], true,
            "{capabilities}"
        );

        let mut tools = client
            .listen(json!({"toolsListChanged": true}))
            .await
            .expect("a listen stream");
        let mut notes = client
            .listen(json!({
                "resourceSubscriptions": ["notes://index", "notes://index"],
                "resourcesListChanged": true,
                // No prompts here: not agreed.
                "promptsListChanged": true
            }))
            .await
            .expect("a listen stream");
        assert_eq!(
            notes.agreed(),
            Some(
                &json!({"resourceSubscriptions": ["notes://index"], "resourcesListChanged": true})
            )
        );

        handle
            .add_tool(Tool::new("late", || async { "late" }))
            .expect("added");
        handle.notify_resource_updated("notes://elsewhere");
        handle.notify_resource_updated("notes://index");
        let changed = tools.next(Duration::from_secs(10)).await.expect("told");
        assert_eq!(changed["method"], "notifications/tools/list_changed");
        let updated = notes.next(Duration::from_secs(10)).await.expect("told");
        // Neither the tool change nor another resource's update: the first
        // message on this stream is its own resource's.
        assert_eq!(
            updated["method"], "notifications/resources/updated",
            "{updated}"
        );
        assert_eq!(updated["params"]["uri"], "notes://index", "{updated}");
        assert_ne!(
            subscription_of(&changed),
            subscription_of(&updated),
            "each stream carries its own request's id"
        );
        assert!(!subscription_of(&updated).is_null(), "{updated}");

        // Closing a stream ends its subscription; the other goes on.
        drop(tools);
        handle
            .add_resource(Resource::new("notes://late", |_| async { "late" }).name("late"))
            .expect("added");
        let listed = notes.next(Duration::from_secs(10)).await.expect("told");
        assert_eq!(listed["method"], "notifications/resources/list_changed");
    }
}

#[tokio::test]
async fn a_listen_request_that_cannot_be_served_is_refused_with_a_reason() {
    let server = server();
    let handle = server.clone();
    let running = TestServer::start(server).expect("the server starts");
    let client = running.client();
    let too_long = "x".repeat(2049);
    for (filter, code) in [
        (json!({"resourceSubscriptions": [too_long]}), INVALID_PARAMS),
        (json!({"toolsListChanged": "yes"}), INVALID_PARAMS),
        (
            json!({"taskIds": (0..101).map(|i| i.to_string()).collect::<Vec<_>>()}),
            INVALID_PARAMS,
        ),
    ] {
        match client.listen(filter.clone()).await {
            Err(ClientError::Rpc { code: got, .. }) => assert_eq!(got, code, "{filter}"),
            other => panic!("{filter}: expected a JSON-RPC error, got {other:?}"),
        }
    }
    // Anonymous callers cannot be told apart, so none ends another's
    // stream: forty stay open side by side (the per-caller bound is for
    // authenticated callers, see tests/tasks.rs).
    let mut held = Vec::new();
    for _ in 0..40 {
        held.push(
            client
                .listen(json!({"toolsListChanged": true}))
                .await
                .expect("a listen stream"),
        );
    }
    handle
        .add_tool(Tool::new("late", || async { "late" }))
        .expect("added");
    for stream in &mut held {
        let told = stream.next(Duration::from_secs(10)).await.expect("told");
        assert_eq!(told["method"], "notifications/tools/list_changed");
    }
}
