//! Streamable HTTP on actix-web: the endpoint, sessions, host and origin checks.

mod access;
mod discovery;
mod headers;
pub(crate) mod http;
mod origin;
mod param_headers;
mod refusal;
mod serve;
mod sse;
mod stateless;

pub use crate::server::{HostPolicy, HttpConfig, SessionMode};
pub(crate) use access::AuthMode;
pub use headers::{METHOD_HEADER, NAME_HEADER, PROTOCOL_VERSION_HEADER, SESSION_HEADER};
pub(crate) use origin::LOOPBACK_NAMES;
