//! The request context handed to tools, resources and prompts: progress,
//! logging, cancellation, and questions for the client.

use crate::auth::Auth;
use crate::input::round::RetryRound;
use crate::input::{
    Asking, ElicitResult, Elicitation, InputChannel, InputError, InputRequests, InputResponse,
    InputResponses, Root, SamplingRequest, SamplingResult,
};
use crate::protocol::jsonrpc::OutgoingMessage;
use crate::protocol::messages::ProgressToken;
use crate::protocol::{LoggingLevel, ProtocolVersion, RequestId};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Everything a tool may want to know about the request it serves, and the
/// channel back to the client for progress and log notifications.
///
/// Cheap to clone. Notifications go out on the request's own SSE stream; when
/// the client cannot take a stream they are dropped.
#[derive(Clone)]
pub struct RequestContext {
    inner: Arc<ContextInner>,
}

pub(crate) struct ContextInner {
    pub(crate) request_id: RequestId,
    pub(crate) protocol_version: ProtocolVersion,
    pub(crate) session_id: Option<Arc<str>>,
    pub(crate) progress_token: Option<ProgressToken>,
    pub(crate) notifier: Option<mpsc::Sender<OutgoingMessage>>,
    pub(crate) min_log_level: Option<LoggingLevel>,
    pub(crate) cancellation: CancellationToken,
    pub(crate) caller: Option<Arc<Auth>>,
    /// What the client declared it can do (`null` if unknown).
    pub(crate) client_capabilities: Arc<Value>,
    /// How a question reaches the client.
    pub(crate) input: InputChannel,
    /// Turns the call into a task, once: set for a call of a tool whose
    /// handler starts its own task, from a client that takes tasks.
    pub(crate) task_starter: std::sync::Mutex<Option<TaskStarter>>,
}

/// Why [`RequestContext::start_task`] could not start the task (the caller
/// holds too many unfinished ones, or the shared state is unreachable).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the task could not be started: {0}")]
pub struct TaskStartError(String);

/// Stores the task and gives the handler its context (see
/// [`RequestContext::start_task`]).
pub(crate) type TaskStarter = Box<
    dyn FnOnce() -> futures_util::future::BoxFuture<
            'static,
            Result<RequestContext, crate::protocol::ErrorObject>,
        > + Send,
>;

impl RequestContext {
    pub(crate) fn new(inner: ContextInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A context not attached to any client: notifications go nowhere.
    /// Useful for calling a tool's function directly in unit tests.
    pub fn detached() -> Self {
        Self::new(detached_inner(None))
    }

    /// A detached context whose caller is `auth`: for calling a tool's
    /// function directly in unit tests.
    pub fn detached_as(auth: Auth) -> Self {
        Self::new(detached_inner(Some(Arc::new(auth))))
    }

    /// The authenticated caller, when the server authenticates requests.
    pub fn auth(&self) -> Option<&Auth> {
        self.inner.caller.as_deref()
    }

    /// The JSON-RPC id of the request being served.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The protocol revision of the request.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.protocol_version
    }

    /// The MCP session, for session-based revisions in stateful mode.
    pub fn session_id(&self) -> Option<&str> {
        self.inner.session_id.as_deref()
    }

    /// Whether the client asked for progress notifications.
    pub fn wants_progress(&self) -> bool {
        self.inner.progress_token.is_some() && self.inner.notifier.is_some()
    }

    /// Sends `notifications/progress` if the client asked for progress.
    ///
    /// `progress` must increase with each call; `total` is optional.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let (Some(token), Some(_)) = (&self.inner.progress_token, &self.inner.notifier) else {
            return;
        };
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        self.notify("notifications/progress", params).await;
    }

    /// Sends `notifications/message` at `level` unless the client asked for a higher minimum.
    pub async fn log(&self, level: LoggingLevel, logger: Option<&str>, data: impl Serialize) {
        if self.inner.min_log_level.is_none_or(|min| level < min) || self.inner.notifier.is_none() {
            return;
        }
        let data = match serde_json::to_value(data) {
            Ok(v) => v,
            Err(error) => {
                tracing::warn!(%error, "log data not serializable");
                return;
            }
        };
        let mut params = json!({ "level": level, "data": data });
        if let Some(logger) = logger {
            params["logger"] = json!(logger);
        }
        self.notify("notifications/message", params).await;
    }

    /// Whether the client cancelled this request.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancellation.is_cancelled()
    }

    /// Completes when the client cancels this request.
    pub async fn cancelled(&self) {
        self.inner.cancellation.cancelled().await
    }

    pub(crate) fn cancellation(&self) -> &CancellationToken {
        &self.inner.cancellation
    }

    /// What the client declared it can do, as it sent it; `null` when the
    /// server keeps no handshake (stateless mode before 2026-07-28).
    pub fn client_capabilities(&self) -> &Value {
        &self.inner.client_capabilities
    }

    /// Whether the client declared `capability`: `"sampling"`,
    /// `"elicitation"`, `"roots"`, or a nested one such as `"elicitation.url"`.
    pub fn client_supports(&self, capability: &str) -> bool {
        let pointer = format!("/{}", capability.replace('.', "/"));
        self.inner.client_capabilities.pointer(&pointer).is_some()
    }

    /// Asks the user a question ([`Elicitation`]) and returns their answer.
    ///
    /// `key` names the question; keep it stable across calls, as the
    /// 2026-07-28 revision matches answers to questions by it.
    ///
    /// # Errors
    /// See [`InputError`]; on 2026-07-28 the first call returns
    /// [`InputError::InputRequired`], which the handler propagates.
    pub async fn elicit(
        &self,
        key: &str,
        elicitation: Elicitation,
    ) -> Result<ElicitResult, InputError> {
        match self
            .ask_one(InputRequests::new().elicit(key, elicitation), key)
            .await?
        {
            InputResponse::Elicitation(answer) => Ok(answer),
            _ => Err(InputError::InputRequired),
        }
    }

    /// Asks the client's model for a message (`sampling/createMessage`).
    ///
    /// # Errors
    /// As [`RequestContext::elicit`].
    pub async fn create_message(
        &self,
        key: &str,
        request: SamplingRequest,
    ) -> Result<SamplingResult, InputError> {
        match self
            .ask_one(InputRequests::new().sample(key, request), key)
            .await?
        {
            InputResponse::Sampling(answer) => Ok(answer),
            _ => Err(InputError::InputRequired),
        }
    }

    /// Asks the client for its roots (`roots/list`).
    ///
    /// # Errors
    /// As [`RequestContext::elicit`].
    pub async fn list_roots(&self, key: &str) -> Result<Vec<Root>, InputError> {
        match self
            .ask_one(InputRequests::new().list_roots(key), key)
            .await?
        {
            InputResponse::Roots(roots) => Ok(roots),
            _ => Err(InputError::InputRequired),
        }
    }

    /// Asks several questions at once and returns every answer.
    ///
    /// # Errors
    /// As [`RequestContext::elicit`].
    pub async fn ask(&self, requests: InputRequests) -> Result<InputResponses, InputError> {
        crate::input::ask(self.asking(), requests).await
    }

    async fn ask_one(
        &self,
        requests: InputRequests,
        key: &str,
    ) -> Result<InputResponse, InputError> {
        crate::input::ask_one(self.asking(), requests, key).await
    }

    fn asking(&self) -> Asking<'_> {
        Asking {
            channel: &self.inner.input,
            stream: self.inner.notifier.as_ref(),
            capabilities: &self.inner.client_capabilities,
            cancellation: &self.inner.cancellation,
        }
    }

    /// Turns this call into a task, for a tool declared with
    /// `deferred_task` (or [`Tool::deferred_task`](crate::tools::Tool::deferred_task)):
    /// the client gets the task at once, and the handler goes on with the
    /// context this returns (its questions go through the task, and
    /// `tasks/cancel` cancels it). Questions asked before it travel in the
    /// request (`input_required` rounds). When the call cannot become a task
    /// (the client does not take tasks, or it is one already) the call goes
    /// on in its request and this context comes back.
    ///
    /// # Errors
    /// The task could not be stored (the caller holds too many unfinished
    /// ones, or the shared state is unreachable).
    pub async fn start_task(&self) -> Result<RequestContext, TaskStartError> {
        let starter = self
            .inner
            .task_starter
            .lock()
            .ok()
            .and_then(|mut starter| starter.take());
        match starter {
            None => Ok(self.clone()),
            Some(start) => start().await.map_err(|error| TaskStartError(error.message)),
        }
    }

    /// Lets this call become a task through [`start_task`](Self::start_task).
    pub(crate) fn set_task_starter(&self, starter: TaskStarter) {
        if let Ok(mut slot) = self.inner.task_starter.lock() {
            *slot = Some(starter);
        }
    }

    /// The 2026-07-28 round this request is, if it is one.
    pub(crate) fn retry_round(&self) -> Option<&RetryRound> {
        match &self.inner.input {
            InputChannel::Retry(round) => Some(round),
            _ => None,
        }
    }

    async fn notify(&self, method: &'static str, params: serde_json::Value) {
        if let Some(notifier) = &self.inner.notifier {
            // A closed channel means the response is already written; nothing to do.
            let _ = notifier
                .send(OutgoingMessage::notification(method, params))
                .await;
        }
    }
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("request_id", &self.inner.request_id)
            .field("protocol_version", &self.inner.protocol_version)
            .field("session_id", &self.inner.session_id)
            .finish_non_exhaustive()
    }
}

fn detached_inner(caller: Option<Arc<Auth>>) -> ContextInner {
    ContextInner {
        request_id: RequestId::Number(0),
        protocol_version: ProtocolVersion::LATEST_SESSION_BASED,
        session_id: None,
        progress_token: None,
        notifier: None,
        min_log_level: Some(LoggingLevel::Debug),
        cancellation: CancellationToken::new(),
        caller,
        client_capabilities: Arc::new(Value::Null),
        input: InputChannel::Unavailable("the context is not attached to a client"),
        task_starter: std::sync::Mutex::new(None),
    }
}
