//! What an operator watches: traces ([`init_tracing`], OpenTelemetry with
//! the `otel` feature), Prometheus metrics, and audit events ([`audit`]).
//! Health checks are the transport's (`/healthz`, `/readyz`).

pub mod audit;
pub(crate) mod metrics;
pub(crate) mod telemetry;

pub use audit::AUDIT_TARGET;
pub use telemetry::{Tracing, TracingGuard, init_tracing};
