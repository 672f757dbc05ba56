//! What a tool returns: content blocks, structured output, and the conversions
//! from ordinary Rust return types.

use crate::protocol::Content;
use crate::schema::{self, SchemaError};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// The result of `tools/call`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// Unstructured content blocks.
    pub content: Vec<Content>,
    /// Structured output, matching the tool's output schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the tool failed; the content then explains why, for the model to read.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
    /// 2026-07-28: `"input_required"` when the tool needs the client's input first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<&'static str>,
    /// 2026-07-28: what the client must provide, by key (`elicitation/create`,
    /// `sampling/createMessage`, `roots/list` requests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<Map<String, Value>>,
    /// 2026-07-28: opaque state the client echoes back with its answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

impl CallToolResult {
    /// A successful result with these blocks.
    pub fn success(content: Vec<Content>) -> Self {
        Self {
            content,
            ..Self::default()
        }
    }

    /// A failed result whose text is `message`.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            content: vec![Content::text(message)],
            is_error: true,
            ..Self::default()
        }
    }

    /// 2026-07-28: asks the client for input before the tool can finish; the
    /// client retries the call with `inputResponses` (and `requestState`).
    pub fn input_required(
        input_requests: Map<String, Value>,
        request_state: Option<String>,
    ) -> Self {
        Self {
            result_type: Some("input_required"),
            input_requests: Some(input_requests),
            request_state,
            ..Self::default()
        }
    }
}

/// Structured tool output: `T` is sent as `structuredContent` (with a text copy
/// for older clients) and its JSON Schema is published as the tool's `outputSchema`.
///
/// ```
/// use mcp_runtime::tools::{IntoToolResult, Json};
/// #[derive(serde::Serialize, schemars::JsonSchema)]
/// struct Sum { total: i64 }
/// let result = Json(Sum { total: 3 }).into_tool_result();
/// assert_eq!(result.structured_content, Some(serde_json::json!({"total": 3})));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

/// A tool failure whose message is shown to the model as an `isError` result.
///
/// Any `std::error::Error` converts into it, so `?` works inside tools.
pub struct ToolError {
    message: String,
}

impl ToolError {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ToolError").field(&self.message).finish()
    }
}

impl<E: std::error::Error> From<E> for ToolError {
    fn from(error: E) -> Self {
        ToolError::new(error.to_string())
    }
}

/// An output schema computed for a return type, or why it could not be.
pub type OutputSchema = Option<Result<Arc<Map<String, Value>>, SchemaError>>;

/// A value a tool may return.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from an MCP tool",
    label = "this type is not a tool result",
    note = "return `String`, `&'static str`, `Json<T>` (T: Serialize + JsonSchema), `Content`, `Vec<Content>`, `CallToolResult`, `()`, or `Result<T, E>` where T is one of these and E: Display"
)]
pub trait IntoToolResult {
    /// Converts the value into the wire result.
    fn into_tool_result(self) -> CallToolResult;

    /// The JSON Schema of the structured output, for types that have one.
    fn output_schema() -> OutputSchema {
        None
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> CallToolResult {
        self
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![Content::text(self)])
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![Content::text(self)])
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(Vec::new())
    }
}

impl IntoToolResult for Content {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![self])
    }
}

impl IntoToolResult for Vec<Content> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(self)
    }
}

impl<T: Serialize + JsonSchema + 'static> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> CallToolResult {
        match serde_json::to_value(&self.0) {
            Ok(value) => CallToolResult {
                content: vec![Content::text(value.to_string())],
                structured_content: Some(value),
                ..CallToolResult::default()
            },
            Err(error) => {
                tracing::error!(%error, "tool output could not be serialized");
                CallToolResult::error("the tool's output could not be serialized")
            }
        }
    }

    fn output_schema() -> OutputSchema {
        Some(schema::object_schema_for::<T>())
    }
}

impl<T: IntoToolResult, E: fmt::Display> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> CallToolResult {
        match self {
            Ok(value) => value.into_tool_result(),
            Err(error) => CallToolResult::error(error.to_string()),
        }
    }

    fn output_schema() -> OutputSchema {
        T::output_schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_blocks_match_the_wire_format() {
        assert_eq!(
            serde_json::to_value(Content::image([1u8, 2, 3], "image/png")).unwrap(),
            json!({"type":"image","data":"AQID","mimeType":"image/png"})
        );
        assert_eq!(
            serde_json::to_value(Content::embedded_text("test://x", Some("text/plain"), "hi"))
                .unwrap(),
            json!({"type":"resource","resource":{"uri":"test://x","mimeType":"text/plain","text":"hi"}})
        );
        assert_eq!(
            serde_json::to_value(Content::resource_link("test://x", "x")).unwrap(),
            json!({"type":"resource_link","uri":"test://x","name":"x"})
        );
    }

    #[test]
    fn errors_become_is_error_results() {
        let r: Result<String, ToolError> = Err(ToolError::new("no such task"));
        assert_eq!(
            serde_json::to_value(r.into_tool_result()).unwrap(),
            json!({"content":[{"type":"text","text":"no such task"}],"isError":true})
        );
        let io: Result<String, ToolError> = Err(std::io::Error::other("disk full").into());
        assert!(io.into_tool_result().is_error);
    }

    #[test]
    fn json_output_has_schema_and_text_copy() {
        #[derive(Serialize, JsonSchema)]
        struct Out {
            n: u8,
        }
        let r = Json(Out { n: 1 }).into_tool_result();
        assert_eq!(r.structured_content, Some(json!({"n":1})));
        assert_eq!(r.content, vec![Content::text("{\"n\":1}")]);
        let schema = <Result<Json<Out>, ToolError>>::output_schema()
            .unwrap()
            .unwrap();
        assert_eq!(schema["type"], "object");
    }
}
