//! An MCP server whose callers sign in with any OAuth 2.1 / OpenID provider
//! that issues JWT access tokens, described by environment variables.
//!
//! ```text
//! OAUTH_ISSUER=https://id.example.com \
//! OAUTH_JWKS_URL=https://id.example.com/.well-known/jwks.json \
//! OAUTH_AUDIENCE=https://mcp.example.com/mcp \
//! cargo run --example custom
//! ```
//!
//! Set up the provider:
//!
//! 1. `OAUTH_ISSUER` is exactly the `iss` of its tokens (the `issuer` of its
//!    `/.well-known/openid-configuration`), `OAUTH_JWKS_URL` that document's
//!    `jwks_uri`. Tokens must be signed RS256 or ES256.
//! 2. Register this server as a resource (an API) and make its tokens name
//!    it in `aud`. Without `OAUTH_AUDIENCE` the audience is this server's own
//!    URL (`MCP_URL`, else `http://HOST:PORT/mcp`), as RFC 8707 resource
//!    indicators produce.
//! 3. Define the scopes `admin` and `user:write`; tokens carry them in
//!    `scope` (or `scp`), roles in `roles` and permissions in `permissions`.
//!
//! The server is http://127.0.0.1:3000/mcp (`HOST`/`PORT` override). Its
//! tools: `get-user-info` (anyone signed in), `admin-action` (scope `admin`),
//! `manage-users` (scope `admin` or `user:write`).

mod common;

use common::var;
use mcp_runtime::auth::CustomProvider;
use mcp_runtime::prelude::*;

/// The provider from `OAUTH_ISSUER`, `OAUTH_JWKS_URL` and the optional
/// `OAUTH_AUDIENCE`; a missing variable keeps the server from building.
fn provider_from_env() -> OAuth {
    let setting = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let required = |name: &str, example: &str| {
        setting(name).ok_or_else(|| {
            format!("the environment variable {name} is not set; set it like {name}={example}")
        })
    };
    let provider = (|| {
        let issuer = required("OAUTH_ISSUER", "https://id.example.com")?;
        let jwks_url = required(
            "OAUTH_JWKS_URL",
            "https://id.example.com/.well-known/jwks.json",
        )?;
        let mut provider = CustomProvider::new(issuer).jwks_url(jwks_url);
        if let Some(audience) = setting("OAUTH_AUDIENCE") {
            provider = provider.audience(audience);
        }
        provider.build()
    })();
    OAuth::from_result(provider)
}

/// The server: its tools are in `common`, its provider is described by the environment.
struct CustomExample;

#[mcp_server(name = "custom-example", oauth = custom(provider_from_env()))]
impl CustomExample {}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    common::serve(
        "custom",
        CustomExample.into_mcp_builder(),
        &[
            var("OAUTH_ISSUER"),
            var("OAUTH_JWKS_URL"),
            var("OAUTH_AUDIENCE"),
        ],
    )
    .await
}
