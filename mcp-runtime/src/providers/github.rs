//! GitHub: its access tokens are not JWTs, so each is checked with GitHub's
//! check-a-token API (`POST /applications/{client_id}/token`, with the
//! OAuth app's id and secret), which answers only for tokens of that app:
//! a token of another app is unknown there. The answer gives the account
//! (its numeric `id` as the caller's id, `login` as the user name, the
//! avatar) and the token's scopes. A verdict is remembered for a minute at
//! most. GitHub registers no MCP client on its own, so sign-ins go through
//! this server (proxy mode) with the OAuth app made for it; GitHub
//! Enterprise Server is reached by its own web and API URLs.

use super::{ConfigError, Var, text};
use crate::auth::remote_check::{
    CheckFuture, RemoteCheck, RemoteVerifier, answer, status_error, unreachable,
};
use crate::auth::{IntoOAuth, Mode, OAuth, Provider, Secret, Verification};
use serde_json::{Map, Value};
use std::sync::Arc;

const CLIENT_ID: Var = Var::new("MCP_OAUTH_GITHUB_CLIENT_ID", "Iv1.0123456789abcdef");
const CLIENT_SECRET: Var = Var::new("MCP_OAUTH_GITHUB_CLIENT_SECRET", "<the app's secret>");
const SCOPES: Var = Var::new("MCP_OAUTH_GITHUB_SCOPES", "read:user user:email");
const WEB_URL: Var = Var::new("MCP_OAUTH_GITHUB_WEB_URL", "https://github.com");
const API_URL: Var = Var::new("MCP_OAUTH_GITHUB_API_URL", "https://api.github.com");

/// GitHub (an OAuth app), in proxy mode.
///
/// ```
/// use mcp_runtime::providers::GitHub;
/// let provider = GitHub::new("Iv1.0123456789abcdef", "secret")
///     .build()
///     .expect("valid settings");
/// assert_eq!(provider.issuer(), "https://github.com");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct GitHub {
    client_id: String,
    client_secret: Secret,
    scopes: Vec<String>,
    web_url: String,
    api_url: String,
}

impl GitHub {
    /// The OAuth app made for this server: its client id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            scopes: vec!["read:user".into(), "user:email".into()],
            web_url: WEB_URL.example.to_owned(),
            api_url: API_URL.example.to_owned(),
        }
    }

    /// From `MCP_OAUTH_GITHUB_CLIENT_ID` and `..._CLIENT_SECRET` (required),
    /// and the optional `..._SCOPES`, `..._WEB_URL` and `..._API_URL`
    /// (GitHub Enterprise Server: `https://{host}` and `https://{host}/api/v3`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut github = Self::new(CLIENT_ID.require()?, CLIENT_SECRET.require()?);
        if let Some(scopes) = SCOPES.get() {
            github.scopes = scopes.split_whitespace().map(str::to_owned).collect();
        }
        if let Some(url) = WEB_URL.get() {
            github.web_url = url;
        }
        if let Some(url) = API_URL.get() {
            github.api_url = url;
        }
        Ok(github)
    }

    /// Scopes to publish in the discovery metadata (default `read:user
    /// user:email`).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// GitHub Enterprise Server: its web URL and its API URL.
    pub fn enterprise(mut self, web_url: impl Into<String>, api_url: impl Into<String>) -> Self {
        self.web_url = web_url.into();
        self.api_url = api_url.into();
        self
    }

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let web = text(&WEB_URL.url_from(&self.web_url)?);
        let api = text(&API_URL.url_from(&self.api_url)?);
        let id = self.client_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
            return Err(CLIENT_ID.invalid("must be the OAuth app's client id"));
        }
        let check = CheckToken {
            url: format!("{api}/applications/{id}/token"),
            issuer: web.clone(),
            client_id: id.to_owned(),
            client_secret: self.client_secret.clone(),
        };
        let verifier = Arc::new(RemoteVerifier::new(check));
        let mut provider = Provider::new("github", web.clone(), Verification::Hook(verifier));
        provider.authorization_endpoint = Some(format!("{web}/login/oauth/authorize"));
        provider.token_endpoint = Some(format!("{web}/login/oauth/access_token"));
        provider.scopes_supported = self.scopes;
        provider.mode = Mode::Proxy;
        provider.client_id = Some(id.to_owned());
        provider.client_secret = Some(self.client_secret);
        Ok(provider)
    }
}

impl IntoOAuth for GitHub {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}

/// Asks GitHub's check-a-token API.
struct CheckToken {
    url: String,
    /// The GitHub the accounts are of: its web URL.
    issuer: String,
    client_id: String,
    client_secret: Secret,
}

impl RemoteCheck for CheckToken {
    fn check<'a>(&'a self, http: &'a reqwest::Client, token: &'a str) -> CheckFuture<'a> {
        Box::pin(async move {
            let response = http
                .post(&self.url)
                .basic_auth(&self.client_id, Some(self.client_secret.expose()))
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                .header("user-agent", "mcp-runtime")
                .json(&serde_json::json!({ "access_token": token }))
                .send()
                .await
                .map_err(|e| unreachable(&e))?;
            if !response.status().is_success() {
                // 404: not a token of this app; 422: not a token at all.
                return Err(status_error(response.status(), &[404, 422]));
            }
            let answer: Value = answer(response).await?;
            let user = &answer["user"];
            let id = match &user["id"] {
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(crate::auth::AuthError::InvalidToken(
                        "the token names no account".into(),
                    ));
                }
            };
            let scopes: Vec<&str> = answer["scopes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let mut claims = Map::new();
            claims.insert("sub".into(), Value::String(id));
            claims.insert("scope".into(), Value::String(scopes.join(" ")));
            claims.insert("client_id".into(), Value::String(self.client_id.clone()));
            claims.insert("iss".into(), Value::String(self.issuer.clone()));
            for (from, to) in [("login", "username"), ("avatar_url", "picture")] {
                if let Some(value) = user[from].as_str() {
                    claims.insert(to.into(), Value::String(value.to_owned()));
                }
            }
            // `expires_at` (RFC 3339) only for expiring tokens: the verdict
            // is then kept no longer than a minute anyway.
            Ok(claims)
        })
    }
}
