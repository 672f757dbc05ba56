//! Zitadel: issuer the instance's URL (`https://{instance}.zitadel.cloud`
//! or a custom domain), keys at `/oauth/v2/keys` and endpoints from its
//! discovery document. Access tokens are JWTs only when the application's
//! token type is set to JWT (they are opaque by default). Their `aud`
//! holds the project's id and its clients' ids: the project id is this
//! server's audience. Roles arrive as the keys of
//! `urn:zitadel:iam:org:project:roles` (and of
//! `urn:zitadel:iam:org:project:{projectId}:roles`) when asked for; the
//! user's organization in `urn:zitadel:iam:user:resourceowner:id`, its
//! name in `..._name` (`User::extra`). Any client of the instance can ask
//! for a token naming this project, so tokens must also come from this
//! server's own client (`azp`). Sign-ins go through this server (proxy
//! mode), since dynamic registration is off by default.

use super::{Common, ConfigError, Var, common_settings, keep_extra, merge};
use crate::auth::{ExchangeStyle, IntoOAuth, JwtVerifier, KeySource, Mode, OAuth, Provider};
use serde_json::Value;

const PREFIX: &str = "MCP_OAUTH_ZITADEL";
const ISSUER: Var = Var::new(
    "MCP_OAUTH_ZITADEL_ISSUER",
    "https://acme-abc123.zitadel.cloud",
);
const CLIENT_ID: Var = Var::new("MCP_OAUTH_ZITADEL_CLIENT_ID", "263487229187965204");
const PROJECT_ID: Var = Var::new("MCP_OAUTH_ZITADEL_PROJECT_ID", "263487229187965203");

/// The claim naming the user's organization.
const ORGANIZATION: &str = "urn:zitadel:iam:user:resourceowner:id";

/// Zitadel, in proxy mode.
///
/// ```
/// use mcp_runtime::providers::Zitadel;
/// let provider = Zitadel::new("https://acme-abc123.zitadel.cloud", "263487229187965203")
///     .client("263487229187965204", None)
///     .build()
///     .expect("valid settings");
/// assert_eq!(provider.issuer(), "https://acme-abc123.zitadel.cloud");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Zitadel {
    issuer: String,
    project_id: String,
    common: Common,
}

impl Zitadel {
    /// The instance's URL and the project whose id tokens name in `aud`.
    pub fn new(issuer: impl Into<String>, project_id: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            project_id: project_id.into(),
            common: Common::default(),
        }
    }

    /// From `MCP_OAUTH_ZITADEL_ISSUER`, `..._PROJECT_ID` and `..._CLIENT_ID`
    /// (required), and the optional `..._CLIENT_SECRET` and `..._SCOPES`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut zitadel = Self::new(ISSUER.require()?, PROJECT_ID.require()?);
        zitadel.common = Common::from_env(PREFIX);
        Ok(zitadel)
    }

    common_settings!();

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let issuer = super::issuer_url(ISSUER, &self.issuer)?;
        let project = self.project_id.trim().to_owned();
        if project.is_empty() {
            return Err(PROJECT_ID.invalid("must not be empty"));
        }
        // Any client of the instance may add a project to its tokens'
        // audience, and their roles claim holds its own project's roles:
        // the token must come from this server's client.
        let client = self.common.required_client(
            CLIENT_ID,
            "must name this server's client in the project (its tokens are checked to come from it)",
        )?;
        let discovery = super::discovery(&issuer);
        let project_roles = format!("urn:zitadel:iam:org:project:{project}:roles");
        let verifier = JwtVerifier::new(&issuer, KeySource::Discovered(discovery.clone()))
            .audiences([project])
            .require_claim("azp", client)
            .claims_hook(move |auth| {
                // Role name -> { organization id: its domain }.
                let mut roles = Vec::new();
                for claim in ["urn:zitadel:iam:org:project:roles", project_roles.as_str()] {
                    if let Some(Value::Object(granted)) = auth.payload.get(claim) {
                        roles.extend(granted.keys().cloned());
                    }
                }
                merge(&mut auth.user.roles, roles);
                auth.user.organization = auth
                    .payload
                    .get(ORGANIZATION)
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                keep_extra(auth, &["urn:zitadel:iam:user:resourceowner:name"]);
            });
        self.common.provider(
            "zitadel",
            &issuer,
            discovery,
            verifier,
            Mode::Proxy,
            Some(ExchangeStyle::Rfc8693),
        )
    }
}

impl IntoOAuth for Zitadel {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}
