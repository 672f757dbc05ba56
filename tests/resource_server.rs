//! The OAuth resource server against a real OpenID provider (npm
//! `oidc-provider` on loopback): tokens it issues are accepted, every forged
//! or misdirected token is refused with the right RFC 6750 challenge before
//! any tool runs, guards answer 403 for step-up, discovery is published, and
//! the JWKS cache survives outages and floods.

mod support;

use mcp_runtime::testing::{RawResponse as Reply, TestClient, TestServer};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime::auth::{CustomProvider, JwksSettings, OAuth, ScopeHierarchy};
use mcp_runtime::prelude::*;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use support::Idp;

// ---------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------

/// One RS256 provider shared by the tests of this file; it exits with them.
fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(|| support::start_idp("RS256", &[]))
}

fn provider_for(idp: &Idp) -> CustomProvider {
    CustomProvider::new(&idp.issuer)
        .jwks_url(&idp.jwks_uri)
        .scopes_supported(["tasks:read", "tasks:write", "admin"])
}

struct Tasks {
    runs: Arc<AtomicUsize>,
}

#[mcp_server(name = "tasks", version = "2.0.0", oauth = custom(provider_for(idp())))]
impl Tasks {
    /// Who is calling.
    #[mcp_tool(read_only)]
    async fn whoami(&self, auth: &Auth) -> String {
        self.runs.fetch_add(1, Ordering::SeqCst);
        format!(
            "{} via {}",
            auth.user.user_id,
            auth.client_id.as_deref().unwrap_or("?")
        )
    }

    /// List tasks.
    #[mcp_tool(name = "list-tasks", scopes = "tasks:read")]
    async fn list_tasks(&self) -> &'static str {
        self.runs.fetch_add(1, Ordering::SeqCst);
        "task 1, task 2"
    }

    /// Delete a task.
    #[mcp_tool(name = "delete-task", scopes = ["tasks:read", "tasks:write"], destructive)]
    async fn delete_task(&self, id: u64) -> String {
        self.runs.fetch_add(1, Ordering::SeqCst);
        format!("deleted {id}")
    }

    /// Remove everything.
    #[mcp_tool(any_scope = ["admin", "tasks:admin"])]
    async fn purge(&self) -> &'static str {
        self.runs.fetch_add(1, Ordering::SeqCst);
        "purged"
    }

    /// Deploy.
    #[mcp_tool(roles = "ops")]
    async fn deploy(&self) -> &'static str {
        self.runs.fetch_add(1, Ordering::SeqCst);
        "deployed"
    }

    /// Read invoices.
    #[mcp_tool(permissions = "billing:read")]
    async fn invoices(&self) -> &'static str {
        self.runs.fetch_add(1, Ordering::SeqCst);
        "no invoices"
    }
}

struct Running {
    server: TestServer,
    runs: Arc<AtomicUsize>,
}

fn start_with(configure: impl FnOnce(McpServerBuilder) -> McpServerBuilder) -> Running {
    let runs = Arc::new(AtomicUsize::new(0));
    let builder = Tasks {
        runs: Arc::clone(&runs),
    }
    .into_mcp_builder();
    let server = configure(builder).build().expect("the tasks server builds");
    Running {
        server: TestServer::start(server).expect("the server starts"),
        runs,
    }
}

fn start_stateless() -> Running {
    start_with(|b| b.stateless(true))
}

// ---------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------

struct Call<'a> {
    url: &'a str,
    authorization: Option<String>,
    session: Option<&'a str>,
    version: &'a str,
}

impl<'a> Call<'a> {
    fn new(url: &'a str) -> Self {
        Self {
            url,
            authorization: None,
            session: None,
            version: "2025-11-25",
        }
    }

    fn token(mut self, token: &str) -> Self {
        self.authorization = Some(format!("Bearer {token}"));
        self
    }

    fn authorization(mut self, value: &str) -> Self {
        self.authorization = Some(value.to_owned());
        self
    }

    fn session(mut self, session: &'a str) -> Self {
        self.session = Some(session);
        self
    }

    async fn send(&self, method: &str, params: Value) -> Reply {
        self.send_to(self.url, method, params).await
    }

    async fn send_to(&self, url: &str, method: &str, params: Value) -> Reply {
        let mut request = TestClient::new(url)
            .raw("POST")
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", self.version)
            .body(
                json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
            );
        if let Some(value) = &self.authorization {
            request = request.header("authorization", value);
        }
        if let Some(session) = self.session {
            request = request.header("mcp-session-id", session);
        }
        request.send().await.expect("the server answers")
    }

    async fn call_tool(&self, name: &str, arguments: Value) -> Reply {
        self.send("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }
}

fn text_of(reply: &Reply) -> String {
    reply.json().unwrap_or_default()["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn token(idp: &Idp, client: &str, scope: &str, resource: &str) -> String {
    let secret = format!("{client}-secret");
    idp.client_credentials_token(client, &secret, scope, resource)
        .await
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Claims of a token the trusted provider could have issued for `resource`.
fn claims(idp: &Idp, resource: &str) -> Value {
    json!({
        "iss": idp.issuer, "aud": resource, "sub": "forged-user", "client_id": "machine",
        "scope": "tasks:read", "iat": now(), "exp": now() + 300
    })
}

/// Signs `claims` with the provider's own key: a token only the provider could make.
fn sign_trusted(idp: &Idp, claims: &Value, kid: Option<&str>) -> String {
    let alg: Algorithm = idp.alg.parse().expect("a known algorithm");
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(idp.private_key_pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(idp.private_key_pem.as_bytes()),
    }
    .expect("the provider's key");
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).expect("signing works")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn assemble(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        signature
    )
}

// ---------------------------------------------------------------------------
// Tokens from the real provider
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn tokens_from_the_provider_reach_tools_with_their_caller() {
    let running = start_stateless();
    let url = running.server.url();
    let token = token(idp(), "machine", "tasks:read", url).await;
    let reply = Call::new(url)
        .token(&token)
        .call_tool("whoami", json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(text_of(&reply), "machine via machine");
    let reply = Call::new(url)
        .token(&token)
        .call_tool("list-tasks", json!({}))
        .await;
    assert_eq!(text_of(&reply), "task 1, task 2", "{}", reply.body);
    // The scheme is case-insensitive (RFC 6750 / RFC 9110).
    let reply = Call::new(url)
        .authorization(&format!("bearer {token}"))
        .call_tool("whoami", json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(running.runs.load(Ordering::SeqCst), 3);
}

#[actix_web::test]
async fn es256_tokens_are_accepted_too() {
    let es = support::start_idp("ES256", &[]);
    let running = start_with(|b| b.stateless(true).oauth(provider_for(&es)));
    let url = running.server.url();
    let token = token(&es, "machine", "tasks:read", url).await;
    let reply = Call::new(url)
        .token(&token)
        .call_tool("whoami", json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(text_of(&reply), "machine via machine");
}

// ---------------------------------------------------------------------------
// RFC 8725 attack classes
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn forged_and_misdirected_tokens_are_refused_before_any_tool_runs() {
    let running = start_stateless();
    let url = running.server.url().to_owned();
    let idp = idp();
    let kid = idp.kid.as_str();
    let good = claims(idp, &url);
    let with = |patch: Value| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().cloned().unwrap_or_default() {
            if v.is_null() {
                c.as_object_mut().map(|m| m.remove(&k));
            } else {
                c[k] = v;
            }
        }
        c
    };
    let real = token(idp, "machine", "tasks:read", &url).await;
    let real_parts: Vec<&str> = real.split('.').collect();
    let other_resource = token(idp, "machine", "tasks:read", "http://127.0.0.1:1/mcp").await;

    // An attacker's own RSA key, published nowhere this server trusts.
    let attacker_key = support::keys::KeyPair::rsa();
    let attacker_pem = &attacker_key.pem;
    let attacker = EncodingKey::from_rsa_pem(attacker_pem.as_bytes()).expect("attacker key");
    let sign_attacker =
        |header: Header, c: &Value| jsonwebtoken::encode(&header, c, &attacker).expect("sign");
    let rs_header = |kid: Option<&str>| {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = kid.map(str::to_owned);
        h
    };

    // The provider's public key, as an attacker would fetch it, used as an HMAC secret.
    let jwks: Value = reqwest::get(&idp.jwks_uri)
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let public_jwk = jwks["keys"][0].to_string();

    // Over the verifier's 8 KiB limit, under the header limit: refused unread.
    let oversized = sign_trusted(idp, &with(json!({"pad": "x".repeat(6_500)})), Some(kid));
    assert!(oversized.len() > 8 * 1024 && oversized.len() < 16 * 1024);
    let mut jku_header = rs_header(Some("attacker-key"));
    jku_header.jku = Some("https://attacker.example/jwks.json".into());
    let mut x5u_header = rs_header(Some("attacker-key"));
    x5u_header.x5u = Some("https://attacker.example/cert.pem".into());

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none, no signature",
            assemble(&json!({"alg": "none", "typ": "JWT"}), &good, ""),
            "invalid_token",
        ),
        (
            "alg none, with a signature",
            assemble(&json!({"alg": "none", "kid": kid}), &good, "c2ln"),
            "invalid_token",
        ),
        (
            "alg NONE spelled oddly",
            assemble(&json!({"alg": "nOnE", "kid": kid}), &good, "c2ln"),
            "invalid_token",
        ),
        (
            "HS256 keyed with the provider's public key",
            {
                let mut h = Header::new(Algorithm::HS256);
                h.kid = Some(kid.to_owned());
                jsonwebtoken::encode(&h, &good, &EncodingKey::from_secret(public_jwk.as_bytes()))
                    .expect("hs")
            },
            "invalid_token",
        ),
        (
            "HS256 keyed with the public key PEM",
            {
                let mut h = Header::new(Algorithm::HS256);
                h.kid = Some(kid.to_owned());
                jsonwebtoken::encode(
                    &h,
                    &good,
                    &EncodingKey::from_secret(attacker_pem.as_bytes()),
                )
                .expect("hs")
            },
            "invalid_token",
        ),
        (
            "wrong issuer",
            sign_trusted(
                idp,
                &with(json!({"iss": "https://evil.example"})),
                Some(kid),
            ),
            "invalid_token",
        ),
        (
            "missing issuer",
            sign_trusted(idp, &with(json!({"iss": null})), Some(kid)),
            "invalid_token",
        ),
        (
            "wrong audience",
            sign_trusted(
                idp,
                &with(json!({"aud": "https://other.example/mcp"})),
                Some(kid),
            ),
            "invalid_token",
        ),
        (
            "missing audience",
            sign_trusted(idp, &with(json!({"aud": null})), Some(kid)),
            "invalid_token",
        ),
        (
            "a real token for another resource",
            other_resource,
            "invalid_token",
        ),
        (
            "expired",
            sign_trusted(
                idp,
                &with(json!({"exp": now() - 3600, "iat": now() - 7200})),
                Some(kid),
            ),
            "invalid_token",
        ),
        (
            "no expiry",
            sign_trusted(idp, &with(json!({"exp": null})), Some(kid)),
            "invalid_token",
        ),
        (
            "not yet valid",
            sign_trusted(idp, &with(json!({"nbf": now() + 3600})), Some(kid)),
            "invalid_token",
        ),
        (
            "issued in the future",
            sign_trusted(idp, &with(json!({"iat": now() + 3600})), Some(kid)),
            "invalid_token",
        ),
        (
            "unknown kid, trusted key",
            sign_trusted(idp, &good, Some("no-such-kid")),
            "invalid_token",
        ),
        (
            "trusted kid, attacker's key",
            sign_attacker(rs_header(Some(kid)), &good),
            "invalid_token",
        ),
        (
            "tampered payload",
            format!(
                "{}.{}.{}",
                real_parts[0],
                b64(with(json!({"scope": "admin tasks:write", "sub": "root"}))
                    .to_string()
                    .as_bytes()),
                real_parts[2]
            ),
            "invalid_token",
        ),
        (
            "stripped signature",
            format!("{}.{}.", real_parts[0], real_parts[1]),
            "invalid_token",
        ),
        (
            "signature of another token",
            format!(
                "{}.{}.{}",
                real_parts[0],
                b64(good.to_string().as_bytes()),
                real_parts[2]
            ),
            "invalid_token",
        ),
        (
            "jku points at the attacker's keys",
            sign_attacker(jku_header, &good),
            "invalid_token",
        ),
        (
            "x5u points at the attacker's certificate",
            sign_attacker(x5u_header, &good),
            "invalid_token",
        ),
        (
            "embedded jwk of the attacker",
            {
                let mut h = rs_header(None);
                h.jwk = serde_json::from_value(attacker_key.jwk.clone()).ok();
                assert!(h.jwk.is_some(), "the attacker JWK parses");
                sign_attacker(h, &good)
            },
            "invalid_token",
        ),
        (
            "RS512 header on an RS256 signature",
            format!(
                "{}.{}.{}",
                b64(json!({"alg": "RS512", "kid": kid}).to_string().as_bytes()),
                real_parts[1],
                real_parts[2]
            ),
            "invalid_token",
        ),
        (
            "ES256 claimed against an RSA key",
            assemble(&json!({"alg": "ES256", "kid": kid}), &good, real_parts[2]),
            "invalid_token",
        ),
        (
            "unsupported critical header",
            assemble(
                &json!({"alg": "RS256", "kid": kid, "crit": ["exp"]}),
                &good,
                real_parts[2],
            ),
            "invalid_token",
        ),
        ("oversized token", oversized, "invalid_token"),
        (
            "malformed base64",
            "eyJhbGciOiJSUzI1NiJ9.e30!.c2ln".to_owned(),
            "invalid_token",
        ),
        (
            "header is not JSON",
            format!("{}.{}.c2ln", b64(b"not json"), b64(b"{}")),
            "invalid_token",
        ),
        (
            "not a JWT at all",
            "opaque-garbage-token".to_owned(),
            "invalid_token",
        ),
        ("four segments", format!("{real}.extra"), "invalid_token"),
    ];
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for (name, token, code) in &cases {
        let reply = Call::new(&url)
            .token(token)
            .call_tool("whoami", json!({}))
            .await;
        let expected = format!("Bearer error=\"{code}\"");
        let ok = reply.status == 401
            && reply.www_authenticate().starts_with(&expected)
            && reply.www_authenticate().contains("resource_metadata=\"")
            && reply.json().unwrap_or_default()["error"] == *code
            && !reply.body.contains(token.as_str());
        if !ok {
            failures.push(format!(
                "{name}: {} {} {}",
                reply.status,
                reply.www_authenticate(),
                reply.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "accepted or wrongly refused:\n{}",
        failures.join("\n")
    );
    assert_eq!(running.runs.load(Ordering::SeqCst), 0, "no tool ran");
}

#[actix_web::test]
async fn credentials_sent_the_wrong_way_are_invalid_requests() {
    let running = start_stateless();
    let url = running.server.url().to_owned();
    let real = token(idp(), "machine", "tasks:read", &url).await;

    let reply = Call::new(&url).call_tool("whoami", json!({})).await;
    assert_eq!(reply.status, 401);
    assert!(
        reply
            .www_authenticate()
            .starts_with("Bearer scope=\"tasks:read tasks:write admin\", resource_metadata=\""),
        "a missing token gets a bare challenge with the metadata: {}",
        reply.www_authenticate()
    );
    assert!(
        reply.json().unwrap_or_default()["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("Authorization: Bearer")
    );

    // (where the credentials go, request URL, Authorization header, method):
    // each is refused with 401 invalid_request, and the token is not echoed.
    let tools_list = ("tools/list", json!({}));
    let whoami = ("tools/call", json!({"name": "whoami", "arguments": {}}));
    let mut refusals = Vec::new();
    for in_query in [
        format!("{url}?access_token={real}"),
        format!("{url}?x=1&access%5Ftoken={real}"),
    ] {
        refusals.push((in_query.clone(), in_query, None, tools_list.clone()));
    }
    for value in [
        format!("Bearer {}", "x".repeat(20_000)),
        format!("Basic {real}"),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer {real} extra"),
        format!("Token {real}"),
    ] {
        refusals.push((
            format!("{value:?}"),
            url.clone(),
            Some(value),
            whoami.clone(),
        ));
    }
    for (case, to, authorization, (method, params)) in refusals {
        let mut call = Call::new(&url);
        if let Some(value) = &authorization {
            call = call.authorization(value);
        }
        let reply = call.send_to(&to, method, params).await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.body);
        assert!(
            reply
                .www_authenticate()
                .starts_with("Bearer error=\"invalid_request\""),
            "{case}: {}",
            reply.www_authenticate()
        );
        assert!(!reply.body.contains(&real), "{case}: {}", reply.body);
    }
    assert_eq!(running.runs.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------------------
// Guards: 403 step-up before the tool runs
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn each_guard_kind_answers_403_with_what_the_call_needs() {
    let running = start_stateless();
    let url = running.server.url().to_owned();
    let idp = idp();
    let reader = token(idp, "reader", "tasks:read", &url).await;
    let call = Call::new(&url);

    let reply = call
        .clone_with(&reader)
        .call_tool("delete-task", json!({"id": 3}))
        .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(
        reply
            .www_authenticate()
            .starts_with("Bearer error=\"insufficient_scope\""),
        "{}",
        reply.www_authenticate()
    );
    assert!(
        reply
            .www_authenticate()
            .contains("scope=\"tasks:read tasks:write\""),
        "all scopes the call needs: {}",
        reply.www_authenticate()
    );
    assert!(
        reply.www_authenticate().contains("resource_metadata=\""),
        "{}",
        reply.www_authenticate()
    );

    let reply = call.clone_with(&reader).call_tool("purge", json!({})).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.www_authenticate().contains("scope=\"admin\""),
        "one of the alternatives: {}",
        reply.www_authenticate()
    );

    // Roles and permissions come from the token's claims.
    let plain = sign_trusted(idp, &claims(idp, &url), Some(&idp.kid));
    for tool in ["deploy", "invoices"] {
        let reply = call.clone_with(&plain).call_tool(tool, json!({})).await;
        assert_eq!(reply.status, 403, "{tool}: {}", reply.body);
        assert!(
            reply
                .www_authenticate()
                .starts_with("Bearer error=\"insufficient_scope\"")
        );
        assert!(
            !reply.www_authenticate().contains("scope=\"tasks"),
            "scopes would not help: {}",
            reply.www_authenticate()
        );
    }
    assert_eq!(
        running.runs.load(Ordering::SeqCst),
        0,
        "no guarded tool ran"
    );

    // With the scope, role or permission, the same calls succeed.
    let writer = token(idp, "machine", "tasks:read tasks:write admin", &url).await;
    let mut privileged = claims(idp, &url);
    privileged["roles"] = json!(["ops"]);
    privileged["permissions"] = json!(["billing:read"]);
    let privileged = sign_trusted(idp, &privileged, Some(&idp.kid));
    for (token, tool, arguments, text) in [
        (&writer, "delete-task", json!({"id": 3}), "deleted 3"),
        (&writer, "purge", json!({}), "purged"),
        (&privileged, "deploy", json!({}), "deployed"),
        (&privileged, "invoices", json!({}), "no invoices"),
    ] {
        let result = running
            .server
            .client()
            .stateless()
            .with_token(token.as_str())
            .call_tool(tool, arguments)
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(result.text(), text, "{tool}");
    }
}

impl Call<'_> {
    fn clone_with(&self, token: &str) -> Call<'_> {
        Call {
            url: self.url,
            authorization: Some(format!("Bearer {token}")),
            session: self.session,
            version: self.version,
        }
    }
}

#[actix_web::test]
async fn a_scope_hierarchy_lets_broad_scopes_imply_narrow_ones() {
    let running = start_with(|b| {
        b.stateless(true)
            .scope_hierarchy(ScopeHierarchy::new().implies("admin", ["*"]))
    });
    let url = running.server.url();
    let admin = token(idp(), "machine", "admin", url).await;
    let reply = Call::new(url)
        .token(&admin)
        .call_tool("delete-task", json!({"id": 9}))
        .await;
    assert_eq!(text_of(&reply), "deleted 9", "{}", reply.body);
}

#[actix_web::test]
async fn tools_the_caller_cannot_use_can_be_hidden_from_the_list() {
    let running = start_with(|b| b.stateless(true).hide_unauthorized_tools(true));
    let url = running.server.url();
    let reader = token(idp(), "reader", "tasks:read", url).await;
    let reply = Call::new(url)
        .token(&reader)
        .send("tools/list", json!({}))
        .await;
    let listing = reply.json().unwrap_or_default();
    let names: Vec<&str> = listing["result"]["tools"]
        .as_array()
        .map(|tools| tools.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["whoami", "list-tasks"], "{}", reply.body);

    let shown = start_stateless();
    let reply = Call::new(shown.server.url())
        .token(&token(idp(), "reader", "tasks:read", shown.server.url()).await)
        .send("tools/list", json!({}))
        .await;
    let listed = reply.json().unwrap_or_default()["result"]["tools"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(listed, 6, "by default every tool is listed: {}", reply.body);
}

#[actix_web::test]
async fn a_session_belongs_to_the_user_who_opened_it() {
    let running = start_with(|b| b);
    let url = running.server.url();
    let machine = token(idp(), "machine", "tasks:read", url).await;
    let reader = token(idp(), "reader", "tasks:read", url).await;
    let init = Call::new(url)
        .token(&machine)
        .send(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        )
        .await;
    assert_eq!(init.status, 200, "{}", init.body);
    let session = init
        .header("mcp-session-id")
        .expect("a session id")
        .to_owned();

    let own = Call::new(url)
        .token(&machine)
        .session(&session)
        .send("tools/list", json!({}))
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    let stolen = Call::new(url)
        .token(&reader)
        .session(&session)
        .send("tools/list", json!({}))
        .await;
    assert_eq!(
        stolen.status, 403,
        "another user's token on the session: {}",
        stolen.body
    );
    let bare = Call::new(url)
        .session(&session)
        .send("tools/list", json!({}))
        .await;
    assert_eq!(bare.status, 401, "a session id never stands in for a token");
}

// ---------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn protected_resource_metadata_is_published() {
    let running = start_stateless();
    let base = running.server.url().trim_end_matches("/mcp").to_owned();
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let response = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .header("origin", "https://inspector.example")
            .send()
            .await
            .expect("metadata answers");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.as_bytes()),
            Some(&b"*"[..]),
            "readable from browsers"
        );
        let document: Value = response.json().await.expect("JSON");
        assert_eq!(document["resource"], running.server.url());
        assert_eq!(document["authorization_servers"], json!([idp().issuer]));
        assert_eq!(document["bearer_methods_supported"], json!(["header"]));
        assert_eq!(document["resource_name"], "tasks");
        assert_eq!(
            document["scopes_supported"],
            json!(["tasks:read", "tasks:write", "admin", "tasks:admin"])
        );
    }
}

// ---------------------------------------------------------------------------
// A real MCP client
// ---------------------------------------------------------------------------

#[test]
fn the_typescript_sdk_client_calls_a_scoped_tool_with_a_provider_token() {
    let running = start_with(|b| b);
    let url = running.server.url().to_owned();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let token = runtime.block_on(token(idp(), "machine", "tasks:read", &url));
    support::node_harness();
    let output = std::process::Command::new(support::node())
        .arg(support::root().join("tests/node/client.mjs"))
        .args([url.as_str(), "list-tasks", "{}"])
        .env("MCP_BEARER_TOKEN", &token)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("the client prints JSON");
    assert_eq!(
        printed["result"]["content"][0]["text"], "task 1, task 2",
        "{printed}"
    );

    let refused = std::process::Command::new(support::node())
        .arg(support::root().join("tests/node/client.mjs"))
        .args([url.as_str(), "list-tasks", "{}"])
        .env("MCP_BEARER_TOKEN", "not-a-token")
        .output()
        .expect("node runs");
    assert!(!refused.status.success(), "a bad token must not connect");
}

// ---------------------------------------------------------------------------
// The JWKS cache: outages, floods, rotation
// ---------------------------------------------------------------------------

/// Serves a provider's JWK set, counting fetches, and can pretend to be down.
struct JwksMirror {
    url: String,
    hits: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
    document: Arc<Mutex<String>>,
}

async fn mirror(idp: &Idp) -> JwksMirror {
    let document = reqwest::get(&idp.jwks_uri)
        .await
        .expect("jwks")
        .text()
        .await
        .expect("text");
    let hits = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicBool::new(false));
    let document = Arc::new(Mutex::new(document));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    let (h, d, doc) = (Arc::clone(&hits), Arc::clone(&down), Arc::clone(&document));
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || {
                let (h, d, doc) = (Arc::clone(&h), Arc::clone(&d), Arc::clone(&doc));
                actix_web::App::new().route(
                    "/jwks",
                    actix_web::web::get().to(move || {
                        let (h, d, doc) = (Arc::clone(&h), Arc::clone(&d), Arc::clone(&doc));
                        async move {
                            h.fetch_add(1, Ordering::SeqCst);
                            if d.load(Ordering::SeqCst) {
                                actix_web::HttpResponse::ServiceUnavailable().finish()
                            } else {
                                let body = doc.lock().map(|d| d.clone()).unwrap_or_default();
                                actix_web::HttpResponse::Ok()
                                    .content_type("application/json")
                                    .body(body)
                            }
                        }
                    }),
                )
            })
            .workers(1)
            .listen(listener)
            .expect("listen")
            .run()
            .await
        })
    });
    JwksMirror {
        url,
        hits,
        down,
        document,
    }
}

fn mirrored_provider(idp: &Idp, jwks_url: &str, settings: JwksSettings) -> OAuth {
    CustomProvider::new(&idp.issuer)
        .jwks_url(jwks_url)
        .jwks_settings(settings)
        .into()
}

#[actix_web::test]
async fn cached_keys_outlive_a_provider_outage_and_kid_floods_are_bounded() {
    let idp = idp();
    let mirror = mirror(idp).await;
    let settings = JwksSettings {
        default_ttl: Duration::from_millis(300),
        min_ttl: Duration::ZERO,
        refetch_interval: Duration::from_secs(60),
        ..JwksSettings::default()
    };
    let running = start_with(|b| {
        b.stateless(true)
            .oauth(mirrored_provider(idp, &mirror.url, settings))
    });
    let url = running.server.url().to_owned();
    let good = token(idp, "machine", "tasks:read", &url).await;
    let reply = Call::new(&url)
        .token(&good)
        .call_tool("whoami", json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        mirror.hits.load(Ordering::SeqCst),
        1,
        "keys fetched once, lazily"
    );

    // A flood of made-up kids, all at once: refused, and the provider sees at
    // most one extra fetch (the refetch interval is a minute).
    let forged: Vec<String> = (0..40)
        .map(|i| sign_trusted(idp, &claims(idp, &url), Some(&format!("random-kid-{i}"))))
        .collect();
    let replies = futures_util::future::join_all(forged.iter().map(|t| {
        let url = url.clone();
        async move {
            Call::new(&url)
                .token(t)
                .call_tool("whoami", json!({}))
                .await
                .status
        }
    }))
    .await;
    assert!(replies.iter().all(|s| *s == 401), "{replies:?}");
    let after_flood = mirror.hits.load(Ordering::SeqCst);
    assert!(
        after_flood <= 2,
        "a kid flood caused {after_flood} JWKS fetches"
    );

    // The provider goes down; the keys expire; known tokens keep working.
    mirror.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let reply = Call::new(&url)
        .token(&good)
        .call_tool("whoami", json!({}))
        .await;
    assert_eq!(
        reply.status, 200,
        "stale keys serve while the provider is down: {}",
        reply.body
    );
    let _ = &mirror.document;
}

#[actix_web::test]
async fn rotated_keys_are_picked_up_and_old_ones_dropped() {
    let first = support::start_idp("RS256", &[]);
    let port = first.issuer.rsplit(':').next().expect("a port").to_owned();
    let provider = CustomProvider::new(&first.issuer)
        .jwks_url(&first.jwks_uri)
        .jwks_settings(JwksSettings {
            refetch_interval: Duration::from_millis(200),
            ..JwksSettings::default()
        });
    let running = start_with(|b| b.stateless(true).oauth(provider));
    let url = running.server.url().to_owned();
    let old = token(&first, "machine", "tasks:read", &url).await;
    let reply = Call::new(&url)
        .token(&old)
        .call_tool("whoami", json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // The provider restarts with a new key on the same address.
    let old_kid = first.kid.clone();
    drop(first);
    let second = support::start_idp("RS256", &["--port", &port]);
    assert_ne!(second.kid, old_kid);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new = token(&second, "machine", "tasks:read", &url).await;
    let reply = Call::new(&url)
        .token(&new)
        .call_tool("whoami", json!({}))
        .await;
    assert_eq!(
        reply.status, 200,
        "a token signed with the new key: {}",
        reply.body
    );
    let reply = Call::new(&url)
        .token(&old)
        .call_tool("whoami", json!({}))
        .await;
    assert_eq!(
        reply.status, 401,
        "the old key left the JWK set: {}",
        reply.body
    );
}

// ---------------------------------------------------------------------------
// The development switch
// ---------------------------------------------------------------------------

#[test]
fn unverified_tokens_are_refused_off_loopback() {
    let provider = CustomProvider::new("http://127.0.0.1:1")
        .jwks_url("http://127.0.0.1:1/jwks")
        .verify_jwt(false);
    let server = Tasks {
        runs: Arc::default(),
    }
    .into_mcp_builder()
    .oauth(provider)
    .build()
    .expect("builds");
    let listener = std::net::TcpListener::bind("0.0.0.0:0").expect("bind all interfaces");
    let error = server
        .bind_listener(listener)
        .err()
        .expect("refused off loopback");
    assert!(error.to_string().contains("loopback"), "{error}");
}
