//! The multi-replica harness itself (`tests/support/cluster.rs`): Redis that
//! can be lost and brought back, and three replicas of the conformance
//! example behind nginx (`deploy/nginx.conf`, round robin) each answering,
//! and nginx passing over a replica that was killed.
//! The replicas get `MCP_REDIS_URL` and `MCP_STATE_SECRET`; these requests
//! are on the stateless 2026-07-28 wire, so they hold no shared state yet.

mod support;

use serde_json::json;
use std::io::ErrorKind;
use support::cluster::{Cluster, Redis};

#[test]
fn redis_is_lost_then_back_on_its_port() {
    let mut redis = Redis::start();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}/0", redis.port()));
    redis
        .ping()
        .unwrap_or_else(|e| panic!("PING after start: {e}\n{}", redis.output()));

    redis.stop();
    let refused = redis.ping().expect_err("PING answered after stop");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "{refused}");

    redis.start_again();
    redis
        .ping()
        .unwrap_or_else(|e| panic!("PING after start_again: {e}\n{}", redis.output()));
}

#[tokio::test]
async fn nginx_spreads_requests_over_three_replicas() {
    let cluster = Cluster::start("conformance", 3, &[("RUST_LOG", "warn")]);
    assert_eq!(cluster.url, cluster.nginx.url());

    const REQUESTS: usize = 30;
    for i in 0..REQUESTS {
        // Half lists the tools, half calls one: both through the balancer.
        let (method, target, params) = if i % 2 == 0 {
            ("tools/list", "", json!({}))
        } else {
            (
                "tools/call",
                "test_simple_text",
                json!({ "name": "test_simple_text", "arguments": {} }),
            )
        };
        let answer = support::stateless_request(&cluster.url, None, method, target, params).await;
        assert_eq!(
            answer.status,
            200,
            "request {i} ({method}): {}\n{}",
            answer.body,
            cluster.logs()
        );
        let body = answer.json().expect("a JSON answer");
        let result = &body["result"];
        let expected = if method == "tools/list" {
            result["tools"]
                .as_array()
                .is_some_and(|tools| tools.iter().any(|t| t["name"] == "test_simple_text"))
        } else {
            result["content"][0]["text"] == "This is a simple text response for testing."
        };
        assert!(expected, "request {i} ({method}): {body}");
    }

    cluster.nginx.wait_logged(REQUESTS);
    assert_eq!(
        cluster.nginx.upstreams_seen(),
        cluster.replicas.addrs(),
        "not every replica served requests:\n{}",
        cluster.logs()
    );
    assert_eq!(cluster.replicas.len(), 3);
}

#[tokio::test]
async fn nginx_skips_a_killed_replica() {
    let mut cluster = Cluster::start("conformance", 3, &[("RUST_LOG", "warn")]);
    cluster.replicas.kill(1);
    assert!(!cluster.replicas.is_running(1));
    let killed = format!("127.0.0.1:{}", cluster.replicas.get(1).port());

    const REQUESTS: usize = 12;
    for i in 0..REQUESTS {
        let answer =
            support::stateless_request(&cluster.url, None, "tools/list", "", json!({})).await;
        assert_eq!(
            answer.status,
            200,
            "request {i}: {}\n{}",
            answer.body,
            cluster.logs()
        );
    }

    cluster.nginx.wait_logged(REQUESTS);
    // nginx tried the dead replica (connection refused, logged as 502 in
    // $upstream_status) and passed that request on to a live one.
    assert!(
        cluster.nginx.access_log().contains(&killed),
        "nginx never tried {killed}:\n{}",
        cluster.nginx.access_log()
    );
    let mut live = cluster.replicas.addrs();
    live.remove(&killed);
    assert_eq!(cluster.nginx.upstreams_seen(), live, "{}", cluster.logs());
}
