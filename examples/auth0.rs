//! An MCP server whose callers sign in with Auth0, configured from
//! environment variables alone.
//!
//! ```text
//! MCP_USE_OAUTH_AUTH0_DOMAIN=your-tenant.us.auth0.com \
//! MCP_USE_OAUTH_AUTH0_AUDIENCE=https://mcp.example.com/mcp \
//! MCP_USE_OAUTH_AUTH0_ROLES_CLAIM=https://mcp.example.com/roles \
//! cargo run --example auth0
//! ```
//!
//! Set up Auth0 (dashboard):
//!
//! 1. Applications > APIs > Create API. Its identifier is the audience of
//!    the tokens this server accepts: set `MCP_USE_OAUTH_AUTH0_AUDIENCE` to
//!    it (this server's public URL is a good choice). Signing algorithm RS256.
//! 2. In the API's Permissions tab add `admin` and `user:write`; in its
//!    Settings, enable RBAC and "Add Permissions in the Access Token". Users
//!    and roles are granted permissions under User Management; the access
//!    token then carries them in `scope` and `permissions`.
//! 3. For roles, add a post-login Action that puts them under a namespaced
//!    claim, and set `MCP_USE_OAUTH_AUTH0_ROLES_CLAIM` to that claim:
//!    `api.accessToken.setCustomClaim("https://mcp.example.com/roles", event.authorization?.roles ?? [])`.
//! 4. MCP clients register themselves: enable Dynamic Client Registration
//!    (Settings > Advanced) and promote the connection users log in with to a
//!    domain-level connection. Or create an application, and set
//!    `MCP_USE_OAUTH_AUTH0_CLIENT_ID` and `MCP_USE_OAUTH_AUTH0_CLIENT_SECRET`
//!    to have this server sign clients in with it (proxy mode).
//!
//! The server is http://127.0.0.1:3000/mcp (`HOST`/`PORT` override; set
//! `MCP_URL` to its public URL behind a proxy). Its tools: `get-user-info`
//! (anyone signed in), `admin-action` (scope `admin`), `manage-users`
//! (scope `admin` or `user:write`).

mod common;

use common::{secret, var};
use mcp_runtime::prelude::*;

/// The server: its tools are in `common`, its provider is Auth0.
struct Auth0Example;

#[mcp_server(name = "auth0-example", oauth = auth0)]
impl Auth0Example {}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    common::serve(
        "auth0",
        Auth0Example.into_mcp_builder(),
        &[
            var("MCP_USE_OAUTH_AUTH0_DOMAIN"),
            var("MCP_USE_OAUTH_AUTH0_AUDIENCE"),
            var("MCP_USE_OAUTH_AUTH0_ROLES_CLAIM"),
            var("MCP_USE_OAUTH_AUTH0_CLIENT_ID"),
            secret("MCP_USE_OAUTH_AUTH0_CLIENT_SECRET"),
        ],
    )
    .await
}
