//! Asking the client for input while a request runs: elicitation (a
//! question for the user), sampling (a completion from the client's model)
//! and the client's roots.
//!
//! One API serves every protocol revision. Through 2025-11-25 the question
//! goes out as a JSON-RPC request on the request's own SSE stream and the
//! handler waits for the answer the client POSTs back. On 2026-07-28 the
//! server answers `input_required` instead, and the client retries the
//! request with the answers; the handler runs again, and this time the same
//! call returns the answer. So a handler asks with a stable `key` per
//! question and propagates [`InputError`] with `?`:
//!
//! ```
//! use mcp_runtime::input::{Elicitation, InputError};
//! use mcp_runtime::prelude::*;
//! use serde_json::json;
//!
//! struct Greeter;
//!
//! #[mcp_server]
//! impl Greeter {
//!     /// Greets the user by the name they type in.
//!     #[mcp_tool]
//!     async fn greet(ctx: &RequestContext) -> Result<String, ToolError> {
//!         let form = Elicitation::form(
//!             "What is your name?",
//!             json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
//!         );
//!         let answer = ctx.elicit("user_name", form).await?;
//!         #[derive(serde::Deserialize)]
//!         struct Name { name: String }
//!         Ok(match answer.accepted::<Name>()? {
//!             Some(Name { name }) => format!("Hello, {name}!"),
//!             None => "Hello, stranger!".to_owned(),
//!         })
//!     }
//! }
//! # let _ = Greeter.into_mcp_builder();
//! ```
//!
//! If a handler swallows the error instead, the runtime still answers
//! `input_required` on 2026-07-28 (the questions were recorded), and a
//! malformed answer fails the request with -32602 either way.

mod messages;
pub(crate) mod pending;
pub(crate) mod round;
pub(crate) mod task;

pub use messages::{
    ElicitAction, ElicitResult, Elicitation, Root, SamplingMessage, SamplingRequest, SamplingResult,
};

use crate::protocol::ErrorObject;
use crate::protocol::jsonrpc::{OutgoingMessage, RequestId};
use messages::ListRootsResult;
use pending::{Addressee, PendingRequests};
use round::RetryRound;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Why asking the client failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The client did not declare the capability the question needs.
    #[error("the client did not declare the `{capability}` capability")]
    Unsupported {
        /// `sampling`, `elicitation`, `elicitation.url` or `roots`.
        capability: &'static str,
    },
    /// This request has no way to carry a question to the client.
    #[error("cannot ask the client: {reason}")]
    Unavailable {
        /// Why, in words.
        reason: &'static str,
    },
    /// The question itself could not be built.
    #[error("invalid question for the client: {reason}")]
    InvalidRequest {
        /// Why, in words.
        reason: String,
    },
    /// The client answered with a JSON-RPC error (e.g. the user refused).
    #[error("the client answered with an error: {0}")]
    Client(ErrorObject),
    /// The client's answer does not have the shape the question needs.
    #[error("the client's answer is malformed: {reason}")]
    InvalidResponse {
        /// Why, in words.
        reason: String,
    },
    /// No answer came in time.
    #[error("the client did not answer within {0:?}")]
    TimedOut(Duration),
    /// The request was cancelled while waiting.
    #[error("the request was cancelled")]
    Cancelled,
    /// 2026-07-28: the answer is not here yet. Return this error (with `?`);
    /// the runtime answers `input_required` and the client retries with it.
    #[error("waiting for the client's input")]
    InputRequired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Elicitation { url: bool },
    Sampling,
    Roots,
}

impl Kind {
    fn method(self) -> &'static str {
        match self {
            Kind::Elicitation { .. } => "elicitation/create",
            Kind::Sampling => "sampling/createMessage",
            Kind::Roots => "roots/list",
        }
    }

    /// The capability the client must have declared, if it lacks it.
    fn missing_capability(self, declared: &Value) -> Option<&'static str> {
        // Null means nobody knows (a stateless 2025 server keeps no
        // handshake): let the client answer for itself.
        if declared.is_null() {
            return None;
        }
        let (name, present) = match self {
            Kind::Sampling => ("sampling", declared.get("sampling").is_some()),
            Kind::Roots => ("roots", declared.get("roots").is_some()),
            Kind::Elicitation { url: true } => (
                "elicitation.url",
                declared.pointer("/elicitation/url").is_some(),
            ),
            // `elicitation: {}` predates modes and means forms.
            Kind::Elicitation { url: false } => (
                "elicitation",
                declared.get("elicitation").is_some_and(|e| {
                    e.as_object()
                        .is_some_and(|modes| modes.is_empty() || modes.contains_key("form"))
                }),
            ),
        };
        (!present).then_some(name)
    }

    fn parse(self, answer: &Value) -> Result<InputResponse, String> {
        let reason = |e: serde_json::Error| crate::protocol::jsonrpc::describe_json_error(&e);
        Ok(match self {
            Kind::Elicitation { .. } => {
                InputResponse::Elicitation(serde_json::from_value(answer.clone()).map_err(reason)?)
            }
            Kind::Sampling => {
                InputResponse::Sampling(serde_json::from_value(answer.clone()).map_err(reason)?)
            }
            Kind::Roots => InputResponse::Roots(
                serde_json::from_value::<ListRootsResult>(answer.clone())
                    .map_err(reason)?
                    .roots,
            ),
        })
    }
}

/// Several questions asked at once: on 2026-07-28 they travel in one
/// `input_required` result, through 2025-11-25 they go out together.
#[derive(Debug, Clone, Default)]
pub struct InputRequests {
    items: Vec<(String, Kind, Value)>,
}

impl InputRequests {
    /// No questions yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an elicitation under `key`.
    pub fn elicit(mut self, key: impl Into<String>, elicitation: Elicitation) -> Self {
        let kind = Kind::Elicitation {
            url: elicitation.is_url(),
        };
        self.items.push((key.into(), kind, elicitation.params()));
        self
    }

    /// Adds a sampling request under `key`.
    pub fn sample(mut self, key: impl Into<String>, request: SamplingRequest) -> Self {
        self.items
            .push((key.into(), Kind::Sampling, request.params()));
        self
    }

    /// Adds a `roots/list` request under `key`.
    pub fn list_roots(mut self, key: impl Into<String>) -> Self {
        self.items.push((key.into(), Kind::Roots, json!({})));
        self
    }
}

/// One answer of the client.
#[derive(Debug, Clone, PartialEq)]
pub enum InputResponse {
    /// To an elicitation.
    Elicitation(ElicitResult),
    /// To a sampling request.
    Sampling(SamplingResult),
    /// To `roots/list`.
    Roots(Vec<Root>),
}

/// The client's answers, by the keys of the questions.
#[derive(Debug, Clone, Default)]
pub struct InputResponses {
    answers: HashMap<String, InputResponse>,
}

impl InputResponses {
    /// The answer to the elicitation under `key`.
    pub fn elicitation(&self, key: &str) -> Option<&ElicitResult> {
        match self.answers.get(key)? {
            InputResponse::Elicitation(answer) => Some(answer),
            _ => None,
        }
    }

    /// The answer to the sampling request under `key`.
    pub fn sampling(&self, key: &str) -> Option<&SamplingResult> {
        match self.answers.get(key)? {
            InputResponse::Sampling(answer) => Some(answer),
            _ => None,
        }
    }

    /// The roots answered under `key`.
    pub fn roots(&self, key: &str) -> Option<&[Root]> {
        match self.answers.get(key)? {
            InputResponse::Roots(roots) => Some(roots),
            _ => None,
        }
    }

    fn take(mut self, key: &str) -> Option<InputResponse> {
        self.answers.remove(key)
    }
}

/// How the request being served can reach its client with a question.
pub(crate) enum InputChannel {
    /// Through 2025-11-25: as requests on the response stream, answered by
    /// a later POST.
    Stream {
        pending: Arc<PendingRequests>,
        /// Who may answer, worked out only when a question is asked.
        caller: Option<Arc<crate::auth::Auth>>,
        session: Option<Arc<str>>,
        timeout: Duration,
    },
    /// 2026-07-28: in an `input_required` result, answered by a retry.
    Retry(RetryRound),
    /// A task's: recorded in the task, answered by `tasks/update`.
    Task(Arc<task::TaskInbox>),
    /// Neither: the reason, for the error.
    Unavailable(&'static str),
}

/// What a request context hands to [`ask`].
pub(crate) struct Asking<'a> {
    pub(crate) channel: &'a InputChannel,
    pub(crate) stream: Option<&'a mpsc::Sender<OutgoingMessage>>,
    pub(crate) capabilities: &'a Value,
    pub(crate) cancellation: &'a CancellationToken,
}

/// Asks every question of `requests` and returns the answers.
pub(crate) async fn ask(
    asking: Asking<'_>,
    requests: InputRequests,
) -> Result<InputResponses, InputError> {
    if let Some(capability) = requests
        .items
        .iter()
        .find_map(|(_, kind, _)| kind.missing_capability(asking.capabilities))
    {
        return Err(InputError::Unsupported { capability });
    }
    match asking.channel {
        InputChannel::Unavailable(reason) => Err(InputError::Unavailable { reason }),
        InputChannel::Retry(round) => from_retry(round, requests),
        InputChannel::Task(inbox) => inbox.ask(requests, asking.cancellation).await,
        InputChannel::Stream {
            pending,
            caller,
            session,
            timeout,
        } => {
            let addressee = Addressee {
                owner: caller.as_ref().map(|c| c.owner_key().into()),
                session: session.clone(),
            };
            let Some(stream) = asking.stream else {
                return Err(InputError::Unavailable {
                    reason: "the client's request does not accept an SSE stream",
                });
            };
            tokio::select! {
                answers = over_stream(pending, &addressee, *timeout, stream, requests) => answers,
                () = asking.cancellation.cancelled() => Err(InputError::Cancelled),
            }
        }
    }
}

fn from_retry(round: &RetryRound, requests: InputRequests) -> Result<InputResponses, InputError> {
    let mut answers = HashMap::new();
    let mut missing = false;
    for (key, kind, params) in requests.items {
        match round.answer(&key) {
            Some(answer) => match kind.parse(answer) {
                Ok(parsed) => {
                    round.used(&key, answer);
                    answers.insert(key, parsed);
                }
                Err(reason) => {
                    let reason = format!("inputResponses.{key}: {reason}");
                    round.refuse(reason.clone());
                    return Err(InputError::InvalidResponse { reason });
                }
            },
            None => {
                round.ask(&key, kind.method(), params);
                missing = true;
            }
        }
    }
    if missing {
        Err(InputError::InputRequired)
    } else {
        Ok(InputResponses { answers })
    }
}

async fn over_stream(
    pending: &PendingRequests,
    addressee: &Addressee,
    timeout: Duration,
    stream: &mpsc::Sender<OutgoingMessage>,
    requests: InputRequests,
) -> Result<InputResponses, InputError> {
    let closed = || InputError::Unavailable {
        reason: "the response stream closed",
    };
    let mut waiting = Vec::with_capacity(requests.items.len());
    for (key, kind, params) in requests.items {
        let (id, answer, guard) = pending.open(addressee.clone())?;
        stream
            .send(OutgoingMessage::request(id.clone(), kind.method(), params))
            .await
            .map_err(|_| closed())?;
        waiting.push((key, kind, id, answer, guard));
    }
    let mut answers = HashMap::new();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut waiting = waiting.into_iter();
    while let Some((key, kind, id, answer, _guard)) = waiting.next() {
        let outcome = match tokio::time::timeout_at(deadline, answer).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => return Err(closed()),
            Err(_) => {
                // Every question still open is withdrawn, not only this one.
                cancel(stream, &id);
                for (_, _, id, _, _) in waiting {
                    cancel(stream, &id);
                }
                return Err(InputError::TimedOut(timeout));
            }
        };
        let answer = match outcome {
            Ok(result) => serde_json::from_str::<Value>(result.get()).map_err(|e| {
                InputError::InvalidResponse {
                    reason: e.to_string(),
                }
            })?,
            Err(error) => {
                let error = serde_json::from_str::<ErrorObject>(error.get()).unwrap_or_else(|_| {
                    ErrorObject::internal(
                        "the client sent an error that is not a JSON-RPC error object",
                    )
                });
                return Err(InputError::Client(error));
            }
        };
        let parsed = kind
            .parse(&answer)
            .map_err(|reason| InputError::InvalidResponse { reason })?;
        answers.insert(key, parsed);
    }
    Ok(InputResponses { answers })
}

/// Tells the client to stop working on a question nobody waits for.
fn cancel(stream: &mpsc::Sender<OutgoingMessage>, id: &RequestId) {
    let _ = stream.try_send(OutgoingMessage::notification(
        "notifications/cancelled",
        json!({ "requestId": id, "reason": "the server stopped waiting for an answer" }),
    ));
}

/// A question as `inputRequests` carries it, in an `input_required` result
/// or a task.
pub(crate) fn input_request(method: &str, params: Value) -> Value {
    if method == "roots/list" {
        json!({ "method": method })
    } else {
        json!({ "method": method, "params": params })
    }
}

/// Asks one question and returns its answer.
pub(crate) async fn ask_one(
    asking: Asking<'_>,
    requests: InputRequests,
    key: &str,
) -> Result<InputResponse, InputError> {
    ask(asking, requests)
        .await?
        .take(key)
        .ok_or(InputError::InputRequired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_checked_per_question() {
        let declared = json!({"sampling": {}, "elicitation": {}});
        assert_eq!(Kind::Sampling.missing_capability(&declared), None);
        assert_eq!(
            Kind::Elicitation { url: false }.missing_capability(&declared),
            None
        );
        assert_eq!(
            Kind::Elicitation { url: true }.missing_capability(&declared),
            Some("elicitation.url")
        );
        assert_eq!(Kind::Roots.missing_capability(&declared), Some("roots"));
        let url_only = json!({"elicitation": {"url": {}}});
        assert_eq!(
            Kind::Elicitation { url: false }.missing_capability(&url_only),
            Some("elicitation")
        );
        assert_eq!(Kind::Roots.missing_capability(&Value::Null), None);
    }

    #[test]
    fn a_retry_answers_what_it_carries_and_asks_the_rest() {
        let key = round::StateKey::random();
        let round = RetryRound::open(
            &key,
            "b".into(),
            None,
            Some(json!({"name": {"action": "accept", "content": {"name": "Ada"}}})),
        )
        .unwrap();
        let both = || {
            InputRequests::new()
                .elicit(
                    "name",
                    Elicitation::form("Name?", json!({"type": "object"})),
                )
                .list_roots("roots")
        };
        assert!(matches!(
            from_retry(&round, both()),
            Err(InputError::InputRequired)
        ));
        let answers = from_retry(
            &round,
            InputRequests::new().elicit("name", Elicitation::form("Name?", json!({}))),
        )
        .unwrap();
        assert_eq!(
            answers.elicitation("name").unwrap().action,
            ElicitAction::Accept
        );
        let result = round.conclude(&key).unwrap().unwrap();
        assert_eq!(
            result["inputRequests"]["roots"],
            json!({"method": "roots/list"})
        );
    }

    #[test]
    fn a_malformed_retry_answer_is_refused() {
        let key = round::StateKey::random();
        let round = RetryRound::open(&key, "b".into(), None, Some(json!({"name": 12345}))).unwrap();
        let asked = from_retry(
            &round,
            InputRequests::new().elicit("name", Elicitation::form("Name?", json!({}))),
        );
        assert!(matches!(asked, Err(InputError::InvalidResponse { .. })));
        assert!(round.conclude(&key).unwrap().is_err());
    }
}
