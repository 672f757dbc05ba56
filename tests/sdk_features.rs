//! The official TypeScript MCP SDK client (`tests/node/features.mjs`) against
//! a server written with `#[mcp_server]`, `#[mcp_tool]`, `#[mcp_resource]` and
//! `#[mcp_prompt]`, with OAuth on and tokens from a real OpenID provider
//! (npm `oidc-provider`): it lists and reads static and templated resources,
//! lists and gets prompts, sees every progress notification of a tool call in
//! order before its result, is refused a scoped resource, prompt and
//! subscription with 403 `insufficient_scope` (and served with the scope),
//! and receives `notifications/resources/updated` on its GET stream for the
//! URIs it subscribed to, only those, and not after unsubscribing.

mod support;

use mcp_runtime::testing::TestServer;

use mcp_runtime::auth::CustomProvider;
use mcp_runtime::prelude::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Lines, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use support::Idp;

// ---------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------

/// One provider shared by the tests of this file; it exits with them.
fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(|| {
        support::start_idp("RS256", &["--resource-scopes", "notes:read notes:write"])
    })
}

fn provider_for(idp: &Idp) -> CustomProvider {
    CustomProvider::new(&idp.issuer)
        .jwks_url(&idp.jwks_uri)
        .scopes_supported(["notes:read", "notes:write"])
}

struct Notes {
    /// Runs of the scoped handlers: a refused call must not reach them.
    guarded_runs: Arc<AtomicUsize>,
}

#[mcp_server(name = "notes", version = "3.1.0", oauth = custom(provider_for(idp())))]
impl Notes {
    /// Every note's id, one a line.
    #[mcp_resource(uri = "notes://index", name = "index", mime_type = "text/plain")]
    async fn index(&self) -> &'static str {
        "alpha\nbeta"
    }

    /// One note.
    #[mcp_resource(uri = "notes://notes/{id}/v/{version}", mime_type = "text/markdown")]
    async fn note(&self, id: String, version: u32) -> String {
        format!("# {id} (v{version})\n\nThe note called {id}.")
    }

    /// The private journal.
    #[mcp_resource(
        uri = "notes://journal",
        name = "journal",
        mime_type = "text/plain",
        scopes = "notes:read"
    )]
    async fn journal(&self, ctx: &RequestContext) -> String {
        self.guarded_runs.fetch_add(1, Ordering::SeqCst);
        format!("dear diary, request {}", ctx.request_id())
    }

    /// Drafts a reply to a note.
    #[mcp_prompt(name = "reply")]
    async fn reply(
        &self,
        /// The note to answer.
        id: String,
        #[arg(description = "How the reply sounds")] tone: Option<String>,
    ) -> Vec<PromptMessage> {
        vec![
            PromptMessage::user(Content::embedded_text(
                format!("notes://notes/{id}/v/1"),
                Some("text/markdown"),
                format!("# {id}"),
            )),
            PromptMessage::user_text(format!(
                "Reply to {id}, {}.",
                tone.as_deref().unwrap_or("politely")
            )),
            PromptMessage::assistant(Content::text("Dear author,")),
        ]
    }

    /// Reads the journal aloud.
    #[mcp_prompt(name = "confess", scopes = "notes:read")]
    async fn confess(&self) -> &'static str {
        self.guarded_runs.fetch_add(1, Ordering::SeqCst);
        "Read the journal aloud."
    }

    /// Counts to `steps`, reporting each step as progress.
    #[mcp_tool]
    async fn count(ctx: &RequestContext, steps: u32) -> String {
        for step in 1..=steps {
            // The last step has no message: an absent field must stay absent.
            let message = format!("step {step} of {steps}");
            let message = (step < steps).then_some(message.as_str());
            ctx.progress(f64::from(step), Some(f64::from(steps)), message)
                .await;
        }
        format!("counted to {steps}")
    }
}

struct Running {
    server: TestServer,
    /// A clone of the served server, to notify its sessions.
    handle: McpServer,
    guarded_runs: Arc<AtomicUsize>,
}

fn start() -> Running {
    let guarded_runs = Arc::new(AtomicUsize::new(0));
    let server = Notes {
        guarded_runs: Arc::clone(&guarded_runs),
    }
    .into_mcp_builder()
    .build()
    .expect("the notes server builds");
    let handle = server.clone();
    Running {
        server: TestServer::start(server).expect("the server starts"),
        handle,
        guarded_runs,
    }
}

/// A client_credentials token from the provider for the server at `url`.
fn token(scope: &str, url: &str) -> String {
    tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(idp().client_credentials_token("machine", "machine-secret", scope, url))
}

// ---------------------------------------------------------------------------
// The SDK client
// ---------------------------------------------------------------------------

fn features_client(url: &str, token: &str, scenario: &str, input: &Value) -> Command {
    let mut command = Command::new(support::node());
    command
        .arg(support::node_harness().join("features.mjs"))
        .args([url, scenario, &input.to_string()])
        .env("MCP_BEARER_TOKEN", token);
    command
}

/// Runs one scenario to its end; returns the JSON line it printed.
fn run_client(url: &str, token: &str, scenario: &str, input: Value) -> Value {
    let output = features_client(url, token, scenario, &input)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "features.mjs {scenario} failed ({}): {}\nstdout: {stdout}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("features.mjs {scenario} printed no JSON line ({e}): {stdout}"))
}

// ---------------------------------------------------------------------------
// Resources, prompts, progress
// ---------------------------------------------------------------------------

#[test]
fn the_sdk_client_lists_and_reads_static_and_templated_resources() {
    let running = start();
    let url = running.server.url();
    let printed = run_client(
        url,
        &token("notes:read", url),
        "resources",
        json!({"staticUri": "notes://index", "templateUri": "notes://notes/alpha/v/7"}),
    );
    assert_eq!(
        printed["resources"],
        json!([
            {
                "uri": "notes://index", "name": "index",
                "description": "Every note's id, one a line.", "mimeType": "text/plain"
            },
            {
                "uri": "notes://journal", "name": "journal",
                "description": "The private journal.", "mimeType": "text/plain",
                "_meta": {"mcp-runtime/access": {"scopes": ["notes:read"]}}
            }
        ]),
        "{printed}"
    );
    // Without a `name` key, a resource is named by its URI (template).
    assert_eq!(
        printed["resourceTemplates"],
        json!([{
            "uriTemplate": "notes://notes/{id}/v/{version}", "name": "notes://notes/{id}/v/{version}",
            "description": "One note.", "mimeType": "text/markdown"
        }]),
        "{printed}"
    );
    assert_eq!(
        printed["staticRead"],
        json!({"contents": [
            {"uri": "notes://index", "mimeType": "text/plain", "text": "alpha\nbeta"}
        ]}),
        "{printed}"
    );
    assert_eq!(
        printed["templateRead"],
        json!({"contents": [{
            "uri": "notes://notes/alpha/v/7", "mimeType": "text/markdown",
            "text": "# alpha (v7)\n\nThe note called alpha."
        }]}),
        "{printed}"
    );
}

#[test]
fn the_sdk_client_lists_prompts_and_gets_one_with_arguments() {
    let running = start();
    let url = running.server.url();
    let printed = run_client(
        url,
        &token("notes:write", url),
        "prompts",
        json!({"name": "reply", "arguments": {"id": "beta", "tone": "warmly"}}),
    );
    assert_eq!(
        printed["prompts"],
        json!([
            {
                "name": "reply", "description": "Drafts a reply to a note.",
                "arguments": [
                    {"name": "id", "description": "The note to answer.", "required": true},
                    {"name": "tone", "description": "How the reply sounds", "required": false}
                ]
            },
            {
                "name": "confess", "description": "Reads the journal aloud.",
                "_meta": {"mcp-runtime/access": {"scopes": ["notes:read"]}}
            }
        ]),
        "{printed}"
    );
    assert_eq!(
        printed["prompt"],
        json!({"messages": [
            {"role": "user", "content": {"type": "resource", "resource": {
                "uri": "notes://notes/beta/v/1", "mimeType": "text/markdown", "text": "# beta"
            }}},
            {"role": "user", "content": {"type": "text", "text": "Reply to beta, warmly."}},
            {"role": "assistant", "content": {"type": "text", "text": "Dear author,"}}
        ]}),
        "{printed}"
    );
}

#[test]
fn the_sdk_client_sees_every_progress_notification_in_order_before_the_result() {
    let running = start();
    let url = running.server.url();
    let printed = run_client(
        url,
        &token("notes:write", url),
        "progress",
        json!({"name": "count", "arguments": {"steps": 4}}),
    );
    assert_eq!(
        printed["events"],
        json!([
            {"progress": {"progress": 1, "total": 4, "message": "step 1 of 4"}},
            {"progress": {"progress": 2, "total": 4, "message": "step 2 of 4"}},
            {"progress": {"progress": 3, "total": 4, "message": "step 3 of 4"}},
            {"progress": {"progress": 4, "total": 4}},
            {"result": {"content": [{"type": "text", "text": "counted to 4"}]}}
        ]),
        "{printed}"
    );
}

// ---------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------

#[test]
fn scoped_resources_and_prompts_need_their_scope() {
    let running = start();
    let url = running.server.url();
    let input = json!({"uri": "notes://journal", "prompt": "confess"});

    let refused = run_client(url, &token("notes:write", url), "scoped", input.clone());
    let metadata = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        running.server.base_url()
    );
    for step in ["read", "prompt", "subscribe"] {
        let error = &refused[step]["error"];
        // The SDK's StreamableHTTPError carries the HTTP status as its code.
        assert_eq!(error["code"], 403, "{step}: {refused}");
        assert_eq!(error["status"], 403, "{step}: {refused}");
        assert_eq!(
            error["body"],
            json!({"error": "insufficient_scope", "error_description": "missing scope: notes:read"}),
            "{step}: {refused}"
        );
        assert_eq!(
            error["wwwAuthenticate"],
            format!(
                "Bearer error=\"insufficient_scope\", error_description=\"missing scope: notes:read\", \
                 scope=\"notes:read\", resource_metadata=\"{metadata}\""
            ),
            "{step}: {refused}"
        );
    }
    assert_eq!(
        running.guarded_runs.load(Ordering::SeqCst),
        0,
        "refused before the handlers run"
    );

    let allowed = run_client(url, &token("notes:read", url), "scoped", input);
    // The SDK numbers requests from 0 (`initialize`): the read is request 1,
    // which shows the handler got the live request's context.
    assert_eq!(
        allowed["read"]["ok"],
        json!({"contents": [
            {"uri": "notes://journal", "mimeType": "text/plain", "text": "dear diary, request 1"}
        ]}),
        "{allowed}"
    );
    assert_eq!(
        allowed["prompt"]["ok"],
        json!({"messages": [
            {"role": "user", "content": {"type": "text", "text": "Read the journal aloud."}}
        ]}),
        "{allowed}"
    );
    assert_eq!(allowed["subscribe"]["ok"], json!({}), "{allowed}");
    assert_eq!(running.guarded_runs.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------

/// A `features.mjs` run the test talks to while it runs; killed if the test
/// fails first, so a failed assertion does not leave it waiting.
struct LiveClient {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    stderr: Option<JoinHandle<String>>,
}

impl LiveClient {
    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        let mut pipe = child.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        });
        let lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        Self {
            child,
            lines,
            stderr: Some(stderr),
        }
    }

    /// Everything the client wrote on stderr; waits for it to exit.
    fn stderr(&mut self) -> String {
        self.stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default()
    }

    /// The next JSON line; panics with the client's stderr if it ended first.
    fn next_line(&mut self) -> Value {
        match self.lines.next() {
            Some(Ok(line)) => serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("features.mjs printed non-JSON ({e}): {line}")),
            other => panic!(
                "features.mjs ended early ({other:?}); stderr:\n{}",
                self.stderr()
            ),
        }
    }

    /// The last line, once the client exited successfully.
    fn finish(mut self) -> Value {
        let result = self.next_line();
        let status = self.child.wait().expect("node exits");
        assert!(status.success(), "features.mjs {status}: {}", self.stderr());
        result
    }
}

impl Drop for LiveClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn subscribed_sessions_get_resource_updates_on_their_get_stream() {
    let running = start();
    let url = running.server.url();
    let (watched, other, sentinel) = (
        "notes://notes/alpha/v/1",
        "notes://notes/beta/v/1",
        "notes://index",
    );
    let mut client = LiveClient::spawn(features_client(
        url,
        &token("notes:read", url),
        "subscribe",
        &json!({"subscribe": [watched, sentinel], "unsubscribe": watched, "sentinel": sentinel}),
    ));

    // The client prints this once its GET stream is open and both
    // subscriptions are answered.
    assert_eq!(client.next_line(), json!({"phase": "subscribed"}));
    // One stream carries every notification in order: had the unsubscribed
    // URI's update been sent, the client would see it before `watched`'s.
    assert_eq!(running.handle.notify_resource_updated(other), 0);
    assert_eq!(running.handle.notify_resource_updated(watched), 1);

    assert_eq!(client.next_line(), json!({"phase": "unsubscribed"}));
    // Likewise the sentinel's update arrives after any stray one for `watched`.
    assert_eq!(running.handle.notify_resource_updated(watched), 0);
    assert_eq!(running.handle.notify_resource_updated(sentinel), 1);

    assert_eq!(
        client.finish(),
        json!({"updates": [watched, sentinel], "timedOut": null})
    );
}
