//! Small shared pieces of the proxy: parameter parsing, character rules,
//! and the responses it sends.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse};
use serde_json::json;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest scope accepted.
const MAX_SCOPE_BYTES: usize = 2048;

/// Seconds since the Unix epoch.
pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A query or form as a map; `None` if a parameter is repeated (RFC 6749 §3.1).
pub(crate) fn query_params(query: &str) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if params
            .insert(name.into_owned(), value.into_owned())
            .is_some()
        {
            return None;
        }
    }
    Some(params)
}

pub(super) fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// RFC 7636 §4.1 unreserved characters.
pub(super) fn is_pkce_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 6749 VSCHAR.
pub(super) fn is_vschar(b: u8) -> bool {
    (0x20..=0x7e).contains(&b)
}

/// RFC 6749 §3.3: space-separated NQCHAR tokens.
pub(super) fn valid_scope(scope: &str) -> bool {
    scope.len() <= MAX_SCOPE_BYTES
        && scope
            .bytes()
            .all(|b| b == b' ' || (b != b'"' && b != b'\\' && (0x21..=0x7e).contains(&b)))
}

/// RFC 6749 §4.1.2.1: `error` and `error_description` characters.
pub(super) fn valid_error_text(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

pub(super) fn has_content_type(req: &HttpRequest, expected: &str) -> bool {
    req.content_type().eq_ignore_ascii_case(expected)
}

/// `Cache-Control: no-store` (and `Pragma: no-cache`) on anything carrying
/// codes, tokens or client information.
pub(super) fn no_store(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An OAuth error as JSON (RFC 6749 §5.2).
pub(super) fn oauth_error(
    status: StatusCode,
    error: &str,
    description: impl Into<String>,
) -> HttpResponse {
    let body = json!({"error": error, "error_description": description.into()});
    let mut response = HttpResponse::build(status)
        .content_type("application/json")
        .body(body.to_string());
    no_store(&mut response);
    response
}

/// 503 with `Retry-After`: the shared state (registrations, used nonces)
/// cannot be reached, so this step of the sign-in is refused rather than
/// answered from a guess; the user or client tries again shortly.
pub(super) fn state_unavailable() -> HttpResponse {
    let mut response = oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the sign-in service is temporarily unavailable; try again in a moment",
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(crate::state::RETRY_AFTER_SECS),
    );
    response
}

/// 429: a client over its rate limit, told when to come back.
pub(super) fn too_many_requests(retry_after: u64) -> HttpResponse {
    let mut response = oauth_error(
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
        "too many requests from this address; retry later",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// A 400 OAuth error.
pub(super) fn bad_request(error: &str, description: impl Into<String>) -> HttpResponse {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

/// An authorization error before the redirect URI is trusted: shown to the
/// user agent, never redirected (RFC 6749 §4.1.2.1).
pub(super) fn untrusted_error(description: &str) -> HttpResponse {
    bad_request("invalid_request", description)
}

/// A 302 to `location`, which must not be cached or leak through `Referer`.
pub(super) fn redirect(location: &str) -> HttpResponse {
    let Ok(location) = HeaderValue::from_str(location) else {
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the redirect could not be built",
        );
    };
    let mut response = HttpResponse::Found().finish();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    no_store(&mut response);
    response
}

/// Browser clients call `/register` and `/token` from other origins; neither
/// uses cookies, so any origin may read the answer.
pub(super) fn with_cors(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// The answer to a CORS preflight of `/register` or `/token`.
pub(super) fn preflight() -> HttpResponse {
    let mut response = with_cors(HttpResponse::NoContent().finish());
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, authorization, mcp-protocol-version"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

pub(super) fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut response = oauth_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "method not allowed",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// Whatever a client puts in a query, a form or a Basic header, the proxy
/// reads it or refuses it without a panic, and a repeated parameter is
/// always refused (RFC 6749 §3.1).
#[cfg(test)]
mod properties {
    use super::super::register::{check_allowed_redirect_uri, check_registered_redirect_uri};
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_query_is_read_or_refused(bytes in vec(any::<u8>(), 0..256)) {
            let query = String::from_utf8_lossy(&bytes);
            let read = query_params(&query);
            let names: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
                .map(|(name, _)| name.into_owned())
                .collect();
            let distinct: std::collections::HashSet<&String> = names.iter().collect();
            prop_assert_eq!(read.is_some(), distinct.len() == names.len());
            if let Some(params) = read {
                prop_assert_eq!(params.len(), names.len());
            }
        }

        #[test]
        fn oauth_like_queries_are_read_or_refused(
            pairs in vec((
                prop::sample::select(vec!["client_id", "redirect_uri", "state", "scope", "code", "client%5Fid", "scope+", ""]),
                "[a-zA-Z0-9%+&=:/ .~_-]{0,16}",
            ), 0..6),
        ) {
            let query = pairs
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("&");
            let read = query_params(&query);
            let names: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
                .map(|(name, _)| name.into_owned())
                .collect();
            let distinct: std::collections::HashSet<&String> = names.iter().collect();
            prop_assert_eq!(read.is_some(), distinct.len() == names.len(), "{}", query);
            if let Some(params) = read {
                for (name, value) in params {
                    if name == "scope" && valid_scope(&value) {
                        prop_assert!(value.len() <= MAX_SCOPE_BYTES);
                    }
                }
            }
        }

        #[test]
        fn any_redirect_uri_is_checked_cleanly(uri in any::<String>(), scheme in prop::sample::select(vec!["https://", "http://", "javascript:", "com.example.app:/", ""])) {
            for uri in [uri.clone(), format!("{scheme}{uri}")] {
                if check_registered_redirect_uri(&uri).is_ok() {
                    let url = url::Url::parse(&uri).expect("checked");
                    prop_assert!(matches!(url.scheme(), "https" | "http"));
                    prop_assert!(url.fragment().is_none() && url.username().is_empty());
                }
                if check_allowed_redirect_uri(&uri).is_ok() {
                    let url = url::Url::parse(&uri).expect("checked");
                    prop_assert!(!matches!(url.scheme(), "javascript" | "data" | "file" | "vbscript" | "blob" | "about"));
                }
            }
        }
    }
}
