//! Tools, resources and prompts added and removed while the server runs:
//! `McpServer::add_tool` / `remove_tool` (and `add_resource`,
//! `add_resource_template`, `remove_resource`, `add_prompt`,
//! `remove_prompt`), announced with `notifications/*/list_changed` on the
//! sessions' GET streams.

mod support;

use mcp_runtime::testing::{ClientError, TestClient, TestServer};

use mcp_runtime::prelude::*;
use mcp_runtime::tools::RegistryError;
use reqwest::StatusCode;
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
    let session = client.session_id().await.expect("a session id");
    let response = reqwest::Client::new()
        .get(client.url())
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", VERSION)
        .send()
        .await
        .expect("GET answers");
    assert_eq!(response.status(), StatusCode::OK, "GET stream status");
    Stream {
        response,
        buffer: String::new(),
    }
}

/// An open GET stream, read message by message.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    /// The next JSON-RPC message on the stream (keep-alive comments skipped).
    async fn next_message(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                while let Some(end) = self.buffer.find("\n\n") {
                    let event: String = self.buffer.drain(..end + 2).collect();
                    let data: Vec<&str> = event
                        .lines()
                        .filter_map(|line| line.strip_prefix("data:"))
                        .map(str::trim)
                        .collect();
                    if !data.is_empty() {
                        return serde_json::from_str(&data.join("\n"))
                            .unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {event}"));
                    }
                }
                let chunk = self
                    .response
                    .chunk()
                    .await
                    .expect("read the GET stream")
                    .expect("the GET stream stays open");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("a message on the GET stream within 10 s")
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
