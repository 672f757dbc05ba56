//! Development configurations answer only requests that arrived on a
//! loopback address, decided from the address the server listens on, never
//! from a header (issue 16, item 1): a server that checks no signatures
//! (`verify_jwt(false)`) or runs the development authorization server
//! (`oauth = dev`), mounted with `configure()` on every interface, refuses
//! a request whose `Host` says `localhost`; so does `BearerMiddleware` over
//! such a provider. The authorization server's routes check `Host` and
//! `Origin` as the MCP endpoint does.

mod support;

use actix_web::{App, HttpResponse, HttpServer, web};
use mcp_runtime::auth::{BearerMiddleware, CustomProvider};
use mcp_runtime::prelude::*;
use serde_json::json;
use std::net::TcpListener;

struct Notes;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Empty {}

#[mcp_server(name = "notes", version = "1.0.0", oauth = dev)]
impl Notes {
    /// Who is calling.
    #[mcp_tool(read_only)]
    async fn whoami(&self, auth: &Auth) -> String {
        auth.user.user_id.clone()
    }
}

/// Serves `app` on a listener bound to `addr`, on a thread of its own;
/// returns the port. The server stops with the test process.
fn serve<F, T, B>(addr: &str, app: F) -> u16
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: actix_web::body::MessageBody + 'static,
{
    let listener = TcpListener::bind(addr).expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(app)
                .workers(1)
                .listen(listener)
                .expect("listen")
                .run()
                .await
        })
    });
    // The listener is bound: connections queue until the server accepts.
    port
}

async fn post(url: &str, host: &str, body: serde_json::Value) -> (u16, String) {
    let answer = reqwest::Client::new()
        .post(url)
        .header("host", host)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the server answers");
    (
        answer.status().as_u16(),
        answer.text().await.unwrap_or_default(),
    )
}

fn initialize() -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}})
}

#[actix_web::test]
async fn a_development_server_on_every_interface_refuses_a_localhost_host_header() {
    let unverified = McpServer::builder("open-door", "1.0.0")
        .tool(Tool::new("echo", |_: Empty| async { "hi" }))
        .oauth(
            CustomProvider::new("http://127.0.0.1:1")
                .jwks_url("http://127.0.0.1:1/jwks")
                .verify_jwt(false),
        )
        .public_url("http://localhost:3000")
        .build()
        .expect("builds");
    let configure = unverified.configure();
    let port = serve("0.0.0.0:0", move || App::new().configure(configure.clone()));
    let url = format!("http://127.0.0.1:{port}/mcp");
    let (status, body) = post(&url, "localhost", initialize()).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("loopback"), "{body}");

    // The development authorization server, mounted the same way: its
    // endpoints refuse too, registration first.
    let dev = Notes
        .into_mcp_builder()
        .public_url("http://localhost:3000")
        .build()
        .expect("builds");
    let configure = dev.configure();
    let port = serve("0.0.0.0:0", move || App::new().configure(configure.clone()));
    let (status, body) = post(
        &format!("http://127.0.0.1:{port}/register"),
        "localhost",
        json!({"redirect_uris": ["http://127.0.0.1:9/cb"]}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = post(
        &format!("http://127.0.0.1:{port}/mcp"),
        "localhost",
        initialize(),
    )
    .await;
    assert_eq!(status, 403);

    // On loopback it works as before.
    let dev = Notes
        .into_mcp_builder()
        .public_url("http://localhost:3000")
        .build()
        .expect("builds");
    let configure = dev.configure();
    let port = serve("127.0.0.1:0", move || {
        App::new().configure(configure.clone())
    });
    let (status, body) = post(
        &format!("http://127.0.0.1:{port}/register"),
        "localhost",
        json!({"redirect_uris": ["http://127.0.0.1:9/cb"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[actix_web::test]
async fn the_authorization_server_checks_host_and_origin() {
    let dev = Notes
        .into_mcp_builder()
        .public_url("http://localhost:3000")
        .build()
        .expect("builds");
    let configure = dev.configure();
    let port = serve("127.0.0.1:0", move || {
        App::new().configure(configure.clone())
    });
    let register = format!("http://127.0.0.1:{port}/register");
    let body = json!({"redirect_uris": ["http://127.0.0.1:9/cb"]});
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1.
    let (status, answer) = post(&register, "evil.example", body.clone()).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("Host not allowed"), "{answer}");
    for path in ["/authorize", "/token", "/oauth/callback", "/jwks"] {
        let answer = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}{path}"))
            .header("host", "evil.example")
            .send()
            .await
            .expect("answers");
        assert_eq!(answer.status(), 403, "{path}");
    }
    // A foreign page's Origin.
    let answer = reqwest::Client::new()
        .post(&register)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .expect("answers");
    assert_eq!(answer.status(), 403);
    // A loopback page (the MCP Inspector) is let in, as at the MCP endpoint.
    let answer = reqwest::Client::new()
        .post(&register)
        .header("origin", "http://localhost:6274")
        .json(&body)
        .send()
        .await
        .expect("answers");
    assert_eq!(answer.status(), 201);
}

#[actix_web::test]
async fn bearer_middleware_without_signatures_answers_loopback_only() {
    let provider = CustomProvider::new("http://127.0.0.1:1")
        .jwks_url("http://127.0.0.1:1/jwks")
        .verify_jwt(false)
        .build()
        .expect("a provider");
    let app = move || {
        App::new().service(
            web::scope("/api")
                .wrap(BearerMiddleware::from_provider(
                    &provider,
                    "http://localhost/api",
                ))
                .route(
                    "/ping",
                    web::get().to(|| async { HttpResponse::Ok().body("pong") }),
                ),
        )
    };
    // An unsigned token a forger could write.
    let forged = format!(
        "{}.{}.c2lnbmF0dXJl",
        base64url(r#"{"alg":"RS256","typ":"JWT","kid":"k"}"#),
        base64url(
            r#"{"sub":"mallory","iss":"http://127.0.0.1:1","aud":"http://localhost/api","exp":4102444800}"#
        )
    );
    for (addr, expected) in [("0.0.0.0:0", 401), ("127.0.0.1:0", 200)] {
        let port = serve(addr, app.clone());
        let answer = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/api/ping"))
            .header("host", "localhost")
            .bearer_auth(&forged)
            .send()
            .await
            .expect("answers");
        assert_eq!(answer.status(), expected, "bound to {addr}");
    }
}

fn base64url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
