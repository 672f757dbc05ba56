//! AWS Cognito user pools: issuer
//! `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`, keys and
//! endpoints from its discovery document, RS256. Its access tokens carry
//! no `aud`: the app client is in `client_id`, which must be this server's
//! client, and `token_use` is `access` (its ID tokens say `id`). Groups
//! arrive in `cognito:groups` (the caller's roles), the user name in
//! `username`, scopes as a space-separated `scope`. With resource
//! indicators on (Essentials and Plus plans), tokens name the resource in
//! `aud` instead: set the audience to check that. Sign-ins go through
//! this server (proxy mode) with the pool's app client, since dynamic
//! registration exists only on some plans.

use super::{Common, ConfigError, Var, common_settings, merge, strings, text};
use crate::auth::{IntoOAuth, JwtVerifier, KeySource, Mode, OAuth, Provider};

const PREFIX: &str = "MCP_OAUTH_COGNITO";
const REGION: Var = Var::new("MCP_OAUTH_COGNITO_REGION", "eu-west-1");
const USER_POOL_ID: Var = Var::new("MCP_OAUTH_COGNITO_USER_POOL_ID", "eu-west-1_AbCdEf123");
const CLIENT_ID: Var = Var::new("MCP_OAUTH_COGNITO_CLIENT_ID", "1example23456789");
const AUDIENCE: Var = Var::new("MCP_OAUTH_COGNITO_AUDIENCE", "https://mcp.example.com/mcp");
const ENDPOINT: Var = Var::new(
    "MCP_OAUTH_COGNITO_ENDPOINT",
    "https://cognito-idp.eu-west-1.amazonaws.com",
);

/// AWS Cognito (a user pool), in proxy mode.
///
/// ```
/// use mcp_runtime::providers::Cognito;
/// let provider = Cognito::new("eu-west-1", "eu-west-1_AbCdEf123", "1example23456789")
///     .build()
///     .expect("valid settings");
/// assert_eq!(
///     provider.issuer(),
///     "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
/// );
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Cognito {
    region: String,
    user_pool_id: String,
    audience: Option<String>,
    endpoint: Option<String>,
    common: Common,
}

impl Cognito {
    /// The pool's region and id, and its app client's id.
    pub fn new(
        region: impl Into<String>,
        user_pool_id: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Self {
        Self {
            region: region.into(),
            user_pool_id: user_pool_id.into(),
            audience: None,
            endpoint: None,
            common: Common {
                client_id: Some(client_id.into()),
                ..Common::default()
            },
        }
    }

    /// From `MCP_OAUTH_COGNITO_REGION`, `..._USER_POOL_ID` and
    /// `..._CLIENT_ID` (required), and the optional `..._CLIENT_SECRET`,
    /// `..._SCOPES`, `..._AUDIENCE` and `..._ENDPOINT`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut cognito = Self::new(
            REGION.require()?,
            USER_POOL_ID.require()?,
            CLIENT_ID.require()?,
        );
        let common = Common::from_env(PREFIX);
        cognito.common.client_secret = common.client_secret;
        cognito.common.scopes = common.scopes;
        cognito.audience = AUDIENCE.get();
        cognito.endpoint = ENDPOINT.get();
        Ok(cognito)
    }

    /// With resource indicators on: the resource tokens name in `aud`,
    /// checked instead of `client_id`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The identity provider's host, when it is not
    /// `https://cognito-idp.{region}.amazonaws.com`.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    common_settings!();

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let region = self.region.trim();
        let pool = self.user_pool_id.trim();
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(REGION.invalid("must be an AWS region"));
        }
        if !pool.starts_with(&format!("{region}_")) {
            return Err(USER_POOL_ID.invalid(&format!(
                "must be a user pool id of {region} ({region}_...)"
            )));
        }
        let client = self
            .common
            .required_client(CLIENT_ID, "must name the pool's app client")?;
        let host = self
            .endpoint
            .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
        let issuer = format!("{}/{pool}", text(&ENDPOINT.url_from(&host)?));
        let discovery = super::discovery(&issuer);
        let verifier = JwtVerifier::new(&issuer, KeySource::Discovered(discovery.clone()))
            .require_claim("token_use", "access");
        // With resource indicators the resource is in `aud`; the app
        // client is checked either way.
        let verifier = match self.audience {
            Some(audience) => verifier
                .audiences([audience])
                .require_claim("client_id", client),
            None => verifier.audience_claim("client_id").audiences([client]),
        }
        .claims_hook(|auth| {
            merge(
                &mut auth.user.roles,
                strings(auth.payload.get("cognito:groups")),
            );
        });
        self.common
            .provider("cognito", &issuer, discovery, verifier, Mode::Proxy, None)
    }
}

impl IntoOAuth for Cognito {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}
