//! What an operator watches: traces ([`init_tracing`], OpenTelemetry with
//! the `otel` feature), Prometheus metrics, and audit events ([`audit`]).
//! Health checks are the transport's (`/healthz`, `/readyz`).

pub mod audit;
mod lines;
pub(crate) mod metrics;
pub(crate) mod telemetry;

pub use audit::AUDIT_TARGET;

/// The first `bytes` bytes of `text`'s SHA-256, in hex: how events, traces
/// and rate-limit keys name a value they must not hold as it is.
pub(crate) fn fingerprint(text: &str, bytes: usize) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref()[..bytes.min(32)]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
pub use telemetry::{Tracing, TracingGuard, init_tracing};
