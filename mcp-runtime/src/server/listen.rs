//! The `subscriptions/listen` streams this replica holds (2026-07-28): each
//! carries the change notifications its client opted in to, tagged with the
//! id of the request that opened it.
//!
//! The registry is local, like a session's GET stream: a change made on
//! another replica reaches it through the bus (see `session`), and a task's
//! change through the tasks' listener.

use crate::protocol::RequestId;
use crate::protocol::jsonrpc::OutgoingMessage;
use crate::protocol::messages::{SUBSCRIPTION_ID_META, SubscriptionFilter};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Most listen streams one process holds: each is an open connection.
pub(crate) const MAX_LISTENERS: usize = 10_000;
/// Most listen streams one authenticated caller holds at once, so one
/// client cannot take every slot: one more ends their oldest. Ending rather
/// than refusing, as a server notices a stream its client closed only when
/// it next writes to it, and a client that reconnects must not wait for
/// that. Anonymous callers (a server without authentication) cannot be told
/// apart, so no one of them may end another's: they meet only the process's
/// bound.
pub(crate) const MAX_LISTENERS_PER_OWNER: usize = 32;
/// Notifications queued for one stream; past it, its client is not reading:
/// the stream is ended rather than a notification lost in silence (its
/// client reconnects and reads the state of its tasks afresh).
const STREAM_QUEUE: usize = 64;

/// The listen streams open here.
#[derive(Default)]
pub(crate) struct Listeners {
    open: Mutex<HashMap<u64, Listener>>,
    next: AtomicU64,
    /// Cancelled when the server shuts down: every stream ends with its
    /// closing response.
    closing: tokio_util::sync::CancellationToken,
}

struct Listener {
    subscription: RequestId,
    owner: Option<Arc<str>>,
    tools: bool,
    prompts: bool,
    resources: bool,
    uris: HashSet<String>,
    tasks: HashSet<Arc<str>>,
    stream: mpsc::Sender<OutgoingMessage>,
}

/// Why a stream could not be opened: this process holds [`MAX_LISTENERS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListenFull;

/// An open stream's place in the registry: it is taken out when this is
/// dropped (the client went away, or the response ended).
pub(crate) struct ListenGuard {
    listeners: Arc<Listeners>,
    key: u64,
}

impl Drop for ListenGuard {
    fn drop(&mut self) {
        if let Ok(mut open) = self.listeners.open.lock() {
            open.remove(&self.key);
        }
    }
}

impl Listeners {
    /// Registers a stream for `agreed`, opened by request `subscription` of
    /// `owner`: its guard, and where its notifications arrive.
    pub(crate) fn open(
        self: &Arc<Self>,
        subscription: RequestId,
        owner: Option<Arc<str>>,
        agreed: &SubscriptionFilter,
    ) -> Result<(ListenGuard, mpsc::Receiver<OutgoingMessage>), ListenFull> {
        let (stream, rx) = mpsc::channel(STREAM_QUEUE);
        let listener = Listener {
            subscription,
            tools: agreed.tools_list_changed,
            prompts: agreed.prompts_list_changed,
            resources: agreed.resources_list_changed,
            uris: agreed.resource_subscriptions.iter().cloned().collect(),
            tasks: agreed
                .task_ids
                .iter()
                .map(|id| Arc::from(id.as_str()))
                .collect(),
            owner,
            stream,
        };
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let Ok(mut open) = self.open.lock() else {
            return Err(ListenFull);
        };
        let held: Vec<u64> = match &listener.owner {
            Some(owner) => open
                .iter()
                .filter(|(_, l)| l.owner.as_ref() == Some(owner))
                .map(|(key, _)| *key)
                .collect(),
            None => Vec::new(),
        };
        if held.len() >= MAX_LISTENERS_PER_OWNER {
            // Keys grow: the smallest is the oldest. Dropping its sender
            // ends its stream.
            if let Some(oldest) = held.iter().min() {
                open.remove(oldest);
            }
        } else if open.len() >= MAX_LISTENERS {
            return Err(ListenFull);
        }
        open.insert(key, listener);
        Ok((
            ListenGuard {
                listeners: Arc::clone(self),
                key,
            },
            rx,
        ))
    }

    /// `method` (a list change) to every stream that asked for it.
    pub(crate) fn list_changed(&self, method: &str) -> usize {
        let wants: fn(&Listener) -> bool = match method {
            super::TOOLS_CHANGED => |l| l.tools,
            super::PROMPTS_CHANGED => |l| l.prompts,
            super::RESOURCES_CHANGED => |l| l.resources,
            _ => return 0,
        };
        self.send(wants, |_| {
            Some(OutgoingMessage::notification(
                list_changed_method(method)?,
                serde_json::json!({}),
            ))
        })
    }

    /// `notifications/resources/updated` to every stream following `uri`.
    pub(crate) fn resource_updated(&self, uri: &str) -> usize {
        self.send(
            |l| l.uris.contains(uri),
            |_| {
                Some(OutgoingMessage::notification(
                    "notifications/resources/updated",
                    serde_json::json!({ "uri": uri }),
                ))
            },
        )
    }

    /// How many streams are open here.
    pub(crate) fn len(&self) -> usize {
        self.open.lock().map_or(0, |open| open.len())
    }

    /// Whether a stream here follows `task`.
    pub(crate) fn follow_task(&self, task: &str) -> bool {
        self.open
            .lock()
            .is_ok_and(|open| open.values().any(|l| l.tasks.contains(task)))
    }

    /// `notifications/tasks` with `task`'s state (what `tasks/get` shows)
    /// to every stream following it; a finished task is followed no more.
    pub(crate) fn task_changed(&self, task: &str, state: &serde_json::Value, terminal: bool) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        open.retain(|_, listener| {
            if !listener.tasks.contains(task) {
                return true;
            }
            if terminal {
                listener.tasks.remove(task);
            }
            let message = OutgoingMessage::notification(
                crate::protocol::tasks::STATUS_NOTIFICATION,
                tagged(state.clone(), &listener.subscription),
            );
            keep_up(&listener.stream, message)
        });
    }

    /// Ends the streams that follow `task`: a change to it could not be
    /// told (its record could not be read), and a client must not wait
    /// for news that will not come. They reconnect and read it afresh.
    pub(crate) fn end_following(&self, task: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.retain(|_, listener| !listener.tasks.contains(task));
        }
    }

    /// Fires when the server shuts down (see [`Self::close_all`]).
    pub(crate) fn closing(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.closing.clone().cancelled_owned()
    }

    /// Ends every stream gracefully, each with its closing response: the
    /// server is shutting down.
    pub(crate) fn close_all(&self) {
        self.closing.cancel();
    }

    /// Ends every stream (their clients reconnect): notifications from
    /// other replicas may have been lost.
    pub(crate) fn end_all(&self) {
        if let Ok(mut open) = self.open.lock() {
            // Dropping a sender ends its stream; the guards find nothing.
            open.clear();
        }
    }

    /// Sends what `message` makes of each stream `wants` picks, tagged
    /// with its subscription; how many were sent.
    fn send(
        &self,
        wants: impl Fn(&Listener) -> bool,
        message: impl Fn(&Listener) -> Option<OutgoingMessage>,
    ) -> usize {
        let Ok(mut open) = self.open.lock() else {
            return 0;
        };
        let mut sent = 0;
        open.retain(|_, listener| {
            if !wants(listener) {
                return true;
            }
            let Some(mut message) = message(listener) else {
                return true;
            };
            message.params = tagged(message.params, &listener.subscription);
            let kept = keep_up(&listener.stream, message);
            sent += usize::from(kept);
            kept
        });
        sent
    }
}

/// `params` with the subscription's id in `_meta`, as every message on a
/// listen stream carries it.
pub(crate) fn tagged(params: serde_json::Value, subscription: &RequestId) -> serde_json::Value {
    let mut params = match params {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let meta = params
        .entry("_meta")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let serde_json::Value::Object(meta) = meta {
        meta.insert(
            SUBSCRIPTION_ID_META.to_owned(),
            serde_json::to_value(subscription).unwrap_or(serde_json::Value::Null),
        );
    }
    serde_json::Value::Object(params)
}

/// The announcement `method` names, if it is one this server sends.
pub(crate) fn list_changed_method(method: &str) -> Option<&'static str> {
    [
        super::TOOLS_CHANGED,
        super::RESOURCES_CHANGED,
        super::PROMPTS_CHANGED,
    ]
    .into_iter()
    .find(|known| *known == method)
}

/// Queues `message` on a listen stream without waiting; `false` when the
/// stream is gone or its client stopped reading, and it should end.
fn keep_up(stream: &mpsc::Sender<OutgoingMessage>, message: OutgoingMessage) -> bool {
    match stream.try_send(message) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(message)) => {
            tracing::warn!(
                method = message.method,
                "a listen stream is not being read; ended it rather than drop a notification"
            );
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

/// Queues `message` on `stream` without waiting; whether it was queued.
pub(crate) fn offer(stream: &mpsc::Sender<OutgoingMessage>, message: OutgoingMessage) -> bool {
    match stream.try_send(message) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(message)) => {
            tracing::warn!(
                method = message.method,
                "a notification stream is not being read; dropped a notification"
            );
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(tools: bool, uris: &[&str], tasks: &[&str]) -> SubscriptionFilter {
        SubscriptionFilter {
            tools_list_changed: tools,
            resource_subscriptions: uris.iter().map(|u| (*u).to_owned()).collect(),
            task_ids: tasks.iter().map(|t| (*t).to_owned()).collect(),
            ..SubscriptionFilter::default()
        }
    }

    #[tokio::test]
    async fn a_stream_gets_only_what_it_asked_for_tagged_with_its_id() {
        let listeners = Arc::new(Listeners::default());
        let (_tools_guard, mut tools) = listeners
            .open(RequestId::Number(7), None, &filter(true, &[], &[]))
            .unwrap();
        let (_uri_guard, mut uri) = listeners
            .open(
                RequestId::String("s".into()),
                None,
                &filter(false, &["file:///a"], &["t1"]),
            )
            .unwrap();
        assert_eq!(listeners.list_changed(super::super::TOOLS_CHANGED), 1);
        assert_eq!(listeners.list_changed(super::super::PROMPTS_CHANGED), 0);
        assert_eq!(listeners.resource_updated("file:///b"), 0);
        assert_eq!(listeners.resource_updated("file:///a"), 1);
        assert!(listeners.follow_task("t1") && !listeners.follow_task("t2"));
        listeners.task_changed("t1", &serde_json::json!({"taskId": "t1"}), true);
        assert!(
            !listeners.follow_task("t1"),
            "a finished task is followed no more"
        );

        let told = tools.try_recv().unwrap();
        assert_eq!(told.method, super::super::TOOLS_CHANGED);
        assert_eq!(told.params["_meta"][SUBSCRIPTION_ID_META], 7);
        assert!(tools.try_recv().is_err());
        let updated = uri.try_recv().unwrap();
        assert_eq!(updated.params["uri"], "file:///a");
        assert_eq!(updated.params["_meta"][SUBSCRIPTION_ID_META], "s");
        let task = uri.try_recv().unwrap();
        assert_eq!(task.method, "notifications/tasks");
        assert_eq!(task.params["taskId"], "t1");
        assert_eq!(task.params["_meta"][SUBSCRIPTION_ID_META], "s");
    }

    #[tokio::test]
    async fn anonymous_callers_never_end_one_anothers_streams() {
        let listeners = Arc::new(Listeners::default());
        let first = listeners
            .open(RequestId::Number(0), None, &filter(true, &[], &[]))
            .unwrap();
        let mut held = Vec::new();
        for i in 1..=MAX_LISTENERS_PER_OWNER * 2 {
            let id = RequestId::Number(i64::try_from(i).unwrap());
            held.push(listeners.open(id, None, &filter(true, &[], &[])).unwrap());
        }
        let (_, mut rx) = first;
        assert_eq!(
            listeners.list_changed(super::super::TOOLS_CHANGED),
            MAX_LISTENERS_PER_OWNER * 2 + 1
        );
        assert!(rx.try_recv().is_ok(), "the first is still open");
    }

    #[tokio::test]
    async fn a_stream_not_read_is_ended_not_silently_shortened() {
        let listeners = Arc::new(Listeners::default());
        let (_guard, mut rx) = listeners
            .open(RequestId::Number(1), None, &filter(true, &[], &["t"]))
            .unwrap();
        for _ in 0..STREAM_QUEUE {
            assert_eq!(listeners.list_changed(super::super::TOOLS_CHANGED), 1);
        }
        // One more than it holds: the stream ends, after what it queued.
        assert_eq!(listeners.list_changed(super::super::TOOLS_CHANGED), 0);
        assert!(!listeners.follow_task("t"));
        for _ in 0..STREAM_QUEUE {
            assert!(rx.recv().await.is_some());
        }
        assert!(rx.recv().await.is_none(), "ended");
    }

    #[tokio::test]
    async fn a_callers_streams_are_bounded_and_the_oldest_gives_way() {
        let listeners = Arc::new(Listeners::default());
        let owner: Option<Arc<str>> = Some("iss sub".into());
        let mut held = Vec::new();
        for i in 0..MAX_LISTENERS_PER_OWNER {
            let id = RequestId::Number(i64::try_from(i).unwrap());
            held.push(
                listeners
                    .open(id, owner.clone(), &filter(true, &[], &[]))
                    .unwrap(),
            );
        }
        let other = listeners
            .open(
                RequestId::Number(0),
                Some("iss other".into()),
                &filter(true, &[], &[]),
            )
            .unwrap();
        let newest = listeners
            .open(RequestId::Number(-1), owner, &filter(true, &[], &[]))
            .unwrap();
        assert_eq!(
            listeners.list_changed(super::super::TOOLS_CHANGED),
            MAX_LISTENERS_PER_OWNER + 1,
            "the caller's oldest went, the other caller's stayed"
        );
        let (_, oldest) = &mut held[0];
        assert!(oldest.try_recv().is_err(), "its stream ended");
        assert!(oldest.is_closed());
        // A dropped stream leaves the registry.
        drop((held, newest));
        assert_eq!(listeners.list_changed(super::super::TOOLS_CHANGED), 1);
        listeners.end_all();
        assert_eq!(listeners.list_changed(super::super::TOOLS_CHANGED), 0);
        drop(other);
    }
}
