//! Better Auth's OAuth 2.1 provider (and its MCP plugin): issuer the app's
//! base URL and auth path (`https://example.com/api/auth`), keys (its JWT
//! plugin's, EdDSA unless configured otherwise) and endpoints from its
//! discovery document. Access tokens are JWTs only when the client names
//! this server as its RFC 8707 `resource` (which MCP clients do); they then
//! carry it in `aud`, with `sub`, `azp` (the client), `scope` and the
//! session `sid` (`User::extra`). Roles and organizations are whatever the
//! app adds with `customAccessTokenClaims`: `roles`, `permissions` and
//! `org_id` are read. Clients register with Better Auth itself (direct
//! mode: dynamic registration or client ID metadata documents, once
//! allowed).

use super::{ConfigError, Var, keep_extra};
use crate::auth::{JwtVerifier, KeySource, Mode, Provider};

const ISSUER: Var = Var::new(
    "MCP_OAUTH_BETTER_AUTH_ISSUER",
    "https://example.com/api/auth",
);
const AUDIENCE: Var = Var::new(
    "MCP_OAUTH_BETTER_AUTH_AUDIENCE",
    "https://mcp.example.com/mcp",
);

super::issuer_and_audience!(
/// Better Auth, in direct mode.
///
/// ```
/// use mcp_runtime::providers::BetterAuth;
/// let provider = BetterAuth::new("https://example.com/api/auth")
///     .build()
///     .expect("valid settings");
/// assert_eq!(provider.issuer(), "https://example.com/api/auth");
/// ```
    BetterAuth,
    "MCP_OAUTH_BETTER_AUTH",
    ISSUER,
    AUDIENCE
);

impl BetterAuth {
    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let issuer = super::issuer_url(ISSUER, &self.issuer)?;
        let discovery = super::discovery(&issuer);
        let verifier = JwtVerifier::new(&issuer, KeySource::Discovered(discovery.clone()))
            .audiences(self.audience)
            .claims_hook(|auth| keep_extra(auth, &["sid"]));
        self.common.provider(
            "better-auth",
            &issuer,
            discovery,
            verifier,
            Mode::Direct,
            None,
        )
    }
}
