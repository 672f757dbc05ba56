//! Tools, resources and prompts added and removed while the server runs:
//! `McpServer::add_tool` / `remove_tool` (and `add_resource`,
//! `add_resource_template`, `remove_resource`, `add_prompt`,
//! `remove_prompt`), announced with `notifications/*/list_changed` on the
//! sessions' GET streams.

mod support;

use mcp_runtime::testing::TestServer;

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

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the HTTP client")
}

fn server() -> McpServer {
    McpServer::builder("dynamic-test", "1.0.0")
        .tool(Tool::new("fixed", || async { "fixed" }))
        .build()
        .expect("valid server")
}

/// A session on a running server.
struct Session {
    http: reqwest::Client,
    url: String,
    id: String,
}

impl Session {
    /// Runs the handshake; returns the session and the `initialize` result.
    async fn open(url: &str) -> (Self, Value) {
        let http = client();
        let reply = http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(
                json!({
                    "jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {
                        "protocolVersion": VERSION,
                        "capabilities": {},
                        "clientInfo": { "name": "dynamic-test-client", "version": "1" }
                    }
                })
                .to_string(),
            )
            .send()
            .await
            .expect("initialize answers");
        assert_eq!(reply.status(), StatusCode::OK, "initialize status");
        let id = reply
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .expect("a session id")
            .to_owned();
        let body = reply.text().await.expect("initialize body");
        let initialize = rpc_of(&body);
        let session = Self {
            http,
            url: url.to_owned(),
            id,
        };
        let ack = session
            .post(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .await;
        assert_eq!(ack.0, StatusCode::ACCEPTED, "initialized: {}", ack.1);
        (session, initialize["result"].clone())
    }

    async fn post(&self, body: Value) -> (StatusCode, String) {
        let reply = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", VERSION)
            .body(body.to_string())
            .send()
            .await
            .expect("the server answers");
        let status = reply.status();
        (status, reply.text().await.expect("read the body"))
    }

    async fn request(&self, id: i64, method: &str, params: Value) -> Value {
        let (status, body) = self
            .post(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        assert_eq!(status, StatusCode::OK, "{method}: {body}");
        rpc_of(&body)
    }

    async fn tool_names(&self, id: i64) -> Vec<String> {
        let reply = self.request(id, "tools/list", json!({})).await;
        reply["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("tools/list: {reply}"))
            .iter()
            .map(|t| t["name"].as_str().expect("a tool name").to_owned())
            .collect()
    }

    /// Opens the session's GET stream.
    async fn open_stream(&self) -> Stream {
        let response = self
            .http
            .get(&self.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &self.id)
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
}

/// A JSON-RPC message from a JSON or SSE body.
fn rpc_of(body: &str) -> Value {
    let data = body
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .next_back()
        .unwrap_or(body);
    serde_json::from_str(data.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): `{body}`"))
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

    let (session, initialize) = Session::open(running.url()).await;
    assert_eq!(
        initialize["capabilities"]["tools"]["listChanged"],
        json!(true),
        "capabilities: {initialize}"
    );
    let mut stream = session.open_stream().await;
    assert_eq!(session.tool_names(2).await, ["fixed"]);

    handle
        .add_tool(Tool::new("echo", |args: EchoArgs| async move { args.text }))
        .expect("a valid tool is added");
    let message = stream.next_message().await;
    assert_eq!(message["method"], "notifications/tools/list_changed");
    assert!(message.get("id").is_none(), "a notification: {message}");
    assert_eq!(session.tool_names(3).await, ["fixed", "echo"]);
    assert_eq!(handle.tool_names(), ["fixed", "echo"]);
    let reply = session
        .request(
            4,
            "tools/call",
            json!({ "name": "echo", "arguments": { "text": "hi" } }),
        )
        .await;
    assert_eq!(
        reply["result"]["content"],
        json!([{ "type": "text", "text": "hi" }]),
        "{reply}"
    );

    assert!(handle.remove_tool("echo"), "echo was there");
    let message = stream.next_message().await;
    assert_eq!(message["method"], "notifications/tools/list_changed");
    assert_eq!(session.tool_names(5).await, ["fixed"]);
    let reply = session
        .request(
            6,
            "tools/call",
            json!({ "name": "echo", "arguments": { "text": "hi" } }),
        )
        .await;
    assert_eq!(reply["error"]["code"], INVALID_PARAMS, "{reply}");
    assert_eq!(reply["id"], 6);

    // Nothing removed, nothing announced: the next message is the next change.
    assert!(!handle.remove_tool("echo"), "echo is gone");
    handle
        .add_tool(Tool::new("again", || async { "again" }))
        .expect("a valid tool is added");
    let message = stream.next_message().await;
    assert_eq!(message["method"], "notifications/tools/list_changed");
    assert_eq!(session.tool_names(7).await, ["fixed", "again"]);
    let reply = session
        .request(8, "tools/call", json!({ "name": "fixed", "arguments": {} }))
        .await;
    assert_eq!(
        reply["result"]["content"],
        json!([{ "type": "text", "text": "fixed" }]),
        "{reply}"
    );
}

#[tokio::test]
async fn invalid_tools_are_refused_and_nothing_changes() {
    let server = server();
    let handle = server.clone();
    let running = TestServer::start(server).expect("the server starts");
    let (session, _) = Session::open(running.url()).await;

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
    assert_eq!(session.tool_names(2).await, ["fixed"]);
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
        let reply = client()
            .post(running.url())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(
                json!({
                    "jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {
                        "protocolVersion": VERSION,
                        "capabilities": {},
                        "clientInfo": { "name": "c", "version": "1" }
                    }
                })
                .to_string(),
            )
            .send()
            .await
            .expect("initialize answers");
        let result = rpc_of(&reply.text().await.expect("body"))["result"].clone();
        assert!(
            result["capabilities"]["tools"].get("listChanged").is_none(),
            "no GET stream, no listChanged: {result}"
        );
        let reply = client()
            .post(running.url())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", VERSION)
            .body(
                json!({
                    "jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": { "name": "late", "arguments": {} }
                })
                .to_string(),
            )
            .send()
            .await
            .expect("tools/call answers");
        let reply = rpc_of(&reply.text().await.expect("body"));
        assert_eq!(
            reply["result"]["content"],
            json!([{ "type": "text", "text": "late" }]),
            "{reply}"
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
    let (session, initialize) = Session::open(running.url()).await;
    assert_eq!(
        initialize["capabilities"]["resources"]["listChanged"],
        json!(true),
        "{initialize}"
    );
    assert_eq!(
        initialize["capabilities"]["prompts"]["listChanged"],
        json!(true),
        "{initialize}"
    );
    let mut stream = session.open_stream().await;
    let uris = |reply: &Value| -> Vec<String> {
        reply["result"]["resources"]
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
    let listed = session.request(2, "resources/list", json!({})).await;
    assert_eq!(uris(&listed), ["notes://index", "notes://late"]);
    let read = session
        .request(3, "resources/read", json!({"uri": "notes://late"}))
        .await;
    assert_eq!(read["result"]["contents"][0]["text"], "late", "{read}");

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
        .request(4, "resources/read", json!({"uri": "notes://7/text"}))
        .await;
    assert_eq!(read["result"]["contents"][0]["text"], "note 7", "{read}");

    handle
        .add_prompt(Prompt::new("bye", |_| async { "Bye!" }))
        .expect("a new prompt");
    assert_eq!(
        stream.next_message().await["method"],
        "notifications/prompts/list_changed"
    );
    let got = session
        .request(5, "prompts/get", json!({"name": "bye"}))
        .await;
    assert_eq!(
        got["result"]["messages"][0]["content"]["text"], "Bye!",
        "{got}"
    );

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
    let listed = session.request(6, "resources/list", json!({})).await;
    assert_eq!(uris(&listed), ["notes://index"]);
    let gone = session
        .request(7, "prompts/get", json!({"name": "bye"}))
        .await;
    assert_eq!(gone["error"]["code"], INVALID_PARAMS, "{gone}");
}
