//! Descope, an MCP server (or inbound app) of a project: issuer the URL
//! its console shows for it, keys and endpoints from its discovery
//! document. Its access tokens name the MCP server's URL in `aud` (this
//! server's, unless an audience is set). Roles and permissions of the
//! project are top-level `roles` and `permissions`; those of the tenant the
//! user acts in (`dct`, the caller's organization) are under
//! `tenants.{tenant}`, and are added. Clients register with Descope itself
//! (direct mode: dynamic registration is on by default, client ID metadata
//! documents when turned on). Session tokens, whose `iss` is the bare
//! project id, are not MCP access tokens and are not accepted.

use super::{ConfigError, Var, merge, strings};
use crate::auth::{ExchangeStyle, JwtVerifier, KeySource, Mode, Provider};
use serde_json::Value;

const ISSUER: Var = Var::new(
    "MCP_OAUTH_DESCOPE_ISSUER",
    "https://api.descope.com/v1/apps/agentic/P2abc/MS2def",
);
const AUDIENCE: Var = Var::new("MCP_OAUTH_DESCOPE_AUDIENCE", "https://mcp.example.com/mcp");

super::issuer_and_audience!(
/// Descope, in direct mode.
///
/// ```
/// use mcp_runtime::providers::Descope;
/// let provider = Descope::new("https://api.descope.com/v1/apps/agentic/P2abc/MS2def")
///     .build()
///     .expect("valid settings");
/// assert_eq!(provider.issuer(), "https://api.descope.com/v1/apps/agentic/P2abc/MS2def");
/// ```
    Descope,
    "MCP_OAUTH_DESCOPE",
    ISSUER,
    AUDIENCE
);

impl Descope {
    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let issuer = super::issuer_url(ISSUER, &self.issuer)?;
        let discovery = super::discovery(&issuer);
        let verifier = JwtVerifier::new(&issuer, KeySource::Discovered(discovery.clone()))
            .audiences(self.audience)
            .claims_hook(|auth| {
                let tenant = auth.payload.get("dct").and_then(Value::as_str);
                // Only a tenant the user belongs to (one in `tenants`).
                let granted = tenant.and_then(|t| auth.payload.get("tenants")?.get(t));
                if let Some(granted) = granted {
                    let roles = strings(granted.get("roles"));
                    let permissions = strings(granted.get("permissions"));
                    merge(&mut auth.user.roles, roles);
                    merge(&mut auth.user.permissions, permissions);
                }
                auth.user.organization = granted.and(tenant).map(str::to_owned);
            });
        self.common.provider(
            "descope",
            &issuer,
            discovery,
            verifier,
            Mode::Direct,
            Some(ExchangeStyle::Rfc8693),
        )
    }
}
