//! Tools run as tasks (the `io.modelcontextprotocol/tasks` extension),
//! through the testing kit's client: a task is created at once and polled
//! to its end, asks its client through the task and gets the answers of
//! `tasks/update`, stops on `tasks/cancel`; it is its creator's alone (for
//! anyone else its id is unknown); each caller has a cap on unfinished
//! tasks; and a client without the extension gets a plain call, or -32021
//! from a tool that runs only as a task. Its changes are told as
//! `notifications/tasks` on the 2026-07-28 `subscriptions/listen` streams
//! that follow it and on the GET stream of the session that created it, to
//! no one `tasks/get` would not answer. The testing kit's task helpers
//! (`with_tasks`, `start_task`, `wait_for_task`, ...) are what a user's own
//! tests of their task tools would use.

use mcp_runtime::input::{ElicitAction, Elicitation};
use mcp_runtime::prelude::*;
use mcp_runtime::protocol::tasks::TASKS_EXTENSION;
use mcp_runtime::testing::{
    ClientError, NotificationStream, TaskInfo, TestClient, TestIssuer, TestServer,
};
use serde_json::{Value, json};
use std::time::Duration;

struct Jobs;

#[mcp_server(name = "jobs", version = "1.0.0", oauth = auth0)]
impl Jobs {
    /// Works `ms` milliseconds, then reports.
    #[mcp_tool(task = "optional")]
    async fn build(
        /// How long to work.
        ms: u64,
    ) -> String {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        format!("built in {ms} ms")
    }

    /// Exports, only ever as a task.
    #[mcp_tool(task = "required")]
    async fn export() -> String {
        "exported".to_owned()
    }

    /// Asks a name in the request, then greets it as a task.
    #[mcp_tool(task = "optional", deferred_task)]
    async fn greet_later(ctx: &RequestContext) -> Result<String, ToolError> {
        let (_, name) = ask(ctx, "name", "Your name?", "stranger").await?;
        let task = ctx.start_task().await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(if task.is_cancelled() {
            "cancelled".to_owned()
        } else {
            format!("Hello, {name}!")
        })
    }

    /// Releases, for callers with the `release` scope.
    #[mcp_tool(task = "optional", scopes = "release")]
    async fn release() -> String {
        tokio::time::sleep(Duration::from_secs(60)).await;
        "released".to_owned()
    }

    /// Returns more than a task may keep.
    #[mcp_tool(task = "optional")]
    async fn dump() -> String {
        "x".repeat(2 * 1024 * 1024)
    }

    /// Asks which branch to deploy, then deploys it.
    #[mcp_tool(task = "optional")]
    async fn deploy(ctx: &RequestContext) -> Result<String, ToolError> {
        let (action, branch) = ask(ctx, "branch", "Which branch?", "main").await?;
        Ok(match action {
            ElicitAction::Accept => format!("deployed {branch}"),
            _ => "not deployed".to_owned(),
        })
    }
}

/// Asks the client `question` for the string `field` (key `field` too):
/// its action, and the answer or `default`.
async fn ask(
    ctx: &RequestContext,
    field: &str,
    question: &str,
    default: &str,
) -> Result<(ElicitAction, String), ToolError> {
    let form = Elicitation::form(
        question,
        json!({"type": "object", "properties": {field: {"type": "string"}}}),
    );
    let answer = ctx.elicit(field, form).await?;
    let value = answer
        .content
        .as_ref()
        .and_then(|c| c.get(field))
        .and_then(Value::as_str)
        .unwrap_or(default)
        .to_owned();
    Ok((answer.action, value))
}

struct Fixture {
    issuer: TestIssuer,
    server: TestServer,
    /// The served server, to change what it serves.
    handle: McpServer,
}

fn fixture() -> Fixture {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Jobs
        .into_mcp_builder()
        .oauth(issuer.provider())
        .build()
        .expect("builds");
    let handle = server.clone();
    let server = TestServer::start_with(server, &issuer).expect("starts");
    Fixture {
        issuer,
        server,
        handle,
    }
}

impl Fixture {
    /// A client of `user` that declared the extension.
    fn client(&self, user: &str) -> TestClient {
        let token = self.issuer.token().subject(user).sign().expect("token");
        self.server
            .client()
            .with_token(token)
            .with_capabilities(json!({"elicitation": {}}))
            .with_tasks()
    }
}

async fn start(client: &TestClient, tool: &str, arguments: Value) -> String {
    let created = client.start_task(tool, arguments).await.expect("a task");
    assert_eq!(created.status, "working", "{created:?}");
    assert!(created.result.is_none(), "{created:?}");
    assert!(
        created.task_id.len() >= 22,
        "128 random bits: {}",
        created.task_id
    );
    created.task_id
}

async fn get(client: &TestClient, id: &str) -> Result<Value, ClientError> {
    client.rpc("tasks/get", json!({"taskId": id})).await
}

/// Waits for the task to end or ask.
async fn settled(client: &TestClient, id: &str) -> TaskInfo {
    client
        .wait_for_task(id, Duration::from_secs(10))
        .await
        .expect("settles")
}

#[actix_web::test]
async fn a_task_is_created_at_once_and_polled_to_its_result() {
    let f = fixture();
    let alice = f.client("alice");
    let id = start(&alice, "build", json!({"ms": 300})).await;
    let task = get(&alice, &id).await.expect("found at once");
    assert_eq!(task["status"], "working", "{task}");
    let done = settled(&alice, &id).await;
    assert_eq!(done.status, "completed");
    assert_eq!(done.text(), "built in 300 ms");
    let result = done.result.expect("inlined");
    assert_ne!(result["isError"], true, "{result}");
    // Kept after its end.
    assert_eq!(get(&alice, &id).await.expect("kept")["status"], "completed");
}

#[actix_web::test]
async fn a_task_asks_through_itself_and_takes_the_answer_of_tasks_update() {
    let f = fixture();
    let alice = f.client("alice");
    let id = start(&alice, "deploy", json!({})).await;
    let asking = settled(&alice, &id).await;
    assert_eq!(asking.status, "input_required", "{asking:?}");
    assert_eq!(asking.input_requests.len(), 1, "{asking:?}");
    let (key, request) = asking.input_requests.iter().next().unwrap();
    assert_eq!(request["method"], "elicitation/create", "{asking:?}");
    let ack = alice
        .rpc(
            "tasks/update",
            json!({"taskId": id, "inputResponses": {
                key: {"action": "accept", "content": {"branch": "release"}},
                "never-asked": {"action": "accept"}
            }}),
        )
        .await
        .expect("acknowledged");
    assert!(
        ack.get("taskId").is_none(),
        "an empty acknowledgement: {ack}"
    );
    let done = settled(&alice, &id).await;
    assert_eq!(done.text(), "deployed release");
}

#[actix_web::test]
async fn a_handler_asks_in_its_request_then_starts_its_task() {
    let f = fixture();
    let token = f.issuer.token().subject("alice").sign().expect("token");
    let alice = f
        .server
        .client()
        .with_token(token)
        .answering(|method, _| match method {
            "elicitation/create" => Ok(json!({"action": "accept", "content": {"name": "Ada"}})),
            other => Err(mcp_runtime::protocol::ErrorObject::method_not_found(other)),
        })
        .with_tasks();
    let created = alice
        .start_task("greet_later", json!({}))
        .await
        .expect("a task");
    let done = settled(&alice, &created.task_id).await;
    assert_eq!(done.text(), "Hello, Ada!");
    // Without the extension, the same handler answers in its request.
    let token = f.issuer.token().subject("bob").sign().expect("token");
    let bob = f
        .server
        .client()
        .with_token(token)
        .answering(|_, _| Ok(json!({"action": "accept", "content": {"name": "Bo"}})));
    let result = bob
        .call_tool("greet_later", json!({}))
        .await
        .expect("a plain call");
    assert_eq!(result.text(), "Hello, Bo!");
}

#[actix_web::test]
async fn a_result_too_large_to_keep_fails_the_task() {
    let f = fixture();
    let alice = f.client("alice");
    let id = start(&alice, "dump", json!({})).await;
    let failed = settled(&alice, &id).await;
    assert_eq!(failed.status, "failed", "{:?}", failed.status_message);
    assert!(failed.result.is_none());
    let error = failed.error.expect("an error");
    assert_eq!(error["code"], -32603);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 1048576")),
        "{error}"
    );
}

#[actix_web::test]
async fn a_cancelled_task_stops_and_stays_cancelled() {
    let f = fixture();
    let alice = f.client("alice");
    let id = start(&alice, "build", json!({"ms": 60_000})).await;
    alice.cancel_task(&id).await.expect("acknowledged");
    let task = alice.task(&id).await.expect("kept");
    assert_eq!(task.status, "cancelled", "{task:?}");
    assert!(task.result.is_none(), "{task:?}");
    // Cancelling again, or a finished task, is acknowledged the same way.
    alice
        .rpc("tasks/cancel", json!({"taskId": id}))
        .await
        .expect("acknowledged again");
}

#[actix_web::test]
async fn another_callers_task_is_unknown() {
    let f = fixture();
    let alice = f.client("alice");
    let mallory = f.client("mallory");
    let id = start(&alice, "build", json!({"ms": 60_000})).await;
    for (method, params) in [
        ("tasks/get", json!({"taskId": id})),
        ("tasks/cancel", json!({"taskId": id})),
        (
            "tasks/update",
            json!({"taskId": id, "inputResponses": {"x": {"action": "accept"}}}),
        ),
    ] {
        match mallory.rpc(method, params).await {
            Err(ClientError::Rpc { code, message, .. }) => {
                assert_eq!(code, -32602, "{method}");
                assert_eq!(
                    message, "Failed to retrieve task: Task not found",
                    "{method}"
                );
            }
            other => panic!("{method}: expected -32602, got {other:?}"),
        }
    }
    // Exactly what an id that never existed gets.
    match get(&alice, "no-such-task").await {
        Err(ClientError::Rpc { code, message, .. }) => {
            assert_eq!(
                (code, message.as_str()),
                (-32602, "Failed to retrieve task: Task not found")
            );
        }
        other => panic!("expected -32602, got {other:?}"),
    }
    // Untouched by the attempts.
    assert_eq!(
        get(&alice, &id).await.expect("alice's")["status"],
        "working"
    );
    alice
        .rpc("tasks/cancel", json!({"taskId": id}))
        .await
        .expect("cancelled by its owner");
}

#[actix_web::test]
async fn a_token_that_may_not_call_the_tool_does_not_see_its_task() {
    let f = fixture();
    let scoped = f
        .issuer
        .token()
        .subject("alice")
        .scopes(["release"])
        .sign()
        .expect("token");
    let releaser = f.server.client().with_token(scoped).with_tasks();
    let id = start(&releaser, "release", json!({})).await;
    // The same user, through a token without the scope.
    let narrower = f.client("alice");
    match narrower.task(&id).await {
        Err(ClientError::Rpc { code, message, .. }) => {
            assert_eq!(
                (code, message.as_str()),
                (-32602, "Failed to retrieve task: Task not found")
            );
        }
        other => panic!("expected the task unknown, got {other:?}"),
    }
    assert_eq!(releaser.task(&id).await.expect("its own").status, "working");
    releaser.cancel_task(&id).await.expect("cancelled");
}

#[actix_web::test]
async fn each_caller_may_hold_a_hundred_tasks() {
    let f = fixture();
    let alice = f.client("alice");
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(start(&alice, "build", json!({"ms": 60_000})).await);
    }
    match alice
        .rpc(
            "tools/call",
            json!({"name": "build", "arguments": {"ms": 1}}),
        )
        .await
    {
        Err(ClientError::Rpc { code, message, .. }) => {
            assert_eq!(code, -32600);
            assert!(message.contains("at most 100 at once"), "{message}");
        }
        other => panic!("the 101st: expected a refusal, got {other:?}"),
    }
    // Others are not held back by alice's.
    let bob = f.client("bob");
    start(&bob, "build", json!({"ms": 1})).await;
    // A finished task still counts until it expires: cancelling one does
    // not make room at once.
    alice.cancel_task(&ids[0]).await.expect("cancelled");
    match alice
        .rpc(
            "tools/call",
            json!({"name": "build", "arguments": {"ms": 1}}),
        )
        .await
    {
        Err(ClientError::Rpc { code, .. }) => assert_eq!(code, -32600),
        other => panic!("expected the cap still, got {other:?}"),
    }
    for id in &ids[1..] {
        alice.cancel_task(id).await.expect("cancelled");
    }
}

#[actix_web::test]
async fn a_client_without_the_extension_gets_plain_calls_or_minus_32021() {
    let f = fixture();
    let token = f.issuer.token().subject("carol").sign().expect("token");
    let plain = f
        .server
        .client()
        .with_token(token)
        .with_capabilities(json!({"elicitation": {}}));
    let result = plain
        .call_tool("build", json!({"ms": 1}))
        .await
        .expect("runs in its request");
    assert_eq!(result.text(), "built in 1 ms");
    for (method, params) in [
        ("tools/call", json!({"name": "export", "arguments": {}})),
        ("tasks/get", json!({"taskId": "anything"})),
    ] {
        match plain.rpc(method, params).await {
            Err(ClientError::Rpc { code, data, .. }) => {
                assert_eq!(code, -32021, "{method}");
                assert_eq!(
                    data.expect("data")["requiredCapabilities"]["extensions"][TASKS_EXTENSION],
                    json!({}),
                    "{method}"
                );
            }
            other => panic!("{method}: expected -32021, got {other:?}"),
        }
    }
    // The server says it speaks the extension, and which tools may run as tasks.
    let info = f.client("alice").initialize().await.expect("initialize");
    assert_eq!(info.capabilities["extensions"][TASKS_EXTENSION], json!({}));
    let tools = f.client("alice").list_tools().await.expect("tools");
    let support = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.execution.clone())
    };
    assert_eq!(support("export"), Some(json!({"taskSupport": "required"})));
    assert_eq!(support("build"), Some(json!({"taskSupport": "optional"})));
}

/// The `_meta` subscription id every message of a listen stream carries.
fn subscription_of(message: &Value) -> Value {
    message["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"].clone()
}

/// The next `notifications/tasks` on `stream`.
async fn next_change(stream: &mut NotificationStream) -> Value {
    stream
        .next_of("notifications/tasks", Duration::from_secs(10))
        .await
        .expect("a task notification")
}

#[actix_web::test]
async fn a_listen_stream_follows_the_callers_own_tasks_to_their_end() {
    let f = fixture();
    let alice = f.client("alice");
    let bob = f.client("bob");
    let asking = start(&alice, "deploy", json!({})).await;
    let bobs = start(&bob, "build", json!({"ms": 60_000})).await;
    let mut stream = alice
        .listen(json!({
            "taskIds": [asking, bobs, "no-such-task"],
            "toolsListChanged": true,
            "logging": true
        }))
        .await
        .expect("a listen stream");
    // Another caller's task and an unknown one look alike: left out.
    assert_eq!(
        stream.agreed(),
        Some(&json!({"taskIds": [asking], "toolsListChanged": true})),
    );
    // The state now comes first, so a change before the stream opened is
    // not missed; then each change, as `tasks/get` would show it.
    let mut change = next_change(&mut stream).await;
    let subscription = subscription_of(&change);
    assert!(!subscription.is_null(), "tagged: {change}");
    if change["params"]["status"] == "working" {
        change = next_change(&mut stream).await;
    }
    assert_eq!(change["params"]["taskId"], json!(asking), "{change}");
    assert_eq!(change["params"]["status"], "input_required", "{change}");
    let requests = change["params"]["inputRequests"]
        .as_object()
        .expect("the question inlined");
    let key = requests.keys().next().expect("one question").clone();
    alice
        .rpc(
            "tasks/update",
            json!({"taskId": asking, "inputResponses": {
                key: {"action": "accept", "content": {"branch": "release"}}
            }}),
        )
        .await
        .expect("acknowledged");
    let mut seen = Vec::new();
    let done = loop {
        let change = next_change(&mut stream).await;
        assert_eq!(subscription_of(&change), subscription, "{change}");
        assert_eq!(change["params"]["taskId"], json!(asking), "{change}");
        seen.push(change["params"]["status"].clone());
        if change["params"]["status"] == "completed" {
            break change;
        }
    };
    assert_eq!(
        seen,
        [json!("working"), json!("completed")],
        "answered, then done"
    );
    assert_eq!(
        done["params"]["result"]["content"][0]["text"], "deployed release",
        "the result inlined: {done}"
    );
    // Bob's task, cancelled, tells Alice's stream nothing: the next message
    // Alice's stream carries is the tool list's change.
    bob.rpc("tasks/cancel", json!({"taskId": bobs}))
        .await
        .expect("cancelled");
    f.handle
        .add_tool(Tool::new("late", || async { "late" }))
        .expect("added");
    let next = stream
        .next(Duration::from_secs(10))
        .await
        .expect("a message");
    assert_eq!(next["method"], "notifications/tools/list_changed", "{next}");
    assert_eq!(subscription_of(&next), subscription, "{next}");
}

#[actix_web::test]
async fn a_session_hears_its_own_tasks_on_its_get_stream() {
    let f = fixture();
    let alice = f.client("alice");
    let other_session = f.client("alice");
    let mut stream = alice.notifications().await.expect("a GET stream");
    let mut other = other_session.notifications().await.expect("a GET stream");
    let id = start(&alice, "build", json!({"ms": 200})).await;
    let done = next_change(&mut stream).await;
    assert_eq!(done["params"]["taskId"], json!(id), "{done}");
    assert_eq!(done["params"]["status"], "completed", "{done}");
    assert_eq!(
        done["params"]["result"]["content"][0]["text"], "built in 200 ms",
        "{done}"
    );
    // The same user's other session did not create it and hears nothing.
    let heard = other.next(Duration::from_secs(1)).await;
    assert!(heard.is_err(), "another session heard {heard:?}");
}

#[actix_web::test]
async fn task_notifications_need_the_extension() {
    let f = fixture();
    let alice = f.client("alice");
    let id = start(&alice, "build", json!({"ms": 60_000})).await;
    let token = f.issuer.token().subject("alice").sign().expect("token");
    let plain = f.server.client().with_token(token);
    match plain.listen(json!({"taskIds": [id]})).await {
        Err(ClientError::Rpc { code, data, .. }) => {
            assert_eq!(code, -32021);
            assert_eq!(
                data,
                Some(json!({"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}}))
            );
        }
        other => panic!("expected -32021, got {other:?}"),
    }
    // Without task ids, the same client listens.
    let stream = plain
        .listen(json!({"toolsListChanged": true}))
        .await
        .expect("a listen stream");
    assert_eq!(stream.agreed(), Some(&json!({"toolsListChanged": true})));
    alice
        .rpc("tasks/cancel", json!({"taskId": id}))
        .await
        .expect("cancelled");
}

#[actix_web::test]
async fn a_listen_stream_ends_with_its_token() {
    let f = fixture();
    let token = f
        .issuer
        .token()
        .subject("alice")
        .expires_in(Duration::from_secs(2))
        .sign()
        .expect("token");
    let alice = f.server.client().with_token(token).with_tasks();
    let mut stream = alice
        .listen(json!({"toolsListChanged": true}))
        .await
        .expect("a listen stream");
    // The subscription ends gracefully: its response, tagged, then the end.
    let last = stream
        .next(Duration::from_secs(10))
        .await
        .expect("the closing response");
    assert_eq!(last["result"]["resultType"], "complete", "{last}");
    assert!(last.get("id").is_some_and(|id| !id.is_null()), "{last}");
    assert_eq!(
        last["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"], last["id"],
        "{last}"
    );
    match stream.next(Duration::from_secs(5)).await {
        Err(ClientError::Transport(why)) => assert!(why.contains("ended"), "{why}"),
        other => panic!("expected the end of the stream, got {other:?}"),
    }
}

#[actix_web::test]
async fn a_get_stream_opened_with_a_narrower_token_hears_nothing_of_the_task() {
    let f = fixture();
    let scoped = f
        .issuer
        .token()
        .subject("alice")
        .scopes(["release"])
        .sign()
        .expect("token");
    let narrow = f.issuer.token().subject("alice").sign().expect("token");
    let releaser = f.server.client().with_token(scoped).with_tasks();
    let first = start(&releaser, "release", json!({})).await;
    // The session's GET stream, opened by the same user through a token
    // that may not call `release`.
    let session = releaser.session_id().await.expect("a session");
    let mut narrow_stream = reqwest::Client::new()
        .get(releaser.url())
        .bearer_auth(narrow)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .expect("GET answers");
    assert_eq!(narrow_stream.status(), 200);
    releaser.cancel_task(&first).await.expect("cancelled");
    let mut heard = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, narrow_stream.chunk()).await {
        heard.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        !heard.contains("notifications/tasks"),
        "a narrower token heard the task: {heard}"
    );
    // Opened by a token that may call it, the same session's stream hears.
    let mut stream = releaser.notifications().await.expect("a GET stream");
    let second = start(&releaser, "release", json!({})).await;
    releaser.cancel_task(&second).await.expect("cancelled");
    let told = next_change(&mut stream).await;
    assert_eq!(told["params"]["taskId"], json!(second), "{told}");
    assert_eq!(told["params"]["status"], "cancelled", "{told}");
}

#[actix_web::test]
async fn a_callers_thirty_third_listen_stream_ends_their_oldest_only() {
    let f = fixture();
    let alice = f.client("alice");
    let bob = f.client("bob");
    let mut bobs = bob.listen(json!({})).await.expect("bob's stream");
    let mut held = Vec::new();
    for _ in 0..32 {
        held.push(alice.listen(json!({})).await.expect("a listen stream"));
    }
    let _newest = alice.listen(json!({})).await.expect("one more");
    match held[0].next(Duration::from_secs(10)).await {
        Err(ClientError::Transport(why)) => assert!(why.contains("ended"), "{why}"),
        other => panic!("expected alice's oldest stream to end, got {other:?}"),
    }
    // Bob's stream, and alice's others, stay open.
    for stream in [&mut bobs, &mut held[1]] {
        match stream.next(Duration::from_millis(300)).await {
            Err(ClientError::Transport(why)) => assert!(why.contains("no message"), "{why}"),
            other => panic!("expected an open, quiet stream, got {other:?}"),
        }
    }
}
