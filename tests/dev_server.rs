//! `oauth = dev`: the server as its own authorization server. A real client
//! (the TypeScript SDK) signs in to the quickstart example through the
//! consent page; the refusals are driven with reqwest against in-process
//! servers.

mod support;

use support::example::Example;
use support::oauth;

use mcp_runtime::testing::{TestClient, TestServer};

use mcp_runtime::auth::DevServer;
use mcp_runtime::prelude::*;
use serde_json::{Value, json};
use std::time::Duration;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

// ---------------------------------------------------------------------------
// The TypeScript SDK against the quickstart example
// ---------------------------------------------------------------------------

/// The quickstart example binary on a free port, killed on drop.
struct Quickstart {
    url: String,
    child: std::process::Child,
}

impl Drop for Quickstart {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_quickstart() -> Quickstart {
    let port = support::free_port();
    let child = std::process::Command::new(support::example_binary("quickstart"))
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env_remove("MCP_DEV_OAUTH_AUTO_APPROVE")
        .env_remove("MCP_DEV_OAUTH_KEY_FILE")
        .env_remove("MCP_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the quickstart example starts");
    let quickstart = Quickstart {
        url: format!("http://127.0.0.1:{port}/mcp"),
        child,
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return quickstart;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the quickstart example did not listen on {port}");
}

fn sdk_client(url: &str, tool: &str, args: &str) -> Value {
    support::sdk_sign_in(url, &support::loopback_redirect(), tool, args, &[])
}

#[test]
fn the_typescript_sdk_signs_in_to_the_quickstart_through_the_consent_page() {
    let server = start_quickstart();
    let printed = sdk_client(&server.url, "whoami", "{}");
    assert_eq!(printed["consent_pages"], 1, "{printed}");
    assert_eq!(
        printed["result"]["structuredContent"]["user"], "dev-user",
        "{printed}"
    );
    let tools = printed["tools"].as_array().expect("tools");
    assert!(tools.contains(&json!("add-task")), "{printed}");
    // Its own client id per registration, public, no secret: the signed
    // registration itself (header, claims, signature), stored nowhere.
    let client_id = printed["client"]["client_id"].as_str().unwrap_or_default();
    assert_eq!(client_id.split('.').count(), 3, "{printed}");
    assert_eq!(printed["client"]["has_secret"], false);
    assert_eq!(
        printed["callback"]["iss"],
        server.url.trim_end_matches("/mcp")
    );
    assert_eq!(printed["token"]["has_refresh_token"], true);
    // The scoped tool, with the scopes the server supports granted by default.
    let printed = sdk_client(&server.url, "add-task", r#"{"title":"write docs"}"#);
    assert_eq!(
        printed["result"]["content"][0]["text"], "1 task(s) to do",
        "{printed}"
    );
}

// ---------------------------------------------------------------------------
// What `listen` prints for the developer
// ---------------------------------------------------------------------------

/// What the example printed on stderr, once that holds `needle` (within 10 s).
fn on_stderr(example: &Example, needle: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stderr = example.stderr();
        if stderr.contains(needle) {
            return stderr;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "`{needle}` was not printed on stderr:\n{}",
            example.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The shell command of `output` whose first line starts with `start`
/// (after indentation), with its `\`-continued lines.
fn shell_command(output: &str, start: &str) -> String {
    let mut lines = output
        .lines()
        .skip_while(|line| !line.trim_start().starts_with(start));
    let mut command = String::new();
    for line in lines.by_ref() {
        command.push_str(line);
        command.push('\n');
        if !line.ends_with('\\') {
            break;
        }
    }
    assert!(!command.is_empty(), "no `{start}` command in:\n{output}");
    command
}

/// The JSON-RPC message of an MCP answer, JSON or a one-event SSE stream.
fn message(body: &str) -> Value {
    let json = body
        .lines()
        .find_map(|line| line.strip_prefix("data:"))
        .unwrap_or(body);
    serde_json::from_str(json.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn listen_on_a_dev_server_prints_the_url_the_inspector_sign_in_and_a_token_it_accepts() {
    // No tracing subscriber, as a server written from the README has none.
    let client_vars = [
        ("MCP_DEV_OAUTH_CLIENT_ID", "cli"),
        ("MCP_DEV_OAUTH_CLIENT_SECRET", "cli-secret-value"),
    ];
    let mut vars = vec![("RUST_LOG", "")];
    vars.extend(client_vars);
    let quickstart = Example::start("quickstart", &vars);
    let output = on_stderr(&quickstart, "Fewer scopes");
    let url = &quickstart.url;
    assert!(
        output.contains(&format!("MCP server `quickstart`: {url}")),
        "{output}"
    );
    assert!(
        output.contains("npx @modelcontextprotocol/inspector"),
        "{output}"
    );
    assert!(
        output.contains(&format!("\"Streamable HTTP\", enter the URL {url}")),
        "{output}"
    );
    assert!(output.contains("scopes: tasks:write"), "{output}");
    let token = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("TOKEN="))
        .unwrap_or_else(|| panic!("no token printed:\n{output}"));

    // The printed curl command, run as printed with the printed token.
    let curl = shell_command(&output, "curl -s http");
    let ran = std::process::Command::new("sh")
        .args(["-c", &curl])
        .env("TOKEN", token)
        .output()
        .expect("sh runs curl");
    let body = String::from_utf8_lossy(&ran.stdout);
    assert!(ran.status.success(), "{curl}\n{body}");
    let tools = message(&body)["result"]["tools"].clone();
    assert!(
        tools
            .as_array()
            .is_some_and(|tools| tools.iter().any(|t| t["name"] == "add-task")),
        "{body}"
    );

    // The printed way to fewer scopes, run as printed.
    let fewer = shell_command(&output, "curl -s -u");
    let ran = std::process::Command::new("sh")
        .args(["-c", &fewer])
        .envs(client_vars)
        .output()
        .expect("sh runs curl");
    let body = String::from_utf8_lossy(&ran.stdout);
    let granted: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(granted["scope"], "tasks:write", "{fewer}\n{body}");
    assert!(granted["access_token"].is_string(), "{body}");

    // The token holds every scope the server declares: the scoped tool runs.
    let client = TestClient::new(url.as_str()).with_token(token);
    let added = client
        .call_tool("add-task", json!({"title": "ship it"}))
        .await
        .expect("the token holds tasks:write");
    assert_eq!(added.text(), "1 task(s) to do");
}

#[test]
fn without_a_tracing_subscriber_a_server_says_once_on_stderr_where_it_listens() {
    let quickstart = Example::start("quickstart", &[("RUST_LOG", "")]);
    let stderr = on_stderr(&quickstart, "Fewer scopes");
    let listening = format!("MCP server `quickstart` listening on {}", quickstart.url);
    assert_eq!(stderr.matches(&listening).count(), 1, "{stderr}");
    let output = quickstart.output();
    assert_eq!(output.matches(&listening).count(), 1, "{output}");
}

#[test]
fn with_a_tracing_subscriber_the_address_is_logged_once_and_the_sign_in_still_printed() {
    let quickstart = Example::start("quickstart", &[("RUST_LOG", "info")]);
    on_stderr(&quickstart, "Fewer scopes");
    let output = quickstart.output();
    let listening = format!("listening on {}", quickstart.url);
    assert_eq!(output.matches(&listening).count(), 1, "{output}");
    let logged = output
        .lines()
        .find(|line| line.contains(&listening))
        .unwrap_or_default();
    assert!(logged.contains("INFO"), "{output}");
}

// ---------------------------------------------------------------------------
// Refusals, in process
// ---------------------------------------------------------------------------

struct Tasks;

fn dev_settings() -> DevServer {
    DevServer::new()
        .auto_approve(true)
        .code_ttl(Duration::from_secs(1))
        .scopes_supported(["tasks:read"])
        .client("ci", "ci-secret-value", ["tasks:read"])
}

#[mcp_server(name = "tasks", version = "1.0.0", oauth = custom(dev_settings()))]
impl Tasks {
    /// Who is calling.
    #[mcp_tool(read_only)]
    async fn whoami(&self, auth: &Auth) -> String {
        format!("{} {}", auth.user.user_id, auth.scopes.join(","))
    }

    /// Adds a task.
    #[mcp_tool(name = "add-task", scopes = "tasks:write")]
    async fn add_task(&self) -> &'static str {
        "added"
    }
}

fn server() -> TestServer {
    TestServer::start(Tasks.into_mcp_server().expect("valid server")).expect("the server starts")
}

/// Registers a client redirecting to `redirect`; its `client_id`.
async fn register(base: &str, redirect: &str) -> String {
    let (status, body) = oauth::register(
        base,
        json!({"redirect_uris": [redirect], "client_name": "test"}),
    )
    .await;
    assert_eq!(status, 201);
    body["client_id"].as_str().expect("client_id").to_owned()
}

/// A dev server, its base URL, and a client registered there for
/// [`REDIRECT`].
async fn with_client() -> (TestServer, String, String) {
    let server = server();
    let base = server.base_url();
    let client_id = register(&base, REDIRECT).await;
    (server, base, client_id)
}

/// A code for `client_id` with `scope`.
async fn code(base: &str, client_id: &str, scope: &str) -> String {
    let (status, query) = oauth::authorize(
        base,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("scope", scope),
            ("state", "st"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    assert_eq!(query.get("state").map(String::as_str), Some("st"));
    query.get("code").cloned().expect("a code")
}

async fn exchange(base: &str, client_id: &str, code: &str, verifier: &str) -> (u16, Value) {
    let (status, _, body) = oauth::token_request(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    (status, body)
}

#[actix_web::test]
async fn a_code_becomes_a_token_the_shared_verifier_accepts() {
    let (server, base, client_id) = with_client().await;
    let code = code(&base, &client_id, "tasks:read tasks:write other").await;
    let (status, body) = exchange(&base, &client_id, &code, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "tasks:read tasks:write");
    let access = body["access_token"].as_str().expect("token");
    let result = server
        .client()
        .with_token(access)
        .call_tool("whoami", ())
        .await
        .expect("the dev token calls whoami");
    assert_eq!(result.content[0]["text"], "dev-user tasks:read,tasks:write");
    // The reused code is refused.
    let (status, body) = exchange(&base, &client_id, &code, VERIFIER).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[actix_web::test]
async fn redirect_uris_match_exactly_and_pkce_is_required() {
    let (_server, base, client_id) = with_client().await;
    let params = |redirect: &'static str, pkce: bool| {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", redirect),
        ];
        if pkce {
            p.extend([
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ]);
        }
        p
    };
    let mut plain = params(REDIRECT, false);
    plain.extend([
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "plain"),
    ]);
    // (case, request, status, error sent back to the client: None when the
    // refusal is answered here, never redirected to).
    let refusals = [
        (
            "a redirect URI with another path",
            params("http://127.0.0.1:9/callback/", true),
            400,
            None,
        ),
        (
            "a redirect URI on another port",
            params("http://127.0.0.1:10/callback", true),
            400,
            None,
        ),
        (
            "an unknown client",
            vec![("client_id", "dev-unknown"), ("redirect_uri", REDIRECT)],
            400,
            None,
        ),
        (
            "no PKCE",
            params(REDIRECT, false),
            302,
            Some("invalid_request"),
        ),
        ("plain PKCE", plain, 302, Some("invalid_request")),
    ];
    for (case, request, status, error) in refusals {
        let (got, query) = oauth::authorize(&base, &request).await;
        assert_eq!(got, status, "{case}");
        match error {
            Some(error) => assert_eq!(
                query.get("error").map(String::as_str),
                Some(error),
                "{case}"
            ),
            None => assert!(query.is_empty(), "{case}: redirected with {query:?}"),
        }
    }

    // At the token endpoint: a wrong or missing verifier, another redirect
    // URI, another client's code; each with a fresh code of `client_id`.
    let other = register(&base, "http://127.0.0.1:11/cb").await;
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl";
    // (case, client_id, code_verifier, redirect_uri, error)
    let refusals = [
        (
            "a wrong verifier",
            client_id.as_str(),
            Some(wrong),
            REDIRECT,
            "invalid_grant",
        ),
        ("no verifier", &client_id, None, REDIRECT, "invalid_request"),
        (
            "another redirect URI",
            &client_id,
            Some(VERIFIER),
            "http://127.0.0.1:9/other",
            "invalid_grant",
        ),
        (
            "another client's code",
            &other,
            Some(VERIFIER),
            REDIRECT,
            "invalid_grant",
        ),
    ];
    for (case, client, verifier, redirect, error) in refusals {
        let code = self::code(&base, &client_id, "tasks:read").await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", &code),
        ];
        form.extend(verifier.map(|verifier| ("code_verifier", verifier)));
        form.push(("redirect_uri", redirect));
        let (status, _, body) = oauth::token_request(&base, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{case}: {body}"
        );
    }
}

#[actix_web::test]
async fn codes_expire() {
    let (_server, base, client_id) = with_client().await;
    let code = code(&base, &client_id, "tasks:read").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = exchange(&base, &client_id, &code, VERIFIER).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_a_reuse_revokes_the_family() {
    let (_server, base, client_id) = with_client().await;
    let code = code(&base, &client_id, "tasks:read").await;
    let (_, first) = exchange(&base, &client_id, &code, VERIFIER).await;
    let first = first["refresh_token"].as_str().expect("refresh").to_owned();
    let refresh = |token: String| {
        let base = base.clone();
        let client_id = client_id.clone();
        async move {
            let (status, _, body) = oauth::token_request(
                &base,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &client_id),
                    ("refresh_token", &token),
                ],
            )
            .await;
            (status, body)
        }
    };
    let (status, second) = refresh(first.clone()).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["scope"], "tasks:read");
    let second = second["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(first, second);
    // The rotated token again: refused, and the whole family revoked.
    let (status, body) = refresh(first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = refresh(second).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[actix_web::test]
async fn tokens_are_only_for_this_server() {
    let (server, base, client_id) = with_client().await;
    let code = code(&base, &client_id, "tasks:read").await;
    let (status, _, body) = oauth::token_request(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", REDIRECT),
            ("resource", "https://other.example/mcp"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (_, query) = oauth::authorize(
        &base,
        &[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("resource", "https://other.example/mcp"),
        ],
    )
    .await;
    assert_eq!(
        query.get("error").map(String::as_str),
        Some("invalid_target")
    );
    // Naming this server is fine.
    let (status, _, body) = oauth::token_request(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("resource", server.url()),
            ("client_id", "ci"),
            ("client_secret", "ci-secret-value"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn client_credentials_need_the_configured_secret() {
    let server = server();
    let base = server.base_url();
    let basic = |secret: &str| {
        oauth::http()
            .post(format!("{base}/token"))
            .basic_auth("ci", Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let response = basic("ci-secret-value").await.expect("token answers");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["scope"], "tasks:read");
    assert!(body.get("refresh_token").is_none());
    let access = body["access_token"].as_str().expect("token");
    let result = server
        .client()
        .with_token(access)
        .call_tool("whoami", ())
        .await
        .expect("the dev token calls whoami");
    assert_eq!(result.content[0]["text"], "ci tasks:read");
    let response = basic("ci-secret-valuf").await.expect("token answers");
    assert_eq!(response.status(), 401);
    let (status, _, body) = oauth::token_request(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", "ci-secret-value"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[actix_web::test]
async fn a_missing_scope_is_stepped_up_by_authorizing_again() {
    let (server, base, client_id) = with_client().await;
    let code = code(&base, &client_id, "tasks:read").await;
    let (_, body) = exchange(&base, &client_id, &code, VERIFIER).await;
    let narrow = body["access_token"].as_str().expect("token").to_owned();
    let refused = server
        .client()
        .with_token(narrow)
        .call_tool("add-task", ())
        .await
        .expect_err("add-task needs tasks:write");
    assert_eq!(refused.status(), Some(403));
    let challenge = refused.challenge().unwrap_or_default();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    assert!(challenge.contains("tasks:write"), "{challenge}");
    let code = self::code(&base, &client_id, "tasks:read tasks:write").await;
    let (_, body) = exchange(&base, &client_id, &code, VERIFIER).await;
    let wide = body["access_token"].as_str().expect("token");
    let result = server
        .client()
        .with_token(wide)
        .call_tool("add-task", ())
        .await
        .expect("the dev token calls add-task");
    assert_eq!(result.content[0]["text"], "added");
}

#[test]
fn the_dev_server_refuses_a_public_bind() {
    let server = Tasks.into_mcp_server().expect("valid server");
    let refused = server
        .bind("0.0.0.0:0")
        .err()
        .expect("refused off loopback");
    assert!(
        refused
            .to_string()
            .contains("MCP_DEV_OAUTH_ALLOW_NON_LOOPBACK"),
        "{refused}"
    );
}

#[test]
fn dev_tokens_are_minted_only_once_bound() {
    let server = Tasks.into_mcp_server().expect("valid server");
    assert!(server.dev_token(["tasks:read"]).is_err());
    let running = TestServer::start(server.clone()).expect("the server starts");
    let token = server
        .dev_token(["tasks:read", "unknown"])
        .expect("a token");
    let claims: Value = {
        use base64::Engine as _;
        let payload = token.split('.').nth(1).expect("a JWT");
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("base64url"),
        )
        .expect("JSON")
    };
    assert_eq!(claims["aud"], running.url());
    assert_eq!(claims["iss"], running.base_url());
    assert_eq!(claims["scope"], "tasks:read");
    assert_eq!(claims["sub"], "dev-user");
}
