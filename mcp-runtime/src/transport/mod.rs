//! Streamable HTTP on actix-web: the endpoint, binding and serving, host and
//! origin checks, and discovery. Its settings are
//! [`HttpConfig`](crate::server::HttpConfig); the sessions it keeps are the
//! server's.

mod accept;
mod access;
mod discovery;
mod headers;
mod health;
pub(crate) mod http;
mod origin;
#[cfg(feature = "fuzzing")]
pub(crate) use origin::{add_cors_headers, host_allowed, origin_allowed};
mod param_headers;
mod refusal;
mod serve;
mod sse;
mod stateless;

pub(crate) use access::AuthMode;
pub use headers::{METHOD_HEADER, NAME_HEADER, PROTOCOL_VERSION_HEADER, SESSION_HEADER};
pub(crate) use origin::LOOPBACK_NAMES;
