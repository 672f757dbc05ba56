//! Authentication: who the caller is, and how bearer tokens are verified.
//!
//! The HTTP layer authenticates every request with the server's
//! [`TokenVerifier`]; the dispatcher then checks each tool's declared scopes,
//! roles and permissions against the authenticated caller ([`Auth`]) before
//! the tool runs.

mod address_policy;
pub(crate) mod bearer;
mod caller;
mod challenge;
mod dev;
mod discovery;
mod exchange;
mod issuer_discovery;
mod jwks;
mod jws;
mod middleware;
mod paths;
mod provider;
mod proxy;
pub(crate) mod rate_limit;
pub(crate) mod remote_check;
mod resource;
mod resource_url;
mod scopes;
mod sealed;
mod signing;
#[cfg(test)]
mod test_http;
mod token_cache;
mod verifier;

#[cfg(feature = "fuzzing")]
pub(crate) use jws::{CompactJws, SignatureKey};
#[cfg(feature = "fuzzing")]
pub(crate) use proxy::{basic_credentials, check_registered_redirect_uri, query_params};

pub use caller::{AccessDenied, AccessToken, Auth, RequiredNames, User};
pub use challenge::{ChallengeContext, Refusal};
pub(crate) use dev::DevIssuer;
pub use dev::{DEV_ALLOW_NON_LOOPBACK_VALUE, DEV_JWKS_PATH, DEV_USER, DevServer};
pub use discovery::AUTHORIZATION_SERVER_METADATA_PATHS;
pub(crate) use discovery::AuthorizationServerMetadata;
pub use jsonwebtoken::Algorithm;
pub use middleware::{Authenticated, BearerMiddleware, BearerMiddlewareService, Refused};
pub use paths::{
    PROXY_AUTHORIZE_PATH, PROXY_CALLBACK_PATH, PROXY_CONSENT_PATH, PROXY_REGISTER_PATH,
    PROXY_TOKEN_PATH,
};
pub(crate) use provider::check_hmac_secret;
pub use provider::{CustomProvider, Mode, Provider, Secret};
/// Whether the request arrived on a loopback address: the address the
/// server listens on, which no header can change. A wildcard bind
/// (`0.0.0.0`) is not loopback: anyone may reach it.
pub(crate) fn arrived_on_loopback(req: &actix_web::HttpRequest) -> bool {
    let ip = req.app_config().local_addr().ip();
    ip.is_loopback()
        || matches!(ip, std::net::IpAddr::V6(v6)
            if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
}

pub(crate) use proxy::{
    Admission, OAuthProxy, ProxyContext, ProxySettings, check_allowed_redirect_uri,
    configure as configure_proxy,
};
pub use scopes::ScopeHierarchy;
pub use signing::SigningKey;
pub use token_cache::DEFAULT_VERIFIED_TOKEN_CAPACITY;

pub(crate) use caller::Exchange;
pub use caller::{ExchangeError, ExchangedToken};
pub(crate) use exchange::{TokenEndpoint, TokenExchange};
pub use issuer_discovery::{DiscoveredIssuer, IssuerDiscovery};
pub use jwks::{JwksCache, JwksSettings, StaticKeys};
pub(crate) use provider::ExchangeStyle;
pub(crate) use provider::Verification;
pub(crate) use resource::ResourceServer;
pub use resource_url::RESOURCE_METADATA_PATH;
pub(crate) use resource_url::ResourceUrl;
pub use verifier::{ClaimsHook, DEFAULT_MAX_TOKEN_BYTES, JwtVerifier, KeySource};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Why a bearer token was refused. The message is safe to show the client: it
/// never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No usable `Authorization: Bearer` header (RFC 6750 `invalid_request`,
    /// or no error code at all when the header is simply absent). The
    /// endpoint answers this itself, before any verifier runs, for an empty
    /// token (`Authorization: Bearer ` with nothing after it), another scheme,
    /// two headers, or a token in the URL; all are 401 like
    /// [`InvalidToken`](Self::InvalidToken).
    #[error("{0}")]
    InvalidRequest(String),
    /// The token is malformed, expired, or not for this server (`invalid_token`).
    #[error("{0}")]
    InvalidToken(String),
    /// The token could not be checked now (the provider's keys are unreachable
    /// and none are cached): 503, so clients retry instead of re-authenticating.
    #[error("{0}")]
    Unavailable(String),
}

/// The future a [`TokenVerifier`] returns.
pub type VerifyFuture<'a> = Pin<Box<dyn Future<Output = Result<Auth, AuthError>> + Send + 'a>>;

/// Turns a bearer token into the caller it stands for, or refuses it.
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verifies `token` (the part after `Bearer `).
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a>;

    /// Whether it can verify tokens now (what `/readyz` asks): a verifier
    /// that fetches keys has fetched them at least once. `Err` says what is
    /// missing. The default is ready.
    fn ready(&self) -> ReadyFuture<'_> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// What [`TokenVerifier::ready`] returns.
pub type ReadyFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

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
    /// A built-in provider configured from the environment when the server is built.
    FromEnv(BuiltinProvider),
    /// A provider whose configuration is incomplete: the server will not build.
    Invalid(String),
    /// Bearer tokens checked as this provider says; with `oauth = dev`, the
    /// development authorization server this server plays.
    Provider(Arc<Provider>, Option<Arc<DevIssuer>>),
}

/// A built-in identity provider, configured from the environment when the
/// server is built: what `#[mcp_server(oauth = auth0)]` names. The
/// `providers` module configures each of them in code instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuiltinProvider {
    /// Auth0.
    Auth0,
    /// WorkOS AuthKit.
    WorkOs,
    /// Supabase Auth.
    Supabase,
    /// Keycloak.
    Keycloak,
    /// Any OpenID provider, found from its issuer ([`Oidc`](crate::providers::Oidc)).
    Oidc,
    /// Okta ([`Okta`](crate::providers::Okta)).
    Okta,
    /// Microsoft Entra ID ([`EntraId`](crate::providers::EntraId)).
    Entra,
    /// AWS Cognito ([`Cognito`](crate::providers::Cognito)).
    Cognito,
    /// Zitadel ([`Zitadel`](crate::providers::Zitadel)).
    Zitadel,
    /// Clerk ([`Clerk`](crate::providers::Clerk)).
    Clerk,
    /// Descope ([`Descope`](crate::providers::Descope)).
    Descope,
    /// Better Auth ([`BetterAuth`](crate::providers::BetterAuth)).
    BetterAuth,
    /// Scalekit ([`Scalekit`](crate::providers::Scalekit)).
    Scalekit,
    /// Google ([`Google`](crate::providers::Google)).
    Google,
    /// GitHub ([`GitHub`](crate::providers::GitHub)).
    GitHub,
    /// The development authorization server ([`DevServer`]).
    Dev,
}

impl BuiltinProvider {
    /// The name `oauth = ...` gives it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auth0 => "auth0",
            Self::WorkOs => "workos",
            Self::Supabase => "supabase",
            Self::Keycloak => "keycloak",
            Self::Oidc => "oidc",
            Self::Okta => "okta",
            Self::Entra => "entra",
            Self::Cognito => "cognito",
            Self::Zitadel => "zitadel",
            Self::Clerk => "clerk",
            Self::Descope => "descope",
            Self::BetterAuth => "better_auth",
            Self::Scalekit => "scalekit",
            Self::Google => "google",
            Self::GitHub => "github",
            Self::Dev => "dev",
        }
    }
}

impl OAuth {
    /// No authentication. Tools that declare scopes, roles or permissions, or
    /// take `&Auth`, cannot be served this way.
    pub fn none() -> Self {
        Self::default()
    }

    /// Bearer tokens checked by your own verifier; discovery names no
    /// authorization server. Prefer [`CustomProvider`] to publish one.
    pub fn custom(verifier: impl TokenVerifier) -> Self {
        Self::from_provider(Provider::new(
            "custom",
            String::new(),
            Verification::Hook(Arc::new(verifier)),
        ))
    }

    /// A configured provider.
    pub fn from_provider(provider: Provider) -> Self {
        Self {
            kind: OAuthKind::Provider(Arc::new(provider), None),
        }
    }

    /// A provider, or the configuration error that keeps the server from building.
    pub fn from_result<E: std::fmt::Display>(provider: Result<Provider, E>) -> Self {
        match provider {
            Ok(provider) => Self::from_provider(provider),
            Err(why) => Self {
                kind: OAuthKind::Invalid(why.to_string()),
            },
        }
    }

    /// A built-in provider, configured from the environment when the server
    /// is built.
    pub fn from_env(provider: BuiltinProvider) -> Self {
        Self {
            kind: OAuthKind::FromEnv(provider),
        }
    }

    /// Whether requests are authenticated.
    pub fn is_enabled(&self) -> bool {
        !matches!(self.kind, OAuthKind::None)
    }
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            OAuthKind::None => f.write_str("OAuth::none()"),
            OAuthKind::FromEnv(provider) => write!(f, "OAuth::from_env({provider:?})"),
            OAuthKind::Invalid(why) => write!(f, "OAuth(invalid: {why})"),
            OAuthKind::Provider(p, _) => write!(f, "OAuth({p:?})"),
        }
    }
}

/// What `oauth = custom(<expr>)` accepts: a [`CustomProvider`], a built
/// [`Provider`], an [`OAuth`], or any [`TokenVerifier`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot configure OAuth",
    label = "`custom(...)` takes a `CustomProvider`, a `Provider`, or a value implementing `TokenVerifier`",
    note = "describe your provider with `CustomProvider::new(issuer).jwks_url(...)`, implement `mcp_runtime::auth::TokenVerifier`, or pick a built-in provider such as `oauth = auth0`"
)]
pub trait IntoOAuth {
    /// The setting.
    fn into_oauth(self) -> OAuth;
}

impl IntoOAuth for OAuth {
    fn into_oauth(self) -> OAuth {
        self
    }
}

impl IntoOAuth for Provider {
    fn into_oauth(self) -> OAuth {
        OAuth::from_provider(self)
    }
}

impl IntoOAuth for CustomProvider {
    fn into_oauth(self) -> OAuth {
        match self.build() {
            Ok(provider) => OAuth::from_provider(provider),
            Err(why) => OAuth {
                kind: OAuthKind::Invalid(why),
            },
        }
    }
}

impl<T: TokenVerifier> IntoOAuth for T {
    fn into_oauth(self) -> OAuth {
        OAuth::custom(self)
    }
}

impl From<CustomProvider> for OAuth {
    fn from(provider: CustomProvider) -> Self {
        provider.into_oauth()
    }
}

/// The redirects a fetch of a provider's keys or metadata follows: at most
/// three, and only within the origin asked for (same scheme, host and
/// port), so a redirect can neither take the fetch to another host nor
/// down from https to http.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().map(reqwest::Url::origin);
        if attempt.previous().len() > 3 || first != Some(attempt.url().origin()) {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// Whether `url`'s host is a loopback address or `localhost`.
pub(crate) fn is_loopback_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The client a provider's documents (metadata, keys) are fetched with:
/// `timeout` per fetch, redirects followed within their origin only.
pub(crate) fn document_client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(same_origin_redirects())
        .build()
        .unwrap_or_default()
}

/// Until a provider's document (its discovery document, its JWK set) has
/// been fetched once, how soon a failed fetch may be tried again: soon, but
/// never once per request while the provider is down.
pub(crate) const FIRST_FETCH_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a response may be kept, by its `Cache-Control`: its `max-age`,
/// or zero when it says `no-store` or `no-cache` (wherever in the list);
/// `None` when it says neither.
pub(crate) fn cache_max_age(headers: &reqwest::header::HeaderMap) -> Option<std::time::Duration> {
    // Read by hand: actix-web's `CacheControl` parses actix messages only,
    // and reqwest has no header types.
    let value = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    let directives = || value.split(',').map(str::trim);
    if directives()
        .any(|d| d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache"))
    {
        return Some(std::time::Duration::ZERO);
    }
    directives().find_map(|directive| {
        let (name, seconds) = directive.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| seconds.trim().trim_matches('"').parse().ok())
            .flatten()
            .map(std::time::Duration::from_secs)
    })
}

/// The client requests carrying a credential (a token, a client secret)
/// go out with: `timeout` per request, and no redirect, which would carry
/// the credential elsewhere.
pub(crate) fn credential_client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Whether a credential may be sent to `url`: https, or plain http to a
/// loopback host (a provider on this machine, in tests and development).
pub(crate) fn is_secure_url(url: &url::Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback_url(url))
}

/// A URL as it may be logged: without the user name, password and query
/// that some deployments put credentials in.
pub(crate) fn loggable_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => "<not a URL>".to_owned(),
    }
}

/// Why a bounded read of an upstream answer stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The body is longer than the limit (declared or as it came).
    TooLarge,
    /// The body could not be read; the reason, without the URL.
    Failed(String),
}

/// The body of an upstream answer (a JWK set, metadata, a token response),
/// refused as soon as it passes `max` bytes, declared or not: reqwest has no
/// bounded read of its own (`to_bytes_limited` reads actix bodies only), and
/// an endless body must cost no more than `max`.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    max: usize,
) -> Result<bytes::Bytes, ReadError> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ReadError::Failed(e.without_url().to_string()))?
    {
        if body.len() + chunk.len() > max {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
