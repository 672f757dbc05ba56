//! What an operator watches: Prometheus metrics ([`metrics`]) and audit
//! events ([`audit`]). Health checks are the transport's (`/healthz`,
//! `/readyz`).

pub mod audit;
pub(crate) mod metrics;

pub use audit::AUDIT_TARGET;
