//! Authentication: who the caller is, and how bearer tokens are verified.
//!
//! The HTTP layer authenticates every request with the server's
//! [`TokenVerifier`]; the dispatcher then checks each tool's declared scopes,
//! roles and permissions against the [`Auth`] before the tool runs.

mod caller;

pub use caller::{AccessDenied, AccessToken, Auth, RequiredNames, User};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Why a bearer token was refused. The message is safe to show the client: it
/// never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No usable `Authorization: Bearer` header (RFC 6750 `invalid_request`,
    /// or no error code at all when the header is simply absent).
    #[error("{0}")]
    InvalidRequest(String),
    /// The token is malformed, expired, or not for this server (`invalid_token`).
    #[error("{0}")]
    InvalidToken(String),
}

/// The future a [`TokenVerifier`] returns.
pub type VerifyFuture<'a> = Pin<Box<dyn Future<Output = Result<Auth, AuthError>> + Send + 'a>>;

/// Turns a bearer token into the caller it stands for, or refuses it.
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verifies `token` (the part after `Bearer `).
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a>;
}

/// How a server authenticates its callers: chosen with `#[mcp_server(oauth = ...)]`
/// or [`McpServerBuilder::oauth`](crate::McpServerBuilder::oauth).
#[derive(Clone, Default)]
pub struct OAuth {
    pub(crate) kind: OAuthKind,
}

#[derive(Clone, Default)]
pub(crate) enum OAuthKind {
    /// No authentication: every request is anonymous.
    #[default]
    None,
    /// A built-in provider this build cannot serve yet.
    Unavailable(&'static str),
    /// Bearer tokens checked by this verifier.
    Verifier(Arc<dyn TokenVerifier>),
}

impl OAuth {
    /// No authentication. Tools that declare scopes, roles or permissions, or
    /// take `&Auth`, cannot be served this way.
    pub fn none() -> Self {
        Self::default()
    }

    /// Bearer tokens checked by your own verifier.
    pub fn custom(verifier: impl TokenVerifier) -> Self {
        Self {
            kind: OAuthKind::Verifier(Arc::new(verifier)),
        }
    }

    /// A built-in provider by name (`auth0`, `workos`, `supabase`, `keycloak`,
    /// `dev`), configured from the environment.
    pub fn provider(name: &'static str) -> Self {
        Self {
            kind: OAuthKind::Unavailable(name),
        }
    }

    /// Whether requests are authenticated.
    pub fn is_enabled(&self) -> bool {
        !matches!(self.kind, OAuthKind::None)
    }

    pub(crate) fn verifier(&self) -> Option<&Arc<dyn TokenVerifier>> {
        match &self.kind {
            OAuthKind::Verifier(v) => Some(v),
            _ => None,
        }
    }
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            OAuthKind::None => f.write_str("OAuth::none()"),
            OAuthKind::Unavailable(name) => write!(f, "OAuth::provider({name:?})"),
            OAuthKind::Verifier(_) => f.write_str("OAuth::custom(..)"),
        }
    }
}
