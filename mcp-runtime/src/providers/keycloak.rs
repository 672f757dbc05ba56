//! Keycloak: issuer `{server}/realms/{realm}`, keys at
//! `/protocol/openid-connect/certs`, roles in `realm_access.roles` and client
//! roles in `resource_access.{client}.roles`.

use super::{ConfigError, Var, merge, strings, text};
use crate::auth::{IntoOAuth, JwtVerifier, KeySource, Mode, OAuth, Provider, Secret, Verification};

const SERVER_URL: Var = Var::new(
    "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL",
    "https://keycloak.example.com",
);
const REALM: Var = Var::new("MCP_USE_OAUTH_KEYCLOAK_REALM", "my-realm");
const CLIENT_ID: Var = Var::new("MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID", "mcp-server");
const CLIENT_SECRET: Var = Var::new(
    "MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET",
    "<the client's secret>",
);
const AUDIENCE: Var = Var::new("MCP_USE_OAUTH_KEYCLOAK_AUDIENCE", "mcp-server");

/// Keycloak. Proxy mode by default: clients sign in through this server with
/// the configured client. Keycloak puts a client in `aud` only with an
/// audience mapper; configure one (or set the audience to what your tokens carry).
///
/// ```
/// use mcp_runtime::providers::Keycloak;
/// let provider = Keycloak::new("https://keycloak.example.com", "acme", "mcp-server")
///     .build()
///     .expect("valid settings");
/// assert_eq!(provider.issuer(), "https://keycloak.example.com/realms/acme");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Keycloak {
    server_url: String,
    realm: String,
    client_id: String,
    client_secret: Option<Secret>,
    audience: Option<String>,
    scopes: Vec<String>,
    mode: Option<Mode>,
}

impl Keycloak {
    /// The server's URL (or bare host), the realm and this server's client id.
    pub fn new(
        server_url: impl Into<String>,
        realm: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Self {
        Self {
            server_url: server_url.into(),
            realm: realm.into(),
            client_id: client_id.into(),
            client_secret: None,
            audience: None,
            scopes: Vec::new(),
            mode: None,
        }
    }

    /// From `MCP_USE_OAUTH_KEYCLOAK_SERVER_URL`, `..._REALM` and `..._CLIENT_ID`
    /// (required) and the optional `..._AUDIENCE` and `..._CLIENT_SECRET`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut keycloak = Self::new(
            SERVER_URL.require()?,
            REALM.require()?,
            CLIENT_ID.require()?,
        );
        keycloak.audience = AUDIENCE.get();
        keycloak.client_secret = CLIENT_SECRET.get().map(Secret::new);
        Ok(keycloak)
    }

    /// The audience tokens must carry (default: the client id).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The client's secret, for a confidential client in proxy mode.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(Secret::new(secret));
        self
    }

    /// Scopes to publish in the discovery metadata.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Overrides the mode (default: proxy).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let server = text(&SERVER_URL.url_from(&self.server_url)?);
        let realm = self.realm.trim();
        if realm.is_empty() || realm.contains('/') {
            return Err(REALM.invalid("must be a realm name"));
        }
        if self.client_id.trim().is_empty() {
            return Err(CLIENT_ID.invalid("must not be empty"));
        }
        let issuer = format!("{server}/realms/{realm}");
        let oidc = format!("{issuer}/protocol/openid-connect");
        let client = self.client_id.clone();
        let verifier = JwtVerifier::new(&issuer, KeySource::jwks(format!("{oidc}/certs")))
            .audiences([self.audience.unwrap_or_else(|| self.client_id.clone())])
            // Keycloak's ID tokens carry the client id as `aud` too.
            .payload_type("Bearer")
            .claims_hook(move |auth| {
                let realm_roles = auth
                    .payload
                    .get("realm_access")
                    .and_then(|r| r.get("roles"));
                merge(&mut auth.user.roles, strings(realm_roles));
                let client_roles = auth
                    .payload
                    .get("resource_access")
                    .and_then(|r| r.get(&client))
                    .and_then(|c| c.get("roles"));
                merge(&mut auth.user.permissions, strings(client_roles));
            });
        let mut provider = Provider::new("keycloak", issuer.clone(), Verification::Jwt(verifier));
        provider.authorization_endpoint = Some(format!("{oidc}/auth"));
        provider.token_endpoint = Some(format!("{oidc}/token"));
        provider.metadata_url = Some(format!("{issuer}/.well-known/openid-configuration"));
        provider.scopes_supported = self.scopes;
        provider.mode = self.mode.unwrap_or(Mode::Proxy);
        provider.client_id = Some(self.client_id);
        provider.client_secret = self.client_secret;
        // Keycloak's standard token exchange (RFC 8693, since 26.2).
        provider.exchange = Some(crate::auth::ExchangeStyle::Rfc8693);
        Ok(provider)
    }
}

impl IntoOAuth for Keycloak {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}
