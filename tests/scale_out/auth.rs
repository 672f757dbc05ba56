//! Authenticated replicas behind nginx, sharing one Redis: three servers
//! built in this process (each its own actix runtime, connections and
//! caches; they share only Redis), nginx round robin in front.
//!
//! - a session belongs to the user who opened it on every replica: another
//!   user presenting it gets 403 wherever the request lands;
//! - proxy mode end to end: the TypeScript SDK's OAuth client registers,
//!   authorizes, consents, comes back through the callback and redeems its
//!   code at an `oidc-provider` upstream, each step on whichever replica the
//!   balancer picks; the callback replayed on every replica is refused.

use super::support;
use mcp_runtime::auth::{CustomProvider, PROXY_CALLBACK_PATH};
use mcp_runtime::prelude::*;
use mcp_runtime::testing::{TestClient, TestIssuer, TestServer};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::sync::OnceLock;
use support::cluster::{Nginx, Redis, STATE_SECRET};
use support::oauth::{
    CSRF_COOKIE, authorize_url, get, get_with_cookie, post_consent, query_of, register,
};

/// The cookie binding a sign-in's state to the browser it started in.
const STATE_COOKIE: &str = "mcp_oauth_browser";

/// Three replicas of a server and nginx in front of them.
struct Replicated {
    /// The balancer's MCP endpoint.
    url: String,
    nginx: Nginx,
    replicas: Vec<TestServer>,
    _redis: Redis,
}

impl Replicated {
    /// `build(public base URL, Redis URL)` makes each replica's server.
    fn start(build: impl Fn(&str, &str) -> McpServer) -> Self {
        let redis = Redis::start();
        let nginx_port = support::free_port();
        let base = format!("http://127.0.0.1:{nginx_port}");
        let replicas: Vec<TestServer> = (0..3)
            .map(|_| {
                let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
                TestServer::start_on(listener, build(&base, &redis.url()))
                    .expect("a replica starts")
            })
            .collect();
        let ports: Vec<u16> = replicas.iter().map(|r| r.addr().port()).collect();
        let nginx = Nginx::start_on(nginx_port, &ports);
        Self {
            url: nginx.url(),
            nginx,
            replicas,
            _redis: redis,
        }
    }

    fn addrs(&self) -> BTreeSet<String> {
        self.replicas.iter().map(|r| r.addr().to_string()).collect()
    }
}

// ---------------------------------------------------------------------------
// Sessions and their owners

struct Notes;

#[mcp_server(name = "notes", version = "1.0.0", oauth = auth0)]
impl Notes {
    /// Who is calling.
    #[mcp_tool(read_only)]
    async fn whoami(&self, auth: &Auth) -> String {
        auth.user.user_id.clone()
    }
}

#[tokio::test]
async fn a_session_is_its_owners_on_every_replica() {
    let issuer = TestIssuer::new().expect("an issuer");
    let cluster = Replicated::start(|base, redis| {
        Notes
            .into_mcp_builder()
            .oauth(issuer.provider())
            .public_url(base)
            .redis(redis)
            .state_secret(STATE_SECRET)
            .build()
            .expect("the server builds")
    });
    issuer.set_audience(&cluster.url);
    let alice = issuer.token().subject("alice").sign().expect("a token");
    let bob = issuer.token().subject("bob").sign().expect("a token");

    let client = TestClient::new(&cluster.url).with_token(&alice);
    client.initialize().await.expect("alice opens a session");
    let session = client.session_id().await.expect("a session id");
    for _ in 0..3 {
        let text = client
            .call_tool("whoami", json!({}))
            .await
            .expect("alice's call")
            .text();
        assert_eq!(text, "alice");
    }

    // Bob presents alice's session: refused on whichever replica, three in
    // a row so each replica answers once.
    for i in 0..3 {
        let refused = TestClient::new(&cluster.url)
            .with_token(&bob)
            .raw("POST")
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-11-25")
            .header("mcp-session-id", &session)
            .body(
                json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                       "params": {"name": "whoami", "arguments": {}}})
                .to_string(),
            )
            .send()
            .await
            .expect("the balancer answers");
        assert_eq!(refused.status, 403, "attempt {i}: {}", refused.body);
        assert!(!refused.body.contains("alice"), "{}", refused.body);
    }
    // Alice's own session still works, and a DELETE anywhere ends it
    // everywhere at once.
    assert!(client.call_tool("whoami", json!({})).await.is_ok());
    let deleted = TestClient::new(&cluster.url)
        .with_token(&alice)
        .raw("DELETE")
        .header("mcp-protocol-version", "2025-11-25")
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("the balancer answers");
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    for replica in &cluster.replicas {
        let gone = TestClient::new(replica.url())
            .with_token(&alice)
            .raw("POST")
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-11-25")
            .header("mcp-session-id", &session)
            .body(json!({"jsonrpc": "2.0", "id": 10, "method": "ping"}).to_string())
            .send()
            .await
            .expect("the replica answers");
        assert_eq!(gone.status, 404, "{}: {}", replica.url(), gone.body);
    }
    cluster.nginx.wait_logged(7);
    assert_eq!(cluster.nginx.upstreams_seen(), cluster.addrs());
}

// ---------------------------------------------------------------------------
// Proxy mode

const CLIENT_ID: &str = "mcp-proxy";
const CLIENT_SECRET: &str = "mcp-proxy-secret-4f1c";

struct Tasks;

#[mcp_server(name = "tasks", version = "1.0.0", oauth = custom(proxy_provider()))]
impl Tasks {
    /// List tasks.
    #[mcp_tool(name = "list-tasks", scopes = "tasks:read")]
    async fn list_tasks(&self) -> &'static str {
        "task 1, task 2"
    }
}

static PROVIDER: OnceLock<CustomProvider> = OnceLock::new();

fn proxy_provider() -> CustomProvider {
    PROVIDER
        .get()
        .cloned()
        .expect("the test sets the provider first")
}

/// The steps of a sign-in, by path, each with the replicas that answered it.
fn replicas_by_step(access_log: &str) -> Vec<(&'static str, BTreeSet<String>)> {
    let steps = [
        ("register", "POST /register "),
        ("authorize", "GET /authorize?"),
        ("consent", "POST /authorize/consent "),
        ("callback", "GET /oauth/callback?"),
        ("token", "POST /token "),
    ];
    steps
        .into_iter()
        .map(|(step, request)| {
            let upstreams = access_log
                .lines()
                .filter(|line| line.contains(request))
                .filter_map(|line| line.split("upstream=\"").nth(1)?.split('"').next())
                .map(str::to_owned)
                .collect();
            (step, upstreams)
        })
        .collect()
}

#[test]
fn a_proxy_mode_sign_in_crosses_replicas() {
    let nginx_port = support::free_port();
    let base = format!("http://127.0.0.1:{nginx_port}");
    let idp = support::start_idp(
        "RS256",
        &[
            "--code-client",
            &format!("{CLIENT_ID}:{CLIENT_SECRET}:{base}{PROXY_CALLBACK_PATH}"),
        ],
    );
    PROVIDER
        .set(
            CustomProvider::new(&idp.issuer)
                .jwks_url(&idp.jwks_uri)
                .scopes_supported(["tasks:read", "tasks:write", "admin"])
                .authorization_endpoint(idp.authorization_endpoint())
                .token_endpoint(&idp.token_endpoint)
                .client(CLIENT_ID, CLIENT_SECRET),
        )
        .unwrap_or_else(|_| panic!("the provider is set once"));
    let redis = Redis::start();
    let replicas: Vec<TestServer> = (0..3)
        .map(|_| {
            let server = Tasks
                .into_mcp_builder()
                .public_url(&base)
                .redis(redis.url())
                .state_secret(STATE_SECRET)
                .build()
                .expect("the proxy-mode server builds");
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
            TestServer::start_on(listener, server).expect("a replica starts")
        })
        .collect();
    let ports: Vec<u16> = replicas.iter().map(|r| r.addr().port()).collect();
    let nginx = Nginx::start_on(nginx_port, &ports);

    let redirect = format!("http://127.0.0.1:{}/callback", support::free_port());
    let output = std::process::Command::new(support::node())
        .arg(support::node_harness().join("oauth-client.mjs"))
        .args([nginx.url().as_str(), redirect.as_str(), "list-tasks", "{}"])
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "the SDK client failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        nginx.access_log()
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("the client prints JSON");
    assert_eq!(
        printed["result"]["content"][0]["text"], "task 1, task 2",
        "{printed}"
    );
    assert_eq!(printed["consent_pages"], 1, "{printed}");
    assert_eq!(printed["callback"]["iss"], base, "{printed}");

    // Every step was answered, and not all by one replica.
    nginx.wait_logged(6);
    let log = nginx.access_log();
    let steps = replicas_by_step(&log);
    let mut answering = BTreeSet::new();
    for (step, upstreams) in &steps {
        assert!(
            !upstreams.is_empty(),
            "no {step} request went through:\n{log}"
        );
        answering.extend(upstreams.iter().cloned());
    }
    assert!(
        answering.len() >= 2,
        "every sign-in step landed on one replica ({steps:?}):\n{log}"
    );

    // A state replayed: a browser approves a registered client (register,
    // /authorize, consent: three requests, three replicas), the provider's
    // answer comes back once through the balancer, and again on each
    // replica directly: used up on the first, refused on all.
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let client_redirect = format!("http://127.0.0.1:{}/callback", support::free_port());
        let (status, registered) =
            register(&base, json!({"redirect_uris": [client_redirect]})).await;
        assert_eq!(status, 201);
        let client_id = registered["client_id"].as_str().expect("a client id");
        let resource = nginx.url();
        let params = [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", client_redirect.as_str()),
            ("state", "client-state"),
            (
                "code_challenge",
                "6XFZQEG7MKHoyj-2k07NDQbNwLyUajzFnyVtXHz1w1Q",
            ),
            ("code_challenge_method", "S256"),
            ("scope", "tasks:read"),
            ("resource", resource.as_str()),
        ];
        let page = get(&authorize_url(&base, &params)).await;
        assert!(page.is_consent_page(), "{} {}", page.status, page.body);
        let csrf = page.cookie(CSRF_COOKIE).expect("the consent cookie");
        let approved = post_consent(
            &base,
            &[
                ("consent_token", &page.consent_token()),
                ("decision", "approve"),
            ],
            Some(&csrf),
            &[],
        )
        .await;
        assert_eq!(approved.status, 302, "{}", approved.body);
        let browser = approved
            .cookie(STATE_COOKIE)
            .expect("the state's browser cookie");
        let state = query_of(&approved.location.expect("to the provider"))["state"].clone();
        let callback = |origin: &str| {
            let mut url = reqwest::Url::parse(&format!("{origin}{PROXY_CALLBACK_PATH}")).unwrap();
            url.query_pairs_mut().extend_pairs([
                ("code", "upstream-code"),
                ("state", state.as_str()),
                ("iss", idp.issuer.as_str()),
            ]);
            url.to_string()
        };
        let first = get_with_cookie(&callback(&base), Some(&browser)).await;
        assert_eq!(first.status, 302, "{}", first.body);
        assert!(
            first
                .location
                .as_ref()
                .is_some_and(|l| l.as_str().starts_with(&client_redirect)),
            "{:?}",
            first.location
        );
        for replica in &replicas {
            let replayed = get_with_cookie(&callback(&replica.base_url()), Some(&browser)).await;
            assert_eq!(
                replayed.status,
                400,
                "a replayed state on {}: {}",
                replica.base_url(),
                replayed.body
            );
            assert!(replayed.location.is_none(), "never redirected");
        }
    });
}

// ---------------------------------------------------------------------------
// Rate limits

struct Dev;

#[mcp_server(name = "dev-replicas", version = "1.0.0", oauth = dev)]
impl Dev {
    /// Who is calling.
    #[mcp_tool(read_only)]
    async fn whoami(&self, auth: &Auth) -> String {
        auth.user.user_id.clone()
    }
}

/// Registrations from one address through the balancer count against one
/// budget on every replica (nginx, trusted, names the client in
/// `X-Forwarded-For`); another address has its own.
#[tokio::test]
async fn the_sign_in_endpoints_share_one_rate_limit() {
    let cluster = Replicated::start(|base, redis| {
        Dev.into_mcp_builder()
            .public_url(base)
            .redis(redis)
            .state_secret(STATE_SECRET)
            .oauth_rate_limit(5)
            .trusted_proxies(["127.0.0.1"])
            .build()
            .expect("the server builds")
    });
    let base = cluster.url.trim_end_matches("/mcp").to_owned();
    let register = |address: &'static str| {
        let base = base.clone();
        async move {
            support::oauth::http()
                .post(format!("{base}/register"))
                .header("x-forwarded-for", address)
                .json(&json!({"redirect_uris": ["http://127.0.0.1:9/cb"]}))
                .send()
                .await
                .expect("the balancer answers")
        }
    };
    for i in 0..5 {
        let answer = register("198.51.100.7").await;
        assert_eq!(answer.status(), 201, "registration {i}");
    }
    let refused = register("198.51.100.7").await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        register("198.51.100.8").await.status(),
        201,
        "another address"
    );
    cluster.nginx.wait_logged(7);
    assert_eq!(
        cluster.nginx.upstreams_seen(),
        cluster.addrs(),
        "the budget was spent on every replica"
    );
}
