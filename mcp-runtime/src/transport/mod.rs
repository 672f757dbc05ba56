//! Streamable HTTP on actix-web: the endpoint, sessions, host and origin checks.

mod access;
mod discovery;
pub(crate) mod http;
mod origin;
mod param_headers;
mod serve;
mod sse;
mod stateless;

pub use crate::server::{HostPolicy, HttpConfig, SessionMode};
pub(crate) use access::AuthMode;
pub(crate) use origin::LOOPBACK_NAMES;
