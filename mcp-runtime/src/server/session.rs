//! Sessions of the session-based revisions (2025-03-26 to 2025-11-25).
//!
//! A session has two halves. Its shared facts (revision, capabilities,
//! owner, log level, subscriptions, idle expiry) live in the shared state,
//! so any replica can serve its next request. What cannot leave a process
//! (the requests running here, the GET stream held here) is the local
//! [`Session`], made on the replica a request lands on; the bus carries
//! cancellations, answers and notifications to whichever replica holds the
//! part they are for.

use super::listen::{Listeners, list_changed_method, offer};
use crate::input::pending::{Addressee, ClientOutcome, PendingRequests};
use crate::protocol::jsonrpc::OutgoingMessage;
use crate::protocol::{LoggingLevel, ProtocolVersion, RequestId};
use crate::state::{
    BusEvent, BusMessage, ClientAnswer, CreateError, SessionRecord, SessionRecords, SharedState,
    StateResult,
};
use dashmap::DashMap;
use futures_util::FutureExt as _;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub(crate) use crate::state::MAX_SUBSCRIBED_URI_BYTES;

/// Most messages to other replicas on their way at once without a sender
/// waiting for them; past it, one is dropped (and logged) rather than queued.
const MAX_SENDING: usize = 1024;
/// Largest client answer forwarded to other replicas: a form's answer or a
/// model's reply fits; a bigger one is no answer the server asked for.
const MAX_FORWARDED_ANSWER_BYTES: usize = 1 << 20;
/// Longest request id a cancellation is forwarded for.
const MAX_FORWARDED_ID_BYTES: usize = 256;

/// This replica's half of one client's session.
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) version: ProtocolVersion,
    /// What the client declared at `initialize`.
    pub(crate) client_capabilities: Arc<serde_json::Value>,
    /// The user who opened the session (issuer and subject), on servers that
    /// authenticate: only they may use it.
    pub(crate) owner: Option<Arc<str>>,
    /// As of the last time the shared record was read or written here.
    initialized: AtomicBool,
    log_level: AtomicU8,
    /// Milliseconds since the store's epoch when a request last used it here.
    last_used: AtomicU64,
    /// Running requests by id, each with the ticket of the request that
    /// registered it. One client's requests rarely contend, and a sharded
    /// map would cost every idle session its shards.
    in_flight: Mutex<HashMap<RequestId, (u64, CancellationToken)>>,
    next_ticket: AtomicU64,
    /// The GET stream's sender, if one is open here.
    pub(crate) standalone: Mutex<Option<mpsc::Sender<OutgoingMessage>>>,
    /// Who opened the GET stream: a task's changes reach it only if this
    /// caller may call the task's tool (another token of the same user
    /// may have fewer scopes).
    pub(crate) stream_caller: Mutex<Option<Arc<crate::auth::Auth>>>,
    /// Where the shared facts live.
    records: Arc<dyn SessionRecords>,
}

impl Session {
    pub(crate) fn log_level(&self) -> LoggingLevel {
        LoggingLevel::from_index(self.log_level.load(Ordering::Relaxed))
    }

    pub(crate) fn is_initialized(&self) -> bool {
        self.initialized.load(Ordering::Relaxed)
    }

    fn record(&self) -> SessionRecord {
        SessionRecord {
            version: self.version,
            capabilities: Arc::clone(&self.client_capabilities),
            owner: self.owner.clone(),
            log_level: self.log_level.load(Ordering::Relaxed),
            initialized: self.is_initialized(),
        }
    }

    /// Takes the shared facts that may have changed on another replica.
    fn refresh(&self, record: &SessionRecord) {
        self.log_level.store(record.log_level, Ordering::Relaxed);
        self.initialized
            .store(record.initialized, Ordering::Relaxed);
    }

    /// `logging/setLevel`, for every replica.
    pub(crate) async fn set_log_level(&self, level: LoggingLevel) -> StateResult<()> {
        self.log_level.store(level.index(), Ordering::Relaxed);
        self.records
            .update(&self.id, &self.record())
            .await
            .map(drop)
    }

    /// `notifications/initialized`, for every replica.
    pub(crate) async fn mark_initialized(&self) -> StateResult<()> {
        self.initialized.store(true, Ordering::Relaxed);
        self.records
            .update(&self.id, &self.record())
            .await
            .map(drop)
    }

    /// Records a `resources/subscribe` (or, with `false`, an unsubscribe).
    ///
    /// A session follows at most
    /// [`MAX_SUBSCRIPTIONS_PER_SESSION`](crate::state::MAX_SUBSCRIPTIONS_PER_SESSION)
    /// resources: `Ok(Err(max))` for one more, so one client cannot grow the
    /// server's memory without end.
    pub(crate) async fn subscribe(&self, uri: &str, on: bool) -> StateResult<Result<(), usize>> {
        self.records.subscribe(&self.id, uri, on).await
    }

    /// Registers a request so `notifications/cancelled` can reach it.
    pub(crate) fn track(
        self: &Arc<Self>,
        id: RequestId,
        token: CancellationToken,
    ) -> InFlightGuard {
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.insert(id.clone(), (ticket, token));
        }
        InFlightGuard {
            session: Arc::clone(self),
            id,
            ticket,
        }
    }

    /// Cancels `id` if it runs here; whether it did.
    fn cancel_here(&self, id: &RequestId) -> bool {
        let removed = self.in_flight.lock().ok().and_then(|mut f| f.remove(id));
        match removed {
            Some((_, token)) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Ends every request still running here, and the GET stream.
    fn end_here(&self) {
        let running = self
            .in_flight
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        for (_, token) in running.into_values() {
            token.cancel();
        }
        if let Ok(mut stream) = self.standalone.lock() {
            stream.take();
        }
    }

    /// Nothing of it runs here: the local half may be dropped.
    fn is_idle_here(&self) -> bool {
        self.in_flight.lock().is_ok_and(|f| f.is_empty())
            && self
                .standalone
                .lock()
                .is_ok_and(|s| s.as_ref().is_none_or(mpsc::Sender::is_closed))
    }

    /// The open GET stream, if any.
    fn stream(&self) -> Option<mpsc::Sender<OutgoingMessage>> {
        self.standalone.lock().ok().and_then(|s| s.clone())
    }
}

/// Removes a request from the in-flight table when it finishes.
pub(crate) struct InFlightGuard {
    session: Arc<Session>,
    id: RequestId,
    ticket: u64,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        // A client may reuse an id; only this request's own entry is removed.
        if let Ok(mut in_flight) = self.session.in_flight.lock()
            && in_flight
                .get(&self.id)
                .is_some_and(|(t, _)| *t == self.ticket)
        {
            in_flight.remove(&self.id);
        }
    }
}

/// Sessions as this replica sees them: the shared records, and the local
/// halves of those it serves.
pub(crate) struct SessionStore {
    state: SharedState,
    local: DashMap<Arc<str>, Arc<Session>>,
    /// The runtime that serves, once the state is connected: messages sent
    /// from a thread of the user's own (a registry change, a resource
    /// update) run on it.
    runtime: std::sync::OnceLock<tokio::runtime::Handle>,
    /// Messages being sent without their sender waiting; bounded, so a slow
    /// store cannot pile them up.
    sending: Arc<tokio::sync::Semaphore>,
    epoch: Instant,
    last_sweep: AtomicU64,
    /// How long an unused local half is kept.
    idle: Duration,
    /// The `subscriptions/listen` streams held here (2026-07-28).
    pub(crate) listeners: Arc<Listeners>,
}

/// Who hears the bus messages about tasks.
pub(crate) type TaskListener = Arc<dyn Fn(&BusMessage) + Send + Sync>;

impl SessionStore {
    pub(crate) fn new(state: SharedState, idle: Duration) -> Self {
        Self {
            state,
            local: DashMap::new(),
            runtime: std::sync::OnceLock::new(),
            sending: Arc::new(tokio::sync::Semaphore::new(MAX_SENDING)),
            epoch: Instant::now(),
            last_sweep: AtomicU64::new(0),
            idle,
            listeners: Arc::default(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Starts hearing the bus: what other replicas send reaches this one's
    /// sessions, and answers reach `pending`.
    /// Remembers the runtime that serves (called where the state connects).
    pub(crate) fn serve_on(&self, runtime: tokio::runtime::Handle) {
        let _ = self.runtime.set(runtime);
    }

    /// The bus has one listener: this store's, which hands the messages
    /// about tasks to `tasks`.
    pub(crate) fn listen(self: &Arc<Self>, pending: Arc<PendingRequests>, tasks: TaskListener) {
        let store = Arc::downgrade(self);
        self.state.bus.listen(Arc::new(move |event| {
            if let BusEvent::Message(
                message @ (BusMessage::TaskAnswered { .. }
                | BusMessage::TaskCancel { .. }
                | BusMessage::TaskChanged { .. }),
            ) = &event
            {
                tasks(message);
                return;
            }
            if let Some(store) = store.upgrade() {
                store.on_bus_event(event, &pending);
            }
        }));
    }

    fn on_bus_event(self: &Arc<Self>, event: BusEvent, pending: &PendingRequests) {
        match event {
            BusEvent::Message(message) => self.deliver_here(message, pending),
            BusEvent::Disconnected => {
                // Notifications from other replicas may be lost until the bus
                // is back: end the streams, so clients reconnect and learn
                // (from the shared state) whether their session still stands.
                for entry in &self.local {
                    if let Ok(mut stream) = entry.value().standalone.lock() {
                        stream.take();
                    }
                }
                self.listeners.end_all();
            }
        }
    }

    /// Acts on a bus message for the sessions held here.
    fn deliver_here(self: &Arc<Self>, message: BusMessage, pending: &PendingRequests) {
        match message {
            BusMessage::ListChanged { method } => {
                if let Some(method) = list_changed_method(&method) {
                    self.list_changed_here(method);
                }
            }
            BusMessage::ResourceUpdated { uri } => {
                let store = Arc::clone(self);
                let delivery = async move {
                    let told = store.resource_updated_here(&uri).await;
                    tracing::debug!(told, "a resource update raised on another replica");
                };
                self.spawn_or_run(delivery);
            }
            BusMessage::Cancel { session, request } => {
                if self
                    .local
                    .get(&session)
                    .is_some_and(|local| local.cancel_here(&request))
                {
                    tracing::debug!("cancelled a request on a notice posted to another replica");
                }
            }
            BusMessage::SessionEnded { session } => {
                if let Some((_, local)) = self.local.remove(&session) {
                    local.end_here();
                }
            }
            // Handed to the tasks' listener before they get here.
            BusMessage::TaskAnswered { .. }
            | BusMessage::TaskCancel { .. }
            | BusMessage::TaskChanged { .. } => {}
            BusMessage::Answer(answer) => {
                let raw = serde_json::value::RawValue::from_string;
                let outcome = match (answer.result, answer.error) {
                    (Some(result), _) => raw(result).map(Ok),
                    (None, Some(error)) => raw(error).map(Err),
                    (None, None) => return,
                };
                let Ok(outcome) = outcome else {
                    tracing::warn!("dropped a forwarded answer that is not JSON");
                    return;
                };
                let from = Addressee {
                    owner: answer.owner,
                    session: answer.session,
                };
                if pending.resolve(&answer.id, &from, outcome) {
                    tracing::debug!("resumed a handler with an answer posted to another replica");
                }
            }
        }
    }

    /// Queues `message` on the open GET stream of every session held here
    /// that `wanted` picks. A stream whose client stopped reading drops it
    /// rather than holding the caller up, and the drop is logged.
    fn send_here(&self, wanted: impl Fn(&Session) -> bool, message: &OutgoingMessage) -> usize {
        let mut sent = 0;
        for entry in &self.local {
            let session = entry.value();
            if !wanted(session) {
                continue;
            }
            let Some(stream) = session.stream() else {
                continue;
            };
            sent += usize::from(offer(&stream, message.clone()));
        }
        sent
    }

    /// `method` on the GET stream of every initialized session held here,
    /// and on the listen streams that asked for it; how many were told.
    fn list_changed_here(&self, method: &'static str) -> usize {
        self.send_here(
            |s| s.is_initialized(),
            &OutgoingMessage::notification(method, serde_json::json!({})),
        ) + self.listeners.list_changed(method)
    }

    /// `notifications/resources/updated` to the sessions held here that
    /// follow `uri`, and to the listen streams that do; how many were told.
    async fn resource_updated_here(&self, uri: &str) -> usize {
        self.listeners.resource_updated(uri) + self.sessions_updated_here(uri).await
    }

    async fn sessions_updated_here(&self, uri: &str) -> usize {
        let held: Vec<(Arc<str>, mpsc::Sender<OutgoingMessage>)> = self
            .local
            .iter()
            .filter_map(|e| e.value().stream().map(|s| (Arc::clone(e.key()), s)))
            .collect();
        if held.is_empty() {
            return 0;
        }
        let ids: Vec<Arc<str>> = held.iter().map(|(id, _)| Arc::clone(id)).collect();
        let Ok(following) = self.state.sessions.subscribed(&ids, uri).await else {
            tracing::warn!("shared state unavailable: a resource update was not delivered");
            return 0;
        };
        let message = OutgoingMessage::notification(
            "notifications/resources/updated",
            serde_json::json!({ "uri": uri }),
        );
        held.iter()
            .zip(following)
            .filter(|(_, follows)| *follows)
            .map(|((_, stream), _)| usize::from(offer(stream, message.clone())))
            .sum()
    }

    /// Sends `notifications/resources/updated` for `uri` to every session
    /// subscribed to it, on every replica. Returns how many sessions on this
    /// replica were told before returning (with Redis, other replicas' are
    /// told through the bus and not counted).
    pub(crate) fn notify_resource_updated(self: &Arc<Self>, uri: &str) -> usize {
        self.publish(BusMessage::ResourceUpdated {
            uri: uri.to_owned(),
        });
        let store = Arc::clone(self);
        let uri = uri.to_owned();
        self.spawn_or_run(async move { store.resource_updated_here(&uri).await })
            .unwrap_or(0)
    }

    /// Sends `method` (`notifications/tools/list_changed` and the like) on
    /// the GET stream of every initialized session, on every replica;
    /// returns how many on this replica were told.
    pub(crate) fn notify_list_changed(&self, method: &'static str) -> usize {
        self.publish(BusMessage::ListChanged {
            method: method.to_owned(),
        });
        self.list_changed_here(method)
    }

    /// Whether a stream held here follows `task`: a listen stream, or the
    /// GET stream of `session`, the one that created it, if its client
    /// declared the tasks extension.
    pub(crate) fn follows_task_here(&self, task: &str, session: Option<&str>) -> bool {
        self.listeners.follow_task(task) || self.task_stream_here(session, &|_| true).is_some()
    }

    /// The GET stream of `session` if it is held here, its client takes
    /// task notifications, and the caller who opened it `may_see` the task.
    fn task_stream_here(
        &self,
        session: Option<&str>,
        may_see: &dyn Fn(Option<&crate::auth::Auth>) -> bool,
    ) -> Option<mpsc::Sender<OutgoingMessage>> {
        let session = self.local.get(session?)?;
        if !session.is_initialized()
            || !crate::protocol::tasks::declares_tasks(&session.client_capabilities)
        {
            return None;
        }
        let opener = session.stream_caller.lock().ok()?.clone();
        if !may_see(opener.as_deref()) {
            return None;
        }
        session.stream()
    }

    /// `notifications/tasks` with `state` (what `tasks/get` shows of
    /// `task`) to the streams held here that follow it; the GET stream of
    /// `session` only if the caller who opened it `may_see` the task (a
    /// listen stream's caller was checked when it opened).
    pub(crate) fn task_changed_here(
        &self,
        task: &str,
        session: Option<&str>,
        state: &serde_json::Value,
        terminal: bool,
        may_see: &dyn Fn(Option<&crate::auth::Auth>) -> bool,
    ) {
        self.listeners.task_changed(task, state, terminal);
        if let Some(stream) = self.task_stream_here(session, may_see) {
            offer(
                &stream,
                OutgoingMessage::notification(
                    crate::protocol::tasks::STATUS_NOTIFICATION,
                    state.clone(),
                ),
            );
        }
    }

    /// [`Self::task_changed_here`] with `state` (`None` when no stream here
    /// follows the task), and the same on every other replica (which read
    /// the record themselves).
    pub(crate) fn task_changed(
        &self,
        task: &Arc<str>,
        session: Option<&Arc<str>>,
        state: Option<&serde_json::Value>,
        terminal: bool,
        may_see: &dyn Fn(Option<&crate::auth::Auth>) -> bool,
    ) {
        if let Some(state) = state {
            self.task_changed_here(task, session.map(AsRef::as_ref), state, terminal, may_see);
        }
        self.publish(BusMessage::TaskChanged {
            task: Arc::clone(task),
            session: session.cloned(),
        });
    }

    /// Tells the other replicas, without waiting for it.
    fn publish(&self, message: BusMessage) {
        let Ok(permit) = Arc::clone(&self.sending).try_acquire_owned() else {
            tracing::warn!("too many messages to other replicas waiting: one was dropped");
            return;
        };
        let bus = Arc::clone(&self.state.bus);
        self.spawn_or_run(async move {
            let _permit = permit;
            if bus.publish(message).await.is_err() {
                tracing::warn!("shared state unavailable: a message to other replicas was lost");
            }
        });
    }

    /// Runs `work` at once if it finishes without waiting (the in-memory
    /// backend always does) and returns its output; otherwise finishes it
    /// on the runtime in the background and returns `None`.
    fn spawn_or_run<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        let runtime = tokio::runtime::Handle::try_current()
            .ok()
            .or_else(|| self.runtime.get().cloned());
        let mut work = Box::pin(work);
        let Some(runtime) = runtime else {
            // No runtime was ever connected: the in-memory backend, whose
            // work never waits.
            return (&mut work).now_or_never();
        };
        // Inside the runtime's context, a backend's timers work even when
        // called from a thread of the user's own.
        let _inside = runtime.enter();
        if let Some(done) = (&mut work).now_or_never() {
            return Some(done);
        }
        runtime.spawn(work);
        None
    }

    /// Opens a session with an unguessable id (256 bits from the OS CSPRNG).
    pub(crate) async fn create(
        &self,
        version: ProtocolVersion,
        client_capabilities: Arc<serde_json::Value>,
        owner: Option<Arc<str>>,
    ) -> Result<Arc<Session>, CreateError> {
        self.sweep_local();
        let id: Arc<str> = Arc::from(crate::random::random_token::<32>());
        let session = self.local_half(
            &id,
            &SessionRecord {
                version,
                capabilities: client_capabilities,
                owner,
                log_level: LoggingLevel::Debug.index(),
                initialized: false,
            },
        );
        self.state.sessions.create(&id, &session.record()).await?;
        self.local.insert(id, Arc::clone(&session));
        Ok(session)
    }

    fn local_half(&self, id: &Arc<str>, record: &SessionRecord) -> Arc<Session> {
        Arc::new(Session {
            id: Arc::clone(id),
            version: record.version,
            client_capabilities: Arc::clone(&record.capabilities),
            owner: record.owner.clone(),
            initialized: AtomicBool::new(record.initialized),
            log_level: AtomicU8::new(record.log_level),
            last_used: AtomicU64::new(self.now_ms()),
            in_flight: Mutex::default(),
            next_ticket: AtomicU64::new(0),
            standalone: Mutex::new(None),
            stream_caller: Mutex::new(None),
            records: Arc::clone(&self.state.sessions),
        })
    }

    /// The live session with this id, restarting its idle clock: always
    /// read from the shared state, so a session deleted or expired anywhere
    /// is refused here too.
    pub(crate) async fn get(&self, id: &str) -> StateResult<Option<Arc<Session>>> {
        let Some(record) = self.state.sessions.load(id).await? else {
            if let Some((_, local)) = self.local.remove(id) {
                local.end_here();
            }
            return Ok(None);
        };
        let now = self.now_ms();
        if let Some(local) = self.local.get(id) {
            local.refresh(&record);
            local.last_used.store(now, Ordering::Relaxed);
            return Ok(Some(Arc::clone(local.value())));
        }
        self.sweep_local();
        let id: Arc<str> = id.into();
        let session = self.local_half(&id, &record);
        Ok(Some(Arc::clone(
            self.local.entry(id).or_insert(session).value(),
        )))
    }

    /// Sessions whose local half is held here, and how many of them have
    /// a GET stream open.
    pub(crate) fn held(&self) -> (usize, usize) {
        let streams = self
            .local
            .iter()
            .filter(|e| e.value().stream().is_some_and(|s| !s.is_closed()))
            .count();
        (self.local.len(), streams)
    }

    /// Live sessions on every replica; `None` if the shared state does not
    /// answer within a second.
    pub(crate) async fn live(&self) -> Option<u64> {
        tokio::time::timeout(Duration::from_secs(1), self.state.sessions.live())
            .await
            .ok()?
            .ok()
    }

    /// Whether the shared state answers now.
    pub(crate) async fn state_ready(&self) -> StateResult<()> {
        self.state.ready().await
    }

    /// Ends every stream held here (the server is shutting down): each GET
    /// stream closes, each listen stream with its closing response.
    pub(crate) fn end_streams(&self) {
        for entry in &self.local {
            if let Ok(mut stream) = entry.value().standalone.lock() {
                stream.take();
            }
        }
        self.listeners.close_all();
    }

    /// Keeps a session alive while its GET stream is open here; `false`
    /// once it is gone.
    pub(crate) async fn touch(&self, id: &str) -> StateResult<bool> {
        self.state.sessions.touch(id).await
    }

    /// Ends a session on every replica; `false` if there was none.
    pub(crate) async fn remove(&self, id: &str) -> StateResult<bool> {
        let removed = self.state.sessions.remove(id).await?;
        if let Some((_, local)) = self.local.remove(id) {
            local.end_here();
        }
        // Awaited: a DELETE answered 204 has stopped the session's work and
        // streams on every replica, or it is refused.
        self.state
            .bus
            .publish(BusMessage::SessionEnded { session: id.into() })
            .await?;
        Ok(removed)
    }

    /// `notifications/cancelled` for `request` of `session`: stopped here
    /// if it runs here, else wherever it runs.
    pub(crate) async fn cancel(&self, session: &Session, request: &RequestId) -> StateResult<()> {
        if session.cancel_here(request) {
            return Ok(());
        }
        if matches!(request, RequestId::String(id) if id.len() > MAX_FORWARDED_ID_BYTES) {
            return Ok(());
        }
        self.state
            .bus
            .publish(BusMessage::Cancel {
                session: Arc::clone(&session.id),
                request: request.clone(),
            })
            .await
    }

    /// A client's answer: to the handler waiting here, else to the replica
    /// where it waits.
    pub(crate) async fn answer(
        &self,
        pending: &PendingRequests,
        id: &RequestId,
        from: Addressee,
        outcome: ClientOutcome,
    ) -> StateResult<()> {
        if pending.waits_here(id) {
            if !pending.resolve(id, &from, outcome) {
                tracing::debug!("dropped a client answer from someone it was not asked of");
            }
            return Ok(());
        }
        let size = match &outcome {
            Ok(raw) | Err(raw) => raw.get().len(),
        };
        // Only what this server could have asked is worth every replica's
        // time: its own id shape, and an answer of a sane size.
        if !PendingRequests::is_our_id(id) || size > MAX_FORWARDED_ANSWER_BYTES {
            tracing::debug!("dropped a client answer to no question of this server");
            return Ok(());
        }
        tracing::debug!("an answer for a handler not waiting here goes to the other replicas");
        let (result, error) = match outcome {
            Ok(result) => (Some(result.get().to_owned()), None),
            Err(error) => (None, Some(error.get().to_owned())),
        };
        self.state
            .bus
            .publish(BusMessage::Answer(ClientAnswer {
                id: id.clone(),
                owner: from.owner,
                session: from.session,
                result,
                error,
            }))
            .await
    }

    /// Drops local halves nothing runs on, at most once a minute: the
    /// shared record stays, and the next request makes the half again.
    fn sweep_local(&self) {
        let now = self.now_ms();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.saturating_sub(last) < 60_000
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let idle_ms = u64::try_from(self.idle.as_millis()).unwrap_or(u64::MAX);
        self.local.retain(|_, session| {
            now.saturating_sub(session.last_used.load(Ordering::Relaxed)) <= idle_ms
                || !session.is_idle_here()
        });
    }
}

/// The JSON-RPC error of a request whose session's shared state could not
/// be written: refused, never half done in silence.
pub(crate) fn store_unavailable() -> crate::protocol::ErrorObject {
    crate::protocol::ErrorObject::new(
        crate::protocol::jsonrpc::INTERNAL_ERROR,
        "the session store is unavailable; retry shortly",
    )
}
