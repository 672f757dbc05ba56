//! An MCP server whose callers bring opaque access tokens, checked with the
//! identity provider's RFC 7662 introspection endpoint.
//!
//! ```text
//! OAUTH_ISSUER=https://id.example.com \
//! INTROSPECTION_URL=https://id.example.com/token/introspection \
//! INTROSPECTION_CLIENT_ID=mcp-server INTROSPECTION_CLIENT_SECRET=... \
//! cargo run --example introspection
//! ```
//!
//! The server is http://127.0.0.1:3000/mcp (`HOST`/`PORT` override; set
//! `MCP_URL` to its public URL behind a proxy): tokens must be introspected
//! as active, issued by `OAUTH_ISSUER`, and (when they carry an audience)
//! issued for that URL. `IntrospectionVerifier` below is meant to be copied:
//! any `TokenVerifier` plugs into `CustomProvider::verify_with`.

use mcp_runtime::auth::{AuthError, CustomProvider, TokenVerifier, VerifyFuture};
use mcp_runtime::prelude::*;
use serde_json::{Map, Value};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Longest token sent to the provider: real access tokens are a few KiB at most.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What the server needs to know, from the environment.
#[derive(Debug, Clone)]
struct Config {
    /// `OAUTH_ISSUER`: the authorization server, published in the metadata
    /// and required in `iss` when the introspection response names one.
    issuer: String,
    /// `INTROSPECTION_URL`: the RFC 7662 endpoint.
    introspection_url: String,
    /// `INTROSPECTION_CLIENT_ID` / `INTROSPECTION_CLIENT_SECRET`: this
    /// server's credentials at that endpoint (HTTP Basic).
    client_id: String,
    client_secret: String,
    /// This server's canonical URL: the audience its tokens must name.
    resource: String,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        let required = |name: &str, what: &str| match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
            _ => Err(format!(
                "the environment variable {name} is not set: it must hold {what}"
            )),
        };
        let issuer = required(
            "OAUTH_ISSUER",
            "the authorization server's issuer URL, e.g. https://id.example.com",
        )?;
        let introspection_url = required(
            "INTROSPECTION_URL",
            "the RFC 7662 introspection endpoint, e.g. https://id.example.com/token/introspection",
        )?;
        let client_id = required(
            "INTROSPECTION_CLIENT_ID",
            "the client id this server authenticates with at the introspection endpoint",
        )?;
        let client_secret = required(
            "INTROSPECTION_CLIENT_SECRET",
            "the client secret this server authenticates with at the introspection endpoint",
        )?;
        Ok(Self {
            issuer,
            introspection_url,
            client_id,
            client_secret,
            resource: resource_url(),
        })
    }
}

/// The MCP endpoint's canonical URL, as the server settles it: `MCP_URL`,
/// else `http://HOST:PORT/mcp`.
fn resource_url() -> String {
    if let Ok(url) = std::env::var("MCP_URL") {
        let url = url.trim().trim_end_matches('/');
        return if url.ends_with("/mcp") {
            url.to_owned()
        } else {
            format!("{url}/mcp")
        };
    }
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let host = match host.as_str() {
        "0.0.0.0" | "::" | "[::]" => "localhost".to_owned(),
        _ => host,
    };
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    format!("http://{host}:{port}/mcp")
}

/// Checks opaque access tokens by asking the provider (RFC 7662).
///
/// Each request costs one round trip to the provider; in production, cache
/// active answers for a short while (keyed by a hash of the token, never
/// longer than its `exp`).
struct IntrospectionVerifier {
    http: reqwest::Client,
    config: Config,
}

impl IntrospectionVerifier {
    fn new(config: Config) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self { http, config }
    }

    async fn introspect(&self, token: &str) -> Result<Auth, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("the token is too large"));
        }
        let response = self
            .http
            .post(&self.config.introspection_url)
            .basic_auth(&self.config.client_id, Some(&self.config.client_secret))
            .header("accept", "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| {
                tracing::warn!("introspection request failed: {e}");
                unavailable()
            })?;
        if !response.status().is_success() {
            // 401 here means this server's own credentials are wrong: an
            // operator's problem, not the caller's.
            tracing::warn!("the introspection endpoint answered {}", response.status());
            return Err(unavailable());
        }
        let claims: Map<String, Value> = response.json().await.map_err(|e| {
            tracing::warn!("the introspection response is not a JSON object: {e}");
            unavailable()
        })?;
        self.check(&claims)?;
        Ok(Auth::from_claims(token, claims))
    }

    /// RFC 7662 section 4: only `active: true` means anything; the rest is
    /// checked as a JWT's claims would be.
    fn check(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        if claims.get("active") != Some(&Value::Bool(true)) {
            return Err(invalid(
                "the token is not active (expired, revoked or unknown)",
            ));
        }
        if let Some(kind) = claims.get("token_type").and_then(Value::as_str)
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(invalid("the token is not a bearer access token"));
        }
        if let Some(issuer) = claims.get("iss")
            && issuer.as_str() != Some(self.config.issuer.as_str())
        {
            return Err(invalid(
                "the token was issued by another authorization server",
            ));
        }
        if let Some(audience) = claims.get("aud") {
            let names_us = match audience {
                Value::String(one) => *one == self.config.resource,
                Value::Array(many) => many
                    .iter()
                    .any(|a| a.as_str() == Some(self.config.resource.as_str())),
                _ => false,
            };
            if !names_us {
                return Err(invalid("the token was not issued for this server"));
            }
        }
        if let Some(exp) = claims.get("exp") {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            if exp.as_u64().is_none_or(|exp| exp <= now) {
                return Err(invalid("the token has expired"));
            }
        }
        Ok(())
    }
}

impl TokenVerifier for IntrospectionVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(self.introspect(token))
    }
}

fn invalid(why: &str) -> AuthError {
    AuthError::InvalidToken(why.to_owned())
}

fn unavailable() -> AuthError {
    AuthError::Unavailable("the token cannot be checked right now; try again shortly".into())
}

/// Loaded by `main` before the server is built.
static CONFIG: OnceLock<Config> = OnceLock::new();

/// The provider: discovery names the issuer, tokens are introspected.
fn introspection() -> CustomProvider {
    let config = CONFIG
        .get()
        .expect("main() loads the configuration before building the server")
        .clone();
    CustomProvider::new(config.issuer.clone())
        .scopes_supported(["tasks:read"])
        .verify_with(IntrospectionVerifier::new(config))
}

struct Tasks;

#[mcp_server(
    name = "introspection-example",
    instructions = "Tools for callers with opaque access tokens.",
    oauth = custom(introspection())
)]
impl Tasks {
    /// Who is calling: the token's subject and the client it was issued to.
    #[mcp_tool(read_only)]
    async fn whoami(auth: &Auth) -> String {
        let user = if auth.user.user_id.is_empty() {
            "(no user: a client's own token)"
        } else {
            auth.user.user_id.as_str()
        };
        format!(
            "user: {user}; client: {}; scopes: {}",
            auth.client_id.as_deref().unwrap_or("(unknown)"),
            auth.scopes.join(" ")
        )
    }

    /// Lists the caller's tasks.
    #[mcp_tool(scopes = "tasks:read", read_only)]
    async fn list_tasks(auth: &Auth) -> String {
        let owner = auth
            .client_id
            .as_deref()
            .unwrap_or(auth.user.user_id.as_str());
        format!("tasks of {owner}: write the report, review the tests")
    }
}

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(why) => {
            eprintln!("introspection example: {why}");
            std::process::exit(2);
        }
    };
    tracing::info!(
        "serving {} with tokens introspected at {}",
        config.resource,
        config.introspection_url
    );
    CONFIG.get_or_init(|| config);
    Tasks.listen().await
}
