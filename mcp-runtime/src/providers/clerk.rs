//! Clerk: issuer the instance's Frontend API URL
//! (`https://clerk.{your domain}`, or `https://{slug}.clerk.accounts.dev`
//! in development), keys at `/.well-known/jwks.json` and endpoints from its
//! discovery document, RS256. OAuth access tokens must be JWTs (the
//! application's "Generate access tokens as JWTs" setting; opaque ones are
//! not accepted) carrying `sub`, `client_id` and the scopes in `scp` or
//! `scope`; with the `user:org:read` scope, the organization the user chose
//! in `org_id`. Clerk's documentation does not say what `aud` holds, so it
//! must name this server: its URL (RFC 8707) unless an audience is set.
//! Clients register with Clerk itself (direct mode: dynamic registration,
//! or client ID metadata documents, once turned on for the instance).

use super::{ConfigError, Var};
use crate::auth::{JwtVerifier, KeySource, Mode, Provider};

const FRONTEND_API: Var = Var::new("MCP_OAUTH_CLERK_FRONTEND_API", "https://clerk.example.com");
const AUDIENCE: Var = Var::new("MCP_OAUTH_CLERK_AUDIENCE", "https://mcp.example.com/mcp");

super::issuer_and_audience!(
/// Clerk, in direct mode.
///
/// ```
/// use mcp_runtime::providers::Clerk;
/// let provider = Clerk::new("https://clerk.example.com").build().expect("valid settings");
/// assert_eq!(provider.issuer(), "https://clerk.example.com");
/// ```
    Clerk,
    "MCP_OAUTH_CLERK",
    FRONTEND_API,
    AUDIENCE
);

impl Clerk {
    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let issuer = super::issuer_url(FRONTEND_API, &self.issuer)?;
        let discovery = super::discovery(&issuer);
        let verifier = JwtVerifier::new(&issuer, KeySource::Discovered(discovery.clone()))
            .audiences(self.audience);
        self.common
            .provider("clerk", &issuer, discovery, verifier, Mode::Direct, None)
    }
}
