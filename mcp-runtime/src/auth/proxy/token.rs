//! `POST /token`: the client's code exchange or refresh, forwarded with the
//! server's client credentials; the provider's answer comes back as it is.
//! A code exchange is forwarded only once the code (see `code.rs`) accepts
//! the client's verifier, redirect URI and client id.

use super::OAuthProxy;
use super::client_document::is_document_id;
use super::code::valid_verifier;
use super::register::Unknown;
use super::respond::{
    bad_request, has_content_type, no_store, oauth_error, query_params, state_unavailable,
    valid_scope,
};
use crate::auth::dev::TokenError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;

/// Largest token request.
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Largest token response relayed from the provider.
const MAX_UPSTREAM_BYTES: usize = 64 * 1024;

impl OAuthProxy {
    pub(super) async fn token(&self, req: HttpRequest, payload: web::Payload) -> HttpResponse {
        if !has_content_type(&req, "application/x-www-form-urlencoded") {
            return bad_request(
                "invalid_request",
                "Content-Type must be application/x-www-form-urlencoded",
            );
        }
        let Ok(Ok(body)) = payload.to_bytes_limited(MAX_REQUEST_BYTES).await else {
            return bad_request("invalid_request", "unreadable request (at most 16 KiB)");
        };
        let Some(params) = std::str::from_utf8(&body).ok().and_then(query_params) else {
            return bad_request("invalid_request", "a form without repeated parameters");
        };
        let get = |name: &str| params.get(name).map(String::as_str);
        // A metadata-document client naming itself here is looked at again
        // (kept, or fetched anew): once its document is gone or no longer
        // names it, its codes are not redeemed (a refresh that names no
        // client is the provider's, or the refresh grant's, to judge).
        if let Some(id) = get("client_id")
            && (self.dev.is_none() || is_document_id(id))
        {
            match self.client_known(id).await {
                Ok(()) => {}
                Err(Unknown::Refused(why)) => {
                    tracing::debug!("proxy: refused a token request: {why}");
                    return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", &why);
                }
                Err(Unknown::Busy) => return state_unavailable(),
            }
        }
        if let Some(dev) = &self.dev {
            return dev_answer(dev.token(&params, basic_credentials(&req)));
        }
        let resource = get("resource");
        if resource.is_some_and(|r| !self.is_our_resource(r)) {
            return bad_request("invalid_target", "tokens are issued only for this server");
        }
        // Known before a single-use code is spent on an exchange that
        // could not be relayed.
        let token_endpoint = match self.upstream.token_endpoint().await {
            Ok(endpoint) => endpoint,
            Err(why) => {
                tracing::warn!("proxy: {why}");
                return unavailable("the identity provider cannot be reached; try again shortly");
            }
        };
        // Only what the grant needs is forwarded; the client's redirect URI
        // is replaced by the one the provider knows, this server's callback.
        let upstream_code: String;
        let mut form: Vec<(&str, &str)> = Vec::with_capacity(6);
        let step = match get("grant_type") {
            Some("refresh_token") => "refresh_rotated",
            _ => "code_redeemed",
        };
        match get("grant_type") {
            Some("authorization_code") => {
                let Some(code) = get("code") else {
                    return bad_request("invalid_request", "code is required");
                };
                let verifier = get("code_verifier");
                if verifier.is_some_and(|v| !valid_verifier(v)) {
                    return bad_request("invalid_request", "code_verifier is malformed");
                }
                // PKCE is checked here, whatever the provider does with it:
                // a code without its verifier is never relayed.
                let checked = self
                    .check_code(code, verifier, get("redirect_uri"), get("client_id"))
                    .await;
                let exchange = match checked {
                    Ok(Ok(exchange)) => exchange,
                    Ok(Err(mismatch)) => {
                        tracing::debug!(?mismatch, "proxy: refused a code exchange");
                        return bad_request("invalid_grant", mismatch.description());
                    }
                    Err(crate::state::Unavailable) => {
                        tracing::warn!(
                            "proxy: the shared state is unavailable; refused a code exchange"
                        );
                        return state_unavailable();
                    }
                };
                upstream_code = exchange.code;
                form.extend([
                    ("grant_type", "authorization_code"),
                    ("code", upstream_code.as_str()),
                    ("code_verifier", exchange.verifier),
                    ("redirect_uri", self.callback_url.as_str()),
                ]);
            }
            Some("refresh_token") => {
                let Some(refresh_token) = get("refresh_token") else {
                    return bad_request("invalid_request", "refresh_token is required");
                };
                form.extend([
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                ]);
                if let Some(scope) = get("scope") {
                    if !valid_scope(scope) {
                        return bad_request("invalid_scope", "scope is malformed");
                    }
                    form.push(("scope", scope));
                }
            }
            None => return bad_request("invalid_request", "grant_type is required"),
            Some(_) => {
                return bad_request(
                    "unsupported_grant_type",
                    "only authorization_code and refresh_token are supported",
                );
            }
        }
        if let Some(resource) = resource {
            form.push(("resource", resource));
        }
        let mut request = self
            .http
            .post(&token_endpoint)
            .header(header::ACCEPT.as_str(), "application/json");
        match &self.client_secret {
            // RFC 6749 §2.3.1: both halves form-encoded before Basic.
            Some(secret) => {
                let encode = |s: &str| -> String {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
                };
                request =
                    request.basic_auth(encode(&self.client_id), Some(encode(secret.expose())));
            }
            None => form.push(("client_id", self.client_id.as_str())),
        }
        let relay = tracing::debug_span!("oauth.token_relay", otel.kind = "client", grant = step);
        let sent = tracing::Instrument::instrument(request.form(&form).send(), relay).await;
        let Ok(response) = sent else {
            tracing::warn!("proxy: the identity provider's token endpoint is unreachable");
            return unavailable("the identity provider could not be reached");
        };
        let status = StatusCode::from_u16(response.status().as_u16())
            .ok()
            .filter(|s| s.is_success() || s.is_client_error() || s.is_server_error());
        let Some(status) = status else {
            tracing::warn!(status = %response.status(), "proxy: unexpected token endpoint status");
            return unavailable("the identity provider answered unexpectedly");
        };
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE.as_str())
            .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
            .unwrap_or_else(|| HeaderValue::from_static("application/json"));
        let Ok(body) = read_upstream(response).await else {
            tracing::warn!("proxy: the identity provider's token answer could not be read");
            return unavailable("the identity provider's answer could not be read");
        };
        // The status only: the body may hold tokens.
        tracing::debug!(%status, "proxy: relayed a token response");
        if status.is_success() {
            crate::operations::audit::sign_in(step, get("client_id"), None);
        }
        let mut response = HttpResponse::build(status).body(body);
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
        no_store(&mut response);
        response
    }
}

/// The dev server's answer as an HTTP response.
fn dev_answer(answer: Result<serde_json::Value, TokenError>) -> HttpResponse {
    match answer {
        Ok(body) => {
            let mut response = HttpResponse::Ok()
                .content_type("application/json")
                .body(body.to_string());
            no_store(&mut response);
            response
        }
        Err(refused) => {
            let status = StatusCode::from_u16(refused.status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = oauth_error(status, refused.error, refused.description);
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"token\""),
                );
            }
            response
        }
    }
}

/// The `Authorization: Basic` client id and secret (RFC 6749 §2.3.1: each
/// form-encoded), if the header is present and well formed.
pub(crate) fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let decode = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((decode(id), decode(secret)))
}

fn unavailable(description: &str) -> HttpResponse {
    oauth_error(
        StatusCode::BAD_GATEWAY,
        "temporarily_unavailable",
        description,
    )
}

async fn read_upstream(response: reqwest::Response) -> Result<Bytes, ()> {
    crate::auth::read_bounded(response, MAX_UPSTREAM_BYTES)
        .await
        .map_err(|_| ())
}

/// Whatever a client sends as `Authorization`, the Basic credentials are
/// read or ignored, never a panic.
#[cfg(test)]
mod properties {
    use super::*;
    use actix_web::test::TestRequest;
    use base64::Engine as _;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn credentials(value: &[u8]) -> Option<(String, String)> {
        let value = HeaderValue::from_bytes(value).ok()?;
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, value))
            .to_http_request();
        basic_credentials(&req)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_header_is_read_or_ignored(bytes in vec(any::<u8>(), 0..256)) {
            let _ = credentials(&bytes);
        }

        #[test]
        fn basic_credentials_round_trip(id in "[a-zA-Z0-9._~-]{0,20}", secret in any::<String>()) {
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{id}:{encoded}"))
            );
            prop_assert_eq!(credentials(value.as_bytes()), Some((id, secret)));
        }

        #[test]
        fn random_basic_payloads_are_read_or_ignored(payload in vec(any::<u8>(), 0..128)) {
            let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(&payload));
            let _ = credentials(value.as_bytes());
        }
    }
}
