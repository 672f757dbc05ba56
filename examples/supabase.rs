//! An MCP server whose callers sign in with Supabase Auth, configured from
//! environment variables alone.
//!
//! ```text
//! MCP_USE_OAUTH_SUPABASE_PROJECT_ID=abcdefghijklmnopqrst cargo run --example supabase
//! ```
//!
//! Set up Supabase (dashboard):
//!
//! 1. Project Settings > General: the project id (the `abcdefghijklmnopqrst`
//!    of `https://abcdefghijklmnopqrst.supabase.co`) is
//!    `MCP_USE_OAUTH_SUPABASE_PROJECT_ID`. A self-hosted project or a custom
//!    domain: set `MCP_USE_OAUTH_SUPABASE_URL=https://supabase.example.com`.
//! 2. Project Settings > JWT Keys: use asymmetric signing keys (ECC P-256,
//!    ES256, the default; or RSA, RS256). This server fetches the public keys
//!    from `{url}/auth/v1/.well-known/jwks.json`. A project still on the
//!    legacy shared secret: set `MCP_USE_OAUTH_SUPABASE_JWT_SECRET` to it
//!    (HS256; keep it out of logs and version control).
//! 3. Authentication > OAuth Server: enable it (and dynamic client
//!    registration) so MCP clients can sign users in; set the authorization
//!    path to your consent page.
//!
//! Tokens name `authenticated` as audience and carry `role`, `email` and
//! `user_metadata` (name, avatar, username). Supabase puts no `scope` in its
//! tokens, so `admin-action` and `manage-users` answer 403 unless a custom
//! access token hook adds one.
//!
//! The server is http://127.0.0.1:3000/mcp (`HOST`/`PORT` override; set
//! `MCP_URL` to its public URL behind a proxy).

mod common;

use common::{secret, var};
use mcp_runtime::prelude::*;

/// The server: its tools are in `common`, its provider is Supabase.
struct SupabaseExample;

#[mcp_server(name = "supabase-example", oauth = supabase)]
impl SupabaseExample {}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    common::serve(
        "supabase",
        SupabaseExample.into_mcp_builder(),
        &[
            var("MCP_USE_OAUTH_SUPABASE_PROJECT_ID"),
            var("MCP_USE_OAUTH_SUPABASE_URL"),
            secret("MCP_USE_OAUTH_SUPABASE_JWT_SECRET"),
        ],
    )
    .await
}
