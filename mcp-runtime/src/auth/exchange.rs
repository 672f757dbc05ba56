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
use super::{AccessToken, Auth, Exchange, ExchangeError, ExchangeStyle, ExchangedToken, Secret};
use crate::state::Values;
use aws_lc_rs::aead::LessSafeKey;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// An exchanged token is kept until this long before it expires.
const MARGIN: u64 = 30;

/// Longest answer read from the token endpoint.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

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
    /// Names kept tokens: without the secret, nobody can tell whose a
    /// name is, or make one.
    names: aws_lc_rs::hmac::Key,
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
        let http = super::credential_client(Duration::from_secs(10));
        let root = secret.map_or_else(
            || crate::random::random_bytes::<32>().to_vec(),
            <[u8]>::to_vec,
        );
        let names_key = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &root),
            b"mcp token exchange: names",
        );
        let names = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, names_key.as_ref());
        let seal = super::sealed::key(&root, b"mcp token exchange: sealing");
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
            names,
            issuer: issuer.to_owned(),
        }
    }

    /// A token for `audience` with `scopes`, on behalf of `caller`.
    async fn exchange_for(
        &self,
        caller: &Auth,
        audience: &str,
        scopes: &[&str],
    ) -> Result<ExchangedToken, ExchangeError> {
        let route = self
            .route
            .as_ref()
            .map_err(|why| ExchangeError::Unsupported(why.clone()))?;
        if [audience].iter().chain(scopes).any(|s| {
            s.is_empty() || s.len() > 1024 || s.chars().any(|c| c.is_whitespace() || c.is_control())
        }) {
            return Err(ExchangeError::Unsupported(
                "the audience and each scope must be one non-empty word".into(),
            ));
        }
        // What a kept token is for: the caller (their client and what
        // their token grants, so a narrower token of theirs never gets a
        // wider one's) and what was asked.
        let material = self.material(caller, audience, scopes);
        let name = self.name(&material);
        // A cache: one that cannot be read is asked again.
        if let Ok(Some(sealed)) = self.values.get(&name).await
            && let Some(token) = self.open(&sealed, &material)
        {
            return Ok(token);
        }
        let token = self.ask(route, caller, audience, scopes).await?;
        let now = jsonwebtoken::get_current_timestamp();
        // Never kept past the caller's own token, nor past a day.
        let until = token
            .expires_at
            .map(|exp| exp.min(caller.expires_at.unwrap_or(u64::MAX)));
        if let Some(left) = until.map(|exp| exp.saturating_sub(now.saturating_add(MARGIN)))
            && left > 0
            && let Some(sealed) = self.seal(&token, &material)
        {
            let _ = self
                .values
                .put(&name, &sealed, Duration::from_secs(left.min(86_400)))
                .await;
        }
        Ok(token)
    }

    /// The name a token kept for `material` goes under.
    fn name(&self, material: &[u8]) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.names, material);
        let hex: String = tag.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("x:{hex}")
    }

    /// The fields a kept token is bound to, each prefixed with its length.
    fn material(&self, caller: &Auth, audience: &str, scopes: &[&str]) -> Vec<u8> {
        let mut asked: Vec<&str> = scopes.to_vec();
        asked.sort_unstable();
        let mut granted: Vec<&str> = caller.scopes.iter().map(String::as_str).collect();
        granted.sort_unstable();
        let fields = [
            self.issuer.as_str(),
            caller.user.user_id.as_str(),
            caller.client_id.as_deref().unwrap_or(""),
            &granted.join(" "),
            audience,
            &asked.join(" "),
        ];
        let mut material = Vec::new();
        for field in fields {
            material.extend_from_slice(&(field.len() as u64).to_be_bytes());
            material.extend_from_slice(field.as_bytes());
        }
        material
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
            TokenEndpoint::Discovered(discovery) => {
                let url = discovery
                    .discovered()
                    .await
                    .map_err(ExchangeError::Unavailable)?
                    .token_endpoint
                    .ok_or_else(|| {
                        ExchangeError::Unsupported(
                            "the provider's discovery document names no token endpoint".into(),
                        )
                    })?;
                // The client secret and the caller's token go there.
                if !url::Url::parse(&url).is_ok_and(|u| super::is_secure_url(&u)) {
                    return Err(ExchangeError::Unsupported(
                        "the provider's discovery document names a token endpoint that is not https"
                            .into(),
                    ));
                }
                url
            }
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
                // Entra names the downstream API through the scopes: a bare
                // one (`read`) is the audience's.
                let api = audience.trim_end_matches('/');
                let scope = if scopes.is_empty() {
                    format!("{api}/.default")
                } else {
                    scopes
                        .iter()
                        .map(|s| {
                            if s.contains('/') {
                                (*s).to_owned()
                            } else {
                                format!("{api}/{s}")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
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
                .map(|s| jsonwebtoken::get_current_timestamp().saturating_add(s));
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

    /// `token` sealed, bound to `material` (so it opens only as the
    /// token kept for it, wherever it is copied).
    fn seal(&self, token: &ExchangedToken, material: &[u8]) -> Option<String> {
        let kept = Kept {
            access_token: token.access_token.expose().to_owned(),
            token_type: token.token_type.clone(),
            expires_at: token.expires_at,
            scope: token.scope.clone(),
        };
        super::sealed::seal(&self.seal, material, &serde_json::to_vec(&kept).ok()?)
    }

    fn open(&self, sealed: &str, material: &[u8]) -> Option<ExchangedToken> {
        let plain = super::sealed::open(&self.seal, material, sealed)?;
        let kept: Kept = serde_json::from_slice(&plain).ok()?;
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

impl Exchange for TokenExchange {
    fn exchange<'a>(
        &'a self,
        caller: &'a Auth,
        audience: &'a str,
        scopes: &'a [&'a str],
    ) -> super::caller::ExchangeFuture<'a> {
        Box::pin(self.exchange_for(caller, audience, scopes))
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
            .exchange_for(&caller, "api://downstream", &[])
            .await
            .unwrap();
        assert_eq!(token.access_token.expose(), "downstream-token");
        // Kept sealed, and bound to what it was asked for: the state holds
        // no token in the clear, and a copy under another caller's name
        // does not open.
        let material = exchange.material(&caller, "api://downstream", &[]);
        let name = exchange.name(&material);
        let kept = state.values.get(&name).await.unwrap().unwrap();
        assert!(!kept.contains("downstream-token"));
        assert_eq!(
            exchange
                .open(&kept, &material)
                .unwrap()
                .access_token
                .expose(),
            "downstream-token"
        );
        let other = serde_json::json!({"sub": "u2"});
        let other = Auth::from_claims("t", other.as_object().unwrap().clone());
        let theirs = exchange.material(&other, "api://downstream", &[]);
        assert!(exchange.open(&kept, &theirs).is_none());
        // A refusal comes back with the provider's error.
        let refused = exchange
            .exchange_for(&caller, "api://downstream", &["x"])
            .await;
        assert!(
            matches!(&refused, Err(ExchangeError::Refused { error, .. }) if error == "invalid_request"),
            "{refused:?}"
        );
    }
}
