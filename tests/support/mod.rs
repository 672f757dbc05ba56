//! Shared helpers of the integration tests: start servers on loopback, find
//! the Node harness, run identity providers (the Node one, and one shaped
//! like each built-in provider), example binaries, and several replicas of
//! one behind nginx with Redis (`cluster`).

#![allow(dead_code)]

pub mod cluster;
pub mod documents;
pub mod example;
pub mod keys;
pub mod oauth;
pub mod shaped_idp;

use mcp_runtime::testing::{RawResponse, TestClient};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The workspace root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Node harness folder (`tests/node`), installed with `npm ci` on first
/// use. Panics with the reason if it cannot be installed: a real-peer test
/// must fail, never skip, when its peer is missing.
pub fn node_harness() -> &'static Path {
    static READY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let dir = root().join("tests/node");
        let node = dir.join("node_modules/.bin/node");
        if !node.exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .map_err(|e| {
                    format!(
                        "cannot run `npm ci` in {}: {e}; install Node.js and npm",
                        dir.display()
                    )
                })?;
            if !status.success() {
                return Err(format!(
                    "`npm ci` in {} failed with {status}",
                    dir.display()
                ));
            }
        }
        let version = Command::new(&node)
            .arg("--version")
            .output()
            .map_err(|e| format!("cannot start {}: {e}", node.display()))?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
        if !version.starts_with("v22.") {
            return Err(format!(
                "the harness needs Node 22, {} is {version}",
                node.display()
            ));
        }
        Ok(dir)
    });
    match ready {
        Ok(dir) => dir,
        Err(why) => panic!("Node test harness unavailable: {why}"),
    }
}

/// The harness's Node 22 binary.
pub fn node() -> PathBuf {
    node_harness().join("node_modules/.bin/node")
}

/// A binary built by `cargo test` next to this test's own: examples live in
/// `target/<profile>/examples/`.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "example binary {} not found; `cargo test` builds examples, run the tests through cargo",
        path.display()
    );
    path
}

// ---------------------------------------------------------------------------
// Loopback OpenID provider: `tests/node/idp.mjs` (npm `oidc-provider`).

/// A running `tests/node/idp.mjs`: a loopback OpenID provider whose access
/// tokens are JWTs (`typ: at+jwt`) with `aud` = the RFC 8707 `resource`
/// asked for. Static client_credentials clients: `machine`/`machine-secret`
/// and `reader`/`reader-secret`; resource scopes `tasks:read tasks:write
/// admin` unless `--resource-scopes` says otherwise. Killed on drop (and it
/// exits by itself when its stdin closes, should the test process die).
pub struct Idp {
    /// `http://127.0.0.1:PORT`.
    pub issuer: String,
    /// `{issuer}/jwks`.
    pub jwks_uri: String,
    /// `{issuer}/token`.
    pub token_endpoint: String,
    /// `{issuer}/token/introspection` (RFC 7662; oidc-provider only
    /// introspects opaque tokens: start with `--access-token-format opaque`).
    pub introspection_endpoint: String,
    /// `RS256` or `ES256`.
    pub alg: String,
    /// The `kid` of the signing key (in the JWKS and in every token header).
    pub kid: String,
    /// PKCS#8 PEM of the signing key, to forge tokens with the trusted key.
    pub private_key_pem: String,
    child: std::process::Child,
}

/// How long [`start_node_peer`] waits for a peer's JSON line.
const PEER_START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The TypeScript SDK's OAuth client (`tests/node/oauth-client.mjs`)
/// signing in to the MCP endpoint `url` with its code sent to `redirect`,
/// then calling `tool` with `args` (JSON), with `env` set; what it printed.
/// Panics with its stderr if it fails.
pub fn sdk_sign_in(
    url: &str,
    redirect: &str,
    tool: &str,
    args: &str,
    env: &[(&str, &str)],
) -> serde_json::Value {
    let output = Command::new(node())
        .arg(node_harness().join("oauth-client.mjs"))
        .args([url, redirect, tool, args])
        .envs(env.iter().copied())
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "the SDK client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the client prints JSON")
}

/// Whether a sign-in [`sdk_sign_in`] printed went through `idp` (one of
/// its hops is on the provider's origin).
pub fn signed_in_at(printed: &serde_json::Value, idp: &Idp) -> bool {
    let origin = idp.issuer.trim_end_matches('/');
    printed["hops"].as_array().is_some_and(|hops| {
        hops.iter()
            .any(|hop| hop.as_str().is_some_and(|hop| hop.starts_with(origin)))
    })
}

/// A loopback redirect URI nothing listens on: the SDK client reads its
/// code from the redirect without fetching it.
pub fn loopback_redirect() -> String {
    format!("http://127.0.0.1:{}/callback", free_port())
}

/// The identity provider proxy-mode tests sign in through: resource scopes
/// `admin user:write`, and the confidential client
/// `mcp-proxy`/`mcp-proxy-secret` whose redirect URI is the callback of
/// the server at `origin`.
pub fn start_proxy_idp(origin: &str) -> Idp {
    start_idp(
        "RS256",
        &[
            "--resource-scopes",
            "admin user:write",
            "--code-client",
            &format!(
                "mcp-proxy:mcp-proxy-secret:{origin}{}",
                mcp_runtime::auth::PROXY_CALLBACK_PATH
            ),
        ],
    )
}

/// A new, empty directory under the temp dir, named for `what`, this
/// process and a counter.
pub fn fresh_dir(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mcp-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Starts `node tests/node/SCRIPT ARGS...` with its stdin held open (the
/// peers exit when it closes, should the test process die) and waits for
/// the first JSON line it prints; returns the process and that line. Its
/// output is drained for its whole life (a full pipe would block it).
/// Panics, with its stderr, if it exits or prints no JSON line within 30 s.
pub fn start_node_peer(script: &str, args: &[&str], what: &str) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    use std::sync::{Arc, Mutex, mpsc};

    let script = node_harness().join(script);
    let mut child = Command::new(node())
        .arg(&script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));

    // Keep the first 64 KiB of stderr for failure messages.
    let stderr_text = Arc::new(Mutex::new(String::new()));
    let stderr_reader = {
        let mut pipe = child.stderr.take().expect("piped stderr");
        let text = Arc::clone(&stderr_text);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut text = text.lock().unwrap_or_else(|e| e.into_inner());
                if text.len() < 64 * 1024 {
                    text.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        })
    };

    // Stdout: hand over the JSON line, then keep draining.
    let (tx, rx) = mpsc::channel::<String>();
    {
        let pipe = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if !sent && line.trim_start().starts_with('{') {
                    sent = tx.send(line).is_ok();
                }
            }
        });
    }

    match rx.recv_timeout(PEER_START_TIMEOUT) {
        Ok(line) => (child, line),
        Err(why) => {
            let status = match why {
                mpsc::RecvTimeoutError::Timeout => {
                    let _ = child.kill();
                    format!("not ready after {PEER_START_TIMEOUT:?}, killed")
                }
                mpsc::RecvTimeoutError::Disconnected => "exited".to_owned(),
            };
            let status = match child.wait() {
                Ok(code) => format!("{status} ({code})"),
                Err(e) => format!("{status} (wait failed: {e})"),
            };
            let _ = stderr_reader.join();
            let stderr = stderr_text
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            panic!(
                "{what} {} {args:?} {status} before printing its JSON line; stderr:\n{stderr}",
                script.display()
            );
        }
    }
}

/// Starts `node tests/node/idp.mjs --alg ALG ARGS...` (e.g. `&["--ttl",
/// "60"]`, `&["--resource-scopes", "a b"]`, `&["--access-token-format",
/// "opaque"]`) on a free port and waits for its JSON line. Panics, with the
/// provider's stderr, if it exits or is not ready within 30 s.
pub fn start_idp(alg: &str, args: &[&str]) -> Idp {
    let mut all = vec!["--alg", alg];
    all.extend_from_slice(args);
    let (child, line) = start_node_peer("idp.mjs", &all, "identity provider");
    let info: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("identity provider printed invalid JSON ({e}): {line}"));
    let field = |name: &str| -> String {
        info[name]
            .as_str()
            .unwrap_or_else(|| panic!("identity provider JSON lacks string `{name}`: {line}"))
            .to_owned()
    };
    Idp {
        issuer: field("issuer"),
        jwks_uri: field("jwks_uri"),
        token_endpoint: field("token_endpoint"),
        introspection_endpoint: field("introspection_endpoint"),
        alg: field("alg"),
        kid: field("kid"),
        private_key_pem: field("private_key_pem"),
        child,
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Idp {
    /// POSTs `form` to the token endpoint with HTTP Basic client
    /// authentication; returns the status and the JSON body (`Null` if the
    /// body is not JSON). For error cases; see [`Idp::client_credentials_token`].
    pub async fn token_request(
        &self,
        client_id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let response = reqwest::Client::new()
            .post(&self.token_endpoint)
            .basic_auth(client_id, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("token request to {} failed: {e}", self.token_endpoint));
        let status = response.status().as_u16();
        let body = response.text().await.expect("token response body");
        (
            status,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// A client_credentials access token for `resource` (its `aud`) with
    /// `scope` (space separated; scopes the provider does not know for the
    /// resource are dropped silently). An empty `scope` or `resource` is not
    /// sent (without a resource the token is opaque and has no audience).
    /// Panics with the provider's answer unless it issues a token.
    pub async fn client_credentials_token(
        &self,
        client_id: &str,
        secret: &str,
        scope: &str,
        resource: &str,
    ) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            form.push(("scope", scope));
        }
        if !resource.is_empty() {
            form.push(("resource", resource));
        }
        let (status, body) = self.token_request(client_id, secret, &form).await;
        match body["access_token"].as_str() {
            Some(token) if status == 200 => token.to_owned(),
            _ => panic!(
                "client_credentials token for {client_id} (scope {scope:?}, resource {resource:?}) refused: HTTP {status} {body}"
            ),
        }
    }
}

/// The decoded header and payload of a compact JWS (signature not checked).
pub fn jwt_parts(token: &str) -> (serde_json::Value, serde_json::Value) {
    use base64::Engine as _;
    let decode = |part: &str| -> serde_json::Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap_or_else(|e| panic!("JWT part is not base64url ({e}): {token}"));
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("JWT part is not JSON ({e}): {token}"))
    };
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {token}");
    (decode(parts[0]), decode(parts[1]))
}

// ---------------------------------------------------------------------------
// Example binaries, built on demand.

/// The example `name`'s binary, built first with `cargo build --example` in
/// this test's profile. `cargo test` builds examples only when it runs every
/// target; this makes `cargo test --test <one>` work on its own (a no-op when
/// the binary is up to date). Panics with cargo's output if the build fails.
pub fn built_example(name: &str) -> PathBuf {
    use std::collections::HashSet;
    use std::sync::Mutex;

    static BUILT: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashSet::new);
    if !built.contains(name) {
        let exe = std::env::current_exe().expect("test executable path");
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|dir| dir.to_str())
            .map(|dir| if dir == "debug" { "dev" } else { dir })
            .expect("target/<profile>/deps/<test>")
            .to_owned();
        let output = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", name, "--profile", &profile])
            .current_dir(root())
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo build --example {name}: {e}"));
        assert!(
            output.status.success(),
            "cargo build --example {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        built.insert(name.to_owned());
    }
    example_binary(name)
}

impl Idp {
    /// `{issuer}/auth`: the provider's authorization endpoint (code flow;
    /// clients from `--code-client id:secret:redirect_uri`).
    pub fn authorization_endpoint(&self) -> String {
        format!("{}/auth", self.issuer)
    }
}

// Requests on the 2026-07-28 wire: no session, routing headers, `_meta` on
// every request.

/// A 2026-07-28 `method` request on `target` (a tool or prompt name, or a
/// resource URI) with `params` (its `_meta` merged with the one the
/// revision needs)
/// and an optional bearer `token`. Panics if the server does not answer.
pub async fn stateless_request(
    url: &str,
    token: Option<&str>,
    method: &str,
    target: &str,
    params: serde_json::Value,
) -> RawResponse {
    let mut params = params;
    let meta = serde_json::json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "sampling": {}, "roots": {}}
    });
    match params["_meta"].as_object_mut() {
        Some(given) => given.extend(
            meta.as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone())),
        ),
        None => params["_meta"] = meta,
    }
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let client = match token {
        Some(token) => TestClient::new(url).with_token(token),
        None => TestClient::new(url),
    };
    client
        .raw("POST")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .header("mcp-name", target)
        .body(body.to_string())
        .send()
        .await
        .expect("the server answers")
}

/// A 2026-07-28 `tools/call` of `tool` without arguments, with `token`.
pub async fn stateless_tool_call(url: &str, token: &str, tool: &str) -> RawResponse {
    let params = serde_json::json!({ "name": tool, "arguments": {} });
    stateless_request(url, Some(token), "tools/call", tool, params).await
}

// ---------------------------------------------------------------------------
// The conformance suite.

/// Runs the conformance suite of the npm package in `package_dir`
/// (`@modelcontextprotocol/conformance` or `conformance-next`) with `args`
/// against `url`, under the expected-failures file `tests/conformance/BASELINE`
/// (empty: every scenario must pass, and a warning counts as a failure).
/// Panics with the suite's output, and `context` (e.g. the servers' logs),
/// unless it reports a passed baseline check.
pub fn run_conformance(url: &str, package_dir: &str, args: &[&str], baseline: &str, context: &str) {
    let harness = node_harness();
    let baseline = root().join("tests/conformance").join(baseline);
    let entry = harness
        .join("node_modules")
        .join(package_dir)
        .join("dist/index.js");
    let output = Command::new(node())
        .arg(&entry)
        .args(["server", "--url", url])
        .args(args)
        .arg("--expected-failures")
        .arg(&baseline)
        .current_dir(harness)
        .output()
        .expect("run the conformance suite");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "conformance ({package_dir} {args:?}) failed with {}:\n{stdout}\n{stderr}\n{context}",
        output.status
    );
    assert!(
        stdout.contains("Baseline check passed"),
        "conformance ({package_dir} {args:?}) did not report a baseline check:\n{stdout}\n{stderr}"
    );
}
