//! The load benchmark's server under test (`bench/load.sh`): a macro-built
//! MCP server with one open tool and one scoped tool, whose callers present
//! RS256 tokens checked against a real JWK set URL through
//! `CustomProvider`, served by a fixed number of actix workers.
//!
//! ```text
//! BENCH_ISSUER=https://issuer.bench \
//! BENCH_JWKS_URL=http://127.0.0.1:3199/jwks.json \
//! BENCH_STATELESS=1 BENCH_CACHE=on PORT=3101 \
//! cargo run --release --example bench_server
//! ```
//!
//! Settings, all from the environment:
//! - `BENCH_ISSUER`, `BENCH_JWKS_URL` (required): the tokens' `iss` and
//!   where their keys are published;
//! - `BENCH_AUDIENCE`: the tokens' `aud` (default `http://127.0.0.1:PORT/mcp`);
//! - `PORT` (default 3101), `BENCH_WORKERS` (default 1);
//! - `BENCH_STATELESS=1` keeps no sessions (default: sessions);
//! - `BENCH_CACHE=off` turns the verified-token cache off (default on);
//! - `BENCH_MAX_SESSIONS` caps live sessions (default: the runtime's);
//! - `BENCH_AUTH=off` serves the same tools without OAuth (`echo_scoped`
//!   then needs nothing), to set beside the bare floor.
//!
//! Tools: `echo` (anyone signed in) and `echo_scoped` (scope `bench:write`),
//! both answering their `text` argument; `bench_floor` answers the same bytes.

use actix_web::{App, HttpServer};
use mcp_runtime::auth::CustomProvider;
use mcp_runtime::prelude::*;

/// The value of `name`, or `default` when unset or empty.
fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn port() -> u16 {
    setting("PORT", "3101").parse().unwrap_or(3101)
}

fn audience() -> String {
    setting(
        "BENCH_AUDIENCE",
        &format!("http://127.0.0.1:{}/mcp", port()),
    )
}

/// The provider the benchmark's issuer stands for; a missing variable keeps
/// the server from building, with the variable's name.
fn provider() -> OAuth {
    let required = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| format!("set {name}"))
    };
    OAuth::from_result((|| {
        CustomProvider::new(required("BENCH_ISSUER")?)
            .jwks_url(required("BENCH_JWKS_URL")?)
            .audience(audience())
            .build()
    })())
}

/// The benchmark's server: two trivial tools, so the figures are the
/// framework's and not the tools'.
struct Bench;

#[mcp_server(name = "bench", version = "1.0.0", oauth = custom(provider()))]
impl Bench {
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
}

/// The same tools without OAuth.
struct BenchOpen;

#[mcp_server(name = "bench", version = "1.0.0")]
impl BenchOpen {
    /// Answers its argument.
    #[mcp_tool(read_only)]
    async fn echo(text: String) -> String {
        text
    }

    /// Answers its argument.
    #[mcp_tool]
    async fn echo_scoped(text: String) -> String {
        text
    }
}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    let invalid = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
    let stateless = setting("BENCH_STATELESS", "0") == "1";
    // Tracing at `info` (RUST_LOG) and metrics recorded, as an operator
    // runs it: the cost the observed scenario measures.
    let observe = setting("BENCH_OBSERVE", "0") == "1";
    let _tracing = if observe {
        Some(mcp_runtime::operations::init_tracing().map_err(invalid)?)
    } else {
        None
    };
    let cache_on = setting("BENCH_CACHE", "on") != "off";
    let workers: usize = setting("BENCH_WORKERS", "1")
        .parse()
        .map_err(|_| invalid("BENCH_WORKERS must be a number".into()))?;
    let auth = setting("BENCH_AUTH", "on") != "off";
    let builder = if auth {
        Bench.into_mcp_builder()
    } else {
        BenchOpen.into_mcp_builder()
    };
    let mut builder = builder.public_url(audience()).stateless(stateless);
    if !cache_on {
        builder = builder.verified_token_cache(0);
    }
    if let Ok(max) = std::env::var("BENCH_MAX_SESSIONS") {
        builder = builder.max_sessions(
            max.parse()
                .map_err(|_| invalid("BENCH_MAX_SESSIONS must be a number".into()))?,
        );
    }
    let server = builder.build().map_err(|e| invalid(e.to_string()))?;
    if observe && server.render_metrics().await.is_none() {
        return Err(invalid(
            "the metrics recorder could not be installed".into(),
        ));
    }
    // With MCP_REDIS_URL, sessions live in Redis: reach it before serving.
    server.connect().await?;
    // `McpServer::listen` has no worker-count setting; mounting it lets the
    // benchmark pin the worker count like the floor's, whatever the CPU mask.
    let configure = server.configure();
    eprintln!(
        "bench_server on http://127.0.0.1:{}/mcp (auth={}, stateless={stateless}, cache={}, workers={workers})",
        port(),
        if auth { "on" } else { "off" },
        if cache_on { "on" } else { "off" },
    );
    HttpServer::new(move || App::new().configure(configure.clone()))
        .workers(workers)
        .bind(("127.0.0.1", port()))?
        .run()
        .await
}
