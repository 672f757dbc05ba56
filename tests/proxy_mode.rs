//! Proxy mode against a real OpenID provider (npm `oidc-provider` on
//! loopback, with one confidential client whose redirect URI is this server's
//! callback): the server is the authorization server MCP clients see. The
//! TypeScript SDK's own OAuth client discovers it, registers, approves the
//! consent page, signs in with PKCE through it and calls a scoped tool;
//! tampered or replayed states, unregistered redirect URIs and requests
//! without PKCE S256 are refused; a code is redeemed only with its verifier
//! and redirect URI, checked here before the provider sees it (also behind a
//! provider that ignores PKCE, simulated); the provider's token answers come
//! back as they are. The consent step's own tests are in
//! `proxy_mode/consent.rs`.

mod support;

use mcp_runtime::testing::TestServer;

#[path = "proxy_mode/consent.rs"]
mod consent;

use mcp_runtime::auth::{CustomProvider, Mode, PROXY_CALLBACK_PATH, PROXY_CONSENT_PATH};
use mcp_runtime::prelude::*;
use reqwest::Url;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{LazyLock, Mutex, OnceLock};
use support::Idp;
use support::oauth::{
    CSRF_COOKIE, Hop, authorize_url, follow_until, get, get_with_cookie, http, post_consent,
    query_of, register, token_request,
};

const CLIENT_ID: &str = "mcp-proxy";
const CLIENT_SECRET: &str = "mcp-proxy-secret-4f1c";
/// Accepted at `/authorize` without registration.
const ALLOWED_REDIRECT: &str = "https://allowed.example/oauth/done";
/// A PKCE pair: the challenge is BASE64URL(SHA-256(verifier)).
const VERIFIER: &str = "dBjftJeZ4CVP-mJ0zoqWbCBjtJ4PyP0H8D8kwV1L-rE";
const CHALLENGE: &str = "6XFZQEG7MKHoyj-2k07NDQbNwLyUajzFnyVtXHz1w1Q";
/// The cookie remembering a browser's approvals.
const REMEMBER_COOKIE: &str = "mcp_consent";
/// This browser's own secret, which remembered approvals are bound to.
const BROWSER_COOKIE: &str = "mcp_browser";
/// The cookie binding a sign-in's state to the browser it started in.
const STATE_COOKIE: &str = "mcp_oauth_browser";

// ---------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------

struct Tasks;

#[mcp_server(name = "tasks", version = "1.0.0", oauth = custom(current_provider()))]
impl Tasks {
    /// Who is calling, through which client.
    #[mcp_tool(read_only)]
    async fn whoami(&self, auth: &Auth) -> String {
        format!(
            "{} via {}",
            auth.user.user_id,
            auth.client_id.as_deref().unwrap_or("?")
        )
    }

    /// List tasks.
    #[mcp_tool(name = "list-tasks", scopes = "tasks:read")]
    async fn list_tasks(&self) -> &'static str {
        "task 1, task 2"
    }
}

/// The provider the fixture configured (the macro reads it when building).
static PROVIDER: OnceLock<CustomProvider> = OnceLock::new();

fn current_provider() -> CustomProvider {
    PROVIDER
        .get()
        .cloned()
        .expect("the fixture sets the provider first")
}

fn proxy_provider(idp: &Idp) -> CustomProvider {
    CustomProvider::new(&idp.issuer)
        .jwks_url(&idp.jwks_uri)
        .scopes_supported(["tasks:read", "tasks:write", "admin"])
        .authorization_endpoint(idp.authorization_endpoint())
        .token_endpoint(&idp.token_endpoint)
        .client(CLIENT_ID, CLIENT_SECRET)
}

/// One provider and one server for the whole file: the provider's client
/// must name the server's callback, so the server's port is bound first.
struct Fixture {
    idp: Idp,
    server: TestServer,
    /// `http://127.0.0.1:PORT`.
    base: String,
}

/// A second server on the same provider, with the consent step turned off
/// (`oauth_proxy_consent(false)`); its callback is unknown to the provider,
/// so sign-ins are only followed as far as the provider.
fn no_consent_server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        fixture();
        let server = Tasks
            .into_mcp_builder()
            .oauth_proxy_consent(false)
            .build()
            .expect("the proxy-mode server builds");
        TestServer::start(server).expect("the server starts")
    })
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let callback = format!("{base}{PROXY_CALLBACK_PATH}");
        let idp = support::start_idp(
            "RS256",
            &[
                "--code-client",
                &format!("{CLIENT_ID}:{CLIENT_SECRET}:{callback}"),
            ],
        );
        PROVIDER
            .set(proxy_provider(&idp))
            .unwrap_or_else(|_| panic!("the provider is set once"));
        let server = Tasks
            .into_mcp_builder()
            .oauth_redirect_uris([ALLOWED_REDIRECT])
            .build()
            .expect("the proxy-mode server builds");
        let server = TestServer::start_on(listener, server).expect("the server starts");
        Fixture { idp, server, base }
    })
}

// ---------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------

/// The client id each redirect URI was registered under: a registration
/// answers with an id of its own, signed, carrying its redirect URIs.
static CLIENTS: LazyLock<Mutex<HashMap<String, &'static str>>> = LazyLock::new(Mutex::default);

/// The client id a sign-in to `redirect` uses: the one its registration
/// answered with, else the server's own (for allow-listed redirect URIs).
fn client_id_for(redirect: &str) -> &'static str {
    CLIENTS
        .lock()
        .expect("the registered clients")
        .get(redirect)
        .copied()
        .unwrap_or(CLIENT_ID)
}

/// A loopback redirect URI nobody listens on, registered at the proxy.
async fn registered_redirect(base: &str) -> String {
    registered_with(base, json!({})).await
}

/// A loopback redirect URI nobody listens on, registered at the proxy with
/// the rest of `metadata`; its client id is kept for [`client_id_for`].
async fn registered_with(base: &str, mut metadata: Value) -> String {
    let redirect = format!("http://127.0.0.1:{}/callback", support::free_port());
    metadata["redirect_uris"] = json!([redirect]);
    let (status, body) = register(base, metadata).await;
    assert_eq!(status, 201, "{body}");
    let client_id = body["client_id"].as_str().expect("a client id").to_owned();
    CLIENTS
        .lock()
        .expect("the registered clients")
        .insert(redirect.clone(), Box::leak(client_id.into_boxed_str()));
    redirect
}

/// The usual authorization request of a registered client, with overrides.
fn authorize_params<'a>(
    redirect: &'a str,
    state: &'a str,
    resource: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client_id_for(redirect)),
        ("redirect_uri", redirect),
        ("state", state),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("scope", "tasks:read"),
        ("resource", resource),
    ]
}

fn with(params: &[(&'static str, &'static str)], base: Vec<(&str, &str)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = base
        .into_iter()
        .filter(|(k, _)| !params.iter().any(|(p, _)| p == k))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    out.extend(
        params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    out
}

/// What a browser does for a registered client: opens `/authorize`, gets
/// the consent page, approves it. Returns the consent page and the answer
/// to the approval (the redirect to the provider).
async fn approve(f: &Fixture, params: &[(&str, &str)]) -> (Hop, Hop) {
    let page = get(&authorize_url(&f.base, params)).await;
    assert!(page.is_consent_page(), "{} {}", page.status, page.body);
    let csrf = page.cookie(CSRF_COOKIE).expect("the consent cookie");
    let token = page.consent_token();
    let answer = post_consent(
        &f.base,
        &[("consent_token", &token), ("decision", "approve")],
        Some(&csrf),
        &[],
    )
    .await;
    (page, answer)
}

/// A full sign-in through the proxy and the provider; returns the code.
async fn code_for(f: &Fixture, redirect: &str, scope: &str, prompt: Option<&str>) -> String {
    let mut params = authorize_params(redirect, "client-state-1", f.server.url());
    params.retain(|(k, _)| *k != "scope");
    params.push(("scope", scope));
    if let Some(prompt) = prompt {
        params.push(("prompt", prompt));
    }
    let landed = follow_until(&authorize_url(&f.base, &params), redirect).await;
    let query = query_of(&landed);
    assert_eq!(
        query.get("state").map(String::as_str),
        Some("client-state-1")
    );
    assert_eq!(query.get("iss"), Some(&f.base), "RFC 9207 iss is ours");
    query
        .get("code")
        .cloned()
        .unwrap_or_else(|| panic!("no code in {landed}"))
}

// ---------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn discovery_names_this_server_as_the_authorization_server() {
    let f = fixture();
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let prm: Value = reqwest::get(format!("{}{path}", f.base))
            .await
            .expect("PRM answers")
            .json()
            .await
            .expect("JSON");
        assert_eq!(prm["resource"], f.server.url());
        assert_eq!(prm["authorization_servers"], json!([f.base]), "{path}");
    }
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let response = reqwest::get(format!("{}{path}", f.base))
            .await
            .expect("metadata answers");
        assert_eq!(response.status(), 200);
        let text = response.text().await.expect("a body");
        assert!(
            !text.contains(CLIENT_SECRET),
            "the secret is never published"
        );
        let metadata: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(metadata["issuer"], f.base);
        assert_eq!(
            metadata["authorization_endpoint"],
            format!("{}/authorize", f.base)
        );
        assert_eq!(metadata["token_endpoint"], format!("{}/token", f.base));
        assert_eq!(
            metadata["registration_endpoint"],
            format!("{}/register", f.base)
        );
        assert_eq!(metadata["response_types_supported"], json!(["code"]));
        assert_eq!(
            metadata["grant_types_supported"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(
            metadata["code_challenge_methods_supported"],
            json!(["S256"])
        );
        assert_eq!(
            metadata["token_endpoint_auth_methods_supported"],
            json!(["none"])
        );
        assert_eq!(
            metadata["authorization_response_iss_parameter_supported"],
            true
        );
        let scopes = metadata["scopes_supported"].as_array().expect("scopes");
        for scope in ["tasks:read", "tasks:write", "admin"] {
            assert!(scopes.contains(&json!(scope)), "{scope} in {scopes:?}");
        }
    }
    // The 401 points clients at our resource metadata.
    let refused = http()
        .post(f.server.url())
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            f.base
        )),
        "{challenge}"
    );
}

// ---------------------------------------------------------------------------
// A real MCP client, end to end
// ---------------------------------------------------------------------------

#[test]
fn the_typescript_sdk_discovers_registers_signs_in_and_calls_a_scoped_tool() {
    let f = fixture();
    let redirect = support::loopback_redirect();
    let run = |tool: &str, sign_ins: u32| {
        let sign_ins = sign_ins.to_string();
        support::sdk_sign_in(
            f.server.url(),
            &redirect,
            tool,
            "{}",
            &[("MCP_CLIENT_SIGN_INS", &sign_ins)],
        )
    };
    // Two sign-ins in one browser (cookie jar): consent is asked once.
    let printed = run("list-tasks", 2);
    assert_eq!(
        printed["result"]["content"][0]["text"], "task 1, task 2",
        "{printed}"
    );
    assert_eq!(printed["tools"], json!(["whoami", "list-tasks"]));
    // Registration handed out the server's client id, and no secret.
    // Registered with an id of its own; the provider still sees only the
    // server's client (the token's `client_id` below).
    assert_ne!(printed["client"]["client_id"], CLIENT_ID, "{printed}");
    assert_eq!(printed["client"]["has_secret"], false);
    assert_eq!(printed["client"]["token_endpoint_auth_method"], "none");
    // The sign-in went through this server, the provider, and back.
    let hops: Vec<&str> = printed["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        hops.first(),
        Some(&format!("{}/authorize", f.base).as_str())
    );
    assert_eq!(
        hops.get(1),
        Some(&format!("{}{PROXY_CONSENT_PATH}", f.base).as_str()),
        "the user approved the client here before the provider saw it"
    );
    assert_eq!(printed["consent_pages"], 1, "{printed}");
    let sign_ins = printed["sign_ins"].as_array().expect("sign-ins");
    assert_eq!(sign_ins.len(), 2);
    assert_eq!(
        sign_ins[1]["consent_pages"], 0,
        "the same browser is not asked again for the same client: {printed}"
    );
    assert!(
        !sign_ins[1]["hops"].to_string().contains(PROXY_CONSENT_PATH),
        "{printed}"
    );
    assert!(
        hops.contains(&format!("{}/auth", f.idp.issuer).as_str()),
        "{hops:?}"
    );
    assert_eq!(
        hops.last(),
        Some(&format!("{}{PROXY_CALLBACK_PATH}", f.base).as_str())
    );
    assert_eq!(printed["callback"]["iss"], f.base);
    assert_eq!(printed["token"]["token_type"], "Bearer");

    // The token names the user and the server's upstream client. A new
    // browser is asked again.
    let printed = run("whoami", 1);
    assert_eq!(printed["consent_pages"], 1, "{printed}");
    assert_eq!(
        printed["result"]["content"][0]["text"],
        format!("test-user via {CLIENT_ID}"),
        "{printed}"
    );
}

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn registration_returns_a_client_id_of_its_own_and_never_a_secret() {
    let f = fixture();
    let (status, body) = register(
        &f.base,
        json!({
            "redirect_uris": ["http://127.0.0.1:9/cb", "https://app.example/cb"],
            "client_name": "an app",
            "token_endpoint_auth_method": "client_secret_basic",
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // An id of its own, never the provider's: the signed registration.
    let client_id = body["client_id"].as_str().expect("a client id");
    assert_ne!(client_id, CLIENT_ID);
    assert_eq!(client_id.split('.').count(), 3, "{body}");
    assert_eq!(body.get("client_secret"), None, "never a secret");
    assert!(!body.to_string().contains(CLIENT_SECRET));
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert_eq!(
        body["redirect_uris"],
        json!(["http://127.0.0.1:9/cb", "https://app.example/cb"])
    );
    assert_eq!(
        body["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(body["response_types"], json!(["code"]));

    for (redirect_uris, error) in [
        (json!(["http://app.example/cb"]), "invalid_redirect_uri"),
        (
            json!(["https://app.example/cb#frag"]),
            "invalid_redirect_uri",
        ),
        (json!(["javascript:alert(1)"]), "invalid_redirect_uri"),
        (json!(["/relative"]), "invalid_redirect_uri"),
        (json!([]), "invalid_redirect_uri"),
        (json!("https://app.example/cb"), "invalid_redirect_uri"),
        (Value::Null, "invalid_redirect_uri"),
    ] {
        let (status, body) = register(&f.base, json!({"redirect_uris": redirect_uris})).await;
        assert_eq!(status, 400, "{redirect_uris}: {body}");
        assert_eq!(body["error"], error, "{redirect_uris}");
    }
    let (status, body) = register(
        &f.base,
        json!({"redirect_uris": ["https://app.example/cb"], "grant_types": ["client_credentials"]}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
    let not_json = http()
        .post(format!("{}/register", f.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answers");
    assert_eq!(not_json.status(), 400);
}

// ---------------------------------------------------------------------------
// Authorization requests
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn authorize_forwards_to_the_provider_with_a_signed_state() {
    let f = fixture();
    let redirect = registered_redirect(&f.base).await;
    let params = authorize_params(&redirect, "client-state", f.server.url());
    let (_, hop) = approve(f, &params).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    assert_eq!(hop.headers["cache-control"], "no-store");
    let upstream = hop.location.expect("a Location");
    assert!(
        upstream
            .as_str()
            .starts_with(&f.idp.authorization_endpoint()),
        "{upstream}"
    );
    let query = query_of(&upstream);
    let callback = format!("{}{PROXY_CALLBACK_PATH}", f.base);
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(
        query["redirect_uri"], callback,
        "the provider calls us back"
    );
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge"], CHALLENGE, "PKCE end to end");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["scope"], "tasks:read");
    assert_eq!(query["resource"], f.server.url());
    assert_ne!(query["state"], "client-state", "the state is ours, signed");
    assert!(!upstream.as_str().contains(CLIENT_SECRET));

    // An allow-listed redirect URI needs no registration.
    let params = authorize_params(ALLOWED_REDIRECT, "s", f.server.url());
    let hop = get(&authorize_url(&f.base, &params)).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    assert!(
        hop.location
            .expect("a Location")
            .as_str()
            .starts_with(&f.idp.authorization_endpoint())
    );
}

#[actix_web::test]
async fn unknown_clients_and_unregistered_redirects_are_answered_here_never_redirected() {
    let f = fixture();
    let redirect = registered_redirect(&f.base).await;
    let resource = f.server.url().to_owned();
    let base = authorize_params(&redirect, "s", &resource);
    for (change, why) in [
        (
            vec![("redirect_uri", "http://127.0.0.1:1/not-registered")],
            "unregistered",
        ),
        (vec![("redirect_uri", "https://evil.example/cb")], "foreign"),
        (vec![("redirect_uri", "")], "missing"),
        (vec![("client_id", "someone-else")], "unknown client"),
        (vec![("client_id", "")], "no client"),
    ] {
        let params = with(&change, base.clone());
        let mut url = Url::parse(&format!("{}/authorize", f.base)).unwrap();
        url.query_pairs_mut().extend_pairs(&params);
        let hop = get(url.as_str()).await;
        assert_eq!(hop.status, 400, "{why}: {}", hop.body);
        assert!(hop.location.is_none(), "{why}: never redirected");
        let body: Value = serde_json::from_str(&hop.body).expect("JSON");
        assert!(body["error"].is_string(), "{why}");
    }
    // A repeated parameter is ambiguous: refused before any redirect.
    let mut params = base.clone();
    params.push(("redirect_uri", ALLOWED_REDIRECT));
    let hop = get(&authorize_url(&f.base, &params)).await;
    assert_eq!(hop.status, 400);
    assert!(hop.location.is_none());
}

#[actix_web::test]
async fn pkce_s256_is_required() {
    let f = fixture();
    let redirect = registered_redirect(&f.base).await;
    let resource = f.server.url().to_owned();
    let base = authorize_params(&redirect, "st", &resource);
    // A browser that approved the client: its errors go back to the client.
    let (_, approved) = approve(f, &base).await;
    let jar = format!(
        "{}; {}",
        approved
            .cookie(BROWSER_COOKIE)
            .expect("the browser's secret"),
        approved.cookie(REMEMBER_COOKIE).expect("the approval")
    );
    for (change, why) in [
        (vec![("code_challenge", "")], "no challenge"),
        (vec![("code_challenge_method", "")], "no method"),
        (vec![("code_challenge_method", "plain")], "plain"),
        (vec![("code_challenge", "short")], "not a digest"),
        (vec![("response_type", "token")], "implicit"),
        (
            vec![("resource", "https://other.example/mcp")],
            "foreign resource",
        ),
    ] {
        let params = with(&change, base.clone());
        let mut url = Url::parse(&format!("{}/authorize", f.base)).unwrap();
        url.query_pairs_mut().extend_pairs(&params);
        let hop = get_with_cookie(url.as_str(), Some(&jar)).await;
        assert_eq!(hop.status, 302, "{why}: {}", hop.body);
        let location = hop.location.expect("a Location");
        assert!(
            location.as_str().starts_with(&redirect),
            "{why}: the error goes back to the client, not on to the provider: {location}"
        );
        let query = query_of(&location);
        assert!(query.contains_key("error"), "{why}: {location}");
        assert!(!query.contains_key("code"), "{why}");
        assert_eq!(query.get("state").map(String::as_str), Some("st"), "{why}");
        assert_eq!(query.get("iss"), Some(&f.base), "{why}");
        // A browser that has not approved it: the error is shown here, so a
        // registered redirect URI is no open redirect (RFC 9700 4.11.2).
        let hop = get(url.as_str()).await;
        assert_eq!(hop.status, 400, "{why}: {}", hop.body);
        assert!(
            hop.location.is_none(),
            "{why}: redirected to {:?}",
            hop.location
        );
    }
}

// ---------------------------------------------------------------------------
// The callback
// ---------------------------------------------------------------------------

/// The signed state the proxy forwarded for a fresh, approved
/// authorization request.
async fn forwarded_state(f: &Fixture, redirect: &str, client_state: &str) -> String {
    forwarded_state_and_cookie(f, redirect, client_state)
        .await
        .0
}

/// The signed state forwarded for a fresh, approved request, and the cookie
/// binding it to the browser that approved it.
async fn forwarded_state_and_cookie(
    f: &Fixture,
    redirect: &str,
    client_state: &str,
) -> (String, String) {
    let params = authorize_params(redirect, client_state, f.server.url());
    let (_, hop) = approve(f, &params).await;
    let line = hop
        .set_cookie(STATE_COOKIE)
        .expect("the state's browser cookie");
    let attributes: Vec<&str> = line.split(';').skip(1).map(str::trim).collect();
    for attribute in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=600"] {
        assert!(attributes.contains(&attribute), "{attribute} in {line}");
    }
    assert!(!line.contains("Secure"), "http loopback: {line}");
    let cookie = hop.cookie(STATE_COOKIE).unwrap();
    let state = query_of(&hop.location.expect("forwarded"))["state"].clone();
    (state, cookie)
}

fn callback_url(f: &Fixture, params: &[(&str, &str)]) -> String {
    let mut url = Url::parse(&format!("{}{PROXY_CALLBACK_PATH}", f.base)).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

#[actix_web::test]
async fn tampered_and_replayed_states_are_refused() {
    let f = fixture();
    let redirect = registered_redirect(&f.base).await;

    // Tampered: one character changed, anywhere in the signed state.
    let (state, browser) = forwarded_state_and_cookie(f, &redirect, "abc").await;
    let get = |url: String| {
        let browser = browser.clone();
        async move { get_with_cookie(&url, Some(&browser)).await }
    };
    for position in [10, state.len() / 2, state.len() - 3] {
        let mut bytes = state.clone().into_bytes();
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        let hop = get(callback_url(
            f,
            &[("code", "upstream-code"), ("state", &tampered)],
        ))
        .await;
        assert_eq!(hop.status, 400, "tampered at {position}: {}", hop.body);
        assert!(hop.location.is_none(), "never redirected");
    }
    for bogus in ["", "not-a-jwt", "a.b.c"] {
        let hop = get(callback_url(f, &[("code", "c"), ("state", bogus)])).await;
        assert_eq!(hop.status, 400, "{bogus:?}");
        assert!(hop.location.is_none());
    }
    let hop = get(callback_url(f, &[("code", "c")])).await;
    assert_eq!(hop.status, 400, "no state");

    // The genuine state works once: the client gets the code and its own state.
    let hop = get(callback_url(
        f,
        &[
            ("code", "upstream-code"),
            ("state", &state),
            ("iss", &f.idp.issuer),
        ],
    ))
    .await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    let location = hop.location.expect("a Location");
    assert!(location.as_str().starts_with(&redirect), "{location}");
    let query = query_of(&location);
    assert!(
        !query["code"].contains("upstream-code"),
        "wrapped: {location}"
    );
    assert_eq!(query["state"], "abc");
    assert_eq!(query["iss"], f.base);

    // Replayed: refused, and nothing reaches the client.
    let hop = get(callback_url(
        f,
        &[("code", "upstream-code"), ("state", &state)],
    ))
    .await;
    assert_eq!(hop.status, 400, "{}", hop.body);
    assert!(hop.location.is_none());

    // A response naming another issuer is not the provider's (RFC 9207).
    let (state, browser) = forwarded_state_and_cookie(f, &redirect, "x").await;
    let hop = get_with_cookie(
        &callback_url(
            f,
            &[
                ("code", "c"),
                ("state", &state),
                ("iss", "https://evil.example"),
            ],
        ),
        Some(&browser),
    )
    .await;
    let query = query_of(&hop.location.expect("to the client"));
    assert_eq!(query.get("error").map(String::as_str), Some("server_error"));
    assert!(!query.contains_key("code"));

    // The provider's errors are relayed to the client with its state.
    let (state, browser) = forwarded_state_and_cookie(f, &redirect, "y").await;
    let hop = get_with_cookie(
        &callback_url(
            f,
            &[
                ("error", "access_denied"),
                ("error_description", "the user said no"),
                ("state", &state),
            ],
        ),
        Some(&browser),
    )
    .await;
    assert_eq!(hop.status, 302);
    let query = query_of(&hop.location.expect("to the client"));
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["error_description"], "the user said no");
    assert_eq!(query["state"], "y");
}

/// A state approved in one browser (the attacker's, for the attacker's own
/// registered redirect URI) is useless in another (the victim's, whom the
/// provider would silently sign in): without this, consent is bypassed by
/// sending the provider URL to the victim.
#[actix_web::test]
async fn a_state_completes_only_in_the_browser_that_started_it() {
    let f = fixture();
    let redirect = registered_redirect(&f.base).await;
    let (state, browser) = forwarded_state_and_cookie(f, &redirect, "s").await;
    let params = [("code", "victims-code"), ("state", state.as_str())];
    // The victim's browser: no cookie, or its own cookie.
    let hop = get(&callback_url(f, &params)).await;
    assert_eq!(hop.status, 400, "{}", hop.body);
    assert!(hop.location.is_none(), "never redirected");
    let (_, victims) = forwarded_state_and_cookie(f, &redirect, "v").await;
    let hop = get_with_cookie(&callback_url(f, &params), Some(&victims)).await;
    assert_eq!(hop.status, 400, "{}", hop.body);
    assert!(hop.location.is_none(), "never redirected");
    // The refusals did not spend the state: its own browser completes it.
    let hop = get_with_cookie(&callback_url(f, &params), Some(&browser)).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    let location = hop.location.expect("a Location");
    assert!(location.as_str().starts_with(&redirect), "{location}");
    assert!(query_of(&location).contains_key("code"), "{location}");
}

// ---------------------------------------------------------------------------
// The token endpoint
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn the_token_endpoint_relays_the_providers_answer() {
    let f = fixture();
    let redirect = registered_redirect(&f.base).await;

    // The right verifier: a token for this server, which its tools accept.
    let code = code_for(
        f,
        &redirect,
        "openid offline_access tasks:read",
        Some("consent"),
    )
    .await;
    let (status, headers, body) = token_request(
        &f.base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", &redirect),
            ("client_id", client_id_for(&redirect)),
            ("resource", f.server.url()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let token = body["access_token"].as_str().expect("an access token");
    let (_, claims) = support::jwt_parts(token);
    assert_eq!(claims["aud"], f.server.url());
    assert_eq!(claims["client_id"], CLIENT_ID);
    let result = f
        .server
        .client()
        .with_token(token)
        .call_tool("list-tasks", ())
        .await
        .expect("the proxied token calls a tool");
    assert_eq!(result.content[0]["text"], "task 1, task 2", "{result:?}");

    // Refresh goes through the proxy too.
    let refresh = body["refresh_token"].as_str().expect("a refresh token");
    let (status, _, body) = token_request(
        &f.base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", CLIENT_ID),
            ("resource", f.server.url()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().expect("a refreshed token");
    let result = f
        .server
        .client()
        .with_token(token)
        .call_tool("list-tasks", ())
        .await
        .expect("the proxied token calls a tool");
    assert_eq!(result.content[0]["text"], "task 1, task 2", "{result:?}");

    // The same code twice: refused here, spent, before the provider is asked.
    assert_refused_here(
        &f.base,
        &exchange(
            &code,
            Some(VERIFIER),
            Some(&redirect),
            client_id_for(&redirect),
        ),
        OWN_DESCRIPTIONS[4],
    )
    .await;

    // The provider's own refusals come back as they are: a refresh token
    // it never issued.
    let (status, headers, body) = token_request(
        &f.base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "never-issued"),
            ("client_id", client_id_for(&redirect)),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        !OWN_DESCRIPTIONS.contains(&description),
        "the provider's own answer: {body}"
    );
    assert_eq!(headers["cache-control"], "no-store");
}

// ---------------------------------------------------------------------------
// PKCE, checked here too
// ---------------------------------------------------------------------------

/// What this server answers (`invalid_grant`) when it refuses a code
/// exchange itself; the provider's own refusals read otherwise
/// (oidc-provider: "grant request is invalid").
const OWN_DESCRIPTIONS: [&str; 6] = [
    "the code is unknown or expired",
    "code_verifier is required: the code was issued for a PKCE challenge",
    "the PKCE code_verifier does not match the code_challenge",
    "redirect_uri differs from the authorization request's",
    "the code was already used",
    "the code was issued to another client_id",
];

/// A code exchange at the proxy by `client_id`, with or without its
/// verifier and redirect URI.
fn exchange<'a>(
    code: &'a str,
    verifier: Option<&'a str>,
    redirect_uri: Option<&'a str>,
    client_id: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", client_id),
    ];
    form.extend(verifier.map(|v| ("code_verifier", v)));
    form.extend(redirect_uri.map(|r| ("redirect_uri", r)));
    form
}

/// The exchanges of `code` (issued for `redirect` and [`CHALLENGE`]) that
/// must be refused here, and why: `(verifier, redirect URI, description)`.
fn refused_exchanges<'a>(
    wrong: &'a str,
    redirect: &'a str,
    other_redirect: &'a str,
) -> [(Option<&'a str>, Option<&'a str>, &'static str); 5] {
    [
        (Some(wrong), Some(redirect), OWN_DESCRIPTIONS[2]),
        (None, Some(redirect), OWN_DESCRIPTIONS[1]),
        (Some(CHALLENGE), Some(redirect), OWN_DESCRIPTIONS[2]),
        (Some(VERIFIER), Some(other_redirect), OWN_DESCRIPTIONS[3]),
        (Some(VERIFIER), None, OWN_DESCRIPTIONS[3]),
    ]
}

/// Posts `form` to `base`'s token endpoint and asserts this server's own
/// `invalid_grant` (RFC 6749 §5.2) with `description`.
async fn assert_refused_here(base: &str, form: &[(&str, &str)], description: &str) {
    let (status, headers, body) = token_request(base, form).await;
    assert_eq!(status, 400, "{form:?}: {body}");
    assert_eq!(body["error"], "invalid_grant", "{form:?}: {body}");
    assert_eq!(body["error_description"], description, "{form:?}: {body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["access-control-allow-origin"], "*");
}

/// A code obtained legitimately through the proxy is redeemed only with
/// its own verifier and redirect URI: anything else is refused here, with
/// this server's own answer, before the provider is asked; the right
/// exchange then still gets the code's tokens.
#[actix_web::test]
async fn codes_are_redeemed_only_with_their_verifier_and_redirect_uri() {
    let f = fixture();
    let redirect = registered_redirect(&f.base).await;
    let other_redirect = registered_redirect(&f.base).await;
    let code = code_for(f, &redirect, "tasks:read", None).await;
    let client = client_id_for(&redirect);
    let wrong = "x".repeat(43);
    for (verifier, redirect_uri, description) in
        refused_exchanges(&wrong, &redirect, &other_redirect)
    {
        assert_refused_here(
            &f.base,
            &exchange(&code, verifier, redirect_uri, client),
            description,
        )
        .await;
    }
    // Another registered client, with everything else right: refused.
    assert_refused_here(
        &f.base,
        &exchange(
            &code,
            Some(VERIFIER),
            Some(&redirect),
            client_id_for(&other_redirect),
        ),
        OWN_DESCRIPTIONS[5],
    )
    .await;
    // A code this server never handed out, even with a verifier: refused
    // here too, never tried at the provider.
    assert_refused_here(
        &f.base,
        &exchange(
            "a-code-never-seen-here",
            Some(VERIFIER),
            Some(&redirect),
            client,
        ),
        OWN_DESCRIPTIONS[0],
    )
    .await;
    // The same code, right verifier and redirect URI: the provider's tokens.
    let (status, _, body) = token_request(
        &f.base,
        &exchange(&code, Some(VERIFIER), Some(&redirect), client),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().expect("an access token");
    assert_eq!(support::jwt_parts(token).1["aud"], f.server.url());
}

/// A provider's token endpoint that ignores PKCE (and the redirect URI): it
/// issues a token for any code, and keeps every form it was sent. Its
/// authorization endpoint is never visited: the tests play its redirect.
struct CarelessProvider {
    /// `http://127.0.0.1:PORT`.
    base: String,
    forms: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl CarelessProvider {
    fn start() -> Self {
        use std::io::{BufRead as _, Read as _, Write as _};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let forms = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&forms);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().expect("a stream"));
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let query = format!("http://form/?{}", String::from_utf8_lossy(&body));
                let form: serde_json::Map<String, Value> = Url::parse(&query)
                    .map(|url| {
                        url.query_pairs()
                            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                            .collect()
                    })
                    .unwrap_or_default();
                seen.lock().expect("the forms").push(Value::Object(form));
                let answer = r#"{"access_token":"issued-without-pkce","token_type":"Bearer"}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        Self { base, forms }
    }

    /// The forms its token endpoint was sent.
    fn forms(&self) -> Vec<Value> {
        self.forms.lock().expect("the forms").clone()
    }
}

/// Behind a provider that ignores PKCE, a code that leaks on its way to the
/// client is still useless without the client's verifier: the proxy checks
/// it, and relays only the right exchange (verifier included).
#[actix_web::test]
async fn a_provider_that_ignores_pkce_never_sees_a_bad_exchange() {
    let provider = CarelessProvider::start();
    let server = McpServer::builder("careless", "1.0.0")
        .oauth(
            CustomProvider::new(&provider.base)
                .jwks_url(format!("{}/jwks", provider.base))
                .authorization_endpoint(format!("{}/authorize", provider.base))
                .token_endpoint(format!("{}/token", provider.base))
                .client(CLIENT_ID, CLIENT_SECRET),
        )
        .oauth_redirect_uris([ALLOWED_REDIRECT])
        .build()
        .expect("the proxy-mode server builds");
    let server = TestServer::start(server).expect("the server starts");
    let base = server.base_url();

    // The sign-in, with the provider's part played here: the proxy's
    // redirect to it, then its redirect back with a code.
    let params = [
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", ALLOWED_REDIRECT),
        ("state", "client-state"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let hop = get(&authorize_url(&base, &params)).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    let upstream = hop.location.expect("to the provider");
    assert!(upstream.as_str().starts_with(&provider.base), "{upstream}");
    let state = query_of(&upstream)["state"].clone();
    let code = "careless-code-1";
    let mut callback = Url::parse(&format!("{base}{PROXY_CALLBACK_PATH}")).unwrap();
    callback
        .query_pairs_mut()
        .extend_pairs([("code", code), ("state", state.as_str())]);
    let hop = get(callback.as_str()).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    let landed = hop.location.expect("to the client");
    assert!(landed.as_str().starts_with(ALLOWED_REDIRECT), "{landed}");
    let ours = query_of(&landed)["code"].clone();
    assert!(
        !ours.contains(code),
        "the provider's code, wrapped: {landed}"
    );

    // Whoever holds the code but not the verifier gets nothing, and the
    // provider, which would have answered with tokens, hears nothing; nor
    // does whoever holds the provider's own code.
    let wrong = "x".repeat(43);
    let other_redirect = "https://attacker.example/cb";
    for (verifier, redirect_uri, description) in
        refused_exchanges(&wrong, ALLOWED_REDIRECT, other_redirect)
    {
        assert_refused_here(
            &base,
            &exchange(&ours, verifier, redirect_uri, CLIENT_ID),
            description,
        )
        .await;
    }
    for unknown in [code, "careless-code-never-seen"] {
        assert_refused_here(
            &base,
            &exchange(unknown, Some(VERIFIER), Some(ALLOWED_REDIRECT), CLIENT_ID),
            OWN_DESCRIPTIONS[0],
        )
        .await;
    }
    assert_eq!(provider.forms(), Vec::<Value>::new(), "nothing relayed");

    // The client's own exchange is relayed, with its verifier and this
    // server's callback as redirect URI.
    let (status, _, body) = token_request(
        &base,
        &exchange(&ours, Some(VERIFIER), Some(ALLOWED_REDIRECT), CLIENT_ID),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["access_token"], "issued-without-pkce");
    let forms = provider.forms();
    assert_eq!(forms.len(), 1, "{forms:?}");
    assert_eq!(forms[0]["grant_type"], "authorization_code");
    assert_eq!(forms[0]["code"], code);
    assert_eq!(forms[0]["code_verifier"], VERIFIER);
    assert_eq!(
        forms[0]["redirect_uri"],
        format!("{base}{PROXY_CALLBACK_PATH}")
    );

    // The code comes back a second time, with another sign-in's state (and
    // that sign-in's challenge): refused, never wrapped again.
    let attackers_verifier = "a".repeat(43);
    let attackers_challenge = {
        use base64::Engine as _;
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, attackers_verifier.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
    };
    let mut params = params.to_vec();
    params.retain(|(k, _)| *k != "code_challenge");
    params.push(("code_challenge", &attackers_challenge));
    let hop = get(&authorize_url(&base, &params)).await;
    let state = query_of(&hop.location.expect("to the provider"))["state"].clone();
    let mut callback = Url::parse(&format!("{base}{PROXY_CALLBACK_PATH}")).unwrap();
    callback
        .query_pairs_mut()
        .extend_pairs([("code", code), ("state", state.as_str())]);
    let hop = get(callback.as_str()).await;
    let landed = hop.location.expect("to the client");
    assert_eq!(query_of(&landed)["error"], "access_denied", "{landed}");
    assert!(!query_of(&landed).contains_key("code"));
    assert_refused_here(
        &base,
        &exchange(
            &ours,
            Some(&attackers_verifier),
            Some(ALLOWED_REDIRECT),
            CLIENT_ID,
        ),
        OWN_DESCRIPTIONS[2],
    )
    .await;
    assert_eq!(provider.forms().len(), 1, "nothing more relayed");
}

#[actix_web::test]
async fn token_requests_are_checked_before_forwarding() {
    let f = fixture();
    for (form, status, error) in [
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
            ],
            400,
            "unsupported_grant_type",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", "c"),
                ("code_verifier", VERIFIER),
                ("client_id", "someone-else"),
            ],
            401,
            "invalid_client",
        ),
        (
            vec![("grant_type", "authorization_code")],
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", "c"),
                ("code_verifier", "too-short"),
            ],
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", "c"),
                ("code_verifier", VERIFIER),
                ("resource", "https://other.example/mcp"),
            ],
            400,
            "invalid_target",
        ),
        (vec![("code", "c")], 400, "invalid_request"),
    ] {
        let (got, headers, body) = token_request(&f.base, &form).await;
        assert_eq!(got, status, "{form:?}: {body}");
        assert_eq!(body["error"], error, "{form:?}");
        assert_eq!(headers["cache-control"], "no-store");
    }
    let json_body = http()
        .post(format!("{}/token", f.base))
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(json_body.status(), 400, "forms only");
}

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

#[test]
fn proxy_mode_needs_a_client_and_the_providers_endpoints() {
    let base =
        || CustomProvider::new("https://id.example.com").jwks_url("https://id.example.com/jwks");
    let error = McpServer::builder("t", "1")
        .oauth(base().client("id", "secret"))
        .build()
        .expect_err("no endpoints");
    let text = error.to_string();
    assert!(text.contains("authorization_endpoint"), "{text}");
    assert!(text.contains("token_endpoint"), "{text}");
    assert!(!text.contains("secret\""), "{text}");

    let error = McpServer::builder("t", "1")
        .oauth(
            base()
                .mode(Mode::Proxy)
                .authorization_endpoint("https://id.example.com/authorize")
                .token_endpoint("https://id.example.com/token"),
        )
        .build()
        .expect_err("no client");
    assert!(error.to_string().contains("client("), "{error}");

    let error = McpServer::builder("t", "1")
        .oauth(
            base()
                .authorization_endpoint("https://id.example.com/authorize")
                .token_endpoint("https://id.example.com/token")
                .client("id", "secret"),
        )
        .oauth_redirect_uris(["javascript:alert(1)"])
        .build()
        .expect_err("a script is no redirect URI");
    assert!(error.to_string().contains("redirect URI"), "{error}");

    // A client in direct mode leaves discovery pointing at the provider.
    McpServer::builder("t", "1")
        .oauth(base().client("id", "secret").mode(Mode::Direct))
        .build()
        .expect("direct mode needs no endpoints");
}
