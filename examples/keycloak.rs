//! An MCP server whose callers sign in with Keycloak, configured from
//! environment variables alone.
//!
//! ```text
//! MCP_USE_OAUTH_KEYCLOAK_SERVER_URL=https://keycloak.example.com \
//! MCP_USE_OAUTH_KEYCLOAK_REALM=my-realm \
//! MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID=mcp-server \
//! MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET=... \
//! cargo run --example keycloak
//! ```
//!
//! Set up Keycloak (admin console):
//!
//! 1. Create a realm (`MCP_USE_OAUTH_KEYCLOAK_REALM`); the server's URL,
//!    without `/realms/...` (and without `/auth` since Keycloak 17), is
//!    `MCP_USE_OAUTH_KEYCLOAK_SERVER_URL`.
//! 2. Clients > Create client `mcp-server` (`MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID`),
//!    OpenID Connect, standard flow; for a confidential client turn on client
//!    authentication and set `MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET` to the
//!    secret from its Credentials tab. Add this server's callback to the valid
//!    redirect URIs.
//! 3. Keycloak puts the client in `aud` only with an audience mapper: Client
//!    scopes > `mcp-server-dedicated` > Add mapper > By configuration >
//!    Audience, included client audience `mcp-server`, "Add to access token"
//!    on. (Or set `MCP_USE_OAUTH_KEYCLOAK_AUDIENCE` to the audience your
//!    tokens do carry.)
//! 4. Scopes: Client scopes > Create `admin` and `user:write` (type
//!    optional), add them to the client; they appear in the token's `scope`
//!    when requested. Realm roles arrive as roles (`realm_access.roles`),
//!    the client's roles as permissions (`resource_access.mcp-server.roles`).
//!
//! The server is http://127.0.0.1:3000/mcp (`HOST`/`PORT` override; set
//! `MCP_URL` to its public URL behind a proxy). Its tools: `get-user-info`
//! (anyone signed in), `admin-action` (scope `admin`), `manage-users`
//! (scope `admin` or `user:write`).

mod common;

use common::{secret, var};
use mcp_runtime::prelude::*;

/// The server: its tools are in `common`, its provider is Keycloak.
struct KeycloakExample;

#[mcp_server(name = "keycloak-example", oauth = keycloak)]
impl KeycloakExample {}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    common::serve(
        "keycloak",
        KeycloakExample.into_mcp_builder(),
        &[
            var("MCP_USE_OAUTH_KEYCLOAK_SERVER_URL"),
            var("MCP_USE_OAUTH_KEYCLOAK_REALM"),
            var("MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID"),
            var("MCP_USE_OAUTH_KEYCLOAK_AUDIENCE"),
            secret("MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET"),
        ],
    )
    .await
}
