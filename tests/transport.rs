//! Streamable HTTP transport rules, checked against a real server on loopback:
//! status codes, headers and JSON-RPC bodies for every revision the runtime speaks.

mod support;

use mcp_runtime::testing::{RawResponse as Reply, TestClient, TestServer};

use mcp_runtime::prelude::*;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

const SERVER_NAME: &str = "transport-test";
const SERVER_VERSION: &str = "9.8.7";

const V2025_03: &str = "2025-03-26";
const V2025_06: &str = "2025-06-18";
const V2025_11: &str = "2025-11-25";
const V2026: &str = "2026-07-28";
const ALL_VERSIONS: [&str; 4] = [V2026, V2025_11, V2025_06, V2025_03];

const ACCEPT_BOTH: &str = "application/json, text/event-stream";

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const REQUEST_CANCELLED: i64 = -32800;
const HEADER_MISMATCH: i64 = -32020;
const MISSING_CLIENT_CAPABILITY: i64 = -32021;
const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

// ---------------------------------------------------------------------------
// Fixture servers
// ---------------------------------------------------------------------------

/// Arguments of `add`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// First addend.
    a: i64,
    /// Second addend.
    b: i64,
}

/// Structured output of `stats`.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Stats {
    count: u32,
    label: String,
}

async fn boom() -> &'static str {
    panic!("tool exploded on purpose")
}

/// Every tool the tests call. `slow_started` is notified when `slow` begins.
fn tools(slow_started: Arc<Notify>) -> Vec<Tool> {
    vec![
        Tool::new("add", |args: AddArgs| async move {
            (args.a + args.b).to_string()
        })
        .description("Adds two integers.")
        .read_only(),
        Tool::new("wipe", || async { "wiped" }).destructive(),
        Tool::new("stats", || async {
            Json(Stats {
                count: 3,
                label: "three".to_owned(),
            })
        }),
        Tool::new("fail", || async {
            Err::<String, _>(ToolError::new("no such task"))
        }),
        Tool::new("boom", boom),
        // Panics while building its future, before any `.await`.
        Tool::new(
            "boom_sync",
            |_: NoArgs| -> std::future::Ready<&'static str> {
                panic!("tool exploded before its future existed")
            },
        ),
        Tool::new("progress", |_: NoArgs, ctx: RequestContext| async move {
            for step in 1..=3 {
                ctx.progress(f64::from(step), Some(3.0), Some("working"))
                    .await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            "done"
        }),
        Tool::new("chatty", |_: NoArgs, ctx: RequestContext| async move {
            for step in 1..=3 {
                ctx.log(LoggingLevel::Info, Some("chatty"), format!("step {step}"))
                    .await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            "logged"
        }),
        Tool::new("slow", move |_: NoArgs, _ctx: RequestContext| {
            let started = Arc::clone(&slow_started);
            async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_secs(10)).await;
                "finished without being cancelled"
            }
        }),
        Tool::new("needs_sampling", || async { "sampled" }).requires_client_capability("sampling"),
    ]
}

fn builder() -> McpServerBuilder {
    McpServer::builder(SERVER_NAME, SERVER_VERSION).tools(tools(Arc::new(Notify::new())))
}

/// The default (stateful, loopback-only) fixture server.
fn start_default() -> TestServer {
    TestServer::start(builder().build().expect("valid fixture server")).expect("the server starts")
}

fn start_with(builder: McpServerBuilder) -> TestServer {
    TestServer::start(builder.build().expect("valid fixture server")).expect("the server starts")
}

// ---------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the HTTP client")
}

/// Request headers; `set` replaces any header of the same name.
#[derive(Clone, Debug, Default)]
struct Headers(Vec<(String, String)>);

impl Headers {
    fn none() -> Self {
        Self::default()
    }

    fn set(mut self, name: &str, value: &str) -> Self {
        self = self.remove(name);
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    fn remove(mut self, name: &str) -> Self {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    fn to_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.0 {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
                HeaderValue::from_str(value).expect("valid header value"),
            );
        }
        map
    }
}

/// What a POST carries by default: a JSON body, accepting JSON and SSE.
fn post_headers() -> Headers {
    Headers::none()
        .set("content-type", "application/json")
        .set("accept", ACCEPT_BOTH)
}

/// Sends `method` to `url` with exactly `headers` and `body`, through the
/// testing kit's raw request.
async fn send(method: &str, url: &str, body: Option<String>, headers: &Headers) -> Reply {
    let mut request = TestClient::new(url).raw(method).headers(headers.0.clone());
    if let Some(body) = body {
        request = request.body(body);
    }
    request.send().await.expect("the server answers")
}

async fn post(url: &str, body: impl Into<String>, headers: &Headers) -> Reply {
    send("POST", url, Some(body.into()), headers).await
}

async fn get(url: &str, headers: &Headers) -> Reply {
    send("GET", url, None, headers).await
}

async fn delete(url: &str, headers: &Headers) -> Reply {
    send("DELETE", url, None, headers).await
}

// ---------------------------------------------------------------------------
// JSON-RPC helpers
// ---------------------------------------------------------------------------

fn rpc_request(id: impl Into<Value>, method: &str, params: Value) -> Value {
    let mut body = json!({ "jsonrpc": "2.0", "id": id.into(), "method": method });
    if !params.is_null() {
        body["params"] = params;
    }
    body
}

fn rpc_notification(method: &str, params: Value) -> Value {
    let mut body = json!({ "jsonrpc": "2.0", "method": method });
    if !params.is_null() {
        body["params"] = params;
    }
    body
}

fn initialize_body(id: i64, version: &str) -> Value {
    rpc_request(
        id,
        "initialize",
        json!({
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": { "name": "transport-tests", "version": "0.0.1" }
        }),
    )
}

/// Asserts an HTTP status and a JSON-RPC error code and id.
#[track_caller]
fn assert_rpc_error(reply: &Reply, status: u16, code: i64, id: Value, what: &str) {
    assert_eq!(
        reply.status, status,
        "{what}: HTTP status; body `{}`",
        reply.body
    );
    let body = reply.rpc().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        body["error"]["code"], code,
        "{what}: JSON-RPC error code; body {body}"
    );
    assert_eq!(body["id"], id, "{what}: JSON-RPC id; body {body}");
    assert_eq!(body["jsonrpc"], "2.0", "{what}: jsonrpc field; body {body}");
    assert!(
        body.get("result").is_none(),
        "{what}: error responses carry no result; body {body}"
    );
}

/// Asserts a 200 JSON-RPC success for `id` and returns its result.
#[track_caller]
fn expect_result(reply: &Reply, id: Value, what: &str) -> Value {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{what}: HTTP status; body `{}`",
        reply.body
    );
    let body = reply.rpc().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body["id"], id, "{what}: response id; body {body}");
    assert!(
        body.get("error").is_none(),
        "{what}: unexpected error; body {body}"
    );
    body.get("result")
        .cloned()
        .unwrap_or_else(|| panic!("{what}: no result; body {body}"))
}

/// The text of a tool result's first content block.
#[track_caller]
fn first_text(result: &Value) -> &str {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content in {result}"))
}

/// An initialized session.
#[derive(Clone, Debug)]
struct Session {
    url: String,
    id: String,
    /// The negotiated revision.
    version: String,
}

impl Session {
    /// POST headers of this session: the session id, and the protocol version
    /// header from 2025-06-18 on (2025-03-26 clients do not send it).
    fn headers(&self) -> Headers {
        let headers = post_headers().set("mcp-session-id", &self.id);
        if self.version == V2025_03 {
            headers
        } else {
            headers.set("mcp-protocol-version", &self.version)
        }
    }

    async fn send(&self, body: &Value, headers: &Headers) -> Reply {
        post(&self.url, body.to_string(), headers).await
    }

    async fn request(&self, id: i64, method: &str, params: Value) -> Reply {
        self.send(&rpc_request(id, method, params), &self.headers())
            .await
    }

    async fn notify(&self, method: &str, params: Value) -> Reply {
        self.send(&rpc_notification(method, params), &self.headers())
            .await
    }

    async fn call(&self, id: i64, tool: &str, arguments: Value) -> Reply {
        self.request(
            id,
            "tools/call",
            json!({ "name": tool, "arguments": arguments }),
        )
        .await
    }

    async fn list_tools(&self, id: i64) -> Vec<Value> {
        let reply = self.request(id, "tools/list", Value::Null).await;
        let result = expect_result(&reply, json!(id), "tools/list");
        result["tools"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("tools/list result has no tools array: {result}"))
    }
}

async fn initialize_reply(url: &str, version: &str) -> Reply {
    post(
        url,
        initialize_body(1, version).to_string(),
        &post_headers(),
    )
    .await
}

/// Runs the handshake at `version` and returns the session.
async fn initialize(url: &str, version: &str) -> Session {
    let reply = initialize_reply(url, version).await;
    let result = expect_result(&reply, json!(1), "initialize");
    let session = Session {
        url: url.to_owned(),
        id: reply
            .header("mcp-session-id")
            .unwrap_or_else(|| panic!("initialize answered no Mcp-Session-Id: {reply:?}"))
            .to_owned(),
        version: result["protocolVersion"]
            .as_str()
            .expect("negotiated protocolVersion")
            .to_owned(),
    };
    let ack = session
        .notify("notifications/initialized", Value::Null)
        .await;
    assert_eq!(ack.status, StatusCode::ACCEPTED, "initialized: {ack:?}");
    session
}

// --- 2026-07-28 stateless requests ---------------------------------------

fn meta_2026() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V2026,
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

/// A 2026-07-28 request: `params._meta` carries the protocol version and the
/// (empty) client capabilities.
fn request_2026(id: i64, method: &str, params: Value) -> Value {
    let mut params = if params.is_null() { json!({}) } else { params };
    params["_meta"] = meta_2026();
    rpc_request(id, method, params)
}

/// The headers a 2026-07-28 client sends for `body`: the version header and
/// the `Mcp-Method` / `Mcp-Name` routing headers repeating the body.
fn headers_2026(body: &Value) -> Headers {
    let mut headers = post_headers()
        .set("mcp-protocol-version", V2026)
        .set("mcp-method", body["method"].as_str().expect("a method"));
    if let Some(name) = body["params"]["name"].as_str() {
        headers = headers.set("mcp-name", name);
    }
    headers
}

async fn post_2026(url: &str, body: &Value) -> Reply {
    post(url, body.to_string(), &headers_2026(body)).await
}

// ---------------------------------------------------------------------------
// 1. initialize and version negotiation
// ---------------------------------------------------------------------------

#[tokio::test]
async fn initialize_negotiates_versions_and_mints_session_ids() {
    let server = start_default();
    let cases = [
        (V2025_03, V2025_03),
        (V2025_06, V2025_06),
        (V2025_11, V2025_11),
        ("2024-01-01", V2025_11),
        (V2026, V2025_11),
    ];
    let mut ids = Vec::new();
    for (requested, expected) in cases {
        let reply = initialize_reply(server.url(), requested).await;
        assert!(
            reply.is_json(),
            "initialize({requested}) answers JSON: {reply:?}"
        );
        let result = expect_result(&reply, json!(1), "initialize");
        assert_eq!(
            result["protocolVersion"], expected,
            "initialize requesting {requested}"
        );
        assert_eq!(result["serverInfo"]["name"], SERVER_NAME, "{result}");
        assert_eq!(result["serverInfo"]["version"], SERVER_VERSION, "{result}");
        assert!(
            result["capabilities"]["tools"].is_object(),
            "capabilities.tools is an object: {result}"
        );
        let id = reply
            .header("mcp-session-id")
            .unwrap_or_else(|| panic!("initialize({requested}) has no Mcp-Session-Id header"))
            .to_owned();
        assert!(
            id.len() >= 32,
            "session id `{id}` should be at least 32 characters"
        );
        assert!(
            id.bytes().all(|b| (0x21..=0x7e).contains(&b)),
            "session id `{id}` must be visible ASCII"
        );
        ids.push(id);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "session ids must differ: {ids:?}");
}

// ---------------------------------------------------------------------------
// 2. notifications and client responses
// ---------------------------------------------------------------------------

#[tokio::test]
async fn notifications_and_client_responses_are_accepted_with_202() {
    let server = start_default();
    let reply = initialize_reply(server.url(), V2025_11).await;
    let session = Session {
        url: server.url().to_owned(),
        id: reply
            .header("mcp-session-id")
            .expect("session id")
            .to_owned(),
        version: V2025_11.to_owned(),
    };

    let ack = session
        .notify("notifications/initialized", Value::Null)
        .await;
    assert_eq!(ack.status, StatusCode::ACCEPTED, "initialized: {ack:?}");
    assert_eq!(ack.body, "", "a 202 has an empty body");

    let response = json!({ "jsonrpc": "2.0", "id": "server-req-1", "result": {} });
    let ack = session.send(&response, &session.headers()).await;
    assert_eq!(ack.status, StatusCode::ACCEPTED, "client response: {ack:?}");
    assert_eq!(ack.body, "", "a 202 has an empty body");

    let error_response = json!({
        "jsonrpc": "2.0", "id": 99, "error": { "code": -1, "message": "declined" }
    });
    let ack = session.send(&error_response, &session.headers()).await;
    assert_eq!(
        ack.status,
        StatusCode::ACCEPTED,
        "client error response: {ack:?}"
    );
}

// ---------------------------------------------------------------------------
// 3. sessions
// ---------------------------------------------------------------------------

#[tokio::test]
async fn sessions_are_required_checked_and_deletable() {
    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;
    let list = rpc_request(2, "tools/list", Value::Null).to_string();
    let unknown = session
        .headers()
        .set("mcp-session-id", "no-such-session-0123456789abcdef");
    let by_id = Headers::none().set("mcp-session-id", &session.id);

    // (case, method, headers, status), in order: the DELETE ends the session
    // for the rows after it.
    let steps = [
        (
            "no Mcp-Session-Id",
            "POST",
            post_headers().set("mcp-protocol-version", V2025_11),
            StatusCode::BAD_REQUEST,
        ),
        ("unknown session", "POST", unknown, StatusCode::NOT_FOUND),
        ("live session", "POST", session.headers(), StatusCode::OK),
        (
            "DELETE without Mcp-Session-Id",
            "DELETE",
            Headers::none(),
            StatusCode::BAD_REQUEST,
        ),
        ("DELETE", "DELETE", by_id.clone(), StatusCode::NO_CONTENT),
        (
            "POST on a deleted session",
            "POST",
            session.headers(),
            StatusCode::NOT_FOUND,
        ),
        (
            "DELETE of a deleted session",
            "DELETE",
            by_id,
            StatusCode::NOT_FOUND,
        ),
    ];
    for (case, method, headers, status) in steps {
        let body = (method == "POST").then(|| list.clone());
        let reply = send(method, server.url(), body, &headers).await;
        assert_eq!(reply.status, status, "{case}: {reply:?}");
    }
}

#[tokio::test]
async fn a_request_without_session_or_version_is_told_to_initialize_or_send_2026_headers() {
    let server = start_default();
    let list = rpc_request(2, "tools/list", Value::Null).to_string();
    let reply = post(server.url(), list, &post_headers()).await;
    assert_rpc_error(
        &reply,
        400,
        INVALID_REQUEST,
        Value::Null,
        "no session, no MCP-Protocol-Version",
    );
    let message = reply.rpc().unwrap_or_else(|e| panic!("{e}"))["error"]["message"].clone();
    let message = message.as_str().unwrap_or_default();
    for hint in [
        "send `initialize` first",
        "2025-11-25",
        "2026-07-28",
        "params._meta",
    ] {
        assert!(message.contains(hint), "`{hint}` in {message}");
    }
}

/// `bind` takes what actix's `HttpServer::bind` takes: a `"host:port"`
/// string or a `(host, port)` pair, not only a `SocketAddr`.
#[actix_web::test]
async fn bind_takes_any_socket_address() {
    let by_string = support::free_port();
    let by_pair = support::free_port();
    let servers = [
        builder()
            .build()
            .expect("valid fixture server")
            .bind(format!("127.0.0.1:{by_string}")),
        builder()
            .build()
            .expect("valid fixture server")
            .bind(("127.0.0.1", by_pair)),
    ];
    for (server, port) in servers.into_iter().zip([by_string, by_pair]) {
        let server = server.expect("binds");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let url = format!("http://127.0.0.1:{port}/mcp");
        expect_result(&initialize_reply(&url, V2025_11).await, json!(1), &url);
        handle.stop(true).await;
    }
}

// ---------------------------------------------------------------------------
// 4. GET streams
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_opens_one_sse_stream_per_session() {
    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;
    let sse_headers = Headers::none()
        .set("accept", "text/event-stream")
        .set("mcp-session-id", &session.id)
        .set("mcp-protocol-version", V2025_11);

    // Read only the head of the first stream and keep it open.
    let http = client();
    let stream = http
        .get(server.url())
        .headers(sse_headers.to_map())
        .send()
        .await
        .expect("GET answers");
    assert_eq!(stream.status(), StatusCode::OK, "GET stream status");
    let content_type = stream
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("text/event-stream"),
        "GET stream content-type `{content_type}`"
    );

    // A second GET for the session replaces the first, which then ends: a
    // client that reconnects must not be locked out by its own dead stream.
    let second = http
        .get(server.url())
        .headers(sse_headers.to_map())
        .send()
        .await
        .expect("second GET answers");
    assert_eq!(
        second.status(),
        StatusCode::OK,
        "a second GET stream for the same session"
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), stream.bytes())
        .await
        .expect("the replaced stream ends");
    assert!(ended.is_ok(), "the replaced stream ends cleanly: {ended:?}");
    drop(second);

    let reply = get(
        server.url(),
        &sse_headers.clone().set("accept", "application/json"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_ACCEPTABLE,
        "GET without text/event-stream in Accept: {reply:?}"
    );

    let stateless = start_with(builder().stateless(true));
    let reply = get(
        stateless.url(),
        &Headers::none().set("accept", "text/event-stream"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "GET on a stateless server: {reply:?}"
    );
    let allow = reply.header("allow").expect("405 carries Allow");
    assert!(allow.contains("POST"), "Allow `{allow}` lists POST");
    assert!(!allow.contains("GET"), "Allow `{allow}` must not list GET");

    let reply = delete(
        stateless.url(),
        &Headers::none().set("mcp-session-id", "anything"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "DELETE on a stateless server: {reply:?}"
    );
    assert!(reply.header("allow").is_some(), "405 carries Allow");
}

/// A client whose GET stream broke (network blip, tab reload, SDK reconnect)
/// must be able to open a new one: the old stream is gone, so "a GET stream is
/// already open" would be wrong.
#[tokio::test]
async fn get_stream_can_be_reopened_after_the_client_disconnects() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;

    // Open the stream on a raw socket, read its head, then close the socket.
    let mut socket = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let head = format!(
        "GET /mcp HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\
         Mcp-Session-Id: {}\r\nMCP-Protocol-Version: {V2025_11}\r\n\r\n",
        server.addr(),
        session.id
    );
    socket.write_all(head.as_bytes()).await.expect("send GET");
    let mut buf = vec![0u8; 2048];
    let read = socket.read(&mut buf).await.expect("read the head");
    let answer = String::from_utf8_lossy(&buf[..read]);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "first GET opens a stream: {answer}"
    );
    drop(socket);

    let headers = Headers::none()
        .set("accept", "text/event-stream")
        .set("mcp-session-id", &session.id)
        .set("mcp-protocol-version", V2025_11);
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut last = None;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let again = client()
            .get(server.url())
            .headers(headers.to_map())
            .send()
            .await
            .expect("GET answers");
        if again.status() == StatusCode::OK {
            return;
        }
        last = Some(again.status());
    }
    panic!(
        "3 s after the first GET stream's client closed its connection, a new GET for the \
         session still answers {last:?}: the server keeps the dead stream registered until a \
         keep-alive write fails (sse_keep_alive, 15 s by default)"
    );
}

// ---------------------------------------------------------------------------
// 5. stateless mode
// ---------------------------------------------------------------------------

#[tokio::test]
async fn stateless_mode_needs_no_session() {
    let server = start_with(builder().stateless(true));
    let reply = initialize_reply(server.url(), V2025_11).await;
    let result = expect_result(&reply, json!(1), "stateless initialize");
    assert_eq!(result["protocolVersion"], V2025_11);
    assert!(
        reply.header("mcp-session-id").is_none(),
        "stateless initialize must not mint a session: {reply:?}"
    );

    let headers = post_headers().set("mcp-protocol-version", V2025_11);
    let reply = post(
        server.url(),
        rpc_request(2, "tools/list", Value::Null).to_string(),
        &headers,
    )
    .await;
    let result = expect_result(&reply, json!(2), "stateless tools/list");
    let names: Vec<&str> = result["tools"]
        .as_array()
        .expect("tools array")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"add"), "tools/list names {names:?}");

    let reply = post(
        server.url(),
        rpc_request(
            3,
            "tools/call",
            json!({ "name": "add", "arguments": { "a": 40, "b": 2 } }),
        )
        .to_string(),
        &headers,
    )
    .await;
    let result = expect_result(&reply, json!(3), "stateless tools/call");
    assert_eq!(first_text(&result), "42");
}

// ---------------------------------------------------------------------------
// 6. MCP-Protocol-Version header
// ---------------------------------------------------------------------------

#[tokio::test]
async fn unsupported_protocol_version_header_is_refused() {
    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;
    for bad in ["1999-01-01", "2024-11-05", "latest"] {
        let reply = session
            .send(
                &rpc_request(42, "tools/list", Value::Null),
                &session.headers().set("mcp-protocol-version", bad),
            )
            .await;
        assert_rpc_error(
            &reply,
            400,
            UNSUPPORTED_PROTOCOL_VERSION,
            json!(42),
            &format!("MCP-Protocol-Version: {bad}"),
        );
        let supported =
            reply.json().unwrap_or_else(|e| panic!("{e}"))["error"]["data"]["supported"].clone();
        let supported: Vec<&str> = supported
            .as_array()
            .unwrap_or_else(|| panic!("error.data.supported is a list: {}", reply.body))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for version in ALL_VERSIONS {
            assert!(
                supported.contains(&version),
                "supported {supported:?} lists {version}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 7. Host and Origin (DNS-rebinding protection), CORS
// ---------------------------------------------------------------------------

#[tokio::test]
async fn host_and_origin_are_checked_and_cors_is_answered() {
    let server = start_default();
    let init = initialize_body(1, V2025_11).to_string();

    for (case, header, value) in [
        ("foreign Host", "host", "evil.example.com"),
        ("foreign Origin", "origin", "http://evil.example.com"),
    ] {
        let reply = post(
            server.url(),
            init.clone(),
            &post_headers().set(header, value),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{case}: {reply:?}");
    }

    let inspector = "http://localhost:6274";
    let reply = post(
        server.url(),
        init.clone(),
        &post_headers().set("origin", inspector),
    )
    .await;
    expect_result(&reply, json!(1), "initialize from a loopback Origin");
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some(inspector),
        "CORS allow-origin echoes the page's origin"
    );
    let expose = reply
        .header("access-control-expose-headers")
        .expect("Access-Control-Expose-Headers")
        .to_ascii_lowercase();
    assert!(
        expose.contains("mcp-session-id"),
        "Expose-Headers `{expose}` lists Mcp-Session-Id"
    );

    let preflight = send(
        "OPTIONS",
        server.url(),
        None,
        &Headers::none()
            .set("origin", inspector)
            .set("access-control-request-method", "POST")
            .set(
                "access-control-request-headers",
                "content-type, mcp-session-id, authorization",
            ),
    )
    .await;
    assert_eq!(
        preflight.status,
        StatusCode::NO_CONTENT,
        "preflight: {preflight:?}"
    );
    let methods = preflight
        .header("access-control-allow-methods")
        .expect("Access-Control-Allow-Methods")
        .to_ascii_uppercase();
    assert!(methods.contains("POST"), "Allow-Methods `{methods}`");
    let allowed = preflight
        .header("access-control-allow-headers")
        .expect("Access-Control-Allow-Headers")
        .to_ascii_lowercase();
    for needed in ["mcp-session-id", "authorization"] {
        assert!(
            allowed.contains(needed),
            "Allow-Headers `{allowed}` lists {needed}"
        );
    }
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(inspector),
        "preflight allow-origin"
    );

    let named = start_with(builder().allowed_hosts(["mcp.example.com"]));
    let reply = post(
        named.url(),
        init.clone(),
        &post_headers().set("host", "mcp.example.com"),
    )
    .await;
    expect_result(&reply, json!(1), "initialize with an allowed Host");
    let port = named.addr().port();
    let reply = post(
        named.url(),
        init,
        &post_headers().set("host", &format!("localhost:{port}")),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "loopback Host on a server with an explicit host list: {reply:?}"
    );
}

// ---------------------------------------------------------------------------
// 8. request framing: size, media types, JSON, JSON-RPC envelope
// ---------------------------------------------------------------------------

#[tokio::test]
async fn request_framing_is_validated() {
    let server = start_with(builder().max_body_bytes(1024));
    let session = initialize(server.url(), V2025_11).await;

    let padding = "x".repeat(2048);
    let big = rpc_request(2, "ping", json!({ "_meta": { "padding": padding } })).to_string();
    let ping = rpc_request(3, "ping", Value::Null).to_string();
    let truncated = "{\"jsonrpc\": \"2.0\", \"id\": 4,".to_owned();
    let old_jsonrpc = json!({ "jsonrpc": "1.0", "id": 5, "method": "ping" }).to_string();
    // (case, body, headers, status, JSON-RPC error code and id, when the
    // refusal is a JSON-RPC error).
    let refusals = [
        (
            "2 KiB body over a 1 KiB limit",
            big,
            session.headers(),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
        ),
        (
            "text/plain body",
            ping.clone(),
            session.headers().set("content-type", "text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        (
            "Accept: text/html",
            ping,
            session.headers().set("accept", "text/html"),
            StatusCode::NOT_ACCEPTABLE,
            None,
        ),
        (
            "truncated JSON",
            truncated,
            session.headers(),
            StatusCode::BAD_REQUEST,
            Some((PARSE_ERROR, Value::Null)),
        ),
        (
            "jsonrpc 1.0",
            old_jsonrpc,
            session.headers(),
            StatusCode::BAD_REQUEST,
            Some((INVALID_REQUEST, json!(5))),
        ),
    ];
    for (case, body, headers, status, error) in refusals {
        let reply = post(server.url(), body, &headers).await;
        match error {
            Some((code, id)) => assert_rpc_error(&reply, status.as_u16(), code, id, case),
            None => assert_eq!(reply.status, status, "{case}: {reply:?}"),
        }
    }

    // The session still works after all of that.
    let reply = session.request(6, "ping", Value::Null).await;
    assert_eq!(expect_result(&reply, json!(6), "ping"), json!({}));
}

// ---------------------------------------------------------------------------
// 9. tools/list
// ---------------------------------------------------------------------------

#[tokio::test]
async fn tools_list_paginates_in_registration_order() {
    let names = ["zulu", "alpha", "mike", "bravo", "yankee"];
    let server = start_with(
        McpServer::builder(SERVER_NAME, SERVER_VERSION)
            .tools(names.map(|name| Tool::new(name, || async { "ok" })))
            .page_size(2),
    );
    let session = initialize(server.url(), V2025_11).await;

    let mut seen = Vec::new();
    let mut page_sizes = Vec::new();
    let mut cursor: Option<String> = None;
    for id in 2..10 {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => Value::Null,
        };
        let reply = session.request(id, "tools/list", params).await;
        let result = expect_result(&reply, json!(id), "tools/list page");
        let tools = result["tools"].as_array().expect("tools array");
        page_sizes.push(tools.len());
        seen.extend(
            tools
                .iter()
                .map(|t| t["name"].as_str().expect("tool name").to_owned()),
        );
        match result.get("nextCursor") {
            Some(next) => cursor = Some(next.as_str().expect("nextCursor is a string").to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, names, "every tool, in registration order");
    assert_eq!(page_sizes, [2, 2, 1], "pages of at most 2 tools");

    let reply = session
        .request(20, "tools/list", json!({ "cursor": "not-a-cursor" }))
        .await;
    assert_rpc_error(&reply, 200, INVALID_PARAMS, json!(20), "invalid cursor");
}

#[tokio::test]
async fn tools_list_renders_schemas_and_annotations_per_revision() {
    let server = start_default();
    let find = |tools: &[Value], name: &str| -> Value {
        tools
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("tool `{name}` not listed"))
    };

    let latest = initialize(server.url(), V2025_11).await;
    let tools = latest.list_tools(2).await;

    let add = find(&tools, "add");
    let schema = &add["inputSchema"];
    assert_eq!(schema["type"], "object", "inputSchema {schema}");
    assert_eq!(
        schema["required"],
        json!(["a", "b"]),
        "inputSchema {schema}"
    );
    assert_eq!(schema["properties"]["a"]["type"], "integer", "{schema}");
    assert!(schema.get("title").is_none(), "no root title: {schema}");
    assert!(schema.get("$schema").is_none(), "no $schema: {schema}");
    assert_eq!(add["description"], "Adds two integers.");
    assert_eq!(add["annotations"]["readOnlyHint"], true, "{add}");
    assert!(
        add.get("outputSchema").is_none(),
        "text tool has no outputSchema"
    );

    let wipe = find(&tools, "wipe");
    assert_eq!(wipe["annotations"]["destructiveHint"], true, "{wipe}");
    assert!(wipe["annotations"].get("readOnlyHint").is_none(), "{wipe}");
    assert_eq!(
        wipe["inputSchema"]["type"], "object",
        "no-arg tools list an object schema"
    );

    for version in [V2025_06, V2025_11] {
        let session = initialize(server.url(), version).await;
        let stats = find(&session.list_tools(2).await, "stats");
        let output = &stats["outputSchema"];
        assert_eq!(
            output["type"], "object",
            "outputSchema at {version}: {stats}"
        );
        assert!(output["properties"]["count"].is_object(), "{output}");
        assert!(output["properties"]["label"].is_object(), "{output}");
    }
    let old = initialize(server.url(), V2025_03).await;
    let stats = find(&old.list_tools(2).await, "stats");
    assert!(
        stats.get("outputSchema").is_none(),
        "no outputSchema at 2025-03-26: {stats}"
    );

    let reply = latest.call(3, "stats", json!({})).await;
    let result = expect_result(&reply, json!(3), "stats at 2025-11-25");
    assert_eq!(
        result["structuredContent"],
        json!({ "count": 3, "label": "three" })
    );
    let copy: Value = serde_json::from_str(first_text(&result)).expect("text copy is JSON");
    assert_eq!(copy, json!({ "count": 3, "label": "three" }));

    let reply = old.call(3, "stats", json!({})).await;
    let result = expect_result(&reply, json!(3), "stats at 2025-03-26");
    assert!(
        result.get("structuredContent").is_none(),
        "no structuredContent at 2025-03-26: {result}"
    );
    let copy: Value = serde_json::from_str(first_text(&result)).expect("text copy is JSON");
    assert_eq!(copy, json!({ "count": 3, "label": "three" }));
}

// ---------------------------------------------------------------------------
// 10. tools/call
// ---------------------------------------------------------------------------

#[tokio::test]
async fn tools_call_results_and_errors() {
    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;

    let reply = session.call(2, "add", json!({ "a": 2, "b": 3 })).await;
    let result = expect_result(&reply, json!(2), "add");
    assert_eq!(result["content"], json!([{ "type": "text", "text": "5" }]));
    assert!(result.get("isError").is_none_or(|e| e == false), "{result}");

    let reply = session.call(3, "no_such_tool", json!({})).await;
    assert_rpc_error(&reply, 200, INVALID_PARAMS, json!(3), "unknown tool");

    let reply = session.call(4, "add", json!({ "a": "two", "b": 3 })).await;
    let result = expect_result(&reply, json!(4), "add with a string");
    assert_eq!(
        result["isError"], true,
        "wrong type is an isError result: {result}"
    );
    assert!(
        first_text(&result).contains("`a`"),
        "the message names the field: {result}"
    );

    let reply = session.call(5, "add", json!({ "b": 3 })).await;
    let result = expect_result(&reply, json!(5), "add without a");
    assert_eq!(
        result["isError"], true,
        "missing field is an isError result: {result}"
    );
    assert!(
        first_text(&result).contains("`a`"),
        "the message names the missing field: {result}"
    );

    let reply = session.call(6, "boom", json!({})).await;
    let result = expect_result(&reply, json!(6), "panicking tool");
    assert_eq!(
        result["isError"], true,
        "a panic is an isError result: {result}"
    );

    let reply = session.call(7, "add", json!({ "a": 1, "b": 1 })).await;
    let result = expect_result(&reply, json!(7), "call after a panic");
    assert_eq!(first_text(&result), "2");

    let reply = session.call(8, "fail", json!({})).await;
    let result = expect_result(&reply, json!(8), "tool returning Err");
    assert_eq!(
        result,
        json!({ "content": [{ "type": "text", "text": "no such task" }], "isError": true })
    );

    let reply = session.request(9, "resources/teleport", json!({})).await;
    assert_rpc_error(&reply, 200, METHOD_NOT_FOUND, json!(9), "unknown method");
}

// ---------------------------------------------------------------------------
// 11. SSE responses: progress and logging
// ---------------------------------------------------------------------------

#[tokio::test]
async fn progress_notifications_stream_before_the_response() {
    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;
    let call = rpc_request(
        11,
        "tools/call",
        json!({ "name": "progress", "arguments": {}, "_meta": { "progressToken": "tok-1" } }),
    );

    let reply = session.send(&call, &session.headers()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.is_sse(), "progress switches to SSE: {reply:?}");
    let messages = reply.sse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        messages.len(),
        4,
        "3 progress events and the response: {messages:?}"
    );
    for (i, message) in messages[..3].iter().enumerate() {
        assert_eq!(message["method"], "notifications/progress", "{message}");
        assert_eq!(message["params"]["progressToken"], "tok-1", "{message}");
        assert_eq!(
            message["params"]["progress"],
            json!((i + 1) as f64),
            "{message}"
        );
        assert_eq!(message["params"]["total"], json!(3.0), "{message}");
        assert!(
            message.get("id").is_none(),
            "notifications have no id: {message}"
        );
    }
    let last = &messages[3];
    assert_eq!(last["id"], 11, "the response comes last: {last}");
    assert_eq!(first_text(&last["result"]), "done");

    let reply = session
        .send(&call, &session.headers().set("accept", "application/json"))
        .await;
    assert!(reply.is_json(), "JSON-only client gets JSON: {reply:?}");
    let result = expect_result(&reply, json!(11), "progress without SSE");
    assert_eq!(first_text(&result), "done");
}

#[tokio::test]
async fn log_notifications_follow_the_session_level() {
    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;

    let reply = session.call(2, "chatty", json!({})).await;
    assert!(
        reply.is_sse(),
        "info logs stream at the default level: {reply:?}"
    );
    let messages = reply.sse().unwrap_or_else(|e| panic!("{e}"));
    let logs: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .collect();
    assert_eq!(logs.len(), 3, "three info logs: {messages:?}");
    for (i, log) in logs.iter().enumerate() {
        assert_eq!(log["params"]["level"], "info", "{log}");
        assert_eq!(log["params"]["logger"], "chatty", "{log}");
        assert_eq!(log["params"]["data"], format!("step {}", i + 1), "{log}");
    }
    let last = messages.last().expect("a response");
    assert_eq!(last["id"], 2);
    assert_eq!(first_text(&last["result"]), "logged");

    let reply = session
        .request(3, "logging/setLevel", json!({ "level": "error" }))
        .await;
    assert_eq!(expect_result(&reply, json!(3), "setLevel"), json!({}));

    let reply = session.call(4, "chatty", json!({})).await;
    assert!(
        reply.is_json(),
        "no info logs above level error, so a plain JSON response: {reply:?}"
    );
    let result = expect_result(&reply, json!(4), "chatty at level error");
    assert_eq!(first_text(&result), "logged");
}

// ---------------------------------------------------------------------------
// 12. cancellation
// ---------------------------------------------------------------------------

#[tokio::test]
async fn cancelled_notification_ends_a_running_call() {
    let started = Arc::new(Notify::new());
    let server = TestServer::start(
        McpServer::builder(SERVER_NAME, SERVER_VERSION)
            .tools(tools(Arc::clone(&started)))
            .build()
            .expect("valid server"),
    )
    .expect("the server starts");
    let session = initialize(server.url(), V2025_11).await;

    let caller = session.clone();
    let call = tokio::spawn(async move {
        let begun = Instant::now();
        let reply = caller.call(7, "slow", json!({})).await;
        (begun.elapsed(), reply)
    });
    tokio::time::timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("the slow tool starts");

    let ack = session
        .notify(
            "notifications/cancelled",
            json!({ "requestId": 7, "reason": "user pressed stop" }),
        )
        .await;
    assert_eq!(ack.status, StatusCode::ACCEPTED, "cancel: {ack:?}");

    let (elapsed, reply) = call.await.expect("call task");
    assert!(
        elapsed < Duration::from_secs(5),
        "the cancelled call returned after {elapsed:?}"
    );
    assert_rpc_error(&reply, 200, REQUEST_CANCELLED, json!(7), "cancelled call");

    // The session keeps working.
    let reply = session.call(8, "add", json!({ "a": 1, "b": 2 })).await;
    assert_eq!(first_text(&expect_result(&reply, json!(8), "add")), "3");
}

// ---------------------------------------------------------------------------
// 13. 2026-07-28 stateless requests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn stateless_2026_requests_work_without_a_session() {
    let server = start_default();

    let call = request_2026(
        1,
        "tools/call",
        json!({ "name": "add", "arguments": { "a": 20, "b": 22 } }),
    );
    let reply = post_2026(server.url(), &call).await;
    let result = expect_result(&reply, json!(1), "2026 tools/call");
    assert_eq!(first_text(&result), "42");
    assert_eq!(result["resultType"], "complete", "{result}");
    assert!(
        reply.header("mcp-session-id").is_none(),
        "2026 requests mint no session"
    );

    let list = request_2026(2, "tools/list", Value::Null);
    let reply = post_2026(server.url(), &list).await;
    let result = expect_result(&reply, json!(2), "2026 tools/list");
    assert!(result["ttlMs"].is_u64(), "ttlMs is a number: {result}");
    assert!(result["cacheScope"].is_string(), "cacheScope: {result}");
    assert!(
        result["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "add")),
        "{result}"
    );

    let reply = post(
        server.url(),
        call.to_string(),
        &headers_2026(&call).set("mcp-name", "  add\t"),
    )
    .await;
    let result = expect_result(&reply, json!(1), "Mcp-Name with surrounding white space");
    assert_eq!(first_text(&result), "42");

    let discover = request_2026(3, "server/discover", Value::Null);
    let reply = post_2026(server.url(), &discover).await;
    let result = expect_result(&reply, json!(3), "server/discover");
    let versions: Vec<&str> = result["supportedVersions"]
        .as_array()
        .unwrap_or_else(|| panic!("supportedVersions: {result}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for version in ALL_VERSIONS {
        assert!(
            versions.contains(&version),
            "supportedVersions {versions:?} has {version}"
        );
    }
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], SERVER_NAME,
        "{result}"
    );
}

#[tokio::test]
async fn stateless_2026_headers_and_meta_are_validated() {
    let server = start_default();
    let call = request_2026(
        5,
        "tools/call",
        json!({ "name": "add", "arguments": { "a": 1, "b": 2 } }),
    );
    let mut no_meta = call.clone();
    no_meta["params"]
        .as_object_mut()
        .expect("params")
        .remove("_meta");
    let mut other_version = call.clone();
    other_version["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!(V2025_11);

    // (case, body, headers, JSON-RPC error code); each is a 400 answering id 5.
    let refusals = [
        (
            "Mcp-Method mismatch",
            &call,
            headers_2026(&call).set("mcp-method", "tools/list"),
            HEADER_MISMATCH,
        ),
        (
            "Mcp-Name mismatch",
            &call,
            headers_2026(&call).set("mcp-name", "wipe"),
            HEADER_MISMATCH,
        ),
        (
            "missing Mcp-Method",
            &call,
            headers_2026(&call).remove("mcp-method"),
            HEADER_MISMATCH,
        ),
        (
            "missing _meta",
            &no_meta,
            headers_2026(&no_meta),
            INVALID_PARAMS,
        ),
        (
            "_meta protocolVersion differs from the header",
            &other_version,
            headers_2026(&other_version),
            HEADER_MISMATCH,
        ),
        (
            "_meta protocolVersion without the MCP-Protocol-Version header",
            &call,
            headers_2026(&call).remove("mcp-protocol-version"),
            HEADER_MISMATCH,
        ),
    ];
    for (case, body, headers, code) in refusals {
        let reply = post(server.url(), body.to_string(), &headers).await;
        assert_rpc_error(&reply, 400, code, json!(5), case);
    }
}

#[tokio::test]
async fn stateless_2026_removed_methods_streams_and_capabilities() {
    let server = start_default();

    for (id, method) in [(1, "ping"), (2, "initialize")] {
        let params = if method == "initialize" {
            json!({ "protocolVersion": V2026, "capabilities": {} })
        } else {
            Value::Null
        };
        let reply = post_2026(server.url(), &request_2026(id, method, params)).await;
        assert_rpc_error(&reply, 404, METHOD_NOT_FOUND, json!(id), method);
    }

    let headers = Headers::none()
        .set("accept", "text/event-stream")
        .set("mcp-protocol-version", V2026);
    let reply = get(server.url(), &headers).await;
    assert_eq!(
        reply.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "GET at 2026-07-28: {reply:?}"
    );
    let reply = delete(server.url(), &headers).await;
    assert_eq!(
        reply.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "DELETE at 2026-07-28: {reply:?}"
    );

    let call = request_2026(
        3,
        "tools/call",
        json!({ "name": "needs_sampling", "arguments": {} }),
    );
    let reply = post_2026(server.url(), &call).await;
    assert_rpc_error(
        &reply,
        400,
        MISSING_CLIENT_CAPABILITY,
        json!(3),
        "tool needing sampling",
    );
    let data = &reply.json().unwrap_or_else(|e| panic!("{e}"))["error"]["data"];
    assert!(
        data["requiredCapabilities"]["sampling"].is_object(),
        "data.requiredCapabilities.sampling: {data}"
    );

    let mut with_sampling = call.clone();
    with_sampling["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] =
        json!({ "sampling": {} });
    let reply = post_2026(server.url(), &with_sampling).await;
    let result = expect_result(&reply, json!(3), "tool needing sampling, declared");
    assert_eq!(first_text(&result), "sampled");
}

// ---------------------------------------------------------------------------
// 14. JSON-RPC batches (2025-03-26 only)
// ---------------------------------------------------------------------------

#[tokio::test]
async fn batches_are_answered_only_at_2025_03_26() {
    let server = start_default();
    let batch = json!([
        rpc_request(1, "ping", Value::Null),
        rpc_request("two", "tools/list", Value::Null),
        rpc_notification("notifications/initialized", Value::Null),
    ]);

    let old = initialize(server.url(), V2025_03).await;
    let reply = old.send(&batch, &old.headers()).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "batch at 2025-03-26: {reply:?}"
    );
    let responses = reply.json().unwrap_or_else(|e| panic!("{e}"));
    let responses = responses
        .as_array()
        .unwrap_or_else(|| panic!("a batch answers an array: {}", reply.body));
    assert_eq!(
        responses.len(),
        2,
        "one response per request: {responses:?}"
    );
    let by_id = |id: Value| {
        responses
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no response with id {id}: {responses:?}"))
    };
    assert_eq!(by_id(json!(1))["result"], json!({}));
    assert!(
        by_id(json!("two"))["result"]["tools"].is_array(),
        "tools/list in a batch: {responses:?}"
    );

    let latest = initialize(server.url(), V2025_11).await;
    let reply = latest.send(&batch, &latest.headers()).await;
    assert_rpc_error(
        &reply,
        400,
        INVALID_REQUEST,
        Value::Null,
        "batch at 2025-11-25",
    );
}

/// The Accept header decides the response's media type: a client that takes
/// only streams gets SSE, and `q=0` refuses a type.
#[tokio::test]
async fn accept_header_picks_the_response_media_type() {
    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;
    let body = rpc_request(70, "tools/list", json!({})).to_string();

    let reply = post(
        &session.url,
        body.clone(),
        &session.headers().set("accept", "text/event-stream"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(reply.is_sse(), "an SSE-only client gets SSE: {reply:?}");
    assert_eq!(reply.rpc().unwrap_or_else(|e| panic!("{e}"))["id"], 70);
    assert!(
        reply.rpc().unwrap_or_else(|e| panic!("{e}"))["result"]["tools"].is_array(),
        "{reply:?}"
    );

    let reply = post(
        &session.url,
        body.clone(),
        &session
            .headers()
            .set("accept", "application/json;q=0, text/html"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_ACCEPTABLE,
        "q=0 refuses JSON: {reply:?}"
    );

    let reply = post(
        &session.url,
        body,
        &session.headers().set("accept", "application/json"),
    )
    .await;
    assert!(reply.is_json(), "a JSON-only client gets JSON: {reply:?}");
}

/// A panic in a tool's synchronous part is an isError result, not a dropped connection.
#[tokio::test]
async fn a_panic_before_the_first_await_is_an_error_result() {
    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;
    let reply = session.call(80, "boom_sync", json!({})).await;
    let result = expect_result(&reply, json!(80), "synchronously panicking tool");
    assert_eq!(result["isError"], true, "{result}");
    let reply = session.request(81, "ping", json!({})).await;
    expect_result(&reply, json!(81), "ping after the panic");
}

/// Batches are bounded, and a chunked body without Content-Length still hits the limit.
#[tokio::test]
async fn oversized_batches_and_chunked_bodies_are_refused() {
    let server = start_with(builder().max_body_bytes(64 * 1024));
    let session = initialize(server.url(), V2025_03).await;
    let batch: Vec<Value> = (0..65).map(|i| rpc_request(i, "ping", json!({}))).collect();
    let reply = session.send(&Value::Array(batch), &session.headers()).await;
    assert_rpc_error(
        &reply,
        400,
        INVALID_REQUEST,
        Value::Null,
        "a 65-message batch",
    );

    let chunks = (0..100).map(|_| " ".repeat(1024)).collect();
    let response = post_chunks(server.url(), &session, chunks).await;
    assert_eq!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "a 100 KiB chunked body"
    );

    // A message in several chunks is gathered whole: the body is read
    // without a declared length, and a first chunk is not the message.
    let ping = rpc_request(7, "ping", json!({})).to_string();
    let (head, tail) = ping.split_at(ping.len() / 2);
    let (middle, tail) = tail.split_at(tail.len() / 2);
    let chunks = vec![head.to_owned(), middle.to_owned(), tail.to_owned()];
    let response = post_chunks(server.url(), &session, chunks).await;
    assert_eq!(response.status(), StatusCode::OK, "a ping in three chunks");
    let answer: Value = response.json().await.expect("a JSON answer");
    assert_eq!(answer["id"], 7, "the answer to the chunked ping: {answer}");
}

/// POSTs `chunks` on `session` as a chunked body of no declared length.
async fn post_chunks(url: &str, session: &Session, chunks: Vec<String>) -> reqwest::Response {
    let chunks = chunks.into_iter().map(Ok::<_, std::io::Error>);
    client()
        .post(url)
        .headers(session.headers().to_map())
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("the server answers")
}

/// DELETE with an unsupported protocol version is refused and ends nothing.
#[tokio::test]
async fn delete_with_a_bad_version_keeps_the_session() {
    let server = start_default();
    let session = initialize(server.url(), V2025_11).await;
    let reply = delete(
        server.url(),
        &Headers::none()
            .set("mcp-session-id", &session.id)
            .set("mcp-protocol-version", "banana"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    let reply = session.request(90, "ping", json!({})).await;
    expect_result(&reply, json!(90), "the session survives");
}

/// Mounted in the user's own app with several workers, next to a user route:
/// sessions are shared by every worker.
#[test]
fn configure_mounts_next_to_user_routes_with_shared_sessions() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let authority = listener.local_addr().expect("addr").to_string();
    let mcp = builder().build().expect("valid server");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let configure = mcp.configure();
            let running = actix_web::HttpServer::new(move || {
                actix_web::App::new().configure(configure.clone()).route(
                    "/hello",
                    actix_web::web::get().to(|| async { "hello from the app" }),
                )
            })
            .workers(4)
            .listen(listener)
            .expect("listen")
            .run();
            tx.send(running.handle()).expect("handle");
            running.await
        })
    });
    let _handle = rx.recv().expect("server started");
    let url = format!("http://{authority}/mcp");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let session = initialize(&url, V2025_11).await;
        for id in 0..12 {
            // A fresh client per request: a new connection, landing on any worker.
            let reply = send(
                "POST",
                &url,
                Some(rpc_request(id, "ping", json!({})).to_string()),
                &session.headers(),
            )
            .await;
            expect_result(&reply, json!(id), "ping on some worker");
        }
        let hello = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .get(format!("http://{authority}/hello"))
            .send()
            .await
            .expect("user route answers");
        assert_eq!(hello.status(), StatusCode::OK);
        assert_eq!(hello.text().await.expect("body"), "hello from the app");
    });
}

/// A malformed `_meta` field is named in the -32602 error.
#[tokio::test]
async fn malformed_stateless_meta_is_named() {
    let server = start_default();
    let mut body = request_2026(95, "tools/list", json!({}));
    body["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!("verbose");
    let reply = post_2026(server.url(), &body).await;
    assert_rpc_error(&reply, 400, INVALID_PARAMS, json!(95), "a bad logLevel");
    let message = reply.json().unwrap_or_else(|e| panic!("{e}"))["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("invalid _meta") && message.contains("verbose"),
        "{message}"
    );
}

#[tokio::test]
async fn the_worker_count_is_a_setting() {
    let error = builder()
        .workers(0)
        .build()
        .expect_err("no workers is refused");
    assert!(error.to_string().contains("at least 1 worker"), "{error}");
    let server = start_with(builder().workers(1));
    let session = initialize(server.url(), "2025-11-25").await;
    assert!(!session.id.is_empty());
}
