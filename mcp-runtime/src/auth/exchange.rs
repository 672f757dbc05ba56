//! Tokens for downstream APIs, on the caller's behalf, without passing the
//! MCP token through (which the MCP specification forbids): the caller's
//! token is exchanged at the provider's token endpoint, with this server's
//! client credentials, for one meant for the downstream audience (RFC 8693
//! token exchange; Microsoft Entra's on-behalf-of flow for Entra).
//!
//! An exchanged token is kept, sealed, in the shared state (on Redis,
//! every replica's) per issuer, subject, audience and scopes until shortly
//! before it expires, so a busy tool does not exchange on every call.

use super::issuer_discovery::IssuerDiscovery;
use super::{AccessToken, Auth, Secret};
use crate::state::Values;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// An exchanged token is kept until this long before it expires.
const MARGIN: u64 = 30;

/// Longest answer read from the token endpoint.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// How a provider exchanges tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExchangeStyle {
    /// RFC 8693 (`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`):
    /// Keycloak's standard token exchange, Okta, Zitadel, Descope, any
    /// OpenID provider that offers it.
    Rfc8693,
    /// Microsoft Entra's on-behalf-of flow (`jwt-bearer` with
    /// `requested_token_use=on_behalf_of`).
    EntraOnBehalfOf,
}

/// A token for a downstream API.
#[derive(Debug, Clone)]
pub struct ExchangedToken {
    /// The token (redacted in `Debug`).
    pub access_token: AccessToken,
    /// Its type, as the provider says (`Bearer`).
    pub token_type: String,
    /// When it expires (seconds since the Unix epoch), if the provider said.
    pub expires_at: Option<u64>,
    /// The scopes it grants, if the provider said.
    pub scope: Option<String>,
}

/// Why no token could be had for the downstream API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// This server cannot exchange tokens: the provider has no token
    /// exchange, or this server has no client credentials for it.
    #[error("token exchange is not available: {0}")]
    Unsupported(String),
    /// The provider refused (its OAuth error code and description).
    #[error("the identity provider refused the exchange: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The OAuth error code (`invalid_target`, `invalid_grant`, ...).
        error: String,
        /// Its description, if any.
        description: Option<String>,
    },
    /// The provider (or the shared state) could not be asked now.
    #[error("the token exchange could not be made now: {0}")]
    Unavailable(String),
}

/// Where the provider's token endpoint is.
pub(crate) enum TokenEndpoint {
    Fixed(String),
    Discovered(Arc<IssuerDiscovery>),
}

/// A server's way to exchange its callers' tokens.
pub(crate) struct TokenExchange {
    route: Result<Route, String>,
    http: reqwest::Client,
    values: Arc<dyn Values>,
    seal: LessSafeKey,
    issuer: String,
}

struct Route {
    style: ExchangeStyle,
    endpoint: TokenEndpoint,
    client_id: String,
    client_secret: Secret,
}

impl std::fmt::Debug for TokenExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchange").finish_non_exhaustive()
    }
}

/// The cached form of an exchanged token.
#[derive(Serialize, Deserialize)]
struct Kept {
    access_token: String,
    token_type: String,
    expires_at: Option<u64>,
    scope: Option<String>,
}

impl TokenExchange {
    /// The exchange of `issuer`'s tokens in `style` at `endpoint` as the
    /// client `client_id`, or, with `route` an error, why there is none.
    /// Kept tokens go to `values`, sealed with a key derived from `secret`
    /// (the replicas' shared secret; else one drawn at start).
    pub(crate) fn new(
        issuer: &str,
        route: Result<(ExchangeStyle, TokenEndpoint, String, Secret), String>,
        values: Arc<dyn Values>,
        secret: Option<&[u8]>,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let key = match secret {
            Some(secret) => {
                let mut material = b"mcp token exchange cache\n".to_vec();
                material.extend_from_slice(secret);
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &material);
                let mut key = [0u8; 32];
                key.copy_from_slice(digest.as_ref());
                key
            }
            None => crate::random::random_bytes::<32>(),
        };
        let seal = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &key).unwrap_or_else(|_| unreachable!("a 32-byte key")),
        );
        Self {
            route: route.map(|(style, endpoint, client_id, client_secret)| Route {
                style,
                endpoint,
                client_id,
                client_secret,
            }),
            http,
            values,
            seal,
            issuer: issuer.to_owned(),
        }
    }

    /// A token for `audience` with `scopes`, on behalf of `caller`.
    pub(crate) async fn exchange(
        &self,
        caller: &Auth,
        audience: &str,
        scopes: &[&str],
    ) -> Result<ExchangedToken, ExchangeError> {
        let route = self
            .route
            .as_ref()
            .map_err(|why| ExchangeError::Unsupported(why.clone()))?;
        let mut sorted: Vec<&str> = scopes.to_vec();
        sorted.sort_unstable();
        let key = crate::operations::fingerprint(
            &format!(
                "{}\n{}\n{audience}\n{}",
                self.issuer,
                caller.user.user_id,
                sorted.join(" ")
            ),
            16,
        );
        let kept =
            self.values.get(&format!("x:{key}")).await.map_err(|_| {
                ExchangeError::Unavailable("the shared state cannot be reached".into())
            })?;
        if let Some(token) = kept.and_then(|sealed| self.open(&sealed)) {
            return Ok(token);
        }
        let token = self.ask(route, caller, audience, scopes).await?;
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(left) = token.expires_at.map(|exp| exp.saturating_sub(now + MARGIN))
            && left > 0
            && let Some(sealed) = self.seal(&token)
        {
            // A cache: a token not kept is exchanged again next time.
            let _ = self
                .values
                .put(&format!("x:{key}"), &sealed, Duration::from_secs(left))
                .await;
        }
        Ok(token)
    }

    async fn ask(
        &self,
        route: &Route,
        caller: &Auth,
        audience: &str,
        scopes: &[&str],
    ) -> Result<ExchangedToken, ExchangeError> {
        let endpoint = match &route.endpoint {
            TokenEndpoint::Fixed(url) => url.clone(),
            TokenEndpoint::Discovered(discovery) => discovery
                .discovered()
                .await
                .map_err(ExchangeError::Unavailable)?
                .token_endpoint
                .ok_or_else(|| {
                    ExchangeError::Unsupported(
                        "the provider's discovery document names no token endpoint".into(),
                    )
                })?,
        };
        let scope = scopes.join(" ");
        let subject = caller.access_token.expose();
        let request = match route.style {
            ExchangeStyle::Rfc8693 => {
                let mut form = vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:token-exchange",
                    ),
                    ("subject_token", subject),
                    (
                        "subject_token_type",
                        "urn:ietf:params:oauth:token-type:access_token",
                    ),
                    (
                        "requested_token_type",
                        "urn:ietf:params:oauth:token-type:access_token",
                    ),
                    ("audience", audience),
                ];
                if !scope.is_empty() {
                    form.push(("scope", &scope));
                }
                self.http
                    .post(&endpoint)
                    .basic_auth(
                        form_encoded(&route.client_id),
                        Some(form_encoded(route.client_secret.expose())),
                    )
                    .form(&form)
            }
            ExchangeStyle::EntraOnBehalfOf => {
                // Entra names the downstream API through the scopes.
                let scope = if scope.is_empty() {
                    format!("{}/.default", audience.trim_end_matches('/'))
                } else {
                    scope.clone()
                };
                self.http.post(&endpoint).form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("client_id", route.client_id.as_str()),
                    ("client_secret", route.client_secret.expose()),
                    ("assertion", subject),
                    ("scope", scope.as_str()),
                    ("requested_token_use", "on_behalf_of"),
                ])
            }
        };
        let response = request
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                ExchangeError::Unavailable(format!(
                    "the token endpoint: {}",
                    super::jwks::without_url(&e)
                ))
            })?;
        let status = response.status();
        let body = super::read_bounded(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|_| ExchangeError::Unavailable("the token endpoint's answer".into()))?;
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let text = |key: &str| answer.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        if status.is_success()
            && let Some(token) = text("access_token")
        {
            let expires_at = answer
                .get("expires_in")
                .and_then(serde_json::Value::as_u64)
                .map(|s| jsonwebtoken::get_current_timestamp() + s);
            return Ok(ExchangedToken {
                access_token: AccessToken::new(token),
                token_type: text("token_type").unwrap_or_else(|| "Bearer".into()),
                expires_at,
                scope: text("scope"),
            });
        }
        match text("error") {
            Some(error) if status.is_client_error() => Err(ExchangeError::Refused {
                // Bounded and printable: it is shown to whoever asked.
                error: printable(&error),
                description: text("error_description").map(|d| printable(&d)),
            }),
            _ => Err(ExchangeError::Unavailable(format!(
                "the token endpoint answered {status}"
            ))),
        }
    }

    fn seal(&self, token: &ExchangedToken) -> Option<String> {
        use base64::Engine as _;
        let kept = Kept {
            access_token: token.access_token.expose().to_owned(),
            token_type: token.token_type.clone(),
            expires_at: token.expires_at,
            scope: token.scope.clone(),
        };
        let mut data = serde_json::to_vec(&kept).ok()?;
        let nonce = crate::random::random_bytes::<NONCE_LEN>();
        self.seal
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
    }

    fn open(&self, sealed: &str) -> Option<ExchangedToken> {
        use base64::Engine as _;
        let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed)
            .ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let mut data = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).ok()?;
        let plain = self
            .seal
            .open_in_place(nonce, Aad::empty(), &mut data)
            .ok()?;
        let kept: Kept = serde_json::from_slice(plain).ok()?;
        let now = jsonwebtoken::get_current_timestamp();
        if kept.expires_at.is_none_or(|exp| exp <= now + MARGIN) {
            return None;
        }
        Some(ExchangedToken {
            access_token: AccessToken::new(kept.access_token),
            token_type: kept.token_type,
            expires_at: kept.expires_at,
            scope: kept.scope,
        })
    }
}

/// RFC 6749 §2.3.1: both halves form-encoded before Basic.
fn form_encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn printable(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::SharedState;

    /// A token endpoint that answers only Entra's on-behalf-of request, as
    /// Microsoft documents it.
    fn entra_endpoint() -> String {
        use actix_web::{HttpResponse, web};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/tenant/oauth2/v2.0/token",
            listener.local_addr().unwrap()
        );
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                actix_web::HttpServer::new(|| {
                    actix_web::App::new().route(
                        "/tenant/oauth2/v2.0/token",
                        web::post().to(|form: web::Form<std::collections::HashMap<String, String>>| async move {
                            let field = |k: &str| form.get(k).map(String::as_str);
                            let obo = field("grant_type") == Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
                                && field("requested_token_use") == Some("on_behalf_of")
                                && field("assertion") == Some("the-callers-token")
                                && field("client_id") == Some("api-client")
                                && field("client_secret") == Some("api-secret")
                                && field("scope") == Some("api://downstream/.default");
                            if obo {
                                HttpResponse::Ok().json(serde_json::json!({
                                    "token_type": "Bearer", "access_token": "downstream-token",
                                    "expires_in": 3599, "scope": "api://downstream/.default"}))
                            } else {
                                HttpResponse::BadRequest().json(serde_json::json!({
                                    "error": "invalid_request", "error_description": "not an OBO request"}))
                            }
                        }),
                    )
                })
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
            })
        });
        url
    }

    #[actix_web::test]
    async fn entra_is_asked_on_behalf_of_the_caller_and_the_answer_kept_sealed() {
        let state = SharedState::memory(Duration::from_secs(60), 10);
        let exchange = TokenExchange::new(
            "https://login.microsoftonline.com/tenant/v2.0",
            Ok((
                ExchangeStyle::EntraOnBehalfOf,
                TokenEndpoint::Fixed(entra_endpoint()),
                "api-client".into(),
                Secret::new("api-secret"),
            )),
            Arc::clone(&state.values),
            Some(b"a shared secret of at least thirty-two bytes"),
        );
        let claims = serde_json::json!({"sub": "u1"});
        let caller = Auth::from_claims("the-callers-token", claims.as_object().unwrap().clone());
        let token = exchange
            .exchange(&caller, "api://downstream", &[])
            .await
            .unwrap();
        assert_eq!(token.access_token.expose(), "downstream-token");
        // Kept sealed: the state holds no token in the clear.
        let key = crate::operations::fingerprint(
            "https://login.microsoftonline.com/tenant/v2.0\nu1\napi://downstream\n",
            16,
        );
        let kept = state
            .values
            .get(&format!("x:{key}"))
            .await
            .unwrap()
            .unwrap();
        assert!(!kept.contains("downstream-token"));
        assert_eq!(
            exchange.open(&kept).unwrap().access_token.expose(),
            "downstream-token"
        );
        // A refusal comes back with the provider's error.
        let refused = exchange.exchange(&caller, "api://downstream", &["x"]).await;
        assert!(
            matches!(&refused, Err(ExchangeError::Refused { error, .. }) if error == "invalid_request"),
            "{refused:?}"
        );
    }
}
