//! An MCP server whose callers sign in with any OpenID provider, found from
//! its issuer alone and configured from environment variables alone.
//!
//! ```text
//! MCP_OAUTH_OIDC_ISSUER=https://id.example.com \
//! MCP_OAUTH_OIDC_AUDIENCE=https://mcp.example.com/mcp \
//! cargo run --example oidc
//! ```
//!
//! Set up the provider:
//!
//! 1. `MCP_OAUTH_OIDC_ISSUER` is exactly the `issuer` its
//!    `/.well-known/openid-configuration` names (and its tokens carry in
//!    `iss`). The server reads that document for the keys (`jwks_uri`), the
//!    algorithms (`id_token_signing_alg_values_supported`) and, in proxy
//!    mode, the endpoints; a document naming another issuer is refused.
//! 2. Make its access tokens JWTs naming this server in `aud`
//!    (`MCP_OAUTH_OIDC_AUDIENCE`): this server's URL where the provider
//!    takes RFC 8707 resource indicators, else the API identifier it issues
//!    tokens for.
//! 3. Define the scopes `admin` and `user:write`. Roles come from `roles`,
//!    and from `MCP_OAUTH_OIDC_ROLES_CLAIM` (a claim, or a dotted path such
//!    as `realm_access.roles`).
//! 4. Clients register with the provider itself (direct mode), unless
//!    `MCP_OAUTH_OIDC_CLIENT_ID` (and `MCP_OAUTH_OIDC_CLIENT_SECRET` for a
//!    confidential client) names a client registered for this server: then
//!    this server proxies sign-ins to the provider, and its
//!    `/oauth/callback` must be one of that client's redirect URIs.
//!
//! The server is http://127.0.0.1:3000/mcp (`HOST`/`PORT` override; set
//! `MCP_URL` to its public URL behind a proxy). Its tools: `get-user-info`
//! (anyone signed in), `admin-action` (scope `admin`), `manage-users`
//! (scope `admin` or `user:write`).

mod common;

use common::{secret, var};
use mcp_runtime::prelude::*;

/// The server: its tools are in `common`, its provider any OpenID provider.
struct OidcExample;

#[mcp_server(name = "oidc-example", oauth = oidc)]
impl OidcExample {}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    common::serve(
        "oidc",
        OidcExample.into_mcp_builder(),
        &[
            var("MCP_OAUTH_OIDC_ISSUER"),
            var("MCP_OAUTH_OIDC_AUDIENCE"),
            var("MCP_OAUTH_OIDC_CLIENT_ID"),
            var("MCP_OAUTH_OIDC_ROLES_CLAIM"),
            var("MCP_OAUTH_OIDC_SCOPES"),
            secret("MCP_OAUTH_OIDC_CLIENT_SECRET"),
        ],
    )
    .await
}
