//! JSON-RPC 2.0 framing: request ids, incoming messages, responses and errors.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist or is not available.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid method parameters (also: unknown tool).
pub const INVALID_PARAMS: i64 = -32602;
/// Internal JSON-RPC error.
pub const INTERNAL_ERROR: i64 = -32603;
/// MCP 2026-07-28: a routing header (`Mcp-Method`, `Mcp-Name`) disagrees with the body.
pub const HEADER_MISMATCH: i64 = -32020;
/// MCP 2026-07-28: the request needs a client capability the client did not declare.
pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;
/// MCP 2026-07-28: the request names a protocol version the server does not speak.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// Code answered when the client cancelled the request it is waiting on.
pub const REQUEST_CANCELLED: i64 = -32800;

/// A JSON-RPC request id: MCP allows strings and integers, never `null`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A numeric id.
    Number(i64),
    /// A string id.
    String(String),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// A serde_json error without its "at line 1 column N" suffix, which tells a
/// client (or a model) nothing about a one-line JSON body.
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

/// Why a resource read or a prompt could not be served, answered as a
/// JSON-RPC error (HTTP 200, on every revision): [`not_found`](Self::not_found)
/// for a resource that does not exist, [`invalid`](Self::invalid) for
/// arguments that do not fit, and any other error, through `?`, as an
/// internal error carrying its message. Named `ResourceError` and
/// `PromptError` where it is used.
///
/// ```
/// use mcp_runtime::prelude::*;
///
/// #[mcp_resource(uri = "notes://{id}")]
/// async fn note(id: u32) -> Result<String, ResourceError> {
///     if id > 100 {
///         return Err(ResourceError::not_found(format!("notes://{id}")));
///     }
///     let text = std::fs::read_to_string(format!("/tmp/note-{id}"))?; // an internal error
///     Ok(text)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    pub(crate) code: i64,
    pub(crate) message: String,
    pub(crate) data: Option<Value>,
}

impl HandlerError {
    /// An internal error (-32603) with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code(INTERNAL_ERROR, message)
    }

    /// Invalid parameters (-32602), e.g. a missing prompt argument or a
    /// template parameter that does not parse.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::with_code(INVALID_PARAMS, message)
    }

    /// No resource at `uri`: answered exactly as a read of a URI the server
    /// does not serve at all, invalid parameters (-32602) with the URI in
    /// `data`, the code MCP settled on for a missing resource (SEP-2164).
    pub fn not_found(uri: impl Into<String>) -> Self {
        let uri = uri.into();
        Self {
            code: INVALID_PARAMS,
            message: format!("resource not found: {uri}"),
            data: Some(serde_json::json!({ "uri": uri })),
        }
    }

    pub(crate) fn with_code(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// The JSON-RPC error answered for it.
    pub(crate) fn into_error_object(self) -> ErrorObject {
        ErrorObject {
            code: self.code,
            message: self.message,
            data: self.data,
        }
    }
}

impl<E: fmt::Display> From<E> for HandlerError {
    fn from(error: E) -> Self {
        Self::new(error.to_string())
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// One of the standard codes above, or an application code.
    pub code: i64,
    /// A short human-readable description.
    pub message: String,
    /// Optional structured detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches structured detail.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// `-32700`.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(PARSE_ERROR, message)
    }

    /// `-32600`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(INVALID_REQUEST, message)
    }

    /// `-32601`, naming the method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(METHOD_NOT_FOUND, format!("method not found: {method}"))
    }

    /// `-32602`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    /// `-32603`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(INTERNAL_ERROR, message)
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ErrorObject {}

/// One JSON-RPC message as received, before it is classified.
///
/// Params stay raw so a tool's arguments are deserialized once, straight into
/// the tool's own type.
#[derive(Debug, Deserialize)]
pub struct IncomingMessage {
    /// Must be `"2.0"`.
    #[serde(default)]
    pub jsonrpc: Option<String>,
    /// `Some(None)` when the id is present but `null`, which MCP forbids.
    #[serde(default, deserialize_with = "present")]
    pub id: Option<Option<RequestId>>,
    /// Present on requests and notifications.
    #[serde(default)]
    pub method: Option<String>,
    /// Method parameters.
    #[serde(default)]
    pub params: Option<Box<RawValue>>,
    /// Present on a successful response from the client.
    #[serde(default)]
    pub result: Option<Box<RawValue>>,
    /// Present on an error response from the client.
    #[serde(default)]
    pub error: Option<Box<RawValue>>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<RequestId>>, D::Error> {
    Option::<RequestId>::deserialize(d).map(Some)
}

/// A classified message.
#[derive(Debug)]
pub enum Message {
    /// A request that expects a response.
    Request(Request),
    /// A notification: no response.
    Notification(Notification),
    /// The client answering a request the server sent.
    Response {
        /// The id of the server's request.
        id: RequestId,
        /// The client's `result`, or its `error` object.
        outcome: Result<Box<RawValue>, Box<RawValue>>,
    },
}

/// A JSON-RPC request.
#[derive(Debug)]
pub struct Request {
    /// The id to answer with.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// Raw parameters, if any.
    pub params: Option<Box<RawValue>>,
}

/// A JSON-RPC notification.
#[derive(Debug)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// Raw parameters, if any.
    pub params: Option<Box<RawValue>>,
}

impl IncomingMessage {
    /// Checks the envelope and says what kind of message this is.
    ///
    /// On error returns the id to answer with (if one could be read) and the error.
    pub fn classify(self) -> Result<Message, (Option<RequestId>, ErrorObject)> {
        let id = self.id.clone().flatten();
        if self.jsonrpc.as_deref() != Some("2.0") {
            return Err((
                id,
                ErrorObject::invalid_request("`jsonrpc` must be \"2.0\""),
            ));
        }
        match (self.id, self.method) {
            (Some(None), _) => Err((None, ErrorObject::invalid_request("`id` must not be null"))),
            (Some(Some(id)), Some(method)) => Ok(Message::Request(Request {
                id,
                method,
                params: self.params,
            })),
            (None, Some(method)) => Ok(Message::Notification(Notification {
                method,
                params: self.params,
            })),
            (Some(Some(id)), None) => match (self.result, self.error) {
                (Some(result), None) => Ok(Message::Response {
                    id,
                    outcome: Ok(result),
                }),
                (None, Some(error)) => Ok(Message::Response {
                    id,
                    outcome: Err(error),
                }),
                (result, error) => Err((
                    Some(id),
                    ErrorObject::invalid_request(if result.is_some() && error.is_some() {
                        "a response carries either `result` or `error`, not both"
                    } else {
                        "a message needs a `method`, or a `result` or `error`"
                    }),
                )),
            },
            (None, None) => Err((
                None,
                ErrorObject::invalid_request(
                    "a message needs a `method`, or a `result` or `error`",
                ),
            )),
        }
    }
}

/// A JSON-RPC response, ready to serialize.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    jsonrpc: &'static str,
    /// `null` only when the request's id could not be read.
    pub id: Option<RequestId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorObject>,
}

impl Response {
    /// A success response carrying an already serialized result.
    pub fn success(id: RequestId, result: Box<RawValue>) -> Self {
        Self {
            jsonrpc: "2.0",
            id: Some(id),
            result: Some(result),
            error: None,
        }
    }

    /// A success response serializing `result`.
    pub fn success_value<T: Serialize>(id: RequestId, result: &T) -> Self {
        match serde_json::value::to_raw_value(result) {
            Ok(raw) => Self::success(id, raw),
            Err(e) => Self::error(
                Some(id),
                ErrorObject::internal(format!("result not serializable: {e}")),
            ),
        }
    }

    /// An error response.
    pub fn error(id: Option<RequestId>, error: ErrorObject) -> Self {
        Self {
            jsonrpc: "2.0",
            id,
            result: None,
            error: Some(error),
        }
    }

    /// The error, if this is an error response.
    pub fn error_object(&self) -> Option<&ErrorObject> {
        self.error.as_ref()
    }
}

/// A message the server sends on an SSE stream: a notification, or a
/// request (sampling, elicitation, roots) whose answer the client POSTs back.
#[derive(Debug, Clone, Serialize)]
pub struct OutgoingMessage {
    jsonrpc: &'static str,
    /// Present on requests only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    /// The method name, e.g. `notifications/progress`.
    pub method: &'static str,
    /// The parameters.
    pub params: Value,
}

impl OutgoingMessage {
    /// A notification with the given method and params.
    pub fn notification(method: &'static str, params: Value) -> Self {
        Self {
            jsonrpc: "2.0",
            id: None,
            method,
            params,
        }
    }

    /// A request the client must answer, under `id`.
    pub fn request(id: RequestId, method: &'static str, params: Value) -> Self {
        Self {
            jsonrpc: "2.0",
            id: Some(id),
            method,
            params,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(json: &str) -> Result<Message, (Option<RequestId>, ErrorObject)> {
        serde_json::from_str::<IncomingMessage>(json)
            .unwrap()
            .classify()
    }

    #[test]
    fn classifies_requests_notifications_and_responses() {
        assert!(matches!(
            classify(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Ok(Message::Request(Request {
                id: RequestId::Number(1),
                ..
            }))
        ));
        assert!(matches!(
            classify(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Message::Notification(_))
        ));
        assert!(matches!(
            classify(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Ok(Message::Response { .. })
        ));
    }

    #[test]
    fn rejects_bad_envelopes() {
        let (_, e) = classify(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#).unwrap_err();
        assert_eq!(e.code, INVALID_REQUEST);
        let (id, e) = classify(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).unwrap_err();
        assert_eq!((id, e.code), (None, INVALID_REQUEST));
        let (id, e) = classify(r#"{"jsonrpc":"2.0","id":7}"#).unwrap_err();
        assert_eq!((id, e.code), (Some(RequestId::Number(7)), INVALID_REQUEST));
    }

    #[test]
    fn json_errors_lose_their_position_suffix() {
        let error = serde_json::from_str::<u8>("\"x\"").unwrap_err();
        assert!(error.to_string().contains(" at line "));
        assert_eq!(
            describe_json_error(&error),
            "invalid type: string \"x\", expected u8"
        );
    }

    #[test]
    fn error_response_serializes_null_id() {
        let r = Response::error(None, ErrorObject::parse_error("bad"));
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}})
        );
    }
}
