//! An MCP server whose callers sign in with one of the preset providers,
//! chosen by `PROVIDER` and configured from environment variables alone:
//!
//! ```text
//! PROVIDER=okta MCP_OAUTH_OKTA_DOMAIN=dev-123456.okta.com \
//!   MCP_OAUTH_OKTA_CLIENT_ID=0oa... MCP_OAUTH_OKTA_CLIENT_SECRET=... \
//!   cargo run --example presets
//! ```
//!
//! | `PROVIDER` | required | optional |
//! |---|---|---|
//! | `okta` | `MCP_OAUTH_OKTA_DOMAIN`, `..._CLIENT_ID` | `..._AUTH_SERVER` (`default`), `..._AUDIENCE` (`api://default`), `..._GROUPS_CLAIM` (`groups`), `..._CLIENT_SECRET`, `..._SCOPES` |
//! | `entra` | `MCP_OAUTH_ENTRA_TENANT_ID`, `..._CLIENT_ID` | `..._APP_ID_URI`, `..._CLIENT_SECRET`, `..._SCOPES`, `..._AUTHORITY` |
//! | `cognito` | `MCP_OAUTH_COGNITO_REGION`, `..._USER_POOL_ID`, `..._CLIENT_ID` | `..._CLIENT_SECRET`, `..._SCOPES`, `..._AUDIENCE`, `..._ENDPOINT` |
//! | `zitadel` | `MCP_OAUTH_ZITADEL_ISSUER`, `..._PROJECT_ID`, `..._CLIENT_ID` | `..._CLIENT_SECRET`, `..._SCOPES` |
//! | `clerk` | `MCP_OAUTH_CLERK_FRONTEND_API` | `..._AUDIENCE`, `..._CLIENT_ID`, `..._CLIENT_SECRET`, `..._SCOPES` |
//! | `descope` | `MCP_OAUTH_DESCOPE_ISSUER` | `..._AUDIENCE`, `..._CLIENT_ID`, `..._CLIENT_SECRET`, `..._SCOPES` |
//! | `better_auth` | `MCP_OAUTH_BETTER_AUTH_ISSUER` | `..._AUDIENCE`, `..._CLIENT_ID`, `..._CLIENT_SECRET`, `..._SCOPES` |
//! | `google` | `MCP_OAUTH_GOOGLE_CLIENT_ID`, `..._CLIENT_SECRET` | `..._SCOPES`, `..._TOKENINFO_URL` |
//! | `github` | `MCP_OAUTH_GITHUB_CLIENT_ID`, `..._CLIENT_SECRET` | `..._SCOPES`, `..._WEB_URL`, `..._API_URL` (GitHub Enterprise Server) |
//! | `scalekit` | `MCP_OAUTH_SCALEKIT_ENVIRONMENT_URL`, `..._AUDIENCE` (the resource id) | `..._CLIENT_ID`, `..._CLIENT_SECRET`, `..._SCOPES` |
//!
//! Each provider's page in the API documentation (`mcp_runtime::providers`)
//! says what its tokens must carry and how to set it up. The server is
//! http://127.0.0.1:3000/mcp (`HOST`/`PORT` override; set `MCP_URL` to its
//! public URL behind a proxy). Its tools: `get-user-info` (anyone signed
//! in), `admin-action` (scope `admin`), `manage-users` (scope `admin` or
//! `user:write`).

mod common;

use common::{Variable, secret, var};
use mcp_runtime::prelude::*;
use mcp_runtime::providers::{
    BetterAuth, Clerk, Cognito, Descope, EntraId, GitHub, Google, Okta, Scalekit, Zitadel,
};

/// The variables each provider reads (secrets aside), to print at start.
const VARIABLES: &[(&str, &[&str])] = &[
    (
        "okta",
        &[
            "MCP_OAUTH_OKTA_DOMAIN",
            "MCP_OAUTH_OKTA_CLIENT_ID",
            "MCP_OAUTH_OKTA_AUTH_SERVER",
            "MCP_OAUTH_OKTA_AUDIENCE",
            "MCP_OAUTH_OKTA_GROUPS_CLAIM",
            "MCP_OAUTH_OKTA_SCOPES",
        ],
    ),
    (
        "entra",
        &[
            "MCP_OAUTH_ENTRA_TENANT_ID",
            "MCP_OAUTH_ENTRA_CLIENT_ID",
            "MCP_OAUTH_ENTRA_APP_ID_URI",
            "MCP_OAUTH_ENTRA_AUTHORITY",
            "MCP_OAUTH_ENTRA_SCOPES",
        ],
    ),
    (
        "cognito",
        &[
            "MCP_OAUTH_COGNITO_REGION",
            "MCP_OAUTH_COGNITO_USER_POOL_ID",
            "MCP_OAUTH_COGNITO_CLIENT_ID",
            "MCP_OAUTH_COGNITO_AUDIENCE",
            "MCP_OAUTH_COGNITO_ENDPOINT",
            "MCP_OAUTH_COGNITO_SCOPES",
        ],
    ),
    (
        "zitadel",
        &[
            "MCP_OAUTH_ZITADEL_ISSUER",
            "MCP_OAUTH_ZITADEL_PROJECT_ID",
            "MCP_OAUTH_ZITADEL_CLIENT_ID",
            "MCP_OAUTH_ZITADEL_SCOPES",
        ],
    ),
    (
        "clerk",
        &[
            "MCP_OAUTH_CLERK_FRONTEND_API",
            "MCP_OAUTH_CLERK_AUDIENCE",
            "MCP_OAUTH_CLERK_CLIENT_ID",
            "MCP_OAUTH_CLERK_SCOPES",
        ],
    ),
    (
        "descope",
        &[
            "MCP_OAUTH_DESCOPE_ISSUER",
            "MCP_OAUTH_DESCOPE_AUDIENCE",
            "MCP_OAUTH_DESCOPE_CLIENT_ID",
            "MCP_OAUTH_DESCOPE_SCOPES",
        ],
    ),
    (
        "google",
        &[
            "MCP_OAUTH_GOOGLE_CLIENT_ID",
            "MCP_OAUTH_GOOGLE_SCOPES",
            "MCP_OAUTH_GOOGLE_TOKENINFO_URL",
        ],
    ),
    (
        "github",
        &[
            "MCP_OAUTH_GITHUB_CLIENT_ID",
            "MCP_OAUTH_GITHUB_SCOPES",
            "MCP_OAUTH_GITHUB_WEB_URL",
            "MCP_OAUTH_GITHUB_API_URL",
        ],
    ),
    (
        "scalekit",
        &[
            "MCP_OAUTH_SCALEKIT_ENVIRONMENT_URL",
            "MCP_OAUTH_SCALEKIT_AUDIENCE",
            "MCP_OAUTH_SCALEKIT_CLIENT_ID",
            "MCP_OAUTH_SCALEKIT_SCOPES",
        ],
    ),
    (
        "better_auth",
        &[
            "MCP_OAUTH_BETTER_AUTH_ISSUER",
            "MCP_OAUTH_BETTER_AUTH_AUDIENCE",
            "MCP_OAUTH_BETTER_AUTH_CLIENT_ID",
            "MCP_OAUTH_BETTER_AUTH_SCOPES",
        ],
    ),
];

/// The secret each provider may read.
const SECRETS: &[&str] = &[
    "MCP_OAUTH_OKTA_CLIENT_SECRET",
    "MCP_OAUTH_ENTRA_CLIENT_SECRET",
    "MCP_OAUTH_COGNITO_CLIENT_SECRET",
    "MCP_OAUTH_ZITADEL_CLIENT_SECRET",
    "MCP_OAUTH_CLERK_CLIENT_SECRET",
    "MCP_OAUTH_DESCOPE_CLIENT_SECRET",
    "MCP_OAUTH_BETTER_AUTH_CLIENT_SECRET",
    "MCP_OAUTH_SCALEKIT_CLIENT_SECRET",
    "MCP_OAUTH_GOOGLE_CLIENT_SECRET",
    "MCP_OAUTH_GITHUB_CLIENT_SECRET",
];

/// The variables `provider` reads.
fn variables(provider: &str) -> Vec<Variable> {
    let prefix = format!("MCP_OAUTH_{}_", provider.to_uppercase());
    let mut list = vec![var("PROVIDER")];
    for (name, names) in VARIABLES {
        if *name == provider {
            list.extend(names.iter().map(|n| var(n)));
        }
    }
    list.extend(
        SECRETS
            .iter()
            .filter(|s| s.starts_with(&prefix))
            .map(|s| secret(s)),
    );
    list
}

/// The provider `PROVIDER` names, from its variables.
fn provider(name: &str) -> Result<mcp_runtime::auth::Provider, String> {
    let built = match name {
        "okta" => Okta::from_env().and_then(Okta::build),
        "entra" => EntraId::from_env().and_then(EntraId::build),
        "cognito" => Cognito::from_env().and_then(Cognito::build),
        "zitadel" => Zitadel::from_env().and_then(Zitadel::build),
        "clerk" => Clerk::from_env().and_then(Clerk::build),
        "descope" => Descope::from_env().and_then(Descope::build),
        "better_auth" => BetterAuth::from_env().and_then(BetterAuth::build),
        "scalekit" => Scalekit::from_env().and_then(Scalekit::build),
        "google" => Google::from_env().and_then(Google::build),
        "github" => GitHub::from_env().and_then(GitHub::build),
        other => {
            return Err(format!(
                "PROVIDER must name a preset (okta, entra, cognito, zitadel, clerk, descope, better_auth, scalekit, google, github), got `{other}`"
            ));
        }
    };
    built.map_err(|e| e.to_string())
}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    let name = std::env::var("PROVIDER").unwrap_or_default();
    let oauth = OAuth::from_result(provider(name.trim()));
    let builder = McpServer::builder("presets-example", env!("CARGO_PKG_VERSION")).oauth(oauth);
    common::serve("presets", builder, &variables(name.trim())).await
}
