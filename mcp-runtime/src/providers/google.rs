//! Google: its access tokens are not JWTs, so each is checked with
//! Google's token-information endpoint (`https://oauth2.googleapis.com/tokeninfo`,
//! the token sent in a form body, never in a URL), which says whom it was
//! issued to (`aud`, which must be this server's client), the account
//! (`sub`), the scopes, the expiry and, with the email scope, the address.
//! A verdict is remembered for a minute at most. Google registers no MCP
//! client on its own, so sign-ins go through this server (proxy mode) with
//! the OAuth client made for it in the Google Cloud console.

use super::{ConfigError, Var};
use crate::auth::remote_check::{
    CheckFuture, RemoteCheck, RemoteVerifier, answer, status_error, unreachable,
};
use crate::auth::{AuthError, IntoOAuth, Mode, OAuth, Provider, Secret, Verification};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Google's issuer, which its tokens' callers are named under.
const ISSUER: &str = "https://accounts.google.com";
const CLIENT_ID: Var = Var::new(
    "MCP_OAUTH_GOOGLE_CLIENT_ID",
    "1234567890-abc.apps.googleusercontent.com",
);
const CLIENT_SECRET: Var = Var::new("MCP_OAUTH_GOOGLE_CLIENT_SECRET", "<the client's secret>");
const SCOPES: Var = Var::new("MCP_OAUTH_GOOGLE_SCOPES", "openid email profile");
const TOKENINFO_URL: Var = Var::new(
    "MCP_OAUTH_GOOGLE_TOKENINFO_URL",
    "https://oauth2.googleapis.com/tokeninfo",
);

/// Google, in proxy mode.
///
/// ```
/// use mcp_runtime::providers::Google;
/// let provider = Google::new("1234567890-abc.apps.googleusercontent.com", "secret")
///     .build()
///     .expect("valid settings");
/// assert_eq!(provider.issuer(), "https://accounts.google.com");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Google {
    client_id: String,
    client_secret: Secret,
    scopes: Vec<String>,
    tokeninfo_url: String,
}

impl Google {
    /// The OAuth client made for this server, and its secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            tokeninfo_url: TOKENINFO_URL.example.to_owned(),
        }
    }

    /// From `MCP_OAUTH_GOOGLE_CLIENT_ID` and `..._CLIENT_SECRET` (required),
    /// and the optional `..._SCOPES` and `..._TOKENINFO_URL`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut google = Self::new(CLIENT_ID.require()?, CLIENT_SECRET.require()?);
        if let Some(scopes) = SCOPES.get() {
            google.scopes = scopes.split_whitespace().map(str::to_owned).collect();
        }
        if let Some(url) = TOKENINFO_URL.get() {
            google.tokeninfo_url = url;
        }
        Ok(google)
    }

    /// Scopes to publish in the discovery metadata (default `openid email
    /// profile`).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let tokeninfo = super::text(&TOKENINFO_URL.url_from(&self.tokeninfo_url)?);
        if self.client_id.trim().is_empty() {
            return Err(CLIENT_ID.invalid("must not be empty"));
        }
        let check = TokenInfo {
            url: tokeninfo,
            client_id: self.client_id.clone(),
        };
        let verifier = Arc::new(RemoteVerifier::new(check));
        let mut provider = Provider::new("google", ISSUER, Verification::Hook(verifier));
        provider.authorization_endpoint =
            Some("https://accounts.google.com/o/oauth2/v2/auth".to_owned());
        provider.token_endpoint = Some("https://oauth2.googleapis.com/token".to_owned());
        provider.scopes_supported = self.scopes;
        provider.mode = Mode::Proxy;
        provider.client_id = Some(self.client_id);
        provider.client_secret = Some(self.client_secret);
        Ok(provider)
    }
}

impl IntoOAuth for Google {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}

/// Asks Google's token-information endpoint.
struct TokenInfo {
    url: String,
    client_id: String,
}

impl RemoteCheck for TokenInfo {
    fn check<'a>(&'a self, http: &'a reqwest::Client, token: &'a str) -> CheckFuture<'a> {
        Box::pin(async move {
            let response = http
                .post(&self.url)
                .form(&[("access_token", token)])
                .send()
                .await
                .map_err(|e| unreachable(&e))?;
            if !response.status().is_success() {
                // 400: an unknown, revoked or expired token.
                return Err(status_error(response.status(), &[400, 401]));
            }
            let info: Map<String, Value> = answer(response).await?;
            let text = |key: &str| info.get(key).and_then(Value::as_str).map(str::to_owned);
            // The token must have been issued to this server's client (and
            // presented by it, when Google says who presented it).
            let ours = |key: &str| text(key).as_deref() == Some(self.client_id.as_str());
            if !ours("aud") || (info.contains_key("azp") && !ours("azp")) {
                return Err(AuthError::InvalidToken(
                    "the token was not issued for this server (its client is another)".into(),
                ));
            }
            let mut claims = Map::new();
            for key in ["sub", "scope"] {
                if let Some(value) = text(key) {
                    claims.insert(key.to_owned(), Value::String(value));
                }
            }
            // An address Google has not verified names no one.
            if text("email_verified").as_deref() == Some("true")
                && let Some(email) = text("email")
            {
                claims.insert("email".into(), Value::String(email));
            }
            claims.insert("iss".into(), Value::String(ISSUER.to_owned()));
            if !claims.contains_key("sub") {
                return Err(AuthError::InvalidToken("the token names no account".into()));
            }
            claims.insert("client_id".into(), Value::String(self.client_id.clone()));
            // `exp` comes as a string of seconds.
            if let Some(exp) = text("exp").and_then(|e| e.parse::<u64>().ok()) {
                claims.insert("exp".into(), exp.into());
            }
            Ok(claims)
        })
    }
}
