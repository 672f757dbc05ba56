//! The 2026-07-28 request rules: per-request `_meta`, routing headers that
//! must repeat the body, and HTTP statuses derived from error codes.

// Refusals are returned as ready responses on cold paths; boxing them buys nothing.
#![allow(clippy::result_large_err)]

use super::headers::names;
use crate::protocol::RequestId;
use crate::protocol::jsonrpc::{
    self, ErrorObject, Message, Request, Response, describe_json_error,
};
use crate::protocol::messages::StatelessMeta;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::value::RawValue;

pub(super) fn message_id(message: &Message) -> Option<RequestId> {
    match message {
        Message::Request(request) => Some(request.id.clone()),
        Message::Notification(_) => None,
        Message::Response { id, .. } => Some(id.clone()),
    }
}

pub(super) fn message_params(message: &Message) -> Option<&RawValue> {
    match message {
        Message::Request(request) => request.params.as_deref(),
        Message::Notification(notification) => notification.params.as_deref(),
        Message::Response { .. } => None,
    }
}

/// The stateless `_meta` of a message, if it has one.
/// `Ok(None)` when there is no `_meta`; `Err` names what is malformed in it.
pub(super) fn stateless_meta(params: Option<&RawValue>) -> Result<Option<StatelessMeta>, String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "_meta")]
        meta: Option<Box<RawValue>>,
    }
    let Ok(probe) = serde_json::from_str::<Probe>(params.map_or("{}", RawValue::get)) else {
        return Ok(None);
    };
    let Some(meta) = probe.meta else {
        return Ok(None);
    };
    serde_json::from_str(meta.get())
        .map(Some)
        .map_err(|e| format!("invalid _meta: {}", describe_json_error(&e)))
}

/// The HTTP status of a 2026-07-28 JSON answer, from its error code: 404
/// for an unknown method and 400 for a request the transport cannot take,
/// as the revision's transport asks. A handler's failure, internal errors
/// included, is an answer like any other (HTTP 200): a 5xx would tell the
/// client and every proxy on the way that the server itself is broken.
pub(super) fn stateless_status(response: &Response) -> StatusCode {
    match response.error_object().map(|e| e.code) {
        None => StatusCode::OK,
        Some(jsonrpc::METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
        Some(
            jsonrpc::PARSE_ERROR
            | jsonrpc::INVALID_REQUEST
            | jsonrpc::INVALID_PARAMS
            | jsonrpc::HEADER_MISMATCH
            | jsonrpc::MISSING_CLIENT_CAPABILITY
            | jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
        ) => StatusCode::BAD_REQUEST,
        Some(_) => StatusCode::OK,
    }
}

/// The name a request's `Mcp-Name` header must repeat, if its method has one.
fn body_name(request: &Request) -> Option<String> {
    let field = match request.method.as_str() {
        "tools/call" | "prompts/get" => "name",
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return None,
    };
    // Only the method's own field is read: another field of any shape
    // cannot make the check skip.
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default)]
        name: Option<&'a RawValue>,
        #[serde(borrow, default)]
        uri: Option<&'a RawValue>,
        #[serde(borrow, default, rename = "taskId")]
        task_id: Option<&'a RawValue>,
    }
    let params = request.params.as_deref().map_or("{}", RawValue::get);
    let probe: Probe<'_> = serde_json::from_str(params).ok()?;
    let raw = match field {
        "name" => probe.name,
        "uri" => probe.uri,
        _ => probe.task_id,
    }?;
    serde_json::from_str::<String>(raw.get()).ok()
}

/// 2026-07-28 routing headers: `Mcp-Method` and `Mcp-Name` must repeat the body
/// (required on that revision, checked whenever present on others).
pub(super) fn check_routing_headers(
    req: &HttpRequest,
    message: &Message,
    required: bool,
) -> Result<(), HttpResponse> {
    match message {
        Message::Request(request) => check_request_routing(req, request, required),
        Message::Notification(notification) => {
            check_headers(req, None, &notification.method, None, required)
        }
        Message::Response { .. } => Ok(()),
    }
}

/// [`check_routing_headers`] for a request.
pub(super) fn check_request_routing(
    req: &HttpRequest,
    request: &Request,
    required: bool,
) -> Result<(), HttpResponse> {
    // The body's name is read only when there is a header to hold it to.
    let name = if required || req.headers().contains_key(names::NAME) {
        body_name(request)
    } else {
        None
    };
    check_headers(
        req,
        Some(&request.id),
        &request.method,
        name.as_deref(),
        required,
    )
}

fn check_headers(
    req: &HttpRequest,
    id: Option<&RequestId>,
    method: &str,
    name: Option<&str>,
    required: bool,
) -> Result<(), HttpResponse> {
    let mismatch = |what: String| {
        HttpResponse::BadRequest().json(Response::error(
            id.cloned(),
            ErrorObject::new(jsonrpc::HEADER_MISMATCH, what),
        ))
    };
    match req.headers().get(names::METHOD) {
        Some(value) if trim_ows(value.as_bytes()) != method.as_bytes() => {
            return Err(mismatch(format!(
                "Mcp-Method header does not match the body's method `{method}`"
            )));
        }
        None if required => return Err(mismatch("Mcp-Method header is required".to_owned())),
        _ => {}
    }
    if let Some(name) = name {
        match req.headers().get(names::NAME) {
            Some(value) if trim_ows(value.as_bytes()) != name.as_bytes() => {
                return Err(mismatch(
                    "Mcp-Name header does not match the body".to_owned(),
                ));
            }
            None if required => return Err(mismatch("Mcp-Name header is required".to_owned())),
            _ => {}
        }
    }
    Ok(())
}

/// Strips optional white space (RFC 9110) around a header value.
pub(super) fn trim_ows(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &value[start..end]
}
