//! Answers MCP requests: the lifecycle, `tools/list` and `tools/call`; the
//! resources, prompts and completion methods are in `features`.

use super::ServerCore;
use crate::auth::Auth;
use crate::context::{ContextInner, RequestContext};
use crate::input::InputChannel;
use crate::input::round::RetryRound;
use crate::protocol::jsonrpc::RequestId;
use crate::protocol::jsonrpc::{MISSING_CLIENT_CAPABILITY, describe_json_error};
use crate::protocol::jsonrpc::{OutgoingMessage, Request, Response};
use crate::protocol::messages::{
    CallToolParams, DiscoverResult, InitializeParams, InitializeResult, ListToolsParams,
    LoggingLevel, ProgressToken, SetLevelParams,
};
use crate::protocol::{ErrorObject, ProtocolVersion, REQUEST_CANCELLED};
use crate::server::session::Session;
use futures_util::FutureExt as _;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Where a request came from, as the transport established it.
pub(crate) struct RequestOrigin {
    pub(crate) version: ProtocolVersion,
    pub(crate) session: Option<Arc<Session>>,
    pub(crate) notifier: Option<mpsc::Sender<OutgoingMessage>>,
    /// Minimum level of `notifications/message`; `None` sends none.
    pub(crate) log_level: Option<LoggingLevel>,
    /// What the client declared it can do (`null` if unknown). Shared, as a
    /// session hands the same declaration to every request.
    pub(crate) client_capabilities: Arc<Value>,
    /// The authenticated caller, when the server authenticates requests.
    pub(crate) caller: Option<Arc<Auth>>,
    /// Leave tools the caller cannot use out of `tools/list`.
    pub(crate) hide_forbidden_tools: bool,
    /// A `tools/call`'s params, when the transport read them already to
    /// check the call: read once, not again here.
    pub(crate) call: Option<CallToolParams>,
}

/// Methods the stateless revision removed.
const REMOVED_IN_STATELESS: [&str; 5] = [
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// Results that 2026-07-28 clients may cache, so they carry `ttlMs` and `cacheScope`.
const CACHEABLE: [&str; 6] = [
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "server/discover",
];

/// Records what the request span says of `request`: its method, id,
/// revision, session and target, and its name in the OpenTelemetry
/// conventions for MCP (`tools/call search`).
fn record_request(
    span: &tracing::Span,
    request: &Request,
    origin: &RequestOrigin,
    tools: &crate::tools::ToolRegistry,
) {
    #[derive(serde::Deserialize)]
    struct Target<'a> {
        #[serde(borrow, default)]
        name: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        uri: Option<std::borrow::Cow<'a, str>>,
    }
    let method = crate::operations::metrics::method_label(&request.method);
    span.record("mcp.protocol.version", origin.version.as_str());
    if let Some(session) = &origin.session {
        // The id is a credential on a server without sign-in: traces get
        // its fingerprint.
        let fingerprint = crate::operations::fingerprint(&session.id, 8);
        span.record("mcp.session.id", fingerprint.as_str());
    }
    match &request.id {
        RequestId::Number(n) => span.record("jsonrpc.request.id", n),
        RequestId::String(s) => span.record("jsonrpc.request.id", capped(s)),
    };
    let target = match request.method.as_str() {
        "tools/call" | "prompts/get" | "resources/read" => request
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str::<Target<'_>>(p.get()).ok()),
        _ => None,
    };
    // A client may name anything: attributes are cut short, and only a
    // registered tool names the span (its names are the server's, few).
    let name = match &target {
        Some(Target {
            name: Some(name), ..
        }) if request.method == "tools/call" => {
            span.record("gen_ai.tool.name", capped(name));
            tools.get(name).is_some().then_some(name.as_ref())
        }
        Some(Target { uri: Some(uri), .. }) => {
            span.record("mcp.resource.uri", capped(uri));
            None
        }
        _ => None,
    };
    crate::operations::telemetry::name_request(span, method, name);
}

/// `text` cut to at most 256 bytes, on a character boundary.
fn capped(text: &str) -> &str {
    let mut end = text.len().min(256);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Parses method parameters; absent params read as `{}`.
pub(crate) fn parse_params<T: DeserializeOwned>(
    params: Option<&RawValue>,
) -> Result<T, ErrorObject> {
    let text = params.map_or("{}", RawValue::get);
    serde_json::from_str(text).map_err(|e| {
        ErrorObject::invalid_params(format!("invalid params: {}", describe_json_error(&e)))
    })
}

impl ServerCore {
    /// The revision to answer an `initialize` asking for `requested`: the same
    /// if spoken and session-based, else the newest session-based one.
    pub(crate) fn negotiate(&self, requested: &str) -> ProtocolVersion {
        match ProtocolVersion::parse(requested) {
            Some(v) if !v.is_stateless() => v,
            _ => ProtocolVersion::LATEST_SESSION_BASED,
        }
    }

    /// Answers one request.
    pub(crate) async fn handle_request(&self, request: Request, origin: RequestOrigin) -> Response {
        let id = request.id.clone();
        let stateless = origin.version.is_stateless();
        // What is needed of the method once `answer` has taken the request,
        // read now rather than cloning it.
        let labels = crate::operations::metrics::request_labels(&request.method);
        let cacheable = CACHEABLE.contains(&request.method.as_str());
        let started = std::time::Instant::now();
        let span = tracing::Span::current();
        if !span.is_disabled() {
            record_request(&span, &request, &origin, &self.tools.load());
        }
        let outcome = if stateless && REMOVED_IN_STATELESS.contains(&request.method.as_str()) {
            Err(ErrorObject::method_not_found(&request.method))
        } else {
            self.answer(request, origin).await
        };
        if let Err(error) = &outcome {
            span.record("rpc.response.status_code", error.code);
            span.record("error.type", error.code.to_string().as_str());
        }
        crate::operations::metrics::request(labels, outcome.is_ok(), started.elapsed());
        match outcome {
            Ok(result) if stateless => Response::success(id, stateless_result(cacheable, result)),
            Ok(result) => Response::success(id, result),
            Err(error) => Response::error(Some(id), error),
        }
    }

    async fn answer(
        &self,
        request: Request,
        origin: RequestOrigin,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let params = request.params.as_deref();
        match request.method.as_str() {
            "ping" => Ok(empty_object()),
            "initialize" => {
                let params: InitializeParams = parse_params(params)?;
                to_raw(&self.initialize_body(self.negotiate(&params.protocol_version)))
            }
            "server/discover" => to_raw(&DiscoverResult {
                result_type: "complete",
                supported_versions: ProtocolVersion::supported_strings(),
                capabilities: &self.stateless_capabilities(),
                instructions: self.instructions.as_deref(),
                meta: json!({ "io.modelcontextprotocol/serverInfo": &self.info }),
            }),
            "tools/list" => {
                let params: ListToolsParams = parse_params(params)?;
                let registry = self.tools.load();
                let caller = origin.caller.as_deref();
                let allowed = |tool: &crate::tools::Tool| tool.access().check(caller).is_ok();
                registry.list_page(
                    params.cursor.as_deref(),
                    self.page_size,
                    origin.version.has_structured_output(),
                    origin
                        .hide_forbidden_tools
                        .then_some(&allowed as &dyn Fn(&crate::tools::Tool) -> bool),
                )
            }
            "tools/call" => self.call_tool(request, origin).await,
            "logging/setLevel" => {
                let SetLevelParams { level } = parse_params(params)?;
                if let Some(session) = &origin.session {
                    session
                        .set_log_level(level)
                        .await
                        .map_err(|_| super::session::store_unavailable())?;
                }
                Ok(empty_object())
            }
            // Boxed, as are the task paths of `call_tool`: inline, they would
            // make every request's future as large as the largest of them.
            "tasks/get" | "tasks/update" | "tasks/cancel" => {
                Box::pin(self.answer_task_method(&request.method, params, &origin))
                    .await
                    .unwrap_or_else(|| Err(ErrorObject::method_not_found(&request.method)))
            }
            _ => {
                let method = request.method.clone();
                match self.answer_feature(request, origin).await {
                    Some(answer) => answer,
                    None => Err(ErrorObject::method_not_found(&method)),
                }
            }
        }
    }

    /// The capabilities at 2026-07-28, whose changes reach clients on
    /// `subscriptions/listen` streams whatever the session mode (there is
    /// no `resources/subscribe` and no GET stream).
    fn stateless_capabilities(&self) -> crate::protocol::messages::ServerCapabilities {
        let mut capabilities = self.capabilities.clone();
        capabilities.tools.list_changed = Some(true);
        if let Some(resources) = &mut capabilities.resources {
            resources.subscribe = Some(true);
            resources.list_changed = Some(true);
        }
        if let Some(prompts) = &mut capabilities.prompts {
            prompts.list_changed = Some(true);
        }
        capabilities
    }

    pub(crate) fn initialize_body(&self, version: ProtocolVersion) -> InitializeResult<'_> {
        InitializeResult {
            protocol_version: version.as_str(),
            capabilities: &self.capabilities,
            server_info: &self.info,
            instructions: self.instructions.as_deref(),
        }
    }

    async fn call_tool(
        &self,
        request: Request,
        mut origin: RequestOrigin,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let id = request.id;
        let params: CallToolParams = match origin.call.take() {
            Some(params) => params,
            None => parse_params(request.params.as_deref())?,
        };
        let Some(entry) = self.tools.load().get(&params.name).cloned() else {
            return Err(ErrorObject::invalid_params(format!(
                "unknown tool: {}",
                params.name
            )));
        };
        // The endpoint refuses with 401/403 before dispatch; this catches any
        // path that reaches a tool without that check (batches), failing closed.
        if let Err(denied) = entry.tool.access().check(origin.caller.as_deref()) {
            return Err(ErrorObject::invalid_request(format!(
                "tool `{}` refused: {denied}",
                params.name
            )));
        }
        // Unknown capabilities (stateless 2025 mode keeps no handshake) are not held against the client.
        let declared = &origin.client_capabilities;
        let missing: Map<String, Value> = entry
            .tool
            .access()
            .client_capabilities
            .iter()
            .filter(|c| !declared.is_null() && declared.get(c.as_ref()).is_none())
            .map(|c| (c.to_string(), json!({})))
            .collect();
        if !missing.is_empty() {
            let names = missing.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(ErrorObject::new(
                MISSING_CLIENT_CAPABILITY,
                format!(
                    "tool `{}` needs client capabilities the client did not declare: {names}",
                    params.name
                ),
            )
            .with_data(json!({ "requiredCapabilities": missing })));
        }
        let as_task = self.runs_as_task(&entry, &origin, &params.name)?;
        if as_task && !entry.tool.deferred_task {
            return Box::pin(self.start_task(id, entry, params, origin)).await;
        }
        // A handler that starts its own task begins in its request.
        let deferred = as_task.then(|| self.task_spec(id.clone(), &params.name, &origin));
        let structured = origin.version.has_structured_output();
        let invocation = Invocation {
            id: &id,
            method: "tools/call",
            target: &params.name,
            progress_token: params.meta.and_then(|m| m.progress_token),
            input_responses: params.input_responses,
            request_state: params.request_state.as_deref(),
        };
        let prepared = self.prepare(invocation, origin)?;
        if let Some(spec) = deferred {
            return Box::pin(self.call_deferred(
                spec,
                &entry,
                params.arguments,
                &params.name,
                prepared,
                structured,
            ))
            .await;
        }
        let ctx = prepared.ctx.clone();
        let handler = entry.tool.handler().clone();
        let (arguments, tool_ctx) = (params.arguments, ctx.clone());
        // Calling the handler inside the guarded future also catches panics in
        // its synchronous part and in argument deserialization.
        let run = tracing::Instrument::instrument(
            AssertUnwindSafe(async move { handler(arguments, tool_ctx).await }).catch_unwind(),
            tracing::debug_span!("mcp.handler", gen_ai.tool.name = params.name.as_str()),
        );
        // A cancelled request ends as cancelled even if the handler, seeing
        // the same cancellation, finishes in the same instant.
        let outcome = tokio::select! {
            biased;
            () = ctx.cancellation().cancelled() => {
                return Err(ErrorObject::new(REQUEST_CANCELLED, "request cancelled"));
            }
            outcome = run => outcome,
        };
        self.call_answer(&prepared, outcome, &params.name, structured)
    }

    /// The answer to a tool call whose handler ran in its request: the
    /// 2026-07-28 `input_required` result for the questions it asked, or its
    /// result (an error result if it panicked).
    pub(crate) fn call_answer(
        &self,
        prepared: &Prepared,
        outcome: Result<crate::tools::CallToolResult, Box<dyn std::any::Any + Send>>,
        tool: &str,
        structured: bool,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let mut result = outcome.unwrap_or_else(|_| {
            tracing::error!(tool = %tool, "tool panicked");
            crate::tools::CallToolResult::error(format!(
                "tool `{tool}` failed with an internal error"
            ))
        });
        if let Some(concluded) = self.conclude(prepared) {
            return concluded;
        }
        if !structured {
            result.structured_content = None;
        }
        to_raw(&result)
    }

    /// Builds the context of a tool call, resource read or prompt: the
    /// cancellation it answers to, and how it may ask the client for input.
    pub(crate) fn prepare(
        &self,
        invocation: Invocation<'_>,
        origin: RequestOrigin,
    ) -> Result<Prepared, ErrorObject> {
        let input = if origin.version.is_stateless() {
            let owner = origin.caller.as_ref().map(|c| c.owner_key());
            let binding = format!(
                "{}\n{}\n{}",
                invocation.method,
                invocation.target,
                owner.as_deref().unwrap_or_default()
            );
            InputChannel::Retry(RetryRound::open(
                &self.input.state_key,
                binding,
                invocation.request_state,
                invocation.input_responses,
            )?)
        } else if origin.notifier.is_some() {
            InputChannel::Stream {
                pending: Arc::clone(&self.input.pending),
                caller: origin.caller.clone(),
                session: origin.session.as_ref().map(|s| Arc::clone(&s.id)),
                timeout: self.input.timeout,
            }
        } else {
            InputChannel::Unavailable("the client's request does not accept an SSE stream")
        };
        let cancellation = CancellationToken::new();
        let in_flight = origin
            .session
            .as_ref()
            .map(|s| s.track(invocation.id.clone(), cancellation.clone()));
        let ctx = RequestContext::new(ContextInner {
            request_id: invocation.id.clone(),
            protocol_version: origin.version,
            session_id: origin.session.as_ref().map(|s| Arc::clone(&s.id)),
            progress_token: invocation.progress_token,
            notifier: origin.notifier,
            min_log_level: origin.log_level,
            cancellation,
            caller: origin.caller,
            client_capabilities: origin.client_capabilities,
            input,
            task_starter: std::sync::Mutex::new(None),
        });
        Ok(Prepared {
            ctx,
            _in_flight: in_flight,
        })
    }

    /// After the handler: on 2026-07-28, the `input_required` result for the
    /// questions it asked, or the error for an answer that did not parse.
    /// `None` when the handler's own result stands.
    pub(crate) fn conclude(
        &self,
        prepared: &Prepared,
    ) -> Option<Result<Box<RawValue>, ErrorObject>> {
        let round = prepared.ctx.retry_round()?;
        Some(
            round
                .conclude(&self.input.state_key)?
                .and_then(|result| to_raw(&result)),
        )
    }
}

/// The parts of a request that shape its context.
pub(crate) struct Invocation<'a> {
    pub(crate) id: &'a RequestId,
    /// `tools/call`, `resources/read` or `prompts/get`.
    pub(crate) method: &'static str,
    /// The tool or prompt name, or the resource URI.
    pub(crate) target: &'a str,
    pub(crate) progress_token: Option<ProgressToken>,
    pub(crate) input_responses: Option<Value>,
    pub(crate) request_state: Option<&'a str>,
}

/// A request context ready for its handler.
pub(crate) struct Prepared {
    pub(crate) ctx: RequestContext,
    /// Lets `notifications/cancelled` reach the handler while it runs.
    _in_flight: Option<crate::server::session::InFlightGuard>,
}

fn empty_object() -> Box<RawValue> {
    to_raw(&json!({})).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

pub(crate) fn to_raw<T: serde::Serialize>(value: &T) -> Result<Box<RawValue>, ErrorObject> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| ErrorObject::internal(format!("result not serializable: {e}")))
}

/// Adds the fields every 2026-07-28 result carries, in front of the
/// result's own: spliced into the serialized object rather than parsed and
/// written again, as every stateless request pays for it.
fn stateless_result(cacheable: bool, result: Box<RawValue>) -> Box<RawValue> {
    let text = result.get();
    let (Some(body), Ok(present)) = (
        text.trim_start().strip_prefix('{'),
        serde_json::from_str::<TopLevelKeys>(text),
    ) else {
        return result;
    };
    let mut added = String::with_capacity(64);
    if !present.result_type {
        added.push_str(r#""resultType":"complete","#);
    }
    if cacheable {
        // Listings may depend on the caller's authorization, so never shared caches.
        if !present.ttl_ms {
            added.push_str(r#""ttlMs":0,"#);
        }
        if !present.cache_scope {
            added.push_str(r#""cacheScope":"private","#);
        }
    }
    if added.is_empty() {
        return result;
    }
    let body = body.trim_start();
    if body.starts_with('}') {
        added.pop();
    }
    let mut spliced = String::with_capacity(text.len() + added.len());
    spliced.push('{');
    spliced.push_str(&added);
    spliced.push_str(body);
    RawValue::from_string(spliced).unwrap_or(result)
}

/// Which of the fields [`stateless_result`] adds an object already has;
/// read without building the object.
#[derive(Default)]
struct TopLevelKeys {
    result_type: bool,
    ttl_ms: bool,
    cache_scope: bool,
}

impl<'de> serde::Deserialize<'de> for TopLevelKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = TopLevelKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TopLevelKeys, A::Error> {
                let mut keys = TopLevelKeys::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "resultType" => keys.result_type = true,
                        "ttlMs" => keys.ttl_ms = true,
                        "cacheScope" => keys.cache_scope = true,
                        _ => {}
                    }
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(keys)
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stateless(method: &str, json: &str) -> Value {
        let raw = RawValue::from_string(json.to_owned()).unwrap();
        serde_json::from_str(stateless_result(CACHEABLE.contains(&method), raw).get()).unwrap()
    }

    #[test]
    fn stateless_results_gain_their_fields_once() {
        assert_eq!(stateless("ping", "{}"), json!({"resultType": "complete"}));
        assert_eq!(
            stateless("tools/list", r#"{ "tools": [] }"#),
            json!({"resultType": "complete", "ttlMs": 0, "cacheScope": "private", "tools": []})
        );
        assert_eq!(
            stateless(
                "tools/call",
                r#"{"resultType":"input_required","inputRequests":{}}"#
            ),
            json!({"resultType": "input_required", "inputRequests": {}})
        );
        // Only top-level keys count: a tool may return text naming them.
        assert_eq!(
            stateless(
                "tools/call",
                r#"{"content":[{"type":"text","text":"resultType"}],"structuredContent":{"resultType":1}}"#
            ),
            json!({
                "resultType": "complete",
                "content": [{"type": "text", "text": "resultType"}],
                "structuredContent": {"resultType": 1}
            })
        );
        assert_eq!(
            stateless(
                "tools/list",
                r#"{"ttlMs":5,"cacheScope":"public","tools":[]}"#
            ),
            json!({"resultType": "complete", "ttlMs": 5, "cacheScope": "public", "tools": []})
        );
    }
}
