//! Prometheus metrics, through the `metrics` facade: recorded everywhere
//! the runtime does something an operator counts, nearly free until a
//! recorder is installed ([`install`], when the server serves `/metrics`).
//!
//! Every label takes few values: methods outside the protocol count as
//! `other`, tools as named by the registry (an unknown name as `unknown`),
//! refusal causes from a fixed list. Nothing a client chooses freely, and
//! never a token, becomes a label.

use metrics::{Key, Label, Metadata};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

/// Requests answered, by method and outcome (`ok`, `error`).
pub(crate) const REQUESTS: &str = "mcp_requests_total";
/// Time to answer a request, by method.
pub(crate) const REQUEST_SECONDS: &str = "mcp_request_duration_seconds";
/// Requests refused before they ran, by HTTP status and reason
/// (`invalid_token` causes, `insufficient_scope`, `rate_limited`, ...), and
/// tool where one was named.
pub(crate) const REFUSALS: &str = "mcp_refusals_total";
/// JWK set fetches, by outcome.
pub(crate) const JWKS_FETCHES: &str = "mcp_jwks_fetches_total";
/// Verified-token cache lookups, by result (`hit`, `miss`).
pub(crate) const TOKEN_CACHE: &str = "mcp_token_cache_lookups_total";
/// Redis operations that failed or timed out, by operation.
#[cfg(feature = "redis")]
pub(crate) const REDIS_ERRORS: &str = "mcp_redis_errors_total";
/// Live sessions, on every replica (from the shared state).
pub(crate) const SESSIONS: &str = "mcp_sessions";
/// Sessions whose requests or stream this process serves now.
pub(crate) const SESSIONS_HERE: &str = "mcp_sessions_here";
/// Open streams, by kind (`get`, `listen`).
pub(crate) const STREAMS: &str = "mcp_open_streams";
/// Questions to clients waiting for their answers.
pub(crate) const PENDING_QUESTIONS: &str = "mcp_pending_questions";
/// Tasks whose handlers run in this process.
pub(crate) const TASKS_RUNNING: &str = "mcp_tasks_running";

/// The methods counted by name; any other counts as `other`.
const METHODS: [&str; 22] = [
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "subscriptions/listen",
    "tasks/list",
    "tasks/result",
    "notifications/initialized",
    "notifications/cancelled",
];

/// Where `method` is in [`METHODS`]; past its end for `other`.
fn method_index(method: &str) -> usize {
    METHODS
        .iter()
        .position(|known| *known == method)
        .unwrap_or(METHODS.len())
}

/// `method` as a label.
pub(crate) fn method_label(method: &str) -> &'static str {
    METHODS
        .get(method_index(method))
        .copied()
        .unwrap_or("other")
}

/// The labels a request is counted under, for each method label (the
/// counted methods, then `other`): made once, since labels built per
/// request cost two allocations, recorder or not.
pub(crate) struct RequestLabels {
    /// `method`, then `outcome` `ok`.
    ok: [Label; 2],
    /// `method`, then `outcome` `error`.
    error: [Label; 2],
    /// `method` alone, for the duration.
    method: [Label; 1],
}

static REQUEST_LABELS: LazyLock<Vec<RequestLabels>> = LazyLock::new(|| {
    METHODS
        .iter()
        .chain(&["other"])
        .map(|&method| RequestLabels {
            ok: [
                Label::from_static_parts("method", method),
                Label::from_static_parts("outcome", "ok"),
            ],
            error: [
                Label::from_static_parts("method", method),
                Label::from_static_parts("outcome", "error"),
            ],
            method: [Label::from_static_parts("method", method)],
        })
        .collect()
});

/// Where the runtime's metrics come from, as the `metrics` macros say it.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// The labels a request for `method` is counted under: looked up when it
/// arrives, since the request is gone once it is answered.
pub(crate) fn request_labels(method: &str) -> &'static RequestLabels {
    &REQUEST_LABELS[method_index(method)]
}

/// One request answered, counted under `labels` ([`request_labels`]).
pub(crate) fn request(labels: &'static RequestLabels, ok: bool, elapsed: Duration) {
    let counted = if ok { &labels.ok } else { &labels.error };
    metrics::with_recorder(|recorder| {
        recorder
            .register_counter(&Key::from_static_labels(REQUESTS, counted), &METADATA)
            .increment(1);
        recorder
            .register_histogram(
                &Key::from_static_labels(REQUEST_SECONDS, &labels.method),
                &METADATA,
            )
            .record(elapsed.as_secs_f64());
    });
}

/// One request refused before it ran: its HTTP `status`, `reason` in a
/// word, and the `cause` (of an invalid token) or the `tool` (registered)
/// it was refused for.
pub(crate) fn refused(status: u16, reason: &'static str, cause: &'static str, tool: &str) {
    let status = match status {
        401 => "401",
        403 => "403",
        429 => "429",
        503 => "503",
        _ => "other",
    };
    metrics::counter!(
        REFUSALS,
        "status" => status,
        "reason" => reason,
        "cause" => cause,
        "tool" => tool.to_owned()
    )
    .increment(1);
}

/// Why a verifier refused a token, from its message: one of a few causes.
pub(crate) fn invalid_token_cause(message: &str) -> &'static str {
    let has = |word: &str| message.contains(word);
    if has("expired") {
        "expired"
    } else if has("signature") {
        "bad_signature"
    } else if has("signing key") || has("not signed by a key") {
        "unknown_key"
    } else if has("issuer") || has("`iss`") {
        "wrong_issuer"
    } else if has("aud") {
        "wrong_audience"
    } else if has("not valid yet") || has("in the future") {
        "not_yet_valid"
    } else if has("malformed") || has("not a signed JWT") || has("too large") || has("claim") {
        "malformed"
    } else {
        "other"
    }
}

/// One JWK set fetch.
pub(crate) fn jwks_fetch(ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(JWKS_FETCHES, "outcome" => outcome).increment(1);
}

/// One verified-token cache lookup.
pub(crate) fn token_cache(hit: bool) {
    // Literal labels, so the macro builds its key once, not per request.
    if hit {
        metrics::counter!(TOKEN_CACHE, "result" => "hit").increment(1);
    } else {
        metrics::counter!(TOKEN_CACHE, "result" => "miss").increment(1);
    }
}

/// One failed Redis operation.
#[cfg(feature = "redis")]
pub(crate) fn redis_error(operation: &'static str) {
    metrics::counter!(REDIS_ERRORS, "operation" => operation).increment(1);
}

/// The levels sampled when metrics are read.
pub(crate) struct Levels {
    /// `None` when the shared state did not answer: the gauge keeps its
    /// last value rather than show a guess.
    pub(crate) sessions: Option<u64>,
    pub(crate) sessions_here: usize,
    pub(crate) get_streams: usize,
    pub(crate) listen_streams: usize,
    pub(crate) pending_questions: usize,
    pub(crate) tasks_running: usize,
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
pub(crate) fn set_levels(levels: &Levels) {
    if let Some(sessions) = levels.sessions {
        metrics::gauge!(SESSIONS).set(sessions as f64);
    }
    metrics::gauge!(SESSIONS_HERE).set(levels.sessions_here as f64);
    metrics::gauge!(STREAMS, "kind" => "get").set(levels.get_streams as f64);
    metrics::gauge!(STREAMS, "kind" => "listen").set(levels.listen_streams as f64);
    metrics::gauge!(PENDING_QUESTIONS).set(levels.pending_questions as f64);
    metrics::gauge!(TASKS_RUNNING).set(levels.tasks_running as f64);
}

/// The process's Prometheus recorder, installed on first use. `Err` if
/// another recorder was installed first (the application's own): its
/// exporter serves the same metrics then.
pub(crate) fn install() -> Result<&'static PrometheusHandle, String> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(REQUEST_SECONDS.to_owned()),
                    &[
                        0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                        2.5, 5.0, 10.0, 30.0,
                    ],
                )
                .map_err(|e| e.to_string())?
                .install_recorder()
                .map_err(|e| format!("another metrics recorder is installed: {e}"))
                .inspect(|handle| {
                    // Histogram samples pile up until drained: drained here
                    // every few seconds, whether or not anyone scrapes.
                    let handle = handle.clone();
                    let _ = std::thread::Builder::new()
                        .name("metrics-upkeep".to_owned())
                        .spawn(move || {
                            loop {
                                std::thread::sleep(std::time::Duration::from_secs(5));
                                handle.run_upkeep();
                            }
                        });
                })
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_take_few_values() {
        assert_eq!(method_label("tools/call"), "tools/call");
        assert_eq!(method_label("made/up/by/a/client"), "other");
        for (message, cause) in [
            ("the token has expired", "expired"),
            ("the token's signature is invalid", "bad_signature"),
            (
                "the token was issued by an untrusted issuer",
                "wrong_issuer",
            ),
            ("the token has no `aud` claim", "wrong_audience"),
            ("the token is not valid yet (`nbf`)", "not_yet_valid"),
            ("the token is not a signed JWT", "malformed"),
            (
                "the token is not signed by a key of the trusted issuer",
                "unknown_key",
            ),
            ("a verifier's own words", "other"),
        ] {
            assert_eq!(invalid_token_cause(message), cause, "{message}");
        }
    }
}
