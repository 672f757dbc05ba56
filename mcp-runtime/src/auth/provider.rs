//! An identity provider as the server sees it: how tokens are verified and
//! what discovery metadata says about it. Built-in providers and
//! [`CustomProvider`] all produce one of these.

use super::jwks::{JwksCache, JwksSettings};
use super::verifier::{ClaimsHook, JwtVerifier, KeySource};
use super::{Algorithm, Auth, TokenVerifier};
use std::sync::Arc;

/// How a provider's tokens are checked.
#[derive(Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per provider, made once at start"
)]
pub(crate) enum Verification {
    /// JWTs, by the shared verifier. Without an audience, the server's own
    /// canonical URL is the audience (RFC 8707).
    Jwt(JwtVerifier),
    /// The user's own check (e.g. RFC 7662 introspection of opaque tokens).
    Hook(Arc<dyn TokenVerifier>),
}

/// How a provider exchanges tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExchangeStyle {
    /// RFC 8693 (`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`):
    /// Keycloak's standard token exchange, Okta, Zitadel, Descope, any
    /// OpenID provider that offers it.
    Rfc8693,
    /// Microsoft Entra's on-behalf-of flow (`jwt-bearer` with
    /// `requested_token_use=on_behalf_of`).
    EntraOnBehalfOf,
}

/// How MCP clients reach the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Clients register with and sign in at the provider itself (it supports
    /// dynamic client registration or client ID metadata documents); this
    /// server only points at it and verifies its tokens.
    Direct,
    /// This server is the authorization server clients see: it hands out the
    /// pre-registered client id, forwards `/authorize` and `/token` to the
    /// provider, and checks redirects, PKCE and state itself.
    Proxy,
}

/// A client secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A configured identity provider.
#[derive(Clone)]
pub struct Provider {
    pub(crate) name: String,
    pub(crate) verification: Verification,
    pub(crate) issuer: String,
    pub(crate) scopes_supported: Vec<String>,
    pub(crate) authorization_endpoint: Option<String>,
    pub(crate) token_endpoint: Option<String>,
    pub(crate) grant_types_supported: Vec<String>,
    pub(crate) mode: Mode,
    /// Where the provider publishes its authorization server metadata.
    pub(crate) metadata_url: Option<String>,
    /// The pre-registered client (proxy mode).
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    /// Parameters added to every forwarded `/authorize` (e.g. Auth0's `audience`).
    pub(crate) authorize_params: Vec<(String, String)>,
    /// The provider's discovery document, when its endpoints are found
    /// there rather than configured.
    pub(crate) discovery: Option<Arc<super::IssuerDiscovery>>,
    /// The authorization server clients are sent to in direct mode, when
    /// it is not the issuer (Scalekit's per-resource one).
    pub(crate) authorization_server: Option<String>,
    /// How the provider exchanges tokens for downstream APIs, if it does.
    pub(crate) exchange: Option<ExchangeStyle>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// A provider called `name` whose tokens `issuer` signs, checked by `verification`.
    pub(crate) fn new(name: &str, issuer: impl Into<String>, verification: Verification) -> Self {
        Self {
            name: name.to_owned(),
            verification,
            issuer: issuer.into(),
            scopes_supported: Vec::new(),
            authorization_endpoint: None,
            token_endpoint: None,
            grant_types_supported: Vec::new(),
            mode: Mode::Direct,
            metadata_url: None,
            client_id: None,
            client_secret: None,
            authorize_params: Vec::new(),
            discovery: None,
            authorization_server: None,
            exchange: None,
        }
    }

    /// How clients reach the provider.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The pre-registered client id, if any.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The provider's name, for logs (`auth0`, `custom`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The issuer, published as the authorization server.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Scopes the provider can grant.
    pub fn scopes_supported(&self) -> &[String] {
        &self.scopes_supported
    }

    /// The provider's authorization endpoint, if configured.
    pub fn authorization_endpoint(&self) -> Option<&str> {
        self.authorization_endpoint.as_deref()
    }

    /// The provider's token endpoint, if configured.
    pub fn token_endpoint(&self) -> Option<&str> {
        self.token_endpoint.as_deref()
    }

    /// Grant types the provider supports.
    pub fn grant_types_supported(&self) -> &[String] {
        &self.grant_types_supported
    }

    /// Whether signatures are checked (the development switch turns this off).
    pub fn checks_signatures(&self) -> bool {
        match &self.verification {
            Verification::Jwt(v) => v.checks_signatures(),
            Verification::Hook(_) => true,
        }
    }
}

/// A provider described field by field: any OAuth 2.1 / OpenID provider.
///
/// ```
/// use mcp_runtime::auth::{CustomProvider, OAuth};
/// let oauth: OAuth = CustomProvider::new("https://id.example.com")
///     .jwks_url("https://id.example.com/.well-known/jwks.json")
///     .scopes_supported(["tasks:read", "tasks:write"])
///     .into();
/// assert!(oauth.is_enabled());
/// ```
#[derive(Clone)]
#[must_use]
pub struct CustomProvider {
    issuer: String,
    jwks_url: Option<String>,
    jwks_settings: JwksSettings,
    shared_secret: Option<Vec<u8>>,
    audiences: Vec<String>,
    algorithms: Option<Vec<Algorithm>>,
    scopes_supported: Vec<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    grant_types_supported: Vec<String>,
    verify_hook: Option<Arc<dyn TokenVerifier>>,
    user_hook: Option<ClaimsHook>,
    verify_jwt: bool,
    mode: Option<Mode>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    authorize_params: Vec<(String, String)>,
}

impl CustomProvider {
    /// A provider whose tokens name `issuer` in `iss`.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            jwks_url: None,
            jwks_settings: JwksSettings::default(),
            shared_secret: None,
            audiences: Vec::new(),
            algorithms: None,
            scopes_supported: Vec::new(),
            authorization_endpoint: None,
            token_endpoint: None,
            grant_types_supported: Vec::new(),
            verify_hook: None,
            user_hook: None,
            verify_jwt: true,
            mode: None,
            client_id: None,
            client_secret: None,
            authorize_params: Vec::new(),
        }
    }

    /// Where the signing keys are published.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// How the JWK set is cached and refetched.
    pub fn jwks_settings(mut self, settings: JwksSettings) -> Self {
        self.jwks_settings = settings;
        self
    }

    /// Verify HS256 tokens with a secret shared with the issuer, instead of a
    /// JWK set. It must be at least 32 bytes (RFC 7518 §3.2); `build` refuses
    /// a shorter one.
    pub fn shared_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.shared_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// Accept tokens whose `aud` names one of these (default: this server's URL).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The signing algorithms accepted (default RS256 and ES256; HS256 with a shared secret).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// Scopes the provider can grant, published in the discovery metadata.
    pub fn scopes_supported<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The provider's authorization endpoint.
    pub fn authorization_endpoint(mut self, url: impl Into<String>) -> Self {
        self.authorization_endpoint = Some(url.into());
        self
    }

    /// The provider's token endpoint.
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }

    /// Grant types the provider supports.
    pub fn grant_types_supported<S: Into<String>>(
        mut self,
        grants: impl IntoIterator<Item = S>,
    ) -> Self {
        self.grant_types_supported = grants.into_iter().map(Into::into).collect();
        self
    }

    /// Checks tokens with your own verifier instead of as JWTs, e.g. RFC 7662
    /// introspection of opaque tokens.
    pub fn verify_with(mut self, verifier: impl TokenVerifier) -> Self {
        self.verify_hook = Some(Arc::new(verifier));
        self
    }

    /// Adjusts the caller after the default claim mapping (roles, permissions, profile).
    pub fn map_user(mut self, hook: impl Fn(&mut Auth) + Send + Sync + 'static) -> Self {
        self.user_hook = Some(Arc::new(hook));
        self
    }

    /// The confidential client registered for this server at the provider.
    /// It turns on [`Mode::Proxy`] (unless [`mode`](Self::mode) says
    /// otherwise): MCP clients then register and sign in through this server,
    /// which hands out `id` (never the secret) and adds the secret itself when
    /// it forwards code exchanges. Register
    /// `{public URL origin}`[`/oauth/callback`](crate::auth::PROXY_CALLBACK_PATH)
    /// as the client's redirect URI at the provider, and set
    /// [`authorization_endpoint`](Self::authorization_endpoint) and
    /// [`token_endpoint`](Self::token_endpoint).
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self.client_secret = Some(Secret::new(secret));
        self
    }

    /// Like [`client`](Self::client), for a public client registered without
    /// a secret: code exchanges carry only its id (and the caller's PKCE verifier).
    pub fn public_client(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self.client_secret = None;
        self
    }

    /// How MCP clients reach the provider. Default: [`Mode::Proxy`] when a
    /// [`client`](Self::client) is configured, else [`Mode::Direct`].
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// A parameter added to every authorization request forwarded to the
    /// provider in proxy mode, e.g. `("audience", "https://api.example.com")`.
    pub fn authorize_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.authorize_params.push((name.into(), value.into()));
        self
    }

    /// Development only: `false` accepts JWTs without checking their
    /// signature. Logged loudly, and refused unless the server is bound to loopback.
    pub fn verify_jwt(mut self, verify: bool) -> Self {
        self.verify_jwt = verify;
        self
    }

    /// The provider, or what is missing from its configuration.
    pub fn build(self) -> Result<Provider, String> {
        let verification = match (self.verify_hook, self.jwks_url, self.shared_secret) {
            (Some(hook), _, _) => Verification::Hook(hook),
            (None, Some(url), None) => Verification::Jwt(JwtVerifier::new(
                &self.issuer,
                KeySource::Jwks(Arc::new(JwksCache::new(url, self.jwks_settings))),
            )),
            (None, None, Some(secret)) => {
                check_hmac_secret(secret.len()).map_err(|why| format!("custom provider: {why}"))?;
                Verification::Jwt(JwtVerifier::new(
                    &self.issuer,
                    KeySource::shared_secret(secret),
                ))
            }
            (None, Some(_), Some(_)) => {
                return Err(
                    "custom provider: set either `jwks_url` or `shared_secret`, not both".into(),
                );
            }
            (None, None, None) => {
                return Err(
                    "custom provider: set `jwks_url(\"https://id.example.com/.well-known/jwks.json\")`, \
                     `shared_secret(...)` or `verify_with(...)`"
                        .into(),
                );
            }
        };
        let verification = match verification {
            Verification::Jwt(mut jwt) => {
                if !self.audiences.is_empty() {
                    jwt = jwt.audiences(self.audiences);
                }
                if let Some(algorithms) = self.algorithms {
                    jwt = jwt.algorithms(algorithms);
                }
                if let Some(hook) = self.user_hook {
                    jwt = jwt.claims_hook(move |auth| hook(auth));
                }
                if !self.verify_jwt {
                    jwt = jwt.skip_signature_check();
                }
                Verification::Jwt(jwt)
            }
            hook => hook,
        };
        let mode = self.mode.unwrap_or(if self.client_id.is_some() {
            Mode::Proxy
        } else {
            Mode::Direct
        });
        if mode == Mode::Proxy {
            let missing = [
                (self.client_id.is_none(), "`client(\"id\", \"secret\")`"),
                (
                    self.authorization_endpoint.is_none(),
                    "`authorization_endpoint(\"https://id.example.com/authorize\")`",
                ),
                (
                    self.token_endpoint.is_none(),
                    "`token_endpoint(\"https://id.example.com/oauth/token\")`",
                ),
            ];
            let missing: Vec<&str> = missing
                .iter()
                .filter(|(absent, _)| *absent)
                .map(|(_, what)| *what)
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "custom provider in proxy mode: set {}",
                    missing.join(", ")
                ));
            }
        }
        let mut provider = Provider::new("custom", self.issuer, verification);
        provider.scopes_supported = self.scopes_supported;
        provider.authorization_endpoint = self.authorization_endpoint;
        provider.token_endpoint = self.token_endpoint;
        provider.grant_types_supported = self.grant_types_supported;
        provider.mode = mode;
        provider.client_id = self.client_id;
        provider.client_secret = self.client_secret;
        provider.authorize_params = self.authorize_params;
        Ok(provider)
    }
}

/// Shortest HS256 secret accepted: RFC 7518 §3.2 requires a key at least as
/// long as the hash, 256 bits; a shorter one can be guessed offline from
/// any token it signed.
pub(crate) const MIN_HMAC_SECRET_BYTES: usize = 32;

/// Refuses an HS256 secret shorter than [`MIN_HMAC_SECRET_BYTES`], saying why
/// without showing it.
pub(crate) fn check_hmac_secret(len: usize) -> Result<(), String> {
    if len < MIN_HMAC_SECRET_BYTES {
        return Err(format!(
            "the shared secret is {len} bytes; HS256 needs at least {MIN_HMAC_SECRET_BYTES} \
             (RFC 7518 §3.2): use the full secret your provider shows"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Supabase;

    /// A secret shorter than the hash can be guessed offline from any token
    /// it signed: refused at build, by every provider that takes one.
    #[test]
    fn short_hmac_secrets_are_refused() {
        let custom = |secret: &str| {
            CustomProvider::new("https://id.example.com")
                .shared_secret(secret)
                .build()
        };
        for short in ["", "s3cret", &"x".repeat(31)] {
            let refused = custom(short).unwrap_err();
            assert!(refused.contains("needs at least 32"), "{refused}");
            assert!(short.is_empty() || !refused.contains(short), "{refused}");
        }
        assert!(custom(&"x".repeat(32)).is_ok());
        let supabase = |secret: &str| {
            Supabase::url("https://abc.supabase.co")
                .jwt_secret(secret)
                .build()
        };
        let refused = supabase("too-short").unwrap_err().to_string();
        assert!(
            refused.contains("MCP_USE_OAUTH_SUPABASE_JWT_SECRET")
                && refused.contains("at least 32"),
            "{refused}"
        );
        assert!(supabase(&"y".repeat(40)).is_ok());
    }
}
