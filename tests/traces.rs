//! Traces over OTLP, received as a collector receives them: a real server
//! process (the conformance example, `init_tracing`) exports its spans over
//! OTLP/HTTP (JSON) to a receiver here; the official TypeScript SDK client
//! calls a tool with a W3C `traceparent`, and the server's request span
//! continues that trace, with its handler as a child and the MCP
//! attributes the OpenTelemetry conventions name. A 2026-07-28 request
//! naming its trace in `_meta.traceparent` instead of a header is continued
//! too, its token's verification included.

mod support;

use serde_json::Value;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::example::Example;
use support::shaped_idp::{Layout, ShapedIdp, Signer, sign};

/// Every span received, flattened out of the OTLP/JSON export requests.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Value>>>);

impl Received {
    fn spans(&self) -> Vec<Value> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Starts an OTLP/HTTP receiver on a free port: its base URL.
fn receiver(received: Received) -> String {
    let port = support::free_port();
    let server = actix_web::HttpServer::new(move || {
        let received = received.clone();
        actix_web::App::new().route(
            "/v1/traces",
            actix_web::web::post().to(move |body: actix_web::web::Bytes| {
                let received = received.clone();
                async move {
                    let export: Value = match serde_json::from_slice(&body) {
                        Ok(export) => export,
                        Err(_) => return actix_web::HttpResponse::BadRequest().finish(),
                    };
                    let mut spans = received.0.lock().unwrap_or_else(|e| e.into_inner());
                    for resource in export["resourceSpans"].as_array().into_iter().flatten() {
                        for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                            spans.extend(scope["spans"].as_array().into_iter().flatten().cloned());
                        }
                    }
                    actix_web::HttpResponse::Ok()
                        .content_type("application/json")
                        .body("{}")
                }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", port))
    .expect("the receiver binds")
    .run();
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    format!("http://127.0.0.1:{port}")
}

/// A span attribute's string (or integer, as text) value.
fn attribute(span: &Value, key: &str) -> Option<String> {
    span["attributes"].as_array()?.iter().find_map(|a| {
        (a["key"] == key).then(|| {
            let value = &a["value"];
            value["stringValue"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| value["intValue"].as_str().map(str::to_owned))
                .or_else(|| value["intValue"].as_i64().map(|n| n.to_string()))
                .unwrap_or_default()
        })
    })
}

#[test]
fn the_sdk_clients_trace_continues_through_the_server() {
    let received = Received::default();
    let collector = receiver(received.clone());
    let server = Example::start(
        "conformance",
        &[
            ("RUST_LOG", "warn"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_SERVICE_NAME", "conformance-under-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let dir = support::node_harness();
    let output = Command::new(support::node())
        .arg(dir.join("client.mjs"))
        .args([server.url.as_str(), "test_simple_text", "{}"])
        .env("MCP_TRACEPARENT", format!("00-{trace_id}-{parent_id}-01"))
        .current_dir(dir)
        .output()
        .expect("the SDK client starts");
    assert!(
        output.status.success(),
        "SDK client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let deadline = Instant::now() + Duration::from_secs(20);
    let (request, handler) = loop {
        let spans = received.spans();
        let request = spans
            .iter()
            .find(|s| s["traceId"] == trace_id && s["name"] == "tools/call test_simple_text");
        if let Some(request) = request
            && let Some(handler) = spans
                .iter()
                .find(|s| s["name"] == "mcp.handler" && s["parentSpanId"] == request["spanId"])
        {
            break (request.clone(), handler.clone());
        }
        assert!(
            Instant::now() < deadline,
            "no exported request span of trace {trace_id} with its handler; received: {spans:#?}\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // The client's span is the server span's parent: one trace.
    assert_eq!(request["parentSpanId"], parent_id, "{request:#}");
    assert_eq!(handler["traceId"], trace_id, "{handler:#}");
    assert_eq!(request["kind"], 2, "a SERVER span: {request:#}");
    assert_eq!(
        attribute(&request, "mcp.method.name").as_deref(),
        Some("tools/call")
    );
    assert_eq!(
        attribute(&request, "gen_ai.tool.name").as_deref(),
        Some("test_simple_text")
    );
    assert!(
        attribute(&request, "mcp.protocol.version").is_some(),
        "{request:#}"
    );
    assert!(
        attribute(&request, "mcp.session.id").is_some(),
        "{request:#}"
    );
    // Other requests of the same client (initialize, tools/list) are spans
    // of the same trace too.
    let spans = received.spans();
    assert!(
        spans
            .iter()
            .any(|s| s["traceId"] == trace_id && s["name"] == "tools/list"),
        "{spans:#?}"
    );
}

/// The receiver's spans once `found` picks what it waits for from them
/// (within 20 s); panics with what was received and the server's output.
fn wait_for<T>(
    received: &Received,
    server: &Example,
    what: &str,
    found: impl Fn(&[Value]) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let spans = received.spans();
        if let Some(found) = found(&spans) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no exported {what}; received: {spans:#?}\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A span's start and end, in nanoseconds since the epoch.
fn times(span: &Value) -> (u128, u128) {
    let at = |key: &str| {
        span[key]
            .as_str()
            .and_then(|n| n.parse().ok())
            .or_else(|| span[key].as_u64().map(u128::from))
            .unwrap_or_else(|| panic!("{key} of {span:#}"))
    };
    (at("startTimeUnixNano"), at("endTimeUnixNano"))
}

#[actix_web::test]
async fn a_trace_named_in_meta_is_continued_with_the_tokens_verification() {
    let received = Received::default();
    let collector = receiver(received.clone());
    let idp = ShapedIdp::start(&Layout {
        issuer_path: "",
        jwks_path: "/keys",
        metadata_paths: &["/.well-known/openid-configuration"],
        endpoints: &[],
        keys: &[Signer::Rs256],
    });
    let jwks = format!("{}/keys", idp.base);
    let server = Example::start(
        "custom",
        &[
            ("RUST_LOG", "warn"),
            ("OAUTH_ISSUER", idp.issuer.as_str()),
            ("OAUTH_JWKS_URL", jwks.as_str()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let token = sign(
        Signer::Rs256,
        &idp.claims(serde_json::json!({"sub": "user-42", "aud": server.url, "scope": "user:read"})),
    );
    // The token is verified, then found in the cache (the first verdict
    // may be kept only once the key set it fetched is settled).
    let trace_id = "5bf92f3577b34da6a3ce929d0e0e4737";
    let calls = [
        ("10f067aa0ba902b8", Some("false")),
        ("20f067aa0ba902b9", None),
        ("30f067aa0ba902ba", Some("true")),
    ];
    for (parent_id, _) in calls {
        let params = serde_json::json!({
            "name": "get-user-info",
            "arguments": {},
            "_meta": {"traceparent": format!("00-{trace_id}-{parent_id}-01")},
        });
        let reply = support::stateless_request(
            &server.url,
            Some(&token),
            "tools/call",
            "get-user-info",
            params,
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    for (parent_id, cache_hit) in calls {
        let (request, verify) = wait_for(
            &received,
            &server,
            "request span with its verification",
            |spans| {
                let request = spans.iter().find(|s| {
                    s["traceId"] == trace_id
                        && s["parentSpanId"] == parent_id
                        && s["name"] == "tools/call get-user-info"
                })?;
                let verify = spans.iter().find(|s| {
                    s["name"] == "mcp.auth.verify" && s["parentSpanId"] == request["spanId"]
                })?;
                spans
                    .iter()
                    .any(|s| s["name"] == "mcp.handler" && s["parentSpanId"] == request["spanId"])
                    .then(|| (request.clone(), verify.clone()))
            },
        );
        assert_eq!(verify["traceId"], trace_id, "{verify:#}");
        // A boolean attribute: its JSON value.
        let hit = verify["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["key"] == "cache.hit"))
            .map(|a| a["value"]["boolValue"].to_string());
        assert!(
            cache_hit.map_or(hit.is_some(), |expected| hit.as_deref() == Some(expected)),
            "cache.hit {hit:?}, expected {cache_hit:?}: {verify:#}"
        );
        assert_eq!(
            attribute(&request, "enduser.id").as_deref(),
            Some("user-42")
        );
        let ((request_start, request_end), (verify_start, verify_end)) =
            (times(&request), times(&verify));
        assert!(
            request_start <= verify_start
                && verify_start <= verify_end
                && verify_end <= request_end,
            "the verification ran inside its request: {request:#} {verify:#}"
        );
    }
}
