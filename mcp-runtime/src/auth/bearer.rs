//! Bearer authentication in the HTTP layer: every request is authenticated
//! on its own (a session never stands in for a token), with the token read
//! the one way RFC 6750 allows here, and the caller kept in the request's
//! extensions for the dispatcher. The MCP endpoint and the middleware for
//! users' own routes share it, so the header rules and refusals are the same
//! everywhere.

use super::resource::ResourceServer;
use super::{Auth, AuthError, Refusal, ScopeHierarchy, TokenVerifier};
use crate::operations::telemetry::EarlyVerify;
use actix_web::http::header;
use actix_web::{HttpMessage as _, HttpRequest};
use std::sync::Arc;

/// Longest `Authorization` header read; real JWTs are a few KiB at most, and
/// nothing longer is worth parsing.
const MAX_AUTHORIZATION_BYTES: usize = 16 * 1024;

/// The authenticated caller, kept in the request's extensions.
#[derive(Clone)]
pub(crate) struct Caller(pub(crate) Arc<Auth>);

/// Authenticates `req` against `server`, storing the caller in its extensions.
/// The verification is an `mcp.auth.verify` child of the current span, or,
/// given `early` (a request whose trace is not known yet), is timed into it
/// to join the trace later.
pub(crate) async fn authenticate(
    req: &HttpRequest,
    server: &ResourceServer,
    early: Option<&mut EarlyVerify>,
) -> Result<Arc<Auth>, Refusal> {
    let token = presented_token(req)?;
    let Some(verified) = &server.verified else {
        return verify(
            req,
            token,
            server.verifier.as_ref(),
            &server.hierarchy,
            Some(&server.exchange),
        )
        .await;
    };
    if let Some(auth) = verified.get(token) {
        crate::operations::metrics::token_cache(true);
        match early {
            Some(early) => early.cache_hit = Some(true),
            None => tracing::debug_span!("mcp.auth.verify", cache.hit = true).in_scope(|| {}),
        }
        req.extensions_mut().insert(Caller(Arc::clone(&auth)));
        return Ok(auth);
    }
    crate::operations::metrics::token_cache(false);
    let key_generation = verified.key_generation();
    let verifying = verify(
        req,
        token,
        server.verifier.as_ref(),
        &server.hierarchy,
        Some(&server.exchange),
    );
    let auth = match early {
        Some(early) => {
            early.cache_hit = Some(false);
            verifying.await
        }
        None => {
            tracing::Instrument::instrument(
                verifying,
                tracing::debug_span!("mcp.auth.verify", cache.hit = false),
            )
            .await
        }
    }?;
    verified.insert(token, &auth, key_generation);
    Ok(auth)
}

/// Authenticates `req` with `verifier`, judging scopes with `hierarchy`, and
/// stores the caller in its extensions. The MCP endpoint and
/// [`BearerMiddleware`](crate::auth::BearerMiddleware) on users' own routes both read
/// the token with [`presented_token`], so the header rules and refusals are
/// the same everywhere.
pub(crate) async fn authenticate_with(
    req: &HttpRequest,
    verifier: &dyn TokenVerifier,
    hierarchy: &Arc<ScopeHierarchy>,
) -> Result<Arc<Auth>, Refusal> {
    let token = presented_token(req)?;
    verify(req, token, verifier, hierarchy, None).await
}

/// The bearer token of `req`, sent the one way RFC 6750 allows here: in
/// the `Authorization` header, never in the URL.
pub(crate) fn presented_token(req: &HttpRequest) -> Result<&str, Refusal> {
    if token_in_query(req) {
        return Err(Refusal::InvalidRequest(
            "access tokens are accepted only in the Authorization header, never in the URL".into(),
        ));
    }
    bearer_token(req)
}

/// Checks `token` with `verifier` and stores the caller in the extensions of `req`.
async fn verify(
    req: &HttpRequest,
    token: &str,
    verifier: &dyn TokenVerifier,
    hierarchy: &Arc<ScopeHierarchy>,
    exchange: Option<&Arc<super::TokenExchange>>,
) -> Result<Arc<Auth>, Refusal> {
    let auth = verifier.verify(token).await.map_err(|error| {
        tracing::debug!("refused a bearer token: {error}");
        match error {
            AuthError::InvalidRequest(d) => Refusal::InvalidRequest(d),
            AuthError::InvalidToken(d) => Refusal::InvalidToken(d),
            AuthError::Unavailable(d) => Refusal::Unavailable(d),
        }
    })?;
    let mut auth = auth.with_hierarchy(Arc::clone(hierarchy));
    auth.exchange = exchange.map(|e| Arc::clone(e) as Arc<dyn super::Exchange>);
    let auth = Arc::new(auth);
    req.extensions_mut().insert(Caller(Arc::clone(&auth)));
    Ok(auth)
}

/// The caller `authenticate` stored, if any.
pub(crate) fn caller_of(req: &HttpRequest) -> Option<Arc<Auth>> {
    req.extensions().get::<Caller>().map(|c| Arc::clone(&c.0))
}

/// Whether the URL carries `access_token`, however its name is percent-encoded.
fn token_in_query(req: &HttpRequest) -> bool {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(name, _)| name == "access_token")
}

fn bearer_token(req: &HttpRequest) -> Result<&str, Refusal> {
    // Read by hand: actix-web has no `Authorization` type (actix-web-httpauth's
    // is not a dependency).
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Err(Refusal::MissingToken);
    };
    if values.next().is_some() {
        return Err(Refusal::InvalidRequest(
            "send one Authorization header".into(),
        ));
    }
    if value.len() > MAX_AUTHORIZATION_BYTES {
        return Err(Refusal::InvalidRequest(
            "the Authorization header is too long".into(),
        ));
    }
    let malformed = || Refusal::InvalidRequest("expected `Authorization: Bearer <token>`".into());
    let bytes = value.as_bytes();
    let space = bytes
        .iter()
        .position(|&b| b == b' ')
        .ok_or_else(malformed)?;
    let (scheme, rest) = bytes.split_at(space);
    let start = rest.iter().position(|&b| b != b' ').ok_or_else(malformed)?;
    let token = &rest[start..];
    // RFC 6750 token68: one word of visible ASCII, nothing after it. One
    // pass over every byte, with no early exit, so it runs vectorised.
    let outside = token
        .iter()
        .fold(false, |outside, &b| outside | !(0x21..=0x7e).contains(&b));
    if !scheme.eq_ignore_ascii_case(b"bearer") || outside {
        return Err(malformed());
    }
    let token = std::str::from_utf8(token).map_err(|_| malformed())?;
    Ok(token)
}

/// Whatever a client sends as `Authorization`, the header is read as one
/// bearer token or refused as a malformed request, never a panic; a token
/// read is one word of visible ASCII.
#[cfg(test)]
mod properties {
    use super::*;
    use actix_web::http::header::HeaderValue;
    use actix_web::test::TestRequest;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn read(value: HeaderValue, query: &str) -> Result<String, TestCaseError> {
        let req = TestRequest::default()
            .uri(&format!("/mcp?{query}"))
            .insert_header((header::AUTHORIZATION, value))
            .to_http_request();
        match presented_token(&req) {
            Ok(token) => {
                prop_assert!(!token.is_empty());
                prop_assert!(token.bytes().all(|b| (0x21..=0x7e).contains(&b)));
                Ok(token.to_owned())
            }
            Err(Refusal::InvalidRequest(message)) => {
                prop_assert!(!message.is_empty());
                Ok(String::new())
            }
            Err(other) => Err(TestCaseError::fail(format!("{other:?}"))),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_header_value_is_read_or_refused(bytes in vec(any::<u8>(), 0..300)) {
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                read(value, "")?;
            }
        }

        #[test]
        fn bearer_like_values_are_read_or_refused(
            scheme in prop::sample::select(vec!["Bearer", "bearer", "BEARER", "Basic", "Bearer\t", "", "Bearerx"]),
            spaces in 0usize..4,
            token in vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = scheme.as_bytes().to_vec();
            bytes.extend(std::iter::repeat_n(b' ', spaces));
            bytes.extend(&token);
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                let read = read(value, "")?;
                if !read.is_empty() {
                    prop_assert!(scheme.eq_ignore_ascii_case("bearer") && spaces > 0);
                    let start = token.iter().position(|&b| b != b' ').unwrap_or(token.len());
                    prop_assert_eq!(read.as_bytes(), &token[start..]);
                }
            }
        }

        #[test]
        fn a_token_in_the_query_is_refused(query in "[a-z_%0-9=&]{0,40}") {
            let value = HeaderValue::from_static("Bearer abc");
            let req = TestRequest::default()
                .uri(&format!("/mcp?{query}&access_%74oken=x"))
                .insert_header((header::AUTHORIZATION, value))
                .to_http_request();
            prop_assert!(matches!(presented_token(&req), Err(Refusal::InvalidRequest(_))));
            // Any other query leaves the header to decide.
            if let Ok(value) = HeaderValue::from_str("Bearer abc") {
                let clean = url::form_urlencoded::parse(query.as_bytes()).all(|(n, _)| n != "access_token");
                if clean {
                    prop_assert_eq!(read(value, &query)?, "abc");
                }
            }
        }
    }
}
