//! Any OpenID provider, from its issuer alone: the discovery document
//! (`{issuer}/.well-known/openid-configuration`, else RFC 8414's) names its
//! keys, its algorithms and its endpoints; see
//! [`IssuerDiscovery`](crate::auth::IssuerDiscovery).

use super::{Common, ConfigError, Var, merge, strings};
use crate::auth::{
    ExchangeStyle, IntoOAuth, IssuerDiscovery, JwksSettings, JwtVerifier, KeySource, Mode, OAuth,
    Provider,
};
use serde_json::Value;
use std::sync::Arc;

const ISSUER: Var = Var::new("MCP_OAUTH_OIDC_ISSUER", "https://id.example.com");
const AUDIENCE: Var = Var::new("MCP_OAUTH_OIDC_AUDIENCE", "https://mcp.example.com/mcp");
const ROLES_CLAIM: Var = Var::new("MCP_OAUTH_OIDC_ROLES_CLAIM", "realm_access.roles");

/// Any OpenID provider. Direct mode (clients register with the provider
/// itself) unless a client id is configured, which makes this server proxy
/// `/authorize` and `/token` to the endpoints the provider's document names.
///
/// Tokens must name [`audience`](Self::audience) in `aud`: without one,
/// the provider is not built (a token for any of its other services would
/// pass).
///
/// ```
/// use mcp_runtime::providers::Oidc;
/// let provider = Oidc::new("https://id.example.com")
///     .audience("https://mcp.example.com/mcp")
///     .roles_claim("realm_access.roles")
///     .build()
///     .expect("valid settings");
/// assert_eq!(provider.issuer(), "https://id.example.com");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Oidc {
    issuer: String,
    audience: Option<String>,
    roles_claim: Option<String>,
    jwks_settings: JwksSettings,
    common: Common,
}

impl Oidc {
    /// The provider whose tokens name `issuer` in `iss`: exactly as its
    /// discovery document names it.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: None,
            roles_claim: None,
            jwks_settings: JwksSettings::default(),
            common: Common::default(),
        }
    }

    /// From `MCP_OAUTH_OIDC_ISSUER` and `MCP_OAUTH_OIDC_AUDIENCE` (required),
    /// and the optional `..._CLIENT_ID`, `..._CLIENT_SECRET`,
    /// `..._ROLES_CLAIM` and `..._SCOPES` (space-separated).
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut oidc = Self::new(ISSUER.require()?);
        oidc.audience = Some(AUDIENCE.require()?);
        oidc.roles_claim = ROLES_CLAIM.get();
        oidc.common = Common::from_env("MCP_OAUTH_OIDC");
        Ok(oidc)
    }

    /// The audience tokens must carry (required): this server's URL when
    /// the provider honours RFC 8707 resource indicators, else the API
    /// identifier the provider issues its tokens for.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Where the user's roles are: a claim (`roles`, `groups`,
    /// `https://example.com/roles`), or a dotted path into one
    /// (`realm_access.roles`). `roles` is read as well.
    pub fn roles_claim(mut self, claim: impl Into<String>) -> Self {
        self.roles_claim = Some(claim.into());
        self
    }

    super::common_settings!();

    /// How the provider's keys are fetched and kept.
    pub fn jwks_settings(mut self, settings: JwksSettings) -> Self {
        self.jwks_settings = settings;
        self
    }

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        // Kept exactly as given: `iss` must match it, trailing slash and all.
        let issuer = super::issuer_url(ISSUER, &self.issuer)?;
        let audience = self
            .audience
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                AUDIENCE.invalid("is required: the audience this server's tokens carry")
            })?;
        let discovery = Arc::new(IssuerDiscovery::new(&issuer, self.jwks_settings));
        let roles_claim = self.roles_claim;
        let verifier = JwtVerifier::new(&issuer, KeySource::Discovered(Arc::clone(&discovery)))
            .audiences([audience])
            .claims_hook(move |auth| {
                if let Some(claim) = &roles_claim {
                    merge(
                        &mut auth.user.roles,
                        strings(claim_at(&auth.payload, claim)),
                    );
                }
            });
        // Token exchange is used where the provider offers it; it refuses
        // the grant otherwise.
        self.common.provider(
            "oidc",
            &issuer,
            discovery,
            verifier,
            Mode::Direct,
            Some(ExchangeStyle::Rfc8693),
        )
    }
}

/// The claim named `name`, or, when there is none, the one its dotted path
/// leads to (`realm_access.roles`).
fn claim_at<'a>(claims: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut parts = name.split('.');
    let first = claims.get(parts.next()?)?;
    parts.try_fold(first, |value, part| value.get(part))
}

impl IntoOAuth for Oidc {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_are_read_by_name_or_by_path() {
        let claims = json!({
            "https://example.com/roles": ["a"],
            "realm_access": {"roles": ["b", "c"]},
            "groups": "d",
        });
        let claims = claims.as_object().unwrap();
        assert_eq!(
            strings(claim_at(claims, "https://example.com/roles")),
            ["a"]
        );
        assert_eq!(strings(claim_at(claims, "realm_access.roles")), ["b", "c"]);
        assert_eq!(strings(claim_at(claims, "groups")), ["d"]);
        assert!(claim_at(claims, "realm_access.missing").is_none());
    }

    #[test]
    fn the_audience_is_required_and_the_issuer_must_be_https() {
        let error = Oidc::new("https://id.example.com").build().unwrap_err();
        assert!(
            error.to_string().contains("MCP_OAUTH_OIDC_AUDIENCE"),
            "{error}"
        );
        let error = Oidc::new("http://id.example.com")
            .audience("x")
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("https"), "{error}");
        let error = Oidc::new("id.example.com")
            .audience("x")
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("whole URL"), "{error}");
        let provider = Oidc::new("https://id.example.com/")
            .audience("api")
            .client("mcp", None)
            .build()
            .unwrap();
        assert_eq!(provider.issuer(), "https://id.example.com/");
        assert_eq!(provider.mode(), Mode::Proxy);
    }
}
