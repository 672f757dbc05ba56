//! Prometheus metrics: scraped from a real server process on its own
//! address (`MCP_METRICS_ADDR`), never on the MCP listener; counters that
//! move with real requests and real refusals (401 by cause, 403 by tool),
//! and levels sampled at the scrape.

mod support;

use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, TestIssuer, TestServer};
use serde_json::json;
use support::example::Example;

/// The value of the sample `name{labels}` in a Prometheus text exposition
/// (labels in any order), or 0 when absent.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            if metric != name {
                return None;
            }
            let set = rest.trim_end_matches('}');
            labels
                .iter()
                .all(|(k, v)| set.split(',').any(|pair| pair == format!("{k}=\"{v}\"")))
                .then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

#[tokio::test]
async fn a_scrape_on_its_own_address_counts_real_requests() {
    let port = support::free_port();
    let addr = format!("127.0.0.1:{port}");
    let server = Example::start(
        "conformance",
        &[("RUST_LOG", "warn"), ("MCP_METRICS_ADDR", &addr)],
    );
    let scrape = || async {
        reqwest::get(format!("http://{addr}/metrics"))
            .await
            .expect("the metrics address answers")
            .text()
            .await
            .expect("a body")
    };
    let before = scrape().await;
    let client = mcp_runtime::testing::TestClient::new(server.url.clone());
    for _ in 0..3 {
        client
            .call_tool("test_simple_text", ())
            .await
            .expect("a call");
    }
    let refused = client.rpc("no/such/method", json!({})).await;
    assert!(
        matches!(refused, Err(ClientError::Rpc { code: -32601, .. })),
        "{refused:?}"
    );
    let _stream = client.notifications().await.expect("a GET stream");
    let after = scrape().await;
    let calls = |text: &str| {
        sample(
            text,
            "mcp_requests_total",
            &[("method", "tools/call"), ("outcome", "ok")],
        )
    };
    assert_eq!(calls(&after) - calls(&before), 3.0, "{after}");
    assert!(
        sample(
            &after,
            "mcp_requests_total",
            &[("method", "other"), ("outcome", "error")]
        ) >= 1.0,
        "a made-up method counts as `other`: {after}"
    );
    assert!(
        sample(
            &after,
            "mcp_request_duration_seconds_count",
            &[("method", "tools/call")]
        ) >= 3.0,
        "{after}"
    );
    assert!(
        !after.contains("no/such/method"),
        "no client string as a label"
    );
    assert_eq!(
        sample(&after, "mcp_open_streams", &[("kind", "get")]),
        1.0,
        "{after}"
    );
    assert!(sample(&after, "mcp_sessions", &[]) >= 1.0, "{after}");
    assert!(sample(&after, "mcp_sessions_here", &[]) >= 1.0, "{after}");
    // Not on the MCP listener.
    let public = reqwest::get(server.url.replace("/mcp", "/metrics"))
        .await
        .expect("the MCP listener answers");
    assert_eq!(public.status(), 404);
}

struct Guarded;

#[mcp_server(name = "guarded", version = "1.0.0", oauth = auth0)]
impl Guarded {
    /// Deletes, for admins.
    #[mcp_tool(scopes = "admin")]
    async fn delete() -> &'static str {
        "deleted"
    }
}

#[actix_web::test]
async fn refusals_are_counted_by_cause_and_tool() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Guarded
        .into_mcp_builder()
        .oauth(issuer.provider())
        .build()
        .expect("builds");
    let handle = server.clone();
    let running = TestServer::start_with(server, &issuer).expect("starts");
    let before = handle.render_metrics().await.expect("the recorder is ours");
    let expired = issuer
        .token()
        .subject("alice")
        .expired()
        .sign()
        .expect("token");
    let refused = running
        .client()
        .with_token(expired)
        .call_tool("delete", ())
        .await;
    assert_eq!(
        refused.as_ref().err().and_then(ClientError::status),
        Some(401)
    );
    let forged = issuer
        .token()
        .subject("alice")
        .forged()
        .expect("forged")
        .sign()
        .expect("token");
    let refused = running
        .client()
        .with_token(forged)
        .call_tool("delete", ())
        .await;
    assert_eq!(
        refused.as_ref().err().and_then(ClientError::status),
        Some(401)
    );
    let plain = issuer.token().subject("alice").sign().expect("token");
    let refused = running
        .client()
        .with_token(plain)
        .call_tool("delete", ())
        .await;
    assert!(
        matches!(refused, Err(ClientError::Forbidden { .. })),
        "{refused:?}"
    );
    let after = handle.render_metrics().await.expect("rendered");
    let moved = |labels: &[(&str, &str)]| {
        sample(&after, "mcp_refusals_total", labels) - sample(&before, "mcp_refusals_total", labels)
    };
    assert_eq!(
        moved(&[
            ("status", "401"),
            ("reason", "invalid_token"),
            ("cause", "expired")
        ]),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(&[
            ("status", "401"),
            ("reason", "invalid_token"),
            ("cause", "unknown_key")
        ]),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(&[
            ("status", "403"),
            ("reason", "insufficient_scope"),
            ("tool", "delete")
        ]),
        1.0,
        "{after}"
    );
    // Never a token in the exposition.
    assert!(!after.contains("eyJ"), "{after}");
}
