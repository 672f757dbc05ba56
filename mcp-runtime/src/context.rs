//! The request context handed to tools: progress, logging and cancellation.

use crate::auth::Auth;
use crate::protocol::jsonrpc::OutgoingNotification;
use crate::protocol::messages::ProgressToken;
use crate::protocol::{LoggingLevel, ProtocolVersion, RequestId};
use serde::Serialize;
use serde_json::json;
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
    pub(crate) notifier: Option<mpsc::Sender<OutgoingNotification>>,
    pub(crate) min_log_level: Option<LoggingLevel>,
    pub(crate) cancellation: CancellationToken,
    pub(crate) caller: Option<Arc<Auth>>,
}

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

    async fn notify(&self, method: &'static str, params: serde_json::Value) {
        if let Some(notifier) = &self.inner.notifier {
            // A closed channel means the response is already written; nothing to do.
            let _ = notifier
                .send(OutgoingNotification::new(method, params))
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
    }
}
