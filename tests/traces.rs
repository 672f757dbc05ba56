//! Traces over OTLP, received as a collector receives them: a real server
//! process (the conformance example, `init_tracing`) exports its spans over
//! OTLP/HTTP (JSON) to a receiver here; the official TypeScript SDK client
//! calls a tool with a W3C `traceparent`, and the server's request span
//! continues that trace, with its handler as a child and the MCP
//! attributes the OpenTelemetry conventions name.

mod support;

use serde_json::Value;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::example::Example;

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
