//! MCP method parameters and results, as they appear on the wire.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Name and version of a client or server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Implementation {
    /// Programmatic name.
    pub name: String,
    /// Version string.
    pub version: String,
    /// Human-readable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `initialize` parameters (the fields the server reads).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    /// The revision the client would like to speak.
    pub protocol_version: String,
    /// What the client can do.
    #[serde(default)]
    pub capabilities: Value,
    /// Who the client is. Parsed, so a malformed value is refused like any
    /// other malformed parameter, though nothing reads it yet.
    #[allow(dead_code)]
    pub client_info: Option<Implementation>,
}

/// What the server can do.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerCapabilities {
    /// Present: the server has tools.
    pub tools: ListChangedCapability,
    /// Present: the server sends log messages.
    pub logging: Map<String, Value>,
    /// Present: the server has resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesCapability>,
    /// Present: the server has prompts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompts: Option<ListChangedCapability>,
    /// Present: the server answers `completion/complete`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completions: Option<Map<String, Value>>,
    /// Extensions the server speaks, by name (`io.modelcontextprotocol/tasks`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

/// The `resources` capability.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesCapability {
    /// Whether `resources/subscribe` is supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<bool>,
    /// Whether `notifications/resources/list_changed` is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// A capability that can announce list changes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListChangedCapability {
    /// Whether `notifications/.../list_changed` is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// `initialize` result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult<'a> {
    /// The negotiated revision.
    pub protocol_version: &'static str,
    /// What the server can do.
    pub capabilities: &'a ServerCapabilities,
    /// Who the server is.
    pub server_info: &'a Implementation,
    /// Hints for the model on how to use this server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<&'a str>,
}

/// `server/discover` result (2026-07-28).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult<'a> {
    /// Always `"complete"`.
    pub result_type: &'static str,
    /// Every revision the server speaks, newest first.
    pub supported_versions: Vec<&'static str>,
    /// What the server can do.
    pub capabilities: &'a ServerCapabilities,
    /// Hints for the model on how to use this server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<&'a str>,
    /// Carries `io.modelcontextprotocol/serverInfo`.
    #[serde(rename = "_meta")]
    pub meta: Value,
}

/// The `_meta` every 2026-07-28 request carries.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatelessMeta {
    /// Must equal the `MCP-Protocol-Version` header.
    #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
    pub protocol_version: Option<String>,
    /// What the client can do, for this request.
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities")]
    pub client_capabilities: Option<Value>,
    /// Who the client is (nothing reads it yet).
    #[serde(rename = "io.modelcontextprotocol/clientInfo")]
    #[allow(dead_code)]
    pub client_info: Option<Value>,
    /// Minimum level of log notifications; none are sent without it.
    #[serde(rename = "io.modelcontextprotocol/logLevel")]
    pub log_level: Option<LoggingLevel>,
}

/// `tools/list` parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListToolsParams {
    /// Opaque cursor from a previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Per-request metadata the client may attach.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestMeta {
    /// Token to attach to `notifications/progress`.
    #[serde(default)]
    pub progress_token: Option<ProgressToken>,
}

/// A progress token: string or integer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProgressToken {
    /// Numeric token.
    Number(i64),
    /// String token.
    String(String),
}

/// `tools/call` parameters.
#[derive(Debug, Deserialize)]
pub struct CallToolParams {
    /// The tool's name.
    pub name: String,
    /// The arguments object, kept raw for the tool's own deserializer.
    #[serde(default)]
    pub arguments: Option<Box<RawValue>>,
    /// Request metadata.
    #[serde(default, rename = "_meta")]
    pub meta: Option<RequestMeta>,
    /// 2026-07-28 retries: the answers to an `input_required` result.
    #[serde(default, rename = "inputResponses")]
    pub input_responses: Option<Value>,
    /// 2026-07-28 retries: the state handed out with the questions.
    #[serde(default, rename = "requestState")]
    pub request_state: Option<String>,
}

/// Log severity, as in RFC 5424.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoggingLevel {
    /// Detailed debugging information.
    Debug,
    /// Informational messages.
    Info,
    /// Normal but significant events.
    Notice,
    /// Warning conditions.
    Warning,
    /// Error conditions.
    Error,
    /// Critical conditions.
    Critical,
    /// Action must be taken immediately.
    Alert,
    /// System is unusable.
    Emergency,
}

impl LoggingLevel {
    /// Every level, least severe first.
    pub const ALL: [LoggingLevel; 8] = [
        LoggingLevel::Debug,
        LoggingLevel::Info,
        LoggingLevel::Notice,
        LoggingLevel::Warning,
        LoggingLevel::Error,
        LoggingLevel::Critical,
        LoggingLevel::Alert,
        LoggingLevel::Emergency,
    ];

    /// The level's position in [`LoggingLevel::ALL`].
    pub fn index(self) -> u8 {
        self as u8
    }

    /// The level at `index` in [`LoggingLevel::ALL`], saturating at `Emergency`.
    pub fn from_index(index: u8) -> Self {
        Self::ALL[usize::from(index).min(Self::ALL.len() - 1)]
    }
}

/// `logging/setLevel` parameters.
#[derive(Debug, Clone, Deserialize)]
pub struct SetLevelParams {
    /// The minimum level the client wants to receive.
    pub level: LoggingLevel,
}

/// `notifications/cancelled` parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelledParams {
    /// The request to cancel.
    pub request_id: super::RequestId,
    /// Why.
    #[serde(default)]
    #[allow(dead_code)]
    pub reason: Option<String>,
}

/// `subscriptions/listen` parameters (2026-07-28).
#[derive(Debug, Clone, Deserialize)]
pub struct ListenParams {
    /// What the client opts in to on this stream.
    pub notifications: SubscriptionFilter,
}

/// The notifications a `subscriptions/listen` stream carries: what the
/// client asks for, and in the acknowledgement what the server agreed to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tools_list_changed: bool,
    /// `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub prompts_list_changed: bool,
    /// `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub resources_list_changed: bool,
    /// `notifications/resources/updated` for these URIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_subscriptions: Vec<String>,
    /// `notifications/tasks` for these tasks (the tasks extension).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_ids: Vec<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_false(value: &bool) -> bool {
    !*value
}

/// The `_meta` key that names the `subscriptions/listen` request a
/// notification belongs to.
pub const SUBSCRIPTION_ID_META: &str = "io.modelcontextprotocol/subscriptionId";
