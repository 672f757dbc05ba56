//! Per-caller rate limits on one process: a tool's own limit
//! (`#[mcp_tool(rate = "3/min")]`), the server's for every request
//! (`rate_limit`), callers apart, trusted callers exempt, anonymous callers
//! counted by address; a caller over its limit gets 429 with `Retry-After`
//! and a JSON-RPC error, before the tool runs. Across replicas through the
//! balancer: `tests/scale_out.rs`.

use mcp_runtime::prelude::*;
use mcp_runtime::rate::RateLimit;
use mcp_runtime::testing::{ClientError, TestClient, TestIssuer, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Search {
    runs: Arc<AtomicUsize>,
}

#[mcp_server(name = "search", version = "1.0.0", oauth = auth0)]
impl Search {
    /// Searches, three times a minute per caller.
    #[mcp_tool(rate = "3/min")]
    async fn search(&self) -> &'static str {
        self.runs.fetch_add(1, Ordering::SeqCst);
        "found"
    }

    /// Says hello, unlimited but for the server's limit.
    #[mcp_tool]
    async fn hello(&self) -> &'static str {
        "hello"
    }
}

fn limited(outcome: &Result<mcp_runtime::testing::ToolResult, ClientError>) -> bool {
    matches!(outcome, Err(ClientError::Http { status: 429, message }) if message.contains("rate limit exceeded"))
}

/// `Search` served behind `issuer`, its callers exempt from limits if
/// `exempt` names them, and the count of its searches that ran.
fn search_server(issuer: &TestIssuer, exempt: &[&str]) -> (TestServer, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = Search {
        runs: Arc::clone(&runs),
    }
    .into_mcp_builder()
    .oauth(issuer.provider())
    .rate_limit_exempt(exempt.iter().copied())
    .build()
    .expect("builds");
    (
        TestServer::start_with(server, issuer).expect("starts"),
        runs,
    )
}

#[actix_web::test]
async fn a_tools_limit_holds_per_caller_before_the_tool_runs() {
    let issuer = TestIssuer::new().expect("issuer");
    let (running, runs) = search_server(&issuer, &["client:trusted-ci"]);
    let client = |subject: &str, client_id: &str| {
        let token = issuer
            .token()
            .subject(subject)
            .client_id(client_id)
            .sign()
            .expect("token");
        running.client().with_token(token)
    };
    let alice = client("alice", "inspector");
    for _ in 0..3 {
        alice
            .call_tool("search", ())
            .await
            .expect("within the limit");
    }
    let refused = alice.call_tool("search", ()).await;
    assert!(limited(&refused), "{refused:?}");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "refused before the tool ran"
    );
    // The same caller's other tools, another caller, and a trusted client
    // are not held up.
    alice.call_tool("hello", ()).await.expect("another tool");
    let bob = client("bob", "inspector");
    bob.call_tool("search", ()).await.expect("bob's own budget");
    let ci = client("ci-bot", "trusted-ci");
    for _ in 0..5 {
        ci.call_tool("search", ()).await.expect("exempt");
    }

    // The refusal itself: 429, Retry-After, a JSON-RPC error naming the limit.
    let token = issuer
        .token()
        .subject("alice")
        .client_id("inspector")
        .sign()
        .expect("token");
    let raw = TestClient::new(running.url())
        .with_token(token)
        .raw("POST")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "search")
        .body(
            json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
                "name": "search", "arguments": {},
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {}
                }
            }})
            .to_string(),
        )
        .send()
        .await
        .expect("answers");
    assert_eq!(raw.status, 429, "{}", raw.body);
    let retry: u64 = raw
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=20).contains(&retry), "one token in 20 s: {retry}");
    let body: Value = raw.json().expect("JSON");
    assert_eq!(body["id"], 9, "{body}");
    assert_eq!(body["error"]["code"], -32000, "{body}");
    assert_eq!(body["error"]["data"]["limit"], "3/min", "{body}");
    assert_eq!(body["error"]["data"]["retryAfterSeconds"], retry, "{body}");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3 + 1 + 5,
        "nothing ran for the refusal"
    );
}

#[actix_web::test]
async fn the_servers_limit_counts_every_request_and_anonymous_callers_by_address() {
    let server = McpServer::builder("plain", "1.0.0")
        .tool(Tool::new("ping", || async { "pong" }))
        .rate_limit(RateLimit::per_minute(4))
        .build()
        .expect("builds");
    let running = TestServer::start(server).expect("starts");
    let client = running.client();
    // The handshake's initialize is one request (its notification is
    // none); three calls more, then the limit.
    for _ in 0..3 {
        client
            .call_tool("ping", ())
            .await
            .expect("within the limit");
    }
    let refused = client.call_tool("ping", ()).await;
    assert!(limited(&refused), "{refused:?}");
    // Another client from the same address shares the budget.
    let other = running.client();
    let refused = other.call_tool("ping", ()).await;
    assert!(
        matches!(refused, Err(ClientError::Http { status: 429, .. })),
        "{refused:?}"
    );
}

#[actix_web::test]
async fn the_calls_of_a_batch_are_limited_one_by_one() {
    let issuer = TestIssuer::new().expect("issuer");
    let (running, runs) = search_server(&issuer, &[]);
    let token = issuer.token().subject("alice").sign().expect("token");
    let client = TestClient::new(running.url()).with_token(token);
    let post = |body: Value, session: Option<String>| {
        let mut request = client
            .raw("POST")
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-03-26")
            .body(body.to_string());
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        request.send()
    };
    let opened = post(
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-03-26", "capabilities": {},
            "clientInfo": {"name": "batcher", "version": "1"}
        }}),
        None,
    )
    .await
    .expect("initialize");
    let session = opened
        .header("mcp-session-id")
        .expect("a session")
        .to_owned();
    let batch: Vec<Value> = (1..=5)
        .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "search", "arguments": {}}}))
        .collect();
    let answered = post(Value::Array(batch), Some(session))
        .await
        .expect("the batch");
    assert_eq!(answered.status, 200, "{}", answered.body);
    let replies: Vec<Value> = serde_json::from_str(&answered.body).expect("a JSON array");
    let limited: Vec<i64> = replies
        .iter()
        .filter(|r| r["error"]["code"] == -32000)
        .filter_map(|r| r["id"].as_i64())
        .collect();
    assert_eq!(
        limited,
        [4, 5],
        "three within the limit, then none: {replies:?}"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "the limited calls never ran"
    );
}

#[actix_web::test]
async fn params_of_any_shape_are_counted_as_the_dispatcher_reads_them() {
    let issuer = TestIssuer::new().expect("issuer");
    let (running, runs) = search_server(&issuer, &[]);
    let token = issuer.token().subject("alice").sign().expect("token");
    let alice = running.client().with_token(token);
    // Params as an array name the tool as well as an object does.
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(alice.rpc("tools/call", json!(["search", {}])).await);
    }
    let ran = runs.load(Ordering::SeqCst);
    assert!(ran <= 3, "{ran} calls ran past a limit of 3: {answers:?}");
    assert!(
        answers
            .iter()
            .any(|a| matches!(a, Err(ClientError::Http { status: 429, .. }))),
        "{answers:?}"
    );
}
