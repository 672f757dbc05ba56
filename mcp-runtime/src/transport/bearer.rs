//! Bearer authentication on the endpoint: every request is authenticated in
//! the HTTP layer, and a tool call the caller may not make is refused before
//! any response (or SSE stream) starts.

// Refusals are ready responses on cold paths; boxing them buys nothing.
#![allow(clippy::result_large_err)]

use crate::auth::{AccessDenied, Auth, AuthError, OAuth};
use crate::protocol::jsonrpc::{self, ErrorObject, Request, Response};
use crate::server::ServerCore;
use crate::tools::AccessRule;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::Arc;

/// Longest `Authorization` header read; real JWTs are a few KiB at most, and
/// nothing longer is worth parsing.
const MAX_AUTHORIZATION_BYTES: usize = 16 * 1024;

/// The verified caller, kept in the request's extensions.
#[derive(Clone)]
struct Caller(Arc<Auth>);

/// Authenticates `req` when the server has a verifier, storing the caller in
/// its extensions; answers 401 when the token is missing or refused.
pub(crate) async fn authenticate(req: &HttpRequest, oauth: &OAuth) -> Result<(), HttpResponse> {
    let Some(verifier) = oauth.verifier() else {
        return Ok(());
    };
    let token = bearer_token(req).map_err(|e| unauthorized(&e))?;
    match verifier.verify(token).await {
        Ok(auth) => {
            req.extensions_mut().insert(Caller(Arc::new(auth)));
            Ok(())
        }
        Err(error) => {
            tracing::debug!("refused a bearer token: {error}");
            Err(unauthorized(&error))
        }
    }
}

/// The caller `authenticate` stored, if any.
pub(crate) fn caller_of(req: &HttpRequest) -> Option<Arc<Auth>> {
    req.extensions().get::<Caller>().map(|c| Arc::clone(&c.0))
}

fn bearer_token(req: &HttpRequest) -> Result<&str, AuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(AuthError::InvalidRequest(String::new()));
    };
    if value.len() > MAX_AUTHORIZATION_BYTES {
        return Err(AuthError::InvalidRequest(
            "Authorization header too long".into(),
        ));
    }
    let text = value
        .to_str()
        .map_err(|_| AuthError::InvalidRequest("Authorization header is not ASCII".into()))?;
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::InvalidRequest(
            "expected `Authorization: Bearer <token>`".into(),
        ));
    }
    Ok(token)
}

/// 401 with an RFC 6750 challenge. An absent header gets no error code, as the
/// RFC asks; the description never contains the token.
fn unauthorized(error: &AuthError) -> HttpResponse {
    let (code, description) = match error {
        AuthError::InvalidRequest(d) if d.is_empty() => (None, "authentication required"),
        AuthError::InvalidRequest(d) => (Some("invalid_request"), d.as_str()),
        AuthError::InvalidToken(d) => (Some("invalid_token"), d.as_str()),
    };
    let mut challenge = String::from("Bearer");
    if let Some(code) = code {
        challenge.push_str(&format!(
            " error=\"{code}\", error_description=\"{}\"",
            quoted(description)
        ));
    }
    refusal(StatusCode::UNAUTHORIZED, challenge, description)
}

/// The answer to a call the caller may not make: 403 `insufficient_scope` with
/// every scope the call needs (the step-up signal), or 401 without a caller.
pub(crate) fn forbidden(denied: &AccessDenied, rule: &AccessRule) -> HttpResponse {
    if *denied == AccessDenied::Unauthenticated {
        return unauthorized(&AuthError::InvalidRequest(String::new()));
    }
    let mut challenge = String::from("Bearer error=\"insufficient_scope\"");
    let scopes: Vec<&str> = rule
        .scopes
        .iter()
        .chain(&rule.any_scope)
        .map(AsRef::as_ref)
        .collect();
    if !scopes.is_empty() {
        challenge.push_str(&format!(", scope=\"{}\"", quoted(&scopes.join(" "))));
    }
    refusal(StatusCode::FORBIDDEN, challenge, &denied.to_string())
}

fn refusal(status: StatusCode, challenge: String, message: &str) -> HttpResponse {
    let body = Response::error(None, ErrorObject::new(jsonrpc::INVALID_REQUEST, message));
    let mut response = HttpResponse::build(status).json(body);
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Makes `text` safe inside a quoted-string of a challenge.
fn quoted(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\')
        .collect()
}

/// Refuses a `tools/call` the caller may not make, before it runs. Other
/// requests, and calls of unknown tools (the dispatcher answers those), pass.
pub(crate) fn check_call(
    core: &ServerCore,
    request: &Request,
    caller: Option<&Auth>,
) -> Result<(), HttpResponse> {
    #[derive(Deserialize)]
    struct ToolName<'a> {
        #[serde(borrow)]
        name: Cow<'a, str>,
    }
    if request.method != "tools/call" {
        return Ok(());
    }
    let Some(ToolName { name }) = request
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str::<ToolName<'_>>(p.get()).ok())
    else {
        return Ok(());
    };
    let registry = core.tools.load();
    let Some(entry) = registry.get(&name) else {
        return Ok(());
    };
    let rule = entry.tool.access();
    rule.check(caller)
        .map_err(|denied| forbidden(&denied, rule))
}
