//! Auth0: tokens for an API (its identifier is the audience), signed RS256
//! with keys at `https://{domain}/.well-known/jwks.json`.

use super::{ConfigError, Var, merge, strings, text};
use crate::auth::{
    Algorithm, IntoOAuth, JwtVerifier, KeySource, Mode, OAuth, Provider, Secret, Verification,
};

const DOMAIN: Var = Var::new("MCP_USE_OAUTH_AUTH0_DOMAIN", "your-tenant.us.auth0.com");
const AUDIENCE: Var = Var::new("MCP_USE_OAUTH_AUTH0_AUDIENCE", "https://api.example.com");
const CLIENT_ID: Var = Var::new("MCP_USE_OAUTH_AUTH0_CLIENT_ID", "abc123XYZ");
const CLIENT_SECRET: Var = Var::new(
    "MCP_USE_OAUTH_AUTH0_CLIENT_SECRET",
    "<the application's client secret>",
);
const ROLES_CLAIM: Var = Var::new(
    "MCP_USE_OAUTH_AUTH0_ROLES_CLAIM",
    "https://example.com/roles",
);

/// Auth0. Direct mode (clients register with Auth0's dynamic client
/// registration) unless an application's client id is configured, which
/// makes this server proxy `/authorize` and `/token` for it.
///
/// ```
/// use mcp_runtime::providers::Auth0;
/// let provider = Auth0::new("your-tenant.us.auth0.com", "https://api.example.com")
///     .roles_claim("https://example.com/roles")
///     .build()
///     .expect("valid settings");
/// assert_eq!(provider.issuer(), "https://your-tenant.us.auth0.com/");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Auth0 {
    domain: String,
    audience: String,
    roles_claim: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    scopes: Vec<String>,
    mode: Option<Mode>,
}

impl Auth0 {
    /// The tenant's domain (a bare host or URL) and the API identifier tokens are issued for.
    pub fn new(domain: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            audience: audience.into(),
            roles_claim: None,
            client_id: None,
            client_secret: None,
            scopes: Vec::new(),
            mode: None,
        }
    }

    /// From `MCP_USE_OAUTH_AUTH0_DOMAIN` and `MCP_USE_OAUTH_AUTH0_AUDIENCE`
    /// (required), and the optional `..._CLIENT_ID`, `..._CLIENT_SECRET` and `..._ROLES_CLAIM`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut auth0 = Self::new(DOMAIN.require()?, AUDIENCE.require()?);
        auth0.roles_claim = ROLES_CLAIM.get();
        auth0.client_id = CLIENT_ID.get();
        auth0.client_secret = CLIENT_SECRET.get().map(Secret::new);
        Ok(auth0)
    }

    /// The namespaced claim an Auth0 Action puts roles in.
    pub fn roles_claim(mut self, claim: impl Into<String>) -> Self {
        self.roles_claim = Some(claim.into());
        self
    }

    /// The Auth0 application this server signs clients in with (proxy mode).
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self.client_secret = Some(Secret::new(secret));
        self
    }

    /// Scopes the API defines, published in the discovery metadata.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Overrides the mode (default: proxy with a client id, else direct).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let base = DOMAIN.url_from(&self.domain)?;
        let base = text(&base);
        if self.audience.trim().is_empty() {
            return Err(ConfigError::new(format!(
                "Auth0 needs the API identifier as audience; set it like {}={}",
                AUDIENCE.name, AUDIENCE.example
            )));
        }
        // Auth0's issuer is the tenant URL with a trailing slash.
        let issuer = format!("{base}/");
        let roles_claim = self.roles_claim.clone();
        let verifier = JwtVerifier::new(
            &issuer,
            KeySource::jwks(format!("{base}/.well-known/jwks.json")),
        )
        .algorithms([Algorithm::RS256])
        .audiences([self.audience.clone()])
        .claims_hook(move |auth| {
            if let Some(claim) = &roles_claim {
                let roles = strings(auth.payload.get(claim));
                merge(&mut auth.user.roles, roles);
            }
        });
        let mut provider = Provider::new("auth0", issuer, Verification::Jwt(verifier));
        provider.authorization_endpoint = Some(format!("{base}/authorize"));
        provider.token_endpoint = Some(format!("{base}/oauth/token"));
        provider.metadata_url = Some(format!("{base}/.well-known/openid-configuration"));
        provider.scopes_supported = self.scopes;
        provider.authorize_params = vec![("audience".into(), self.audience)];
        provider.mode = self.mode.unwrap_or(if self.client_id.is_some() {
            Mode::Proxy
        } else {
            Mode::Direct
        });
        provider.client_id = self.client_id;
        provider.client_secret = self.client_secret;
        Ok(provider)
    }
}

impl IntoOAuth for Auth0 {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}
