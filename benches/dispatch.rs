//! Micro benchmarks of the MCP endpoint in-process (issue 8, item 1): a
//! built `McpServer` mounted with `McpServer::configure` in an actix test
//! service, driven with whole HTTP requests (no sockets).
//!
//! - `tools_call/no_auth`: dispatch alone, argument deserialization and
//!   result serialization included;
//! - `tools_call/cache_on` and `tools_call/cache_off`: the same with an
//!   ES256 bearer token, the verified-token cache hit path against a full
//!   signature check each time; `echo_scoped` adds the scope guard,
//!   `denied` is its refusal (403);
//! - `tools_list/100_tools`: one page of 100 tools.
//!
//! Requests are stateless (`.stateless(true)`, revision 2025-11-25 in the
//! header), and `tools_call/cache_on/echo_scoped_2026` uses the 2026-07-28
//! wire (`_meta` and `Mcp-Method`/`Mcp-Name`).
//!
//! ```text
//! cargo bench --bench dispatch
//! cargo bench --bench dispatch -- tools_call/cache_on
//! ```

// `criterion_main!` defines an undocumented `main`.
#![allow(missing_docs)]

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, test};
use criterion::{Criterion, criterion_group, criterion_main};
use mcp_runtime::McpServer;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::TestIssuer;
use std::hint::black_box;

const URL: &str = "http://localhost:8080/mcp";

/// Answers its argument.
#[mcp_tool(read_only)]
async fn echo(text: String) -> String {
    text
}

/// Answers its argument, to callers holding `bench:write`.
#[mcp_tool(scopes = "bench:write")]
async fn echo_scoped(text: String) -> String {
    text
}

/// The arguments of each of the 100 listed tools: a few typed, described
/// fields, like a real tool's.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Search {
    /// What to look for.
    query: String,
    /// How many results at most.
    limit: Option<u32>,
    /// Only results newer than this many days.
    max_age_days: Option<u16>,
}

fn call_body(tool: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{tool}","arguments":{{"text":"hello"}}}}}}"#
    )
}

fn call_body_2026(tool: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{tool}","arguments":{{"text":"hello"}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
    )
}

const LIST_BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;

/// One request of a benchmark: its body, headers and expected status.
#[derive(Clone)]
struct Call {
    body: String,
    headers: Vec<(&'static str, String)>,
    status: StatusCode,
}

impl Call {
    fn new(body: String, token: Option<&str>) -> Self {
        let mut headers = vec![("mcp-protocol-version", "2025-11-25".to_owned())];
        if let Some(token) = token {
            headers.push(("authorization", format!("Bearer {token}")));
        }
        Self {
            body,
            headers,
            status: StatusCode::OK,
        }
    }

    fn wire_2026(tool: &str, token: &str) -> Self {
        Self {
            body: call_body_2026(tool),
            headers: vec![
                ("mcp-protocol-version", "2026-07-28".to_owned()),
                ("mcp-method", "tools/call".to_owned()),
                ("mcp-name", tool.to_owned()),
                ("authorization", format!("Bearer {token}")),
            ],
            status: StatusCode::OK,
        }
    }

    fn expect(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn request(&self) -> actix_http::Request {
        let mut request = test::TestRequest::post()
            .uri("/mcp")
            .insert_header(("host", "localhost:8080"))
            .insert_header(("content-type", "application/json"))
            .insert_header(("accept", "application/json, text/event-stream"));
        for (name, value) in &self.headers {
            request = request.insert_header((*name, value.as_str()));
        }
        request.set_payload(self.body.clone()).to_request()
    }
}

/// Runs `call` through `app` once outside the timing, so a misconfigured
/// benchmark fails instead of timing an error path.
fn check<S>(system: &actix_web::rt::SystemRunner, app: &S, name: &str, call: &Call)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let response = system
        .block_on(app.call(call.request()))
        .expect("the service answers");
    let status = response.status();
    let body = system.block_on(test::read_body(response));
    assert_eq!(
        status,
        call.status,
        "{name}: unexpected answer {}",
        String::from_utf8_lossy(&body)
    );
}

fn bench_call<S>(
    c: &mut Criterion,
    system: &actix_web::rt::SystemRunner,
    app: &S,
    name: &str,
    call: &Call,
) where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    check(system, app, name, call);
    c.bench_function(name, |b| {
        b.iter_batched(
            || call.request(),
            |request| {
                system.block_on(async {
                    let response = app.call(request).await.expect("the service answers");
                    black_box(test::read_body(response).await)
                })
            },
            criterion::BatchSize::SmallInput,
        )
    });
}

fn protected(issuer: &TestIssuer, cache: bool) -> McpServer {
    let mut builder = McpServer::builder("bench", "1.0.0")
        .tool(echo)
        .tool(echo_scoped)
        .oauth(issuer.provider())
        .public_url(URL)
        .stateless(true);
    if !cache {
        builder = builder.verified_token_cache(0);
    }
    builder.build().expect("a valid server")
}

fn benches(c: &mut Criterion) {
    let system = actix_web::rt::System::new();
    let issuer = TestIssuer::new().expect("a test issuer").with_audience(URL);
    let token = issuer
        .token()
        .scopes(["bench:write"])
        .sign()
        .expect("a token");
    let unscoped = issuer.token().sign().expect("a token");

    let open = McpServer::builder("bench", "1.0.0")
        .tool(echo)
        .stateless(true)
        .build()
        .expect("a valid server");
    let app = system.block_on(test::init_service(App::new().configure(open.configure())));
    bench_call(
        c,
        &system,
        &app,
        "tools_call/no_auth/echo",
        &Call::new(call_body("echo"), None),
    );

    for cache in [true, false] {
        let server = protected(&issuer, cache);
        let app = system.block_on(test::init_service(App::new().configure(server.configure())));
        let group = if cache {
            "tools_call/cache_on"
        } else {
            "tools_call/cache_off"
        };
        for tool in ["echo", "echo_scoped"] {
            bench_call(
                c,
                &system,
                &app,
                &format!("{group}/{tool}"),
                &Call::new(call_body(tool), Some(&token)),
            );
        }
        if cache {
            bench_call(
                c,
                &system,
                &app,
                "tools_call/cache_on/echo_scoped_2026",
                &Call::wire_2026("echo_scoped", &token),
            );
            bench_call(
                c,
                &system,
                &app,
                "tools_call/cache_on/denied",
                &Call::new(call_body("echo_scoped"), Some(&unscoped)).expect(StatusCode::FORBIDDEN),
            );
        }
    }

    let listed = McpServer::builder("bench", "1.0.0")
        .tools((0..100).map(|i| {
            Tool::new(format!("search_{i:03}"), |args: Search| async move {
                format!("{} {:?} {:?}", args.query, args.limit, args.max_age_days)
            })
            .description("Searches one of the benchmark's hundred collections.")
            .read_only()
        }))
        .stateless(true)
        .build()
        .expect("a valid server");
    let app = system.block_on(test::init_service(App::new().configure(listed.configure())));
    bench_call(
        c,
        &system,
        &app,
        "tools_list/100_tools",
        &Call::new(LIST_BODY.to_owned(), None),
    );
}

criterion_group!(dispatch, benches);
criterion_main!(dispatch);
