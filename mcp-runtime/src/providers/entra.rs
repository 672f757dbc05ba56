//! Microsoft Entra ID, v2.0 access tokens: issuer
//! `https://login.microsoftonline.com/{tenant}/v2.0`, keys and endpoints
//! from its discovery document, RS256. A token for this API names it in
//! `aud`: its application (client) id, or one of its application ID URIs
//! (`api://...`); Microsoft's pages say each, so both are accepted. Scopes
//! arrive in `scp` (space-separated), app roles in `roles`, the tenant in
//! `tid` (the caller's organization) and the user's object id in `oid`
//! (`User::extra`; `sub` is per application). A token with neither `scp`
//! nor `roles` (an ID token, an application granted nothing) is refused;
//! one without `scp` is an application's (`Auth::is_machine`). The API's
//! registration must
//! ask for v2.0 tokens (`accessTokenAcceptedVersion: 2` in its manifest):
//! v1.0 tokens name another issuer and are refused. Entra registers no MCP
//! client on its own, so sign-ins go through this server (proxy mode) with
//! the API's own registration as the client.

use super::{Common, ConfigError, Var, common_settings, keep_extra, text};
use crate::auth::{ExchangeStyle, IntoOAuth, JwtVerifier, KeySource, Mode, OAuth, Provider};

const PREFIX: &str = "MCP_OAUTH_ENTRA";
const TENANT_ID: Var = Var::new(
    "MCP_OAUTH_ENTRA_TENANT_ID",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
);
const CLIENT_ID: Var = Var::new(
    "MCP_OAUTH_ENTRA_CLIENT_ID",
    "6e74172b-be56-4843-9ff4-e66a39bb12e3",
);
const APP_ID_URI: Var = Var::new("MCP_OAUTH_ENTRA_APP_ID_URI", "api://mcp.example.com");
const AUTHORITY: Var = Var::new(
    "MCP_OAUTH_ENTRA_AUTHORITY",
    "https://login.microsoftonline.com",
);

/// Microsoft Entra ID, in proxy mode.
///
/// ```
/// use mcp_runtime::providers::EntraId;
/// let provider = EntraId::new(
///     "72f988bf-86f1-41af-91ab-2d7cd011db47",
///     "6e74172b-be56-4843-9ff4-e66a39bb12e3",
/// )
/// .build()
/// .expect("valid settings");
/// assert_eq!(
///     provider.issuer(),
///     "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
/// );
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct EntraId {
    tenant_id: String,
    client_id: String,
    app_id_uris: Vec<String>,
    authority: String,
    common: Common,
}

impl EntraId {
    /// The directory (tenant) id and the API's application (client) id.
    pub fn new(tenant_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        let client_id = client_id.into();
        Self {
            tenant_id: tenant_id.into(),
            app_id_uris: Vec::new(),
            authority: AUTHORITY.example.to_owned(),
            common: Common {
                client_id: Some(client_id.clone()),
                ..Common::default()
            },
            client_id,
        }
    }

    /// From `MCP_OAUTH_ENTRA_TENANT_ID` and `MCP_OAUTH_ENTRA_CLIENT_ID`
    /// (required), and the optional `..._APP_ID_URI`, `..._CLIENT_SECRET`,
    /// `..._SCOPES` and `..._AUTHORITY` (a national cloud's login host).
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut entra = Self::new(TENANT_ID.require()?, CLIENT_ID.require()?);
        let common = Common::from_env(PREFIX);
        entra.common.client_secret = common.client_secret;
        entra.common.scopes = common.scopes;
        entra.app_id_uris.extend(APP_ID_URI.get());
        if let Some(authority) = AUTHORITY.get() {
            entra.authority = authority;
        }
        Ok(entra)
    }

    /// An application ID URI of the API (`api://...`), accepted in `aud`
    /// besides its client id.
    pub fn app_id_uri(mut self, uri: impl Into<String>) -> Self {
        self.app_id_uris.push(uri.into());
        self
    }

    /// The login host (default `https://login.microsoftonline.com`; a
    /// national cloud has its own).
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = authority.into();
        self
    }

    common_settings!();

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let authority = text(&AUTHORITY.url_from(&self.authority)?);
        let tenant = self.tenant_id.trim();
        // `common` and `organizations` name no issuer: tokens carry the
        // tenant's own.
        if tenant.is_empty()
            || tenant.contains('/')
            || ["common", "organizations", "consumers"].contains(&tenant)
        {
            return Err(TENANT_ID.invalid("must be one directory's tenant id"));
        }
        if self.client_id.trim().is_empty() {
            return Err(CLIENT_ID.invalid("must not be empty"));
        }
        let issuer = format!("{authority}/{tenant}/v2.0");
        let discovery = super::discovery(&issuer);
        let audiences = std::iter::once(self.client_id.clone()).chain(self.app_id_uris);
        let verifier = JwtVerifier::new(&issuer, KeySource::Discovered(discovery.clone()))
            .audiences(audiences)
            // A user's token carries `scp`, an application's `roles`; one
            // with neither (an ID token, an app granted nothing) is refused.
            .require_any_claim(&["scp", "roles"])
            .claims_hook(|auth| {
                // App-only (client-credentials) tokens have no `scp`.
                auth.machine = Some(!auth.payload.contains_key("scp"));
                auth.user.organization = auth
                    .payload
                    .get("tid")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                keep_extra(auth, &["oid"]);
            });
        self.common.provider(
            "entra",
            &issuer,
            discovery,
            verifier,
            Mode::Proxy,
            Some(ExchangeStyle::EntraOnBehalfOf),
        )
    }
}

impl IntoOAuth for EntraId {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}
