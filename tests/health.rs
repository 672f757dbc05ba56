//! What a balancer and an orchestrator see: `/healthz` (the process
//! answers), `/readyz` (it can serve: the shared state answers and the
//! identity provider's keys were fetched at least once, from a real
//! `oidc-provider`), and a graceful shutdown on SIGTERM that ends open
//! streams and lets calls in flight finish. `/readyz` with Redis lost and
//! back is in `tests/scale_out.rs`.

mod support;

use mcp_runtime::auth::CustomProvider;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::TestServer;
use serde_json::{Value, json};
use std::time::Duration;
use support::example::Example;

async fn get(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn a_plain_server_is_healthy_and_ready() {
    let server = McpServer::builder("plain", "1.0.0")
        .tool(Tool::new("ping", || async { "pong" }))
        .build()
        .expect("valid");
    let running = TestServer::start(server).expect("starts");
    let base = running.base_url();
    assert_eq!(
        get(&format!("{base}/healthz")).await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(
        get(&format!("{base}/readyz")).await,
        (200, json!({"status": "ready"}))
    );
    // Neither needs a token, nor a Host the endpoint would answer.
    let response = reqwest::Client::new()
        .get(format!("{base}/readyz"))
        .header("host", "balancer.internal")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn not_ready_until_the_providers_keys_are_fetched() {
    let idp = support::start_idp("RS256", &[]);
    let jwks: Value = reqwest::get(&idp.jwks_uri)
        .await
        .expect("the provider answers")
        .json()
        .await
        .expect("a JWK set");
    // The keys are served, later, from a port where nothing listens yet.
    let port = support::free_port();
    let provider =
        CustomProvider::new(&idp.issuer).jwks_url(format!("http://127.0.0.1:{port}/jwks"));
    let server = McpServer::builder("keyed", "1.0.0")
        .tool(Tool::new("ping", || async { "pong" }))
        .oauth(provider)
        .build()
        .expect("valid");
    let running = TestServer::start(server).expect("starts");
    let ready_at = format!("{}/readyz", running.base_url());
    let (status, body) = get(&ready_at).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        json!({"status": "unready", "reasons": ["the identity provider's keys have not been fetched"]})
    );
    // The public answer names no URL.
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
    assert_eq!(get(&format!("{}/healthz", running.base_url())).await.0, 200);

    let keys = actix_web::HttpServer::new(move || {
        let jwks = jwks.clone();
        actix_web::App::new().route(
            "/jwks",
            actix_web::web::get().to(move || {
                let jwks = jwks.clone();
                async move { actix_web::HttpResponse::Ok().json(jwks) }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .expect("binds")
    .run();
    let keys_handle = keys.handle();
    tokio::spawn(keys);
    // Asked again (at most one fetch every two seconds), it fetches and is ready.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = get(&ready_at).await;
        if status == 200 {
            assert_eq!(body, json!({"status": "ready"}));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    keys_handle.stop(true).await;
}

#[tokio::test]
async fn sigterm_ends_streams_and_lets_calls_in_flight_finish() {
    let mut server = Example::start(
        "conformance",
        &[("RUST_LOG", "warn"), ("MCP_SHUTDOWN_TIMEOUT", "30")],
    );
    let client = mcp_runtime::testing::TestClient::new(server.url.clone());
    let mut stream = client
        .listen(json!({"toolsListChanged": true}))
        .await
        .expect("a listen stream");
    let call = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call_tool("slow_compute", json!({"seconds": 2, "label": "draining"}))
                .await
        })
    };
    // The call is in flight (its handler sleeps two seconds) when the
    // signal comes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.terminate();
    let last = stream
        .next(Duration::from_secs(10))
        .await
        .expect("the listen stream's closing response");
    assert_eq!(last["result"]["resultType"], "complete", "{last}");
    let done = call
        .await
        .expect("joined")
        .unwrap_or_else(|e| panic!("the call in flight failed: {e}\n{}", server.output()));
    assert_eq!(done.text(), "computed draining in 2 s");
    let code = tokio::task::spawn_blocking(move || {
        let code = server.wait_exit(Duration::from_secs(30));
        (code, server.output())
    })
    .await
    .expect("joined");
    assert_eq!(code.0, Some(0), "exits cleanly: {}", code.1);
}
