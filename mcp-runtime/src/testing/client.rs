//! [`TestClient`]: MCP over Streamable HTTP, as a real client speaks it.

use crate::protocol::ErrorObject;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The protocol revision the client asks for in `initialize`.
pub const CLIENT_PROTOCOL_VERSION: &str = "2025-11-25";

/// Why a request through [`TestClient`] did not produce a result.
///
/// Authentication refusals keep what the server said in `WWW-Authenticate`,
/// so tests can assert on the challenge a real client would follow.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// HTTP 401: no token, or the token was refused (expired, wrong issuer,
    /// wrong audience, bad signature).
    #[error("401 Unauthorized: {challenge}")]
    Unauthorized {
        /// The `WWW-Authenticate` header (empty if absent).
        challenge: String,
    },
    /// HTTP 403: the token lacks what the tool requires (step-up), or the
    /// session belongs to another user.
    #[error("403 Forbidden (scopes asked for: {scopes:?}): {challenge}")]
    Forbidden {
        /// The `WWW-Authenticate` header (empty if absent).
        challenge: String,
        /// The challenge's `scope` parameter, split on spaces.
        scopes: Vec<String>,
    },
    /// Any other HTTP error status.
    #[error("HTTP {status}: {message}")]
    Http {
        /// The status code.
        status: u16,
        /// The JSON-RPC error message of the body, or the body itself.
        message: String,
    },
    /// A JSON-RPC error response (unknown tool, invalid params, ...).
    #[error("JSON-RPC error {code}: {message}")]
    Rpc {
        /// The error code, e.g. `-32602`.
        code: i64,
        /// The message.
        message: String,
        /// Extra data, if any.
        data: Option<Value>,
    },
    /// The tool ran (or its arguments were refused) and answered with
    /// `isError: true`; the text of its content.
    #[error("the tool reported an error: {0}")]
    ToolError(String),
    /// The answer, or a tool's structured output, does not have the expected shape.
    #[error("unexpected answer: {0}")]
    Decode(String),
    /// The arguments could not be serialized as a JSON object.
    #[error("invalid arguments: {0}")]
    Arguments(String),
    /// The request could not be sent or its answer not read.
    #[error("transport error: {0}")]
    Transport(String),
}

impl ClientError {
    /// The HTTP status of an HTTP-level refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `WWW-Authenticate` challenge of a 401 or 403.
    pub fn challenge(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { challenge } | Self::Forbidden { challenge, .. } => Some(challenge),
            _ => None,
        }
    }

    /// A parameter of the challenge: `error`, `error_description`, `scope`,
    /// `resource_metadata`.
    ///
    /// ```
    /// use mcp_runtime::testing::ClientError;
    /// let refused = ClientError::Unauthorized {
    ///     challenge: r#"Bearer error="invalid_token", error_description="the token has expired""#.into(),
    /// };
    /// assert_eq!(refused.challenge_param("error").as_deref(), Some("invalid_token"));
    /// assert_eq!(refused.challenge_param("scope"), None);
    /// ```
    pub fn challenge_param(&self, name: &str) -> Option<String> {
        challenge_params(self.challenge()?)
            .into_iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }
}

/// The server's answer to `initialize`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ServerInfo {
    /// The negotiated protocol revision.
    pub protocol_version: String,
    /// `serverInfo.name`.
    pub name: String,
    /// `serverInfo.version`.
    pub version: String,
    /// `serverInfo.title`, if any.
    pub title: Option<String>,
    /// The server's capabilities.
    pub capabilities: Value,
    /// Instructions for the model, if any.
    pub instructions: Option<String>,
    /// The `Mcp-Session-Id` the server assigned (none in stateless mode).
    pub session_id: Option<String>,
}

/// One tool of a `tools/list` answer.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolInfo {
    /// The tool's name.
    pub name: String,
    /// Its title, if any.
    #[serde(default)]
    pub title: Option<String>,
    /// Its description, with the access requirements the server appends.
    #[serde(default)]
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    #[serde(default)]
    pub input_schema: Value,
    /// The JSON Schema of its structured output, if any.
    #[serde(default)]
    pub output_schema: Option<Value>,
    /// Behaviour hints (`readOnlyHint`, ...).
    #[serde(default)]
    pub annotations: Option<Value>,
    /// How calls may run (`{"taskSupport": "optional"}` for a tool that
    /// may run as a task), if the tool says.
    #[serde(default)]
    pub execution: Option<Value>,
    /// `_meta`, e.g. `mcp-runtime/access`.
    #[serde(default, rename = "_meta")]
    pub meta: Option<Value>,
}

/// A successful `tools/call` answer.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ToolResult {
    /// The content blocks, as sent (`{"type": "text", "text": ...}`, ...).
    pub content: Vec<Value>,
    /// The structured output, if any.
    pub structured_content: Option<Value>,
    /// Notifications the server sent while the tool ran (progress, log
    /// messages), in order. Empty when it answered with plain JSON.
    pub notifications: Vec<Value>,
}

impl ToolResult {
    /// The text of every text block, joined with newlines.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter(|block| block["type"] == "text")
            .filter_map(|block| block["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The structured output as a `T`.
    pub fn structured<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        let Some(value) = &self.structured_content else {
            return Err(ClientError::Decode(format!(
                "the result has no structuredContent (text: {:?})",
                self.text()
            )));
        };
        serde_json::from_value(value.clone()).map_err(|e| {
            ClientError::Decode(format!("structuredContent does not match the type: {e}"))
        })
    }

    /// The `notifications/progress` parameters received, in order.
    pub fn progress(&self) -> Vec<&Value> {
        self.notifications_of("notifications/progress")
    }

    /// The parameters of received notifications called `method`.
    pub fn notifications_of(&self, method: &str) -> Vec<&Value> {
        self.notifications
            .iter()
            .filter(|n| n["method"] == method)
            .map(|n| &n["params"])
            .collect()
    }
}

/// What the handshake left: the session and the negotiated revision.
#[derive(Debug, Clone)]
struct Handshake {
    session_id: Option<String>,
    version: String,
    info: ServerInfo,
}

/// An MCP client for tests: speaks Streamable HTTP to a server's endpoint,
/// through its whole HTTP pipeline (host and origin checks, bearer
/// authentication, access rules, sessions, SSE), and returns typed results.
///
/// The first request performs the `initialize` handshake (protocol
/// revision 2025-11-25) and keeps the `Mcp-Session-Id`, unless the client
/// is [`stateless`](Self::stateless). Clones share the session.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub(super) url: String,
    pub(super) http: reqwest::Client,
    pub(super) token: Option<String>,
    handshake: bool,
    progress: bool,
    state: Arc<tokio::sync::Mutex<Option<Handshake>>>,
    next_id: Arc<AtomicU64>,
    capabilities: Value,
    answerer: Option<Answerer>,
}

/// Answers the server's questions: gets the method (`elicitation/create`,
/// `sampling/createMessage`, `roots/list`) and params, returns the result
/// or a JSON-RPC error.
#[derive(Clone)]
struct Answerer(Arc<AnswerFn>);

type AnswerFn = dyn Fn(&str, &Value) -> Result<Value, ErrorObject> + Send + Sync;

impl std::fmt::Debug for Answerer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Answerer(..)")
    }
}

impl TestClient {
    /// A client of the MCP endpoint at `url` (e.g. `http://127.0.0.1:PORT/mcp`),
    /// without a token.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            http: reqwest::Client::new(),
            token: None,
            handshake: true,
            progress: false,
            state: Arc::new(tokio::sync::Mutex::new(None)),
            next_id: Arc::new(AtomicU64::new(1)),
            capabilities: json!({}),
            answerer: None,
        }
    }

    /// The same client answering the server's questions with `answer`, and
    /// declaring the `sampling`, `elicitation` and `roots` capabilities, with
    /// a session of its own. `answer` gets the method and params of each
    /// request the server sends on a response stream.
    ///
    /// ```
    /// use mcp_runtime::testing::TestClient;
    /// use serde_json::json;
    ///
    /// let client = TestClient::new("http://127.0.0.1:3000/mcp").answering(|method, _params| {
    ///     match method {
    ///         "elicitation/create" => Ok(json!({"action": "accept", "content": {"name": "Ada"}})),
    ///         other => Err(mcp_runtime::protocol::ErrorObject::method_not_found(other)),
    ///     }
    /// });
    /// # let _ = client;
    /// ```
    #[must_use]
    pub fn answering(
        &self,
        answer: impl Fn(&str, &Value) -> Result<Value, ErrorObject> + Send + Sync + 'static,
    ) -> Self {
        let mut client = self.fresh();
        client.answerer = Some(Answerer(Arc::new(answer)));
        client.capabilities = json!({ "sampling": {}, "elicitation": {}, "roots": {} });
        client
    }

    /// What this client declares in `initialize`.
    pub fn capabilities(&self) -> &Value {
        &self.capabilities
    }

    /// The same client declaring exactly `capabilities` in `initialize`,
    /// with a session of its own.
    #[must_use]
    pub fn with_capabilities(&self, capabilities: Value) -> Self {
        let mut client = self.fresh();
        client.capabilities = capabilities;
        client
    }

    /// The same client sending `Authorization: Bearer <token>`, with a
    /// session of its own (sessions belong to the user who opened them).
    #[must_use]
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        let mut client = self.fresh();
        client.token = Some(token.into());
        client
    }

    /// The same client sending no token, with a session of its own.
    #[must_use]
    pub fn without_token(&self) -> Self {
        let mut client = self.fresh();
        client.token = None;
        client
    }

    /// The same client skipping the `initialize` handshake: every request
    /// stands alone, as a server built with `stateless(true)` accepts.
    #[must_use]
    pub fn stateless(&self) -> Self {
        let mut client = self.fresh();
        client.handshake = false;
        client
    }

    /// The same client asking for progress notifications on every
    /// `tools/call` (a `_meta.progressToken`); they arrive in
    /// [`ToolResult::notifications`].
    #[must_use]
    pub fn with_progress(&self) -> Self {
        let mut client = self.clone();
        client.progress = true;
        client
    }

    /// The endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The token sent, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn fresh(&self) -> Self {
        Self {
            state: Arc::new(tokio::sync::Mutex::new(None)),
            ..self.clone()
        }
    }

    /// Performs the `initialize` handshake now (again, if it already ran)
    /// and returns the server's answer.
    pub async fn initialize(&self) -> Result<ServerInfo, ClientError> {
        let mut state = self.state.lock().await;
        let handshake = self.handshake_now().await?;
        let info = handshake.info.clone();
        *state = Some(handshake);
        Ok(info)
    }

    /// The session of this client, running the handshake first if it has
    /// not run; `None` from a stateless server.
    pub(super) async fn session(&self) -> Result<Option<String>, ClientError> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            *state = Some(self.handshake_now().await?);
        }
        Ok(state.as_ref().and_then(|h| h.session_id.clone()))
    }

    /// The session id, once the handshake has run on a stateful server.
    pub async fn session_id(&self) -> Option<String> {
        self.state
            .lock()
            .await
            .as_ref()
            .and_then(|h| h.session_id.clone())
    }

    /// Every tool the server lists for this caller, all pages.
    pub async fn list_tools(&self) -> Result<Vec<ToolInfo>, ClientError> {
        self.list_all("tools/list", "tools").await
    }

    /// Calls tool `name` with `args` (a struct, a `json!({..})` object, or
    /// `()` for none). A result with `isError: true` is
    /// [`ClientError::ToolError`].
    pub async fn call_tool(
        &self,
        name: &str,
        args: impl Serialize,
    ) -> Result<ToolResult, ClientError> {
        let arguments = arguments_object(args, "tool")?.unwrap_or_default();
        let mut params = json!({ "name": name, "arguments": arguments });
        if self.progress {
            params["_meta"] =
                json!({ "progressToken": self.next_id.fetch_add(1, Ordering::Relaxed) });
        }
        let (result, notifications) = self.request("tools/call", params).await?;
        let content = match result.get("content") {
            Some(Value::Array(blocks)) => blocks.clone(),
            None => Vec::new(),
            Some(other) => {
                return Err(ClientError::Decode(format!(
                    "tools/call: `content` is not an array: {other}"
                )));
            }
        };
        let output = ToolResult {
            content,
            structured_content: result.get("structuredContent").cloned(),
            notifications,
        };
        if result["isError"] == true {
            return Err(ClientError::ToolError(output.text()));
        }
        Ok(output)
    }

    /// Calls tool `name` and reads its `structuredContent` as a `T`.
    pub async fn call_tool_as<T: DeserializeOwned>(
        &self,
        name: &str,
        args: impl Serialize,
    ) -> Result<T, ClientError> {
        self.call_tool(name, args).await?.structured()
    }

    /// Sends `ping`.
    pub async fn ping(&self) -> Result<(), ClientError> {
        self.request("ping", json!({})).await.map(|_| ())
    }

    /// Sends any JSON-RPC request and returns its `result`.
    pub async fn rpc(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        self.request(method, params).await.map(|(result, _)| result)
    }

    /// A request after the handshake (made first if needed): the result and
    /// the notifications that came before it.
    async fn request(
        &self,
        method: &str,
        params: Value,
    ) -> Result<(Value, Vec<Value>), ClientError> {
        let (session, version) = if self.handshake {
            let mut state = self.state.lock().await;
            if state.is_none() {
                *state = Some(self.handshake_now().await?);
            }
            match state.as_ref() {
                Some(h) => (h.session_id.clone(), h.version.clone()),
                None => (None, CLIENT_PROTOCOL_VERSION.to_owned()),
            }
        } else {
            (None, CLIENT_PROTOCOL_VERSION.to_owned())
        };
        let id = self.fresh_id();
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let reply = self.post(&message, session.as_deref(), &version).await?;
        reply.response_to(id)
    }

    /// An id no request of this client used.
    pub(super) fn fresh_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    async fn handshake_now(&self) -> Result<Handshake, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let message = json!({
            "jsonrpc": "2.0", "id": id, "method": "initialize",
            "params": {
                "protocolVersion": CLIENT_PROTOCOL_VERSION,
                "capabilities": self.capabilities,
                "clientInfo": { "name": "mcp-runtime-testing", "version": env!("CARGO_PKG_VERSION") },
            },
        });
        let reply = self.post(&message, None, CLIENT_PROTOCOL_VERSION).await?;
        let session_id = reply.session_id.clone();
        let (result, _) = reply.response_to(id)?;
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let version = text(&result["protocolVersion"]).ok_or_else(|| {
            ClientError::Decode(format!("initialize: no protocolVersion: {result}"))
        })?;
        let info = ServerInfo {
            protocol_version: version.clone(),
            name: text(&result["serverInfo"]["name"]).unwrap_or_default(),
            version: text(&result["serverInfo"]["version"]).unwrap_or_default(),
            title: text(&result["serverInfo"]["title"]),
            capabilities: result["capabilities"].clone(),
            instructions: text(&result["instructions"]),
            session_id: session_id.clone(),
        };
        let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        let reply = self
            .post(&initialized, session_id.as_deref(), &version)
            .await?;
        if reply.status != 202 {
            return Err(ClientError::Http {
                status: reply.status,
                message: format!("notifications/initialized: {}", reply.text),
            });
        }
        Ok(Handshake {
            session_id,
            version,
            info,
        })
    }

    /// POSTs one message; HTTP refusals become errors.
    async fn post(
        &self,
        message: &Value,
        session: Option<&str>,
        version: &str,
    ) -> Result<Reply, ClientError> {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", version)
            .body(message.to_string());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = session {
            request = request.header(crate::SESSION_HEADER, session);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let challenge = header("www-authenticate").unwrap_or_default();
        let session_id = header(crate::SESSION_HEADER);
        let is_sse = header("content-type").is_some_and(|t| t.starts_with("text/event-stream"));
        let text = match &self.answerer {
            Some(answerer) if is_sse && (200..300).contains(&status) => {
                let reply_to = ReplyTo {
                    session: session.or(session_id.as_deref()),
                    version,
                };
                self.read_answering(response, answerer, reply_to).await?
            }
            _ => response
                .text()
                .await
                .map_err(|e| ClientError::Transport(format!("reading the answer: {e}")))?,
        };
        match status {
            401 => return Err(ClientError::Unauthorized { challenge }),
            403 => {
                let scopes = challenge_params(&challenge)
                    .into_iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case("scope"))
                    .map(|(_, value)| value.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default();
                return Err(ClientError::Forbidden { challenge, scopes });
            }
            200..=299 => {}
            _ => {
                let message = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|body| body["error"]["message"].as_str().map(str::to_owned))
                    .unwrap_or(text);
                return Err(ClientError::Http { status, message });
            }
        }
        Ok(Reply {
            status,
            session_id,
            is_sse,
            text,
        })
    }
}

/// Where answers to the server's questions go.
struct ReplyTo<'a> {
    session: Option<&'a str>,
    version: &'a str,
}

impl TestClient {
    /// Reads an SSE answer as it arrives, answering each request the server
    /// sends on it (the server waits for those answers before it finishes).
    async fn read_answering(
        &self,
        mut response: reqwest::Response,
        answerer: &Answerer,
        reply_to: ReplyTo<'_>,
    ) -> Result<String, ClientError> {
        let mut body = Vec::new();
        let mut scanned = 0;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ClientError::Transport(format!("reading the answer: {e}")))?
        {
            body.extend_from_slice(&chunk);
            // Complete events end with a blank line.
            while let Some(end) = find_event_end(&body[scanned..]) {
                let event = String::from_utf8_lossy(&body[scanned..scanned + end]).into_owned();
                scanned += end;
                for data in sse_data(&event) {
                    let Ok(message) = serde_json::from_str::<Value>(&data) else {
                        continue;
                    };
                    let (Some(id), Some(method)) = (message.get("id"), message["method"].as_str())
                    else {
                        continue;
                    };
                    let answer = match (answerer.0)(method, &message["params"]) {
                        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
                        Err(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error }),
                    };
                    let reply =
                        Box::pin(self.post(&answer, reply_to.session, reply_to.version)).await?;
                    if reply.status != 202 {
                        return Err(ClientError::Http {
                            status: reply.status,
                            message: format!("answering {method}: {}", reply.text),
                        });
                    }
                }
            }
        }
        String::from_utf8(body)
            .map_err(|_| ClientError::Decode("the SSE answer is not UTF-8".to_owned()))
    }
}

/// The length of the first complete SSE event in `bytes`, blank line included.
pub(super) fn find_event_end(bytes: &[u8]) -> Option<usize> {
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A 2xx answer.
struct Reply {
    status: u16,
    session_id: Option<String>,
    is_sse: bool,
    text: String,
}

impl Reply {
    /// The response to request `id` (its `result`), and the notifications
    /// sent before it on an SSE stream.
    fn response_to(&self, id: u64) -> Result<(Value, Vec<Value>), ClientError> {
        let messages = if self.is_sse {
            sse_data(&self.text)
                .iter()
                .map(|data| serde_json::from_str::<Value>(data))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ClientError::Decode(format!("an SSE event is not JSON: {e}")))?
        } else {
            vec![serde_json::from_str::<Value>(&self.text).map_err(|e| {
                ClientError::Decode(format!("the answer is not JSON ({e}): {}", self.text))
            })?]
        };
        let mut notifications = Vec::new();
        for message in messages {
            if message.get("method").is_some() && message.get("id").is_none() {
                notifications.push(message);
                continue;
            }
            if message["id"] != json!(id) {
                continue;
            }
            if let Some(error) = message.get("error") {
                return Err(rpc_error(error));
            }
            let result = message.get("result").cloned().ok_or_else(|| {
                ClientError::Decode(format!(
                    "a response with neither result nor error: {message}"
                ))
            })?;
            return Ok((result, notifications));
        }
        Err(ClientError::Decode(format!(
            "no response to request {id} in the answer: {}",
            self.text
        )))
    }
}

/// A JSON-RPC error object as the client's error.
pub(super) fn rpc_error(error: &Value) -> ClientError {
    ClientError::Rpc {
        code: error["code"].as_i64().unwrap_or_default(),
        message: error["message"].as_str().unwrap_or_default().to_owned(),
        data: error.get("data").cloned(),
    }
}

/// `args` as a JSON object, `None` for `()` (or anything that serializes as
/// `null`); `kind` names whose arguments they are in the error.
pub(super) fn arguments_object(
    args: impl Serialize,
    kind: &str,
) -> Result<Option<Map<String, Value>>, ClientError> {
    match serde_json::to_value(args) {
        Ok(Value::Null) => Ok(None),
        Ok(Value::Object(object)) => Ok(Some(object)),
        Ok(other) => Err(ClientError::Arguments(format!(
            "{kind} arguments must be a JSON object, not {other}"
        ))),
        Err(e) => Err(ClientError::Arguments(e.to_string())),
    }
}

/// The `data` of each event of an SSE body (multi-line data joined with `\n`).
pub(super) fn sse_data(text: &str) -> Vec<String> {
    let mut events = Vec::new();
    let mut data: Vec<&str> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            if !data.is_empty() {
                events.push(data.join("\n"));
                data.clear();
            }
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    events
}

/// The `key=value` parameters of a `Bearer` challenge, values unquoted.
pub(super) fn challenge_params(challenge: &str) -> Vec<(String, String)> {
    let trimmed = challenge.trim_start();
    let mut rest = match trimmed.get(..6) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer") => &trimmed[6..],
        _ => trimmed,
    };
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',', '\t']);
        let Some(eq) = rest.find('=') else {
            return params;
        };
        let key = rest[..eq].trim().to_owned();
        rest = &rest[eq + 1..];
        let mut value = String::new();
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    other => value.push(other),
                }
            }
            rest = &quoted[end.min(quoted.len())..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        params.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_parsed_with_quotes_and_escapes() {
        let params = challenge_params(
            r#"Bearer error="insufficient_scope", scope="tasks:write admin", error_description="say \"please\"", resource_metadata="http://x/y""#,
        );
        assert_eq!(
            params,
            [
                ("error".into(), "insufficient_scope".into()),
                ("scope".into(), "tasks:write admin".into()),
                ("error_description".into(), "say \"please\"".into()),
                ("resource_metadata".into(), "http://x/y".into()),
            ]
        );
        assert!(challenge_params("").is_empty());
        assert_eq!(
            challenge_params("Bearer realm=x"),
            [("realm".into(), "x".into())]
        );
        // Unterminated quotes do not panic.
        assert_eq!(
            challenge_params(r#"Bearer a="b"#),
            [("a".into(), "b".into())]
        );
    }

    #[test]
    fn sse_bodies_yield_each_events_data() {
        let body = "event: message\ndata: {\"a\":1}\n\r\ndata: {\"b\":\ndata: 2}\n\n";
        assert_eq!(sse_data(body), ["{\"a\":1}", "{\"b\":\n2}"]);
    }

    #[test]
    fn the_final_response_follows_notifications() {
        let reply = Reply {
            status: 200,
            session_id: None,
            is_sse: true,
            text: "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n\
                   data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"ok\":true}}\n\n"
                .into(),
        };
        let (result, notifications) = reply.response_to(7).expect("a result");
        assert_eq!(result, json!({"ok": true}));
        assert_eq!(notifications.len(), 1);
        assert!(matches!(reply.response_to(8), Err(ClientError::Decode(_))));
    }
}
