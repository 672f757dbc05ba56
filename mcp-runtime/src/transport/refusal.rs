//! Refusals the transport answers itself, before any JSON-RPC message is
//! dispatched.

use crate::protocol::jsonrpc::{self, ErrorObject, Response};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};

/// A transport-level refusal, with a JSON-RPC error body whose id is `null`.
pub(super) fn refuse(status: StatusCode, code: i64, message: impl Into<String>) -> HttpResponse {
    let body = Response::error(None, ErrorObject::new(code, message));
    HttpResponse::build(status).json(body)
}

/// 405, naming the methods the path answers.
pub(super) fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut response = refuse(
        StatusCode::METHOD_NOT_ALLOWED,
        jsonrpc::INVALID_REQUEST,
        "method not allowed",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// 503 with `Retry-After`: the shared session store cannot be reached, so
/// the request is refused rather than answered from a guess.
pub(super) fn store_unavailable() -> HttpResponse {
    retry_later(
        StatusCode::SERVICE_UNAVAILABLE,
        jsonrpc::INTERNAL_ERROR,
        "the session store is unavailable; retry shortly",
    )
}

/// A refusal (429, 503) with `Retry-After`: the request may succeed later.
pub(super) fn retry_later(
    status: StatusCode,
    code: i64,
    message: impl Into<String>,
) -> HttpResponse {
    let mut response = refuse(status, code, message);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(crate::state::RETRY_AFTER_SECS),
    );
    response
}
