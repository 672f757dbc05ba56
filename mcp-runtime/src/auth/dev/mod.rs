//! `oauth = dev`: the server is its own authorization server, for local
//! development and tests.
//!
//! A signing key made at start (or kept in a file so tokens survive
//! restarts), issuer = the server's origin, RFC 8414 / OpenID discovery, a
//! JWKS, dynamic client registration, `/authorize` with PKCE S256 and exact
//! redirect-URI matching behind a consent page, and `/token` for
//! `authorization_code`, `refresh_token` (rotated) and `client_credentials`.
//! Its tokens are checked by the same verifier as every other provider's.
//!
//! It refuses to start on a non-loopback address unless
//! `MCP_DEV_OAUTH_ALLOW_NON_LOOPBACK=i-understand-this-is-insecure` is set.
//!
//! The registration, consent and authorization-request checks are the proxy
//! mode's (`auth/proxy`): the dev server is a proxy whose "provider" issues
//! codes itself.

mod banner;
mod grants;
mod token;

pub(crate) use grants::Grants;
pub(crate) use token::TokenError;

use super::provider::{Mode, Provider, Secret, Verification};
use super::resource_url::ResourceUrl;
use super::signing::SigningKey;
use super::verifier::{JwtVerifier, KeySource};
use super::{OAuthKind, StaticKeys};
use arc_swap::ArcSwapOption;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The value of `MCP_DEV_OAUTH_ALLOW_NON_LOOPBACK` that lets the development
/// authorization server run on a non-loopback address.
pub const DEV_ALLOW_NON_LOOPBACK_VALUE: &str = "i-understand-this-is-insecure";
/// Where the dev server's JWK set is served.
pub const DEV_JWKS_PATH: &str = "/jwks";

const ENV_KEY_FILE: &str = "MCP_DEV_OAUTH_KEY_FILE";
const ENV_AUTO_APPROVE: &str = "MCP_DEV_OAUTH_AUTO_APPROVE";
const ENV_CLIENT_ID: &str = "MCP_DEV_OAUTH_CLIENT_ID";
const ENV_CLIENT_SECRET: &str = "MCP_DEV_OAUTH_CLIENT_SECRET";
const ENV_CLIENT_SCOPES: &str = "MCP_DEV_OAUTH_CLIENT_SCOPES";
const ENV_ALLOW_NON_LOOPBACK: &str = "MCP_DEV_OAUTH_ALLOW_NON_LOOPBACK";
const ENV_ACCESS_TTL: &str = "MCP_DEV_OAUTH_ACCESS_TOKEN_TTL";
const ENV_REFRESH_TTL: &str = "MCP_DEV_OAUTH_REFRESH_TOKEN_TTL";

/// The fixed user of the authorization-code flow.
pub const DEV_USER: &str = "dev-user";

/// A `client_credentials` client of the dev server.
#[derive(Debug, Clone)]
pub(crate) struct DevClient {
    pub(crate) id: String,
    pub(crate) secret: Secret,
    /// Scopes it may get; empty: every supported scope.
    pub(crate) scopes: Vec<String>,
}

/// Settings of the development authorization server (`oauth = dev`).
///
/// ```
/// use mcp_runtime::auth::{DevServer, OAuth};
/// use std::time::Duration;
/// let oauth: OAuth = DevServer::new()
///     .auto_approve(true)
///     .scopes_supported(["tasks:read"])
///     .access_token_ttl(Duration::from_secs(600))
///     .client("ci", "ci-secret", ["tasks:read"])
///     .into();
/// assert!(oauth.is_enabled());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct DevServer {
    key_file: Option<PathBuf>,
    auto_approve: bool,
    scopes: Vec<String>,
    access_ttl: Duration,
    code_ttl: Duration,
    refresh_ttl: Duration,
    clients: Vec<DevClient>,
    allow_non_loopback: bool,
}

impl Default for DevServer {
    fn default() -> Self {
        Self::new()
    }
}

impl DevServer {
    /// Defaults: a fresh key per start, a consent page, 1 h access tokens,
    /// 60 s codes, 30-day refresh tokens, no `client_credentials` client.
    pub fn new() -> Self {
        Self {
            key_file: None,
            auto_approve: false,
            scopes: Vec::new(),
            access_ttl: Duration::from_secs(3600),
            code_ttl: Duration::from_secs(60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            clients: Vec::new(),
            allow_non_loopback: false,
        }
    }

    /// Settings from the environment: `MCP_DEV_OAUTH_KEY_FILE`,
    /// `MCP_DEV_OAUTH_AUTO_APPROVE=1`, `MCP_DEV_OAUTH_CLIENT_ID` +
    /// `MCP_DEV_OAUTH_CLIENT_SECRET` (+ `MCP_DEV_OAUTH_CLIENT_SCOPES`),
    /// `MCP_DEV_OAUTH_ALLOW_NON_LOOPBACK`, and the lifetimes of access and
    /// refresh tokens in seconds, `MCP_DEV_OAUTH_ACCESS_TOKEN_TTL` and
    /// `MCP_DEV_OAUTH_REFRESH_TOKEN_TTL`.
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self::from_vars(var)
    }

    /// [`from_env`](Self::from_env), reading variables through `var`.
    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let seconds = |name: &str| -> Result<Option<Duration>, String> {
            var(name)
                .map(|value| match value.trim().parse::<u64>() {
                    Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
                    _ => Err(format!("{name} must be a number of seconds above 0")),
                })
                .transpose()
        };
        let mut dev = Self::new();
        if let Some(ttl) = seconds(ENV_ACCESS_TTL)? {
            dev.access_ttl = ttl;
        }
        if let Some(ttl) = seconds(ENV_REFRESH_TTL)? {
            dev.refresh_ttl = ttl;
        }
        if let Some(path) = var(ENV_KEY_FILE) {
            dev = dev.key_file(path);
        }
        if let Some(value) = var(ENV_AUTO_APPROVE) {
            dev.auto_approve = match value.trim() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => return Err(format!("{ENV_AUTO_APPROVE} must be 1 or 0")),
            };
        }
        match (var(ENV_CLIENT_ID), var(ENV_CLIENT_SECRET)) {
            (Some(id), Some(secret)) => {
                let scopes = var(ENV_CLIENT_SCOPES).unwrap_or_default();
                dev = dev.client(id, secret, scopes.split_whitespace());
            }
            (None, None) => {}
            _ => {
                return Err(format!(
                    "set both {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}, or neither"
                ));
            }
        }
        if let Some(value) = var(ENV_ALLOW_NON_LOOPBACK) {
            if value != DEV_ALLOW_NON_LOOPBACK_VALUE {
                return Err(format!(
                    "{ENV_ALLOW_NON_LOOPBACK} must be `{DEV_ALLOW_NON_LOOPBACK_VALUE}` to serve \
                     the development authorization server off loopback"
                ));
            }
            dev.allow_non_loopback = true;
        }
        Ok(dev)
    }

    /// Keeps the signing key in this PKCS#8 PEM file (made on first start,
    /// mode 0600), so issued tokens survive restarts.
    pub fn key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.key_file = Some(path.into());
        self
    }

    /// Skips the consent page (for tests and CI): every valid authorization
    /// request gets a code at once.
    pub fn auto_approve(mut self, auto: bool) -> Self {
        self.auto_approve = auto;
        self
    }

    /// Scopes it grants besides those the tools declare.
    pub fn scopes_supported<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Lifetime of access tokens (default 1 h).
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// Lifetime of authorization codes (default 60 s).
    pub fn code_ttl(mut self, ttl: Duration) -> Self {
        self.code_ttl = ttl;
        self
    }

    /// Lifetime of refresh tokens (default 30 days).
    pub fn refresh_token_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// A confidential client for the `client_credentials` grant, limited to
    /// `scopes` (none: every supported scope).
    pub fn client<S: Into<String>>(
        mut self,
        id: impl Into<String>,
        secret: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.clients.push(DevClient {
            id: id.into(),
            secret: Secret::new(secret),
            scopes: scopes.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// **Insecure**: lets the server run on a non-loopback address, where
    /// anyone who reaches it can get tokens. Prefer the environment variable
    /// `MCP_DEV_OAUTH_ALLOW_NON_LOOPBACK=i-understand-this-is-insecure`.
    pub fn allow_non_loopback_i_understand_this_is_insecure(mut self) -> Self {
        self.allow_non_loopback = true;
        self
    }

    /// The provider and the authorization server it plays, or why the key
    /// could not be made or loaded.
    pub(crate) fn build(self) -> Result<(Provider, Arc<DevIssuer>), String> {
        let key = match &self.key_file {
            Some(path) => SigningKey::load_or_create(path)?,
            None => SigningKey::generate()?,
        };
        if self.clients.iter().any(|c| c.id.trim().is_empty()) {
            return Err("dev server: a client id must not be empty".into());
        }
        if self.clients.iter().any(|c| c.secret.expose().len() < 8) {
            return Err("dev server: a client secret must be at least 8 characters".into());
        }
        let keys = StaticKeys::from_jwk_set(&key.jwk_set())?;
        // Issuer and audience are set once the server knows its URL.
        let verifier = JwtVerifier::new("", KeySource::Static(Arc::new(keys)));
        let mut provider = Provider::new("dev", String::new(), Verification::Jwt(verifier));
        provider.scopes_supported = self.scopes.clone();
        provider.mode = Mode::Proxy;
        let issuer = Arc::new(DevIssuer {
            key,
            settings: self,
            grants: Grants::default(),
            bound: ArcSwapOption::empty(),
        });
        Ok((provider, issuer))
    }
}

impl super::IntoOAuth for DevServer {
    fn into_oauth(self) -> super::OAuth {
        let kind = match self.build() {
            Ok((provider, issuer)) => OAuthKind::Provider(Arc::new(provider), Some(issuer)),
            Err(why) => OAuthKind::Invalid(why),
        };
        super::OAuth { kind }
    }
}

impl From<DevServer> for super::OAuth {
    fn from(dev: DevServer) -> Self {
        super::IntoOAuth::into_oauth(dev)
    }
}

/// Where the dev server was bound: its issuer and the MCP endpoint URL.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub(crate) issuer: String,
    pub(crate) resource: String,
    pub(crate) scopes: Vec<String>,
    /// Whether it serves on loopback only.
    pub(crate) loopback: bool,
}

/// The running dev authorization server's key, settings and grants.
/// Dev mode is one process: its key and grants live in memory, never in the
/// shared state (its registrations and sign-in states are the proxy's).
pub(crate) struct DevIssuer {
    pub(crate) key: SigningKey,
    pub(crate) settings: DevServer,
    pub(crate) grants: Grants,
    bound: ArcSwapOption<Bound>,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("kid", &self.key.kid())
            .finish_non_exhaustive()
    }
}

impl DevIssuer {
    /// Whether the sign-in needs the user's consent.
    pub(crate) fn consent(&self) -> bool {
        !self.settings.auto_approve
    }

    /// The provider to serve at `url`, once the loopback rule is checked:
    /// issuer = the URL's origin, audience = the MCP endpoint URL.
    /// Whether the operator allowed it off loopback (loudly, by setting or
    /// by `MCP_DEV_OAUTH_ALLOW_NON_LOOPBACK`).
    pub(crate) fn allows_non_loopback(&self) -> bool {
        self.settings.allow_non_loopback
            || std::env::var(ENV_ALLOW_NON_LOOPBACK).as_deref() == Ok(DEV_ALLOW_NON_LOOPBACK_VALUE)
    }

    pub(crate) fn provider_at(
        self: &Arc<Self>,
        provider: &Provider,
        url: &ResourceUrl,
        loopback: bool,
        tool_scopes: &[String],
    ) -> Result<Provider, String> {
        if !loopback {
            if !self.allows_non_loopback() {
                return Err(format!(
                    "the development authorization server (`oauth = dev`) issues tokens to \
                     anyone who asks: it runs only on a loopback address; bind 127.0.0.1, or \
                     set {ENV_ALLOW_NON_LOOPBACK}={DEV_ALLOW_NON_LOOPBACK_VALUE}"
                ));
            }
            tracing::warn!(
                "!!! the development authorization server is reachable off loopback \
                 ({ENV_ALLOW_NON_LOOPBACK}): anyone who reaches it can get tokens !!!"
            );
        }
        let issuer = url::Url::parse(&url.endpoint)
            .map_err(|e| format!("dev server: `{}` is not a URL ({e})", url.endpoint))?
            .origin()
            .ascii_serialization();
        let keys = StaticKeys::from_jwk_set(&self.key.jwk_set())?;
        let verifier = JwtVerifier::new(&issuer, KeySource::Static(Arc::new(keys)))
            .audiences([url.endpoint.clone()]);
        let mut served = provider.clone();
        served.issuer = issuer.clone();
        served.verification = Verification::Jwt(verifier);
        let mut scopes: Vec<String> = Vec::new();
        for scope in tool_scopes.iter().chain(&self.settings.scopes) {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        tracing::warn!(
            issuer = %issuer,
            "DEVELOPMENT authorization server (`oauth = dev`): tokens are issued to anyone who \
             can reach this server; never deploy it"
        );
        self.bound.store(Some(Arc::new(Bound {
            issuer,
            resource: url.endpoint.clone(),
            scopes,
            loopback,
        })));
        Ok(served)
    }

    /// Where the server was bound, once it is.
    pub(crate) fn bound(&self) -> Option<Arc<Bound>> {
        self.bound.load_full()
    }

    /// An access token for [`DEV_USER`] with `scopes` (unsupported ones
    /// dropped), or why none can be made yet.
    pub(crate) fn mint(&self, scopes: &[String]) -> Result<String, String> {
        let bound = self
            .bound()
            .ok_or("the server is not bound yet: mint dev tokens after `bind`")?;
        let granted: Vec<String> = scopes
            .iter()
            .filter(|s| bound.scopes.contains(s))
            .cloned()
            .collect();
        self.access_token(&bound, DEV_USER, "dev-cli", &granted.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lifetimes_come_from_the_environment_in_seconds() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let dev =
            DevServer::from_vars(vars(&[(ENV_ACCESS_TTL, "120"), (ENV_REFRESH_TTL, " 600 ")]))
                .unwrap();
        assert_eq!(dev.access_ttl, Duration::from_secs(120));
        assert_eq!(dev.refresh_ttl, Duration::from_secs(600));
        let defaults = DevServer::from_vars(vars(&[])).unwrap();
        assert_eq!(defaults.access_ttl, Duration::from_secs(3600));
        for bad in ["0", "-5", "1h", "9999999999999999999999"] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(Box::new([(ENV_ACCESS_TTL, bad)]));
            let error = DevServer::from_vars(vars(pairs)).unwrap_err();
            assert!(error.contains(ENV_ACCESS_TTL), "{bad}: {error}");
        }
    }
}
