//! Scalekit: issuer the environment's URL (`https://{env}.scalekit.com`, or
//! a custom domain), keys at `/keys` and endpoints from its discovery
//! document, RS256. An MCP server is registered there as a resource
//! (`res_...`): its tokens name that id in `aud`, and clients are sent to
//! the resource's own authorization server,
//! `{environment}/resources/{resource id}`. Roles and permissions arrive
//! as `roles` and `permissions`, the organization as `oid`; the session
//! `sid` and the external ids `xoid` and `xuid` are kept in `User::extra`.
//! Clients register with Scalekit itself (direct mode: dynamic
//! registration and client ID metadata documents).

use super::{ConfigError, Var, keep_extra};
use crate::auth::{JwtVerifier, KeySource, Mode, Provider};
use serde_json::Value;

const ENVIRONMENT_URL: Var = Var::new(
    "MCP_OAUTH_SCALEKIT_ENVIRONMENT_URL",
    "https://acme.scalekit.com",
);
const AUDIENCE: Var = Var::new("MCP_OAUTH_SCALEKIT_AUDIENCE", "res_12345678901234567");

super::issuer_and_audience!(
    /// Scalekit, in direct mode. The audience is the MCP server's resource
    /// id, and is required.
    ///
    /// ```
    /// use mcp_runtime::providers::Scalekit;
    /// let provider = Scalekit::new("https://acme.scalekit.com")
    ///     .audience("res_12345678901234567")
    ///     .build()
    ///     .expect("valid settings");
    /// assert_eq!(provider.issuer(), "https://acme.scalekit.com");
    /// ```
    Scalekit,
    "MCP_OAUTH_SCALEKIT",
    ENVIRONMENT_URL,
    AUDIENCE
);

impl Scalekit {
    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let issuer = super::issuer_url(ENVIRONMENT_URL, &self.issuer)?;
        let resource = self
            .audience
            .map(|a| a.trim().to_owned())
            .filter(|a| a.starts_with("res_") && !a.contains('/'))
            .ok_or_else(|| AUDIENCE.invalid("must be the MCP server's resource id (res_...)"))?;
        let discovery = super::discovery(&issuer);
        let verifier = JwtVerifier::new(&issuer, KeySource::Discovered(discovery.clone()))
            .audiences([resource.clone()])
            .claims_hook(|auth| {
                auth.user.organization = auth
                    .payload
                    .get("oid")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                keep_extra(auth, &["sid", "xoid", "xuid"]);
            });
        let mut provider =
            self.common
                .provider("scalekit", &issuer, discovery, verifier, Mode::Direct, None)?;
        provider.authorization_server = Some(format!(
            "{}/resources/{resource}",
            issuer.trim_end_matches('/')
        ));
        Ok(provider)
    }
}
