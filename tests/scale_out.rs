//! Several replicas behind nginx round robin (no stickiness), sharing one
//! Redis: real processes of the examples, real clients.
//!
//! - the conformance suites against the balancer pass as against one process;
//! - the official TypeScript SDK keeps one stateful session across replicas:
//!   50 calls, a `resources/updated` raised on other replicas, elicitation
//!   answers posted to other replicas, cancellations;
//! - a replica killed mid-run: the session goes on through the others, and
//!   its tasks fail within the lease; a task's changes reach listen streams
//!   held by other replicas;
//! - Redis lost: 503 with `Retry-After`, streams end, `/readyz` says
//!   unready (`/healthz` still answers), nothing panics; Redis back: ready
//!   again, and new sessions work without restarting anything;
//! - a replica refuses to start with Redis but no shared secret, or with a
//!   Redis it cannot reach (named without its password).
//!
//! Sessions opened by one user and presented by another, and proxy-mode
//! sign-ins across replicas: `scale_out/auth.rs`.

mod support;

#[path = "scale_out/auth.rs"]
mod auth;

use mcp_runtime::testing::{RawResponse, TestClient};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::cluster::Cluster;
use support::example::run_to_exit;

/// Replicas log their cross-replica deliveries at debug level.
const LOG: (&str, &str) = ("RUST_LOG", "info,mcp_runtime=debug");

fn conformance_cluster() -> Cluster {
    Cluster::start("conformance", 3, &[("RUST_LOG", "warn")])
}

/// Every replica of `cluster` served requests.
fn every_replica_served(cluster: &Cluster) {
    assert_eq!(
        cluster.nginx.upstreams_seen(),
        cluster.replicas.addrs(),
        "not every replica served requests:\n{}",
        cluster.logs()
    );
}

#[test]
fn stable_conformance_suite_through_the_balancer() {
    let cluster = conformance_cluster();
    support::run_conformance(
        &cluster.url,
        "@modelcontextprotocol/conformance",
        &[],
        "baseline-stable.yml",
        &cluster.logs(),
    );
    every_replica_served(&cluster);
}

#[test]
fn pre_release_suite_2025_11_25_through_the_balancer() {
    let cluster = conformance_cluster();
    support::run_conformance(
        &cluster.url,
        "conformance-next",
        &["--spec-version", "2025-11-25"],
        "baseline-next-2025-11-25.yml",
        &cluster.logs(),
    );
    every_replica_served(&cluster);
}

#[test]
fn pre_release_suite_2026_07_28_through_the_balancer() {
    let cluster = conformance_cluster();
    support::run_conformance(
        &cluster.url,
        "conformance-next",
        &["--suite", "all", "--spec-version", "2026-07-28"],
        "baseline-next-2026-07-28.yml",
        &cluster.logs(),
    );
    every_replica_served(&cluster);
}

/// What 2026-07-28 requires, the tasks extension's scenarios included:
/// tasks created on one replica are read, fed and cancelled through others.
#[test]
fn requirements_2026_07_28_through_the_balancer() {
    let cluster = conformance_cluster();
    support::run_conformance(
        &cluster.url,
        "conformance-next",
        &["--requirements", "2026-07-28"],
        "baseline-requirements-2026-07-28.yml",
        &cluster.logs(),
    );
    every_replica_served(&cluster);
}

/// A task's replica dies mid-task: the lease it no longer renews lapses,
/// and the next look at the task, through any other replica, fails it,
/// instead of leaving it `working` forever. Cancelling a task also reaches
/// the replica that runs it, wherever the request lands.
#[tokio::test]
async fn a_task_outlives_its_replica_only_as_failed() {
    let mut cluster = Cluster::start("replicas", 2, &[LOG, ("MCP_TASK_LEASE", "2")]);
    let declared = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    let on = |i: usize| {
        TestClient::new(cluster.replicas.get(i).url.clone()).with_capabilities(declared.clone())
    };
    let (first, second) = (on(0), on(1));
    let created = first
        .rpc(
            "tools/call",
            json!({"name": "long_job", "arguments": {"seconds": 600}}),
        )
        .await
        .expect("a task");
    let id = created["taskId"].as_str().expect("an id").to_owned();
    let get = json!({"taskId": id});
    let task = second
        .rpc("tasks/get", get.clone())
        .await
        .expect("on the other replica");
    assert_eq!(task["status"], "working", "{task}");

    // A listen stream on the other replica hears a task end where it runs.
    let quick = first
        .rpc(
            "tools/call",
            json!({"name": "long_job", "arguments": {"seconds": 3}}),
        )
        .await
        .expect("a task");
    let quick = quick["taskId"].as_str().expect("an id").to_owned();
    let mut stream = second
        .listen(json!({"taskIds": [quick, id]}))
        .await
        .expect("a listen stream on the other replica");
    assert_eq!(
        stream.agreed(),
        Some(&json!({"taskIds": [quick, id]})),
        "both found through the shared state"
    );
    // The state now comes first: still working, so its end can only come
    // from the replica running it, over the bus.
    let now = stream
        .next_of("notifications/tasks", Duration::from_secs(15))
        .await
        .expect("the state now");
    assert_eq!(now["params"]["taskId"], json!(quick), "{now}");
    assert_eq!(now["params"]["status"], "working", "{now}");
    let done = loop {
        let change = stream
            .next_of("notifications/tasks", Duration::from_secs(15))
            .await
            .expect("the task's changes");
        if change["params"]["taskId"] == json!(quick) && change["params"]["status"] != "working" {
            break change;
        }
    };
    assert_eq!(done["params"]["status"], "completed", "{done}");
    let first_port = cluster
        .replicas
        .get(0)
        .url
        .rsplit(':')
        .next()
        .and_then(|rest| rest.split('/').next())
        .expect("a port")
        .to_owned();
    assert_eq!(
        done["params"]["result"]["content"][0]["text"],
        format!("replica {first_port} worked 3 s"),
        "ran on the first replica: {done}"
    );

    // Cancelled through the other replica: the one running it stops it.
    let cancelled = first
        .rpc(
            "tools/call",
            json!({"name": "long_job", "arguments": {"seconds": 600}}),
        )
        .await
        .expect("a task");
    let cancelled = cancelled["taskId"].as_str().expect("an id").to_owned();
    second
        .rpc("tasks/cancel", json!({"taskId": cancelled}))
        .await
        .expect("acknowledged");
    let task = first
        .rpc("tasks/get", json!({"taskId": cancelled}))
        .await
        .expect("found");
    assert_eq!(task["status"], "cancelled", "{task}");

    cluster.replicas.kill(0);
    let killed = std::time::Instant::now();
    let failed = loop {
        let task = second
            .rpc("tasks/get", get.clone())
            .await
            .expect("still found");
        if task["status"] != "working" {
            break task;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(15),
            "still working {:?} after the kill: {task}",
            killed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("stopped before it finished")),
        "{failed}"
    );
    // The stream that follows it hears the same.
    let told = stream
        .next_of("notifications/tasks", Duration::from_secs(15))
        .await
        .expect("the lost task's end");
    assert_eq!(told["params"]["taskId"], json!(id), "{told}");
    assert_eq!(told["params"]["status"], "failed", "{told}");
}

/// How many times `needle` occurs in `haystack`.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The replica names (`replica PORT`) a list of tool texts mentions.
fn replicas_named(texts: &Value) -> BTreeSet<String> {
    texts
        .as_array()
        .expect("a list of texts")
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|text| {
            let rest = text.split("replica ").nth(1)?;
            Some(rest.split([' ', ')']).next()?.to_owned())
        })
        .collect()
}

#[test]
fn the_typescript_sdk_keeps_one_session_across_replicas() {
    let cluster = Cluster::start("replicas", 3, &[LOG]);
    let output = std::process::Command::new(support::node())
        .arg(support::node_harness().join("replicas.mjs"))
        .arg(&cluster.url)
        .output()
        .expect("node runs");
    let logs = cluster.logs();
    assert!(
        output.status.success(),
        "the SDK client failed: {}\n{logs}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("the client prints JSON");
    assert_eq!(printed["protocolVersion"], "2025-11-25", "{printed}");
    assert!(printed["sessionId"].is_string(), "{printed}");

    // One session, its calls answered by every replica.
    assert_eq!(printed["whoami"].as_array().map(Vec::len), Some(50));
    let ports: BTreeSet<String> = cluster
        .replicas
        .ports()
        .iter()
        .map(u16::to_string)
        .collect();
    assert_eq!(replicas_named(&printed["whoami"]), ports, "{printed}");
    every_replica_served(&cluster);

    // Three announcements, raised on at least two replicas, all reached the
    // one replica holding the session's GET stream.
    assert_eq!(printed["updates"], 3, "{printed}\n{logs}");
    assert!(
        replicas_named(&printed["announced"]).len() >= 2,
        "{printed}"
    );
    assert!(
        count(&logs, "a resource update raised on another replica") >= 2,
        "{logs}"
    );

    // Each elicitation was answered, and some answer was posted to another
    // replica than the one that asked, which resumed its handler.
    let asked = printed["asked"].as_array().expect("answers");
    for (i, answer) in asked.iter().enumerate() {
        let text = answer.as_str().unwrap_or_default();
        assert!(
            text.starts_with(&format!("hello client-{}", i + 1)),
            "{printed}"
        );
    }
    assert!(
        count(
            &logs,
            "resumed a handler with an answer posted to another replica"
        ) >= 1,
        "{logs}"
    );

    // Each cancellation stopped its call, wherever it ran.
    assert_eq!(printed["cancelled"], 3, "{printed}");
    assert_eq!(count(&logs, "wait cancelled"), 3, "{logs}");
    assert!(
        count(
            &logs,
            "cancelled a request on a notice posted to another replica"
        ) >= 1,
        "{logs}"
    );
}

/// A stateful client of `url` through the balancer.
async fn session(url: &str) -> TestClient {
    let client = TestClient::new(url);
    client.initialize().await.expect("initialize");
    client
}

/// `tools/call whoami` on `client`'s session.
async fn whoami(client: &TestClient) -> Result<String, mcp_runtime::testing::ClientError> {
    client
        .call_tool("whoami", json!({}))
        .await
        .map(|result| result.text())
}

/// A raw POST of `body` on session `id`.
async fn post_on(url: &str, id: &str, body: Value) -> RawResponse {
    TestClient::new(url)
        .raw("POST")
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .header("mcp-session-id", id)
        .body(body.to_string())
        .send()
        .await
        .expect("the balancer answers")
}

fn call_whoami() -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}})
}

#[tokio::test]
async fn a_killed_replica_and_a_lost_redis() {
    let mut cluster = Cluster::start("replicas", 3, &[LOG]);
    let client = session(&cluster.url).await;
    for _ in 0..6 {
        whoami(&client).await.expect("a call");
    }

    // A replica dies: the session goes on through the other two.
    cluster.replicas.kill(0);
    let mut served = BTreeSet::new();
    for i in 0..6 {
        let text = whoami(&client)
            .await
            .unwrap_or_else(|e| panic!("call {i} after the kill: {e}\n{}", cluster.logs()));
        served.insert(text);
    }
    assert_eq!(served.len(), 2, "{served:?}");
    assert!(
        !served.contains(&format!("replica {}", cluster.replicas.get(0).port())),
        "{served:?}"
    );

    // An open GET stream, then Redis goes away.
    let id = client.session_id().await.expect("a session id");
    let http = reqwest::Client::new();
    let mut stream = http
        .get(&cluster.url)
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .header("mcp-session-id", &id)
        .send()
        .await
        .expect("the GET stream opens");
    assert_eq!(stream.status(), 200);
    let ready_at = cluster.replicas.get(1).url.replace("/mcp", "/readyz");
    let health_at = cluster.replicas.get(1).url.replace("/mcp", "/healthz");
    let readiness = |url: String| async move {
        let response = reqwest::get(&url).await.expect("the replica answers");
        let status = response.status().as_u16();
        let retry = response.headers().contains_key("retry-after");
        let body: Value = response.json().await.expect("a JSON body");
        (status, retry, body)
    };
    assert_eq!(readiness(ready_at.clone()).await.0, 200, "ready with Redis");
    cluster.redis.stop();

    // The replica says it is not ready (the balancer stops sending it
    // requests), though its process answers.
    let (status, retry, body) = readiness(ready_at.clone()).await;
    assert_eq!((status, retry), (503, true), "{body}");
    assert_eq!(
        body["reasons"],
        json!(["the shared state does not answer"]),
        "{body}"
    );
    assert_eq!(readiness(health_at).await.0, 200, "the process answers");

    // Every request that needs the session is refused, never guessed at.
    for i in 0..4 {
        let refused = post_on(&cluster.url, &id, call_whoami()).await;
        assert_eq!(
            refused.status,
            503,
            "request {i} with Redis down: {}\n{}",
            refused.body,
            cluster.logs()
        );
        let retry: u64 = refused
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no Retry-After: {:?}", refused.headers));
        assert!(retry >= 1);
        let error = refused.json().expect("a JSON-RPC error");
        assert_eq!(
            error["error"]["message"],
            "the session store is unavailable; retry shortly"
        );
        // A new session cannot be opened either.
        let opened = TestClient::new(&cluster.url).initialize().await;
        assert_eq!(
            opened.as_ref().err().and_then(|e| e.status()),
            Some(503),
            "{opened:?}"
        );
    }

    // The stream ends cleanly (its replica lost the bus), within its
    // reconnect wait.
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the GET stream stayed open without Redis");

    // Redis back (empty): new sessions work on the same replicas, which
    // were never restarted, and the old session is unknown rather than
    // answered from a guess.
    cluster.redis.start_again();
    let deadline = Instant::now() + Duration::from_secs(20);
    while readiness(ready_at.clone()).await.0 != 200 {
        assert!(
            Instant::now() < deadline,
            "not ready again with Redis back: {}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let client = loop {
        let client = TestClient::new(&cluster.url);
        match client.initialize().await {
            Ok(_) => break client,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e.status(), Some(503), "{e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!(
                "no new session after Redis came back: {e}\n{}",
                cluster.logs()
            ),
        }
    };
    for _ in 0..4 {
        whoami(&client).await.expect("a call on the new session");
    }
    let old = post_on(&cluster.url, &id, call_whoami()).await;
    assert_eq!(old.status, 404, "{}", old.body);
    for i in 1..3 {
        assert!(cluster.replicas.is_running(i), "{}", cluster.logs());
    }
    let logs = cluster.replicas.output();
    assert!(!logs.contains("panicked"), "{logs}");
}

#[test]
fn a_replica_with_redis_needs_the_shared_secret() {
    let (status, _, stderr) =
        run_to_exit("replicas", &[("MCP_REDIS_URL", "redis://127.0.0.1:1/0")]);
    assert_ne!(status, Some(0));
    assert!(stderr.contains("MCP_STATE_SECRET"), "{stderr}");
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");

    let (status, _, stderr) = run_to_exit(
        "replicas",
        &[
            ("MCP_REDIS_URL", "redis://127.0.0.1:1/0"),
            ("MCP_STATE_SECRET", "too short"),
        ],
    );
    assert_ne!(status, Some(0));
    assert!(stderr.contains("at least 32 bytes, got 9"), "{stderr}");
    assert!(
        !stderr.contains("too short"),
        "the secret was printed: {stderr}"
    );
}

#[test]
fn a_replica_that_cannot_reach_redis_does_not_start() {
    let port = support::free_port();
    let url = format!("redis://:hunter2-password@127.0.0.1:{port}/0");
    let (status, stdout, stderr) = run_to_exit(
        "replicas",
        &[
            ("MCP_REDIS_URL", &url),
            ("MCP_STATE_SECRET", support::cluster::STATE_SECRET),
        ],
    );
    assert_ne!(status, Some(0));
    assert!(
        stderr.contains("cannot reach Redis at redis://")
            && stderr.contains(&format!("127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2") && !stdout.contains("hunter2"),
        "the password was printed: {stdout}{stderr}"
    );
}

#[tokio::test]
async fn a_rate_limit_is_one_budget_across_the_replicas() {
    let cluster = Cluster::start("replicas", 3, &[LOG, ("MCP_RATE_LIMIT", "8/hour")]);
    // Every client reaches the replicas from the balancer's address: one
    // caller, whose budget every replica draws from.
    let client = session(&cluster.url).await;
    let mut served = BTreeSet::new();
    for i in 0..7 {
        let text = whoami(&client)
            .await
            .unwrap_or_else(|e| panic!("call {i} within the limit: {e}\n{}", cluster.logs()));
        served.insert(text);
    }
    assert!(served.len() >= 2, "spread over the replicas: {served:?}");
    // initialize and seven calls spent the eight tokens, wherever they ran.
    for _ in 0..3 {
        match whoami(&client).await {
            Err(mcp_runtime::testing::ClientError::Http {
                status: 429,
                message,
            }) => {
                assert!(message.contains("8/hour"), "{message}");
            }
            other => panic!(
                "expected 429 on every replica, got {other:?}\n{}",
                cluster.logs()
            ),
        }
    }
}

#[tokio::test]
async fn behind_the_balancer_a_caller_is_its_address_whatever_headers_it_writes() {
    // nginx (127.0.0.1) is trusted and appends the address it saw to
    // X-Forwarded-For; clients reach it from other loopback addresses.
    let cluster = Cluster::start(
        "replicas",
        2,
        &[
            LOG,
            ("MCP_RATE_LIMIT", "4/hour"),
            ("MCP_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    );
    let from = |address: &str| {
        reqwest::Client::builder()
            .local_address(Some(address.parse().expect("address")))
            .build()
            .expect("client")
    };
    let initialize = |client: &reqwest::Client, spoof: Option<usize>| {
        let mut request = client
            .post(&cluster.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "spoofer", "version": "1"}}})
                .to_string(),
            );
        if let Some(i) = spoof {
            // Each a fresh address, were either header believed.
            request = request
                .header("forwarded", format!("for=198.51.100.{i}"))
                .header("x-forwarded-for", format!("203.0.113.{i}"));
        }
        request.send()
    };
    let spoofer = from("127.0.0.2");
    for i in 0..4 {
        let answer = initialize(&spoofer, Some(i)).await.expect("reaches nginx");
        assert_eq!(answer.status(), 200, "request {i}\n{}", cluster.logs());
    }
    let refused = initialize(&spoofer, Some(9)).await.expect("reaches nginx");
    assert_eq!(
        refused.status(),
        429,
        "a header the client wrote bought it a budget\n{}",
        cluster.logs()
    );
    assert!(refused.headers().contains_key("retry-after"));
    // The limit is the client's, read through the balancer, not the
    // balancer's own.
    let neighbour = initialize(&from("127.0.0.3"), None)
        .await
        .expect("reaches nginx");
    assert_eq!(neighbour.status(), 200, "{}", cluster.logs());
}
