//! Streamable HTTP on actix-web: the endpoint, sessions, host and origin checks.

mod access;
mod config;
mod discovery;
pub(crate) mod http;
mod origin;
mod param_headers;
pub(crate) mod session;
mod sse;
mod stateless;

pub(crate) use access::AuthMode;
pub use config::{HostPolicy, HttpConfig, SessionMode};
pub(crate) use origin::LOOPBACK_NAMES;
