//! Handlers asking the client for input (elicitation, sampling, roots)
//! through a real server: on the 2025-11-25 wire the question travels as a
//! request on the call's SSE stream and the answer comes back in a POST; on
//! the 2026-07-28 wire the server answers `input_required` and the client
//! retries with the answers and a signed request state.
//!
//! Checked here: the questions a client sees, answers reaching the handler,
//! client errors, undeclared capabilities, JSON-only requests, timeouts
//! (with `notifications/cancelled`), cancellation while waiting, answers
//! from another user being dropped, and request states bound to the caller
//! and the tool. The official suite's sampling and elicitation scenarios run
//! in tests/conformance.rs.

mod support;

use mcp_runtime::input::{ElicitAction, InputRequests};
use mcp_runtime::prelude::*;
use mcp_runtime::protocol::ErrorObject;
use mcp_runtime::testing::{TestClient, TestIssuer, TestServer};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn name_form() -> Elicitation {
    Elicitation::form(
        "What is your name?",
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
    )
}

struct Survey;

#[mcp_server(name = "survey")]
impl Survey {
    /// Greets the user by the name they give.
    #[mcp_tool]
    async fn ask_name(ctx: &RequestContext) -> Result<String, ToolError> {
        let answer = ctx.elicit("name", name_form()).await?;
        Ok(match answer.action {
            ElicitAction::Accept => format!(
                "Hello, {}!",
                answer.content.unwrap_or_default()["name"]
                    .as_str()
                    .unwrap_or("?")
            ),
            other => format!("no answer: {other:?}"),
        })
    }

    /// Asks the client's model.
    #[mcp_tool]
    async fn ask_model(ctx: &RequestContext, question: String) -> Result<String, ToolError> {
        let answer = ctx
            .create_message(
                "model",
                SamplingRequest::new(64)
                    .system_prompt("Answer in one word.")
                    .user_text(question),
            )
            .await?;
        Ok(format!(
            "{} says {}",
            answer.model,
            answer.text().unwrap_or_default()
        ))
    }

    /// Lists the client's roots.
    #[mcp_tool]
    async fn roots(ctx: &RequestContext) -> Result<String, ToolError> {
        let roots = ctx.list_roots("roots").await?;
        Ok(roots
            .iter()
            .map(|r| r.uri.as_str())
            .collect::<Vec<_>>()
            .join(","))
    }

    /// Asks a name and the roots at once.
    #[mcp_tool]
    async fn both(ctx: &RequestContext) -> Result<String, ToolError> {
        let answers = ctx
            .ask(
                InputRequests::new()
                    .elicit("name", name_form())
                    .list_roots("roots"),
            )
            .await?;
        let name = answers
            .elicitation("name")
            .and_then(|a| a.content.as_ref())
            .and_then(|c| c["name"].as_str())
            .unwrap_or("?")
            .to_owned();
        let roots = answers.roots("roots").map_or(0, <[_]>::len);
        Ok(format!("{name} has {roots} root(s)"))
    }
}

struct Setup {
    issuer: TestIssuer,
    server: TestServer,
}

fn start(configure: impl FnOnce(McpServerBuilder) -> McpServerBuilder) -> Setup {
    let issuer = TestIssuer::new().expect("an issuer");
    let server = configure(Survey.into_mcp_builder().oauth(issuer.provider()))
        .build()
        .expect("the survey builds");
    let server = TestServer::start_with(server, &issuer).expect("the survey starts");
    Setup { issuer, server }
}

impl Setup {
    fn token(&self, subject: &str) -> String {
        self.issuer
            .token()
            .subject(subject)
            .sign()
            .expect("a signed token")
    }

    fn client(&self, subject: &str) -> TestClient {
        self.server.client().with_token(self.token(subject))
    }
}

/// Records what the client was asked, and answers like a person would.
fn recording_answerer(
    asked: Arc<Mutex<Vec<(String, Value)>>>,
) -> impl Fn(&str, &Value) -> Result<Value, ErrorObject> + Send + Sync + 'static {
    move |method: &str, params: &Value| {
        asked
            .lock()
            .expect("not poisoned")
            .push((method.to_owned(), params.clone()));
        Ok(match method {
            "elicitation/create" => json!({"action": "accept", "content": {"name": "Ada"}}),
            "sampling/createMessage" => json!({
                "role": "assistant",
                "content": {"type": "text", "text": "Paris"},
                "model": "tiny-model",
                "stopReason": "endTurn"
            }),
            "roots/list" => json!({"roots": [{"uri": "file:///work", "name": "work"}]}),
            other => return Err(ErrorObject::method_not_found(other)),
        })
    }
}

#[actix_web::test]
async fn questions_travel_on_the_stream_and_answers_reach_the_handler() {
    let setup = start(|b| b);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let client = setup
        .client("alice")
        .answering(recording_answerer(Arc::clone(&asked)));

    let result = client
        .call_tool("ask_name", json!({}))
        .await
        .expect("ask_name");
    assert_eq!(result.text(), "Hello, Ada!");
    let result = client
        .call_tool("ask_model", json!({"question": "Capital of France?"}))
        .await
        .expect("ask_model");
    assert_eq!(result.text(), "tiny-model says Paris");
    let result = client.call_tool("roots", json!({})).await.expect("roots");
    assert_eq!(result.text(), "file:///work");
    let result = client.call_tool("both", json!({})).await.expect("both");
    assert_eq!(result.text(), "Ada has 1 root(s)");

    let asked = asked.lock().expect("not poisoned").clone();
    let methods: Vec<&str> = asked.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        methods,
        [
            "elicitation/create",
            "sampling/createMessage",
            "roots/list",
            "elicitation/create",
            "roots/list"
        ]
    );
    assert_eq!(
        asked[0].1,
        json!({
            "mode": "form",
            "message": "What is your name?",
            "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        })
    );
    assert_eq!(
        asked[1].1,
        json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": "Capital of France?"}}],
            "maxTokens": 64,
            "systemPrompt": "Answer in one word."
        })
    );
}

#[actix_web::test]
async fn a_client_error_and_a_malformed_answer_reach_the_tool_as_errors() {
    let setup = start(|b| b);
    let refusing = setup
        .client("alice")
        .answering(|_, _| Err(ErrorObject::new(-1, "User rejected the sampling request")));
    let error = refusing
        .call_tool("ask_model", json!({"question": "?"}))
        .await
        .expect_err("the client refused");
    let text = error.to_string();
    assert!(
        text.contains("the client answered with an error")
            && text.contains("User rejected the sampling request"),
        "{text}"
    );

    let garbled = setup
        .client("alice")
        .answering(|_, _| Ok(json!({"action": "perhaps"})));
    let error = garbled
        .call_tool("ask_name", json!({}))
        .await
        .expect_err("the answer is malformed");
    assert!(
        error
            .to_string()
            .contains("the client's answer is malformed"),
        "{error}"
    );
}

#[actix_web::test]
async fn undeclared_capabilities_are_never_asked() {
    let setup = start(|b| b);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let client = setup
        .client("alice")
        .answering(recording_answerer(Arc::clone(&asked)))
        .with_capabilities(json!({"elicitation": {}}));
    let error = client
        .call_tool("ask_model", json!({"question": "?"}))
        .await
        .expect_err("no sampling capability");
    assert!(
        error
            .to_string()
            .contains("the client did not declare the `sampling` capability"),
        "{error}"
    );
    let error = client
        .call_tool("roots", json!({}))
        .await
        .expect_err("no roots capability");
    assert!(error.to_string().contains("`roots`"), "{error}");
    assert!(asked.lock().expect("not poisoned").is_empty());
    // The declared one still works.
    let result = client
        .call_tool("ask_name", json!({}))
        .await
        .expect("ask_name");
    assert_eq!(result.text(), "Hello, Ada!");
}

/// An open `tools/call` on the 2025-11-25 wire whose SSE answer is read
/// message by message.
struct OpenCall {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl OpenCall {
    async fn start(
        url: &str,
        token: &str,
        session: &str,
        id: u64,
        tool: &str,
        accept: &str,
    ) -> reqwest::Response {
        reqwest::Client::new()
            .post(url)
            .header("accept", accept)
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-11-25")
            .header("mcp-session-id", session)
            .bearer_auth(token)
            .body(
                json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                       "params": {"name": tool, "arguments": {}}})
                .to_string(),
            )
            .send()
            .await
            .expect("the server answers")
    }

    async fn open(url: &str, token: &str, session: &str, id: u64, tool: &str) -> Self {
        let response = Self::start(
            url,
            token,
            session,
            id,
            tool,
            "application/json, text/event-stream",
        )
        .await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ASCII")
                .starts_with("text/event-stream")
        );
        Self {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next JSON-RPC message on the stream, or `None` at its end.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let event = String::from_utf8(event).expect("UTF-8 event");
                let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) else {
                    continue;
                };
                return Some(serde_json::from_str(data).expect("JSON data"));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .expect("the stream moves within 10 s")
                .expect("the stream reads")?;
            self.buffer.extend_from_slice(&chunk);
        }
    }
}

/// POSTs `message` on `session` with `token`; returns the status.
async fn post(url: &str, token: &str, session: &str, message: Value) -> u16 {
    TestClient::new(url)
        .with_token(token)
        .raw("POST")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .header("mcp-session-id", session)
        .body(message.to_string())
        .send()
        .await
        .expect("the server answers")
        .status
}

/// A session of `subject` whose client declared every capability.
async fn session_of(setup: &Setup, subject: &str) -> (String, String) {
    let token = setup.token(subject);
    let client = setup
        .server
        .client()
        .with_token(token.clone())
        .with_capabilities(json!({"elicitation": {}, "sampling": {}, "roots": {}}));
    client.ping().await.expect("the handshake");
    let session = client.session_id().await.expect("a session");
    (token, session)
}

#[actix_web::test]
async fn answers_from_another_user_are_dropped() {
    let setup = start(|b| b);
    let url = setup.server.url().to_owned();
    let (alice, alice_session) = session_of(&setup, "alice").await;
    let (mallory, mallory_session) = session_of(&setup, "mallory").await;

    let mut call = OpenCall::open(&url, &alice, &alice_session, 7, "ask_name").await;
    let question = call.next().await.expect("a question");
    assert_eq!(question["method"], "elicitation/create");
    let id = question["id"].clone();
    assert!(id.is_string(), "server request ids are unguessable strings");
    let answer = |name: &str| json!({"jsonrpc": "2.0", "id": id, "result": {"action": "accept", "content": {"name": name}}});

    // Mallory answers from her own session, then on Alice's: neither lands.
    assert_eq!(
        post(&url, &mallory, &mallory_session, answer("Mallory")).await,
        202
    );
    assert_eq!(
        post(&url, &mallory, &alice_session, answer("Mallory")).await,
        403,
        "a session belongs to the user who opened it"
    );
    // Alice's own answer is the one the tool gets.
    assert_eq!(
        post(&url, &alice, &alice_session, answer("Alice")).await,
        202
    );
    let result = call.next().await.expect("the result");
    assert_eq!(result["id"], 7);
    assert_eq!(result["result"]["content"][0]["text"], "Hello, Alice!");
    // Answering again changes nothing and is not an error.
    assert_eq!(post(&url, &alice, &alice_session, answer("Eve")).await, 202);
}

#[actix_web::test]
async fn unanswered_questions_time_out_and_are_withdrawn() {
    let setup = start(|b| b.client_request_timeout(Duration::from_millis(300)));
    let url = setup.server.url().to_owned();
    let (alice, session) = session_of(&setup, "alice").await;
    let mut call = OpenCall::open(&url, &alice, &session, 3, "ask_name").await;
    let question = call.next().await.expect("a question");
    assert_eq!(question["method"], "elicitation/create");
    let cancelled = call.next().await.expect("a cancellation");
    assert_eq!(cancelled["method"], "notifications/cancelled");
    assert_eq!(cancelled["params"]["requestId"], question["id"]);
    let result = call.next().await.expect("the result");
    assert_eq!(result["result"]["isError"], true);
    let text = result["result"]["content"][0]["text"]
        .as_str()
        .expect("text");
    assert!(text.contains("did not answer within"), "{text}");
    // A late answer is dropped quietly.
    let late = json!({"jsonrpc": "2.0", "id": question["id"], "result": {"action": "cancel"}});
    assert_eq!(post(&url, &alice, &session, late).await, 202);

    // Several questions at once: every one still open is withdrawn.
    let mut call = OpenCall::open(&url, &alice, &session, 4, "both").await;
    let mut asked = Vec::new();
    for _ in 0..2 {
        let question = call.next().await.expect("a question");
        asked.push(question["id"].clone());
    }
    let mut withdrawn = Vec::new();
    for _ in 0..2 {
        let cancelled = call.next().await.expect("a cancellation");
        assert_eq!(cancelled["method"], "notifications/cancelled");
        withdrawn.push(cancelled["params"]["requestId"].clone());
    }
    assert_eq!(withdrawn, asked);
    let result = call.next().await.expect("the result");
    assert_eq!(result["result"]["isError"], true);
}

#[actix_web::test]
async fn cancelling_the_call_stops_the_wait() {
    let setup = start(|b| b);
    let url = setup.server.url().to_owned();
    let (alice, session) = session_of(&setup, "alice").await;
    let mut call = OpenCall::open(&url, &alice, &session, 11, "ask_name").await;
    let question = call.next().await.expect("a question");
    assert_eq!(question["method"], "elicitation/create");
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": 11, "reason": "changed my mind"}});
    assert_eq!(post(&url, &alice, &session, cancel).await, 202);
    let end = call.next().await.expect("the request's end");
    assert_eq!(end["id"], 11);
    assert_eq!(
        end["error"]["code"],
        mcp_runtime::protocol::REQUEST_CANCELLED
    );
}

#[actix_web::test]
async fn a_json_only_request_cannot_carry_questions() {
    let setup = start(|b| b);
    let url = setup.server.url().to_owned();
    let (alice, session) = session_of(&setup, "alice").await;
    let response = OpenCall::start(&url, &alice, &session, 5, "ask_name", "application/json").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("a JSON answer");
    assert_eq!(body["result"]["isError"], true);
    let text = body["result"]["content"][0]["text"].as_str().expect("text");
    assert!(text.contains("does not accept an SSE stream"), "{text}");
}

#[actix_web::test]
async fn request_states_are_bound_to_the_caller_and_the_tool() {
    let setup = start(|b| b);
    let url = setup.server.url().to_owned();
    let alice = setup.token("alice");
    let mallory = setup.token("mallory");
    let call = |token: String, tool: &'static str, params: Value| {
        let url = url.clone();
        async move {
            let mut params = params;
            params["name"] = json!(tool);
            support::stateless_request(&url, Some(&token), "tools/call", tool, params).await
        }
    };

    let first = call(alice.clone(), "ask_name", json!({"arguments": {}})).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first_rpc = first.rpc().unwrap_or_default();
    let result = &first_rpc["result"];
    assert_eq!(result["resultType"], "input_required");
    assert_eq!(
        result["inputRequests"]["name"]["method"],
        "elicitation/create"
    );
    let state = result["requestState"].as_str().expect("a state").to_owned();
    let retry = json!({
        "arguments": {},
        "inputResponses": {"name": {"action": "accept", "content": {"name": "Ada"}}},
        "requestState": state,
    });

    // Another caller, or another tool, cannot use Alice's state.
    let stolen = call(mallory, "ask_name", retry.clone()).await;
    assert_eq!(
        stolen.rpc().unwrap_or_default()["error"]["code"],
        -32602,
        "{}",
        stolen.body
    );
    let elsewhere = call(alice.clone(), "both", retry.clone()).await;
    assert_eq!(
        elsewhere.rpc().unwrap_or_default()["error"]["code"],
        -32602,
        "{}",
        elsewhere.body
    );
    let mut tampered = retry.clone();
    tampered["requestState"] = json!(format!("{state}x"));
    let tampered = call(alice.clone(), "ask_name", tampered).await;
    assert_eq!(
        tampered.rpc().unwrap_or_default()["error"]["code"],
        -32602,
        "{}",
        tampered.body
    );

    // Alice's retry completes.
    let done = call(alice.clone(), "ask_name", retry).await;
    assert_eq!(
        done.rpc().unwrap_or_default()["result"]["resultType"],
        "complete",
        "{}",
        done.body
    );
    assert_eq!(
        done.rpc().unwrap_or_default()["result"]["content"][0]["text"],
        "Hello, Ada!"
    );

    // A malformed answer fails the request, whatever the tool does with it.
    let malformed = call(
        alice,
        "ask_name",
        json!({"arguments": {}, "inputResponses": {"name": 12345}}),
    )
    .await;
    assert_eq!(
        malformed.rpc().unwrap_or_default()["error"]["code"],
        -32602,
        "{}",
        malformed.body
    );
}
