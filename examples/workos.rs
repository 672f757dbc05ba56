//! An MCP server whose callers sign in with WorkOS AuthKit, configured from
//! environment variables alone.
//!
//! ```text
//! MCP_USE_OAUTH_WORKOS_SUBDOMAIN=your-app-1234 \
//! MCP_URL=https://mcp.example.com \
//! cargo run --example workos
//! ```
//!
//! Set up WorkOS (dashboard):
//!
//! 1. Authentication > AuthKit: note the AuthKit domain,
//!    `your-app-1234.authkit.app`; its first label is
//!    `MCP_USE_OAUTH_WORKOS_SUBDOMAIN` (a custom domain is given in full).
//! 2. Connect > Configuration: enable Dynamic Client Registration (and
//!    Client ID Metadata Documents) so MCP clients register themselves, and
//!    set the MCP resource indicator to this server's public URL (`MCP_URL`,
//!    with `/mcp`): tokens name it as audience.
//! 3. Roles and permissions (Authorization): create `admin` and
//!    `user:write` permissions and grant them through roles. Tokens carry the
//!    organization membership's `role` and `permissions`; the scopes the tools
//!    check are the token's `scope`.
//! 4. Optionally set `MCP_USE_OAUTH_WORKOS_CLIENT_ID` (the environment's
//!    client id) and `MCP_USE_OAUTH_WORKOS_API_KEY`: tokens issued without a
//!    resource name the client id as audience, which is then accepted too, and
//!    this server signs clients in with that client (proxy mode).
//!
//! The server is http://127.0.0.1:3000/mcp (`HOST`/`PORT` override). Its
//! tools: `get-user-info` (anyone signed in), `admin-action` (scope `admin`),
//! `manage-users` (scope `admin` or `user:write`).

mod common;

use common::{secret, var};
use mcp_runtime::prelude::*;

/// The server: its tools are in `common`, its provider is WorkOS.
struct WorkOsExample;

#[mcp_server(name = "workos-example", oauth = workos)]
impl WorkOsExample {}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    common::serve(
        "workos",
        WorkOsExample.into_mcp_builder(),
        &[
            var("MCP_USE_OAUTH_WORKOS_SUBDOMAIN"),
            var("MCP_USE_OAUTH_WORKOS_CLIENT_ID"),
            secret("MCP_USE_OAUTH_WORKOS_API_KEY"),
        ],
    )
    .await
}
