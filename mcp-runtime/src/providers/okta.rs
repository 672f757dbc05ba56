//! Okta, a custom authorization server: issuer
//! `https://{domain}/oauth2/{authServerId}` (`default` unless named), keys
//! and endpoints from its discovery document, RS256. Its access tokens name
//! the server's audience (`api://default` for the default server) in `aud`,
//! the client in `cid`, the user's id in `uid` (`sub` is their login) and
//! scopes as the array `scp`; groups arrive in the claim the server is
//! configured to add (`groups` here unless named). Tokens of the org
//! authorization server (`https://{domain}`) are for Okta's own APIs, which
//! Okta says to treat as opaque: they are not accepted. Okta registers no
//! MCP client on its own, so sign-ins go through this server (proxy mode)
//! with the client registered for it.

use super::{Common, ConfigError, Var, common_settings, merge, strings, text};
use crate::auth::{ExchangeStyle, IntoOAuth, JwtVerifier, KeySource, Mode, OAuth, Provider};

const PREFIX: &str = "MCP_OAUTH_OKTA";
const CLIENT_ID: Var = Var::new("MCP_OAUTH_OKTA_CLIENT_ID", "0oa1b2c3d4");
const DOMAIN: Var = Var::new("MCP_OAUTH_OKTA_DOMAIN", "dev-123456.okta.com");
const AUTH_SERVER: Var = Var::new("MCP_OAUTH_OKTA_AUTH_SERVER", "default");
const AUDIENCE: Var = Var::new("MCP_OAUTH_OKTA_AUDIENCE", "api://default");
const GROUPS_CLAIM: Var = Var::new("MCP_OAUTH_OKTA_GROUPS_CLAIM", "groups");

/// Okta (a custom authorization server), in proxy mode.
///
/// ```
/// use mcp_runtime::providers::Okta;
/// let provider = Okta::new("dev-123456.okta.com")
///     .client("0oa1b2c3d4", Some("secret".to_owned()))
///     .build()
///     .expect("valid settings");
/// assert_eq!(provider.issuer(), "https://dev-123456.okta.com/oauth2/default");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Okta {
    domain: String,
    auth_server: String,
    audience: String,
    groups_claim: String,
    common: Common,
}

impl Okta {
    /// The org's domain (a bare host or URL), with the `default`
    /// authorization server and its audience `api://default`.
    pub fn new(domain: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            auth_server: AUTH_SERVER.example.to_owned(),
            audience: AUDIENCE.example.to_owned(),
            groups_claim: GROUPS_CLAIM.example.to_owned(),
            common: Common::default(),
        }
    }

    /// From `MCP_OAUTH_OKTA_DOMAIN` and `MCP_OAUTH_OKTA_CLIENT_ID`
    /// (required), and the optional `..._AUTH_SERVER`, `..._AUDIENCE`,
    /// `..._GROUPS_CLAIM`, `..._CLIENT_SECRET` and `..._SCOPES`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut okta = Self::new(DOMAIN.require()?);
        okta.common = Common::from_env(PREFIX);
        if let Some(server) = AUTH_SERVER.get() {
            okta.auth_server = server;
        }
        if let Some(audience) = AUDIENCE.get() {
            okta.audience = audience;
        }
        if let Some(claim) = GROUPS_CLAIM.get() {
            okta.groups_claim = claim;
        }
        Ok(okta)
    }

    /// The custom authorization server's id (default `default`).
    pub fn auth_server(mut self, id: impl Into<String>) -> Self {
        self.auth_server = id.into();
        self
    }

    /// The audience the authorization server issues tokens for (default
    /// `api://default`).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The claim the authorization server puts the user's groups in
    /// (default `groups`); they become the caller's roles.
    pub fn groups_claim(mut self, claim: impl Into<String>) -> Self {
        self.groups_claim = claim.into();
        self
    }

    common_settings!();

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let org = text(&DOMAIN.url_from(&self.domain)?);
        let server = self.auth_server.trim();
        if server.is_empty() || server.contains('/') {
            return Err(AUTH_SERVER.invalid("must be an authorization server id"));
        }
        let issuer = format!("{org}/oauth2/{server}");
        let discovery = super::discovery(&issuer);
        // Every application of the authorization server shares its
        // audience: Okta says to check the client (`cid`) as well.
        let client = self.common.required_client(
            CLIENT_ID,
            "must name this server's application (its tokens are checked to come from it)",
        )?;
        let groups = self.groups_claim;
        let verifier = JwtVerifier::new(&issuer, KeySource::Discovered(discovery.clone()))
            .audiences([self.audience])
            .require_claim("cid", client.clone())
            .claims_hook(move |auth| {
                auth.client_id = Some(client.clone());
                merge(&mut auth.user.roles, strings(auth.payload.get(&groups)));
                // `sub` is the login, which can change; `uid` the user's id.
                if let Some(uid) = auth.payload.get("uid").and_then(|v| v.as_str()) {
                    let login = std::mem::replace(&mut auth.user.user_id, uid.to_owned());
                    auth.user.username.get_or_insert(login);
                }
            });
        self.common.provider(
            "okta",
            &issuer,
            discovery,
            verifier,
            Mode::Proxy,
            Some(ExchangeStyle::Rfc8693),
        )
    }
}

impl IntoOAuth for Okta {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}
