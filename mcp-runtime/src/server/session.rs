//! Sessions of the session-based revisions (2025-03-26 to 2025-11-25).

use crate::protocol::jsonrpc::OutgoingMessage;
use crate::protocol::{LoggingLevel, ProtocolVersion, RequestId};
use dashmap::DashMap;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Most resources one session may follow with `resources/subscribe`.
pub(crate) const MAX_SUBSCRIPTIONS_PER_SESSION: usize = 1024;
/// Longest URI a session may subscribe to: with the count, it bounds what
/// one session's subscriptions hold (2 MiB at most).
pub(crate) const MAX_SUBSCRIBED_URI_BYTES: usize = 2048;

/// How long a session may wait for `notifications/initialized`.
const UNINITIALIZED_LIFETIME_SECS: u64 = 60;

/// One client's session.
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) version: ProtocolVersion,
    /// What the client declared at `initialize`.
    pub(crate) client_capabilities: Arc<serde_json::Value>,
    pub(crate) initialized: AtomicBool,
    log_level: AtomicU8,
    last_seen: AtomicU64,
    /// Running requests by id, each with the ticket of the request that
    /// registered it. One client's requests rarely contend, and a sharded
    /// map would cost every idle session its shards.
    in_flight: Mutex<HashMap<RequestId, (u64, CancellationToken)>>,
    next_ticket: AtomicU64,
    /// The GET stream's sender, if one is open.
    pub(crate) standalone: Mutex<Option<mpsc::Sender<OutgoingMessage>>>,
    /// The user who opened the session (issuer and subject), on servers that
    /// authenticate: only they may use it.
    pub(crate) owner: std::sync::OnceLock<Arc<str>>,
    /// Resource URIs the client subscribed to.
    subscriptions: Mutex<HashSet<String>>,
}

impl Session {
    pub(crate) fn log_level(&self) -> LoggingLevel {
        LoggingLevel::from_index(self.log_level.load(Ordering::Relaxed))
    }

    /// Records a `resources/subscribe` (or, with `false`, an unsubscribe).
    ///
    /// A session follows at most [`MAX_SUBSCRIPTIONS_PER_SESSION`] resources:
    /// `Err` with that number for one more, so one client cannot grow the
    /// server's memory without end.
    pub(crate) fn subscribe(&self, uri: &str, on: bool) -> Result<(), usize> {
        let Ok(mut subscriptions) = self.subscriptions.lock() else {
            return Ok(());
        };
        if !on {
            subscriptions.remove(uri);
        } else if !subscriptions.contains(uri) {
            if subscriptions.len() >= MAX_SUBSCRIPTIONS_PER_SESSION {
                return Err(MAX_SUBSCRIPTIONS_PER_SESSION);
            }
            subscriptions.insert(uri.to_owned());
        }
        Ok(())
    }

    /// Whether the client subscribed to `uri`.
    pub(crate) fn is_subscribed(&self, uri: &str) -> bool {
        self.subscriptions
            .lock()
            .is_ok_and(|subscriptions| subscriptions.contains(uri))
    }

    pub(crate) fn set_log_level(&self, level: LoggingLevel) {
        self.log_level.store(level.index(), Ordering::Relaxed);
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

    pub(crate) fn cancel(&self, id: &RequestId) {
        let removed = self.in_flight.lock().ok().and_then(|mut f| f.remove(id));
        if let Some((_, token)) = removed {
            token.cancel();
        }
    }

    /// Ends every request still running in the session.
    fn cancel_all(&self) {
        let running = self
            .in_flight
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        for (_, token) in running.into_values() {
            token.cancel();
        }
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

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
#[error("too many live sessions")]
pub(crate) struct SessionsFull;

/// All live sessions, shared by every worker.
pub(crate) struct SessionStore {
    sessions: DashMap<Arc<str>, Arc<Session>>,
    epoch: Instant,
    last_sweep: AtomicU64,
    idle_timeout: Duration,
    max_sessions: usize,
}

impl SessionStore {
    /// Sends `notifications/resources/updated` for `uri` on the GET stream
    /// of every session subscribed to it; returns how many were notified.
    pub(crate) fn notify_resource_updated(&self, uri: &str) -> usize {
        self.broadcast(
            |session| session.is_subscribed(uri),
            &OutgoingMessage::notification(
                "notifications/resources/updated",
                serde_json::json!({ "uri": uri }),
            ),
        )
    }

    /// Sends `method` (`notifications/tools/list_changed` and the like) on
    /// the GET stream of every initialized session that has one open;
    /// returns how many were told.
    pub(crate) fn notify_list_changed(&self, method: &'static str) -> usize {
        self.broadcast(
            |session| session.initialized.load(Ordering::Relaxed),
            &OutgoingMessage::notification(method, serde_json::json!({})),
        )
    }

    /// Queues `message` on the open GET stream of every session `wanted`
    /// picks. A stream whose client stopped reading drops it rather than
    /// holding the caller up, and the drop is logged.
    fn broadcast(&self, wanted: impl Fn(&Session) -> bool, message: &OutgoingMessage) -> usize {
        let mut sent = 0;
        for entry in &self.sessions {
            let session = entry.value();
            if !wanted(session) {
                continue;
            }
            let Some(stream) = session.standalone.lock().ok().and_then(|s| s.clone()) else {
                continue;
            };
            match stream.try_send(message.clone()) {
                Ok(()) => sent += 1,
                Err(mpsc::error::TrySendError::Full(_)) => tracing::warn!(
                    method = message.method,
                    "a session's GET stream is not being read; dropped a notification"
                ),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        sent
    }

    pub(crate) fn new(idle_timeout: Duration, max_sessions: usize) -> Self {
        Self {
            sessions: DashMap::new(),
            epoch: Instant::now(),
            last_sweep: AtomicU64::new(0),
            idle_timeout,
            max_sessions,
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_secs()
    }

    /// Idle too long, and not serving anything. A session that never finished
    /// its handshake gets a minute: it costs a slot and may be a flood.
    fn is_expired(&self, session: &Session, now: u64) -> bool {
        let limit = if session.initialized.load(Ordering::Relaxed) {
            self.idle_timeout.as_secs()
        } else {
            UNINITIALIZED_LIFETIME_SECS.min(self.idle_timeout.as_secs())
        };
        if now.saturating_sub(session.last_seen.load(Ordering::Relaxed)) <= limit {
            return false;
        }
        // Only an idle session pays for looking at its running work.
        let busy = session.in_flight.lock().is_ok_and(|f| !f.is_empty())
            || session
                .standalone
                .lock()
                .is_ok_and(|s| s.as_ref().is_some_and(|tx| !tx.is_closed()));
        !busy
    }

    /// Mints a session with an unguessable id (256 bits from the OS CSPRNG).
    pub(crate) fn create(
        &self,
        version: ProtocolVersion,
        client_capabilities: Arc<serde_json::Value>,
    ) -> Result<Arc<Session>, SessionsFull> {
        // Sweeping here, at most once a minute, keeps idle sessions bounded
        // without a background task tied to one runtime.
        let now = self.now();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 60
            && self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep();
        }
        if self.sessions.len() >= self.max_sessions {
            self.sweep();
            if self.sessions.len() >= self.max_sessions {
                return Err(SessionsFull);
            }
        }
        let id: Arc<str> = Arc::from(crate::random::random_token::<32>());
        let session = Arc::new(Session {
            id: Arc::clone(&id),
            version,
            client_capabilities,
            initialized: AtomicBool::new(false),
            log_level: AtomicU8::new(LoggingLevel::Debug.index()),
            last_seen: AtomicU64::new(self.now()),
            in_flight: Mutex::default(),
            next_ticket: AtomicU64::new(0),
            standalone: Mutex::new(None),
            owner: std::sync::OnceLock::new(),
            subscriptions: Mutex::default(),
        });
        self.sessions.insert(id, Arc::clone(&session));
        Ok(session)
    }

    /// The live session with this id, refreshing its idle clock.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        let now = self.now();
        let session = self.sessions.get(id).map(|s| Arc::clone(&s))?;
        if self.is_expired(&session, now) {
            self.remove(id);
            return None;
        }
        session.last_seen.store(now, Ordering::Relaxed);
        Some(session)
    }

    /// Ends a session; `false` if there was none.
    pub(crate) fn remove(&self, id: &str) -> bool {
        match self.sessions.remove(id) {
            Some((_, session)) => {
                session.cancel_all();
                if let Ok(mut stream) = session.standalone.lock() {
                    stream.take();
                }
                true
            }
            None => false,
        }
    }

    /// Forgets idle sessions.
    pub(crate) fn sweep(&self) {
        let now = self.now();
        let expired: Vec<Arc<str>> = self
            .sessions
            .iter()
            .filter(|s| self.is_expired(s.value(), now))
            .map(|s| Arc::clone(s.key()))
            .collect();
        for id in expired {
            self.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_visible_ascii() {
        let store = SessionStore::new(Duration::from_secs(60), 10);
        let a = store
            .create(
                ProtocolVersion::V2025_11_25,
                Arc::new(serde_json::Value::Null),
            )
            .unwrap();
        let b = store
            .create(
                ProtocolVersion::V2025_11_25,
                Arc::new(serde_json::Value::Null),
            )
            .unwrap();
        assert_ne!(a.id, b.id);
        assert!(a.id.bytes().all(|c| (0x21..=0x7e).contains(&c)));
        assert!(a.id.len() >= 43);
        assert!(store.remove(&a.id));
        assert!(store.get(&a.id).is_none());
        assert!(store.get(&b.id).is_some());
    }

    #[test]
    fn refuses_past_the_limit() {
        let store = SessionStore::new(Duration::from_secs(60), 1);
        store
            .create(
                ProtocolVersion::V2025_11_25,
                Arc::new(serde_json::Value::Null),
            )
            .unwrap();
        assert!(
            store
                .create(
                    ProtocolVersion::V2025_11_25,
                    Arc::new(serde_json::Value::Null)
                )
                .is_err()
        );
    }

    #[test]
    fn cancels_tracked_requests() {
        let store = SessionStore::new(Duration::from_secs(60), 1);
        let s = store
            .create(
                ProtocolVersion::V2025_11_25,
                Arc::new(serde_json::Value::Null),
            )
            .unwrap();
        let token = CancellationToken::new();
        let guard = s.track(RequestId::Number(1), token.clone());
        s.cancel(&RequestId::Number(1));
        assert!(token.is_cancelled());
        drop(guard);
        assert!(s.in_flight.lock().unwrap().is_empty());
    }

    /// A store whose clock reads one hour, so sessions can be aged by hand.
    fn aged_store(idle: Duration, max: usize) -> SessionStore {
        let mut store = SessionStore::new(idle, max);
        store.epoch = Instant::now()
            .checked_sub(Duration::from_secs(3600))
            .expect("an hour after boot");
        store
    }

    fn open(store: &SessionStore, initialized: bool, idle_secs: u64) -> Arc<Session> {
        let session = store
            .create(
                ProtocolVersion::V2025_11_25,
                Arc::new(serde_json::Value::Null),
            )
            .unwrap();
        session.initialized.store(initialized, Ordering::Relaxed);
        session
            .last_seen
            .store(store.now() - idle_secs, Ordering::Relaxed);
        session
    }

    #[test]
    fn idle_sessions_expire_and_free_their_slots() {
        let store = aged_store(Duration::from_secs(600), 3);
        let fresh = open(&store, true, 10);
        let idle = open(&store, true, 601);
        // A handshake never finished gets a minute, whatever the idle timeout.
        let half_open = open(&store, false, 61);
        assert!(store.get(&fresh.id).is_some());
        assert!(store.get(&idle.id).is_none(), "idle past the timeout");
        assert!(store.get(&half_open.id).is_none(), "never initialized");

        // A full store sweeps before refusing: the idle one makes room.
        let store = aged_store(Duration::from_secs(600), 2);
        let _fresh = open(&store, true, 10);
        let idle = open(&store, true, 601);
        assert!(
            store
                .create(
                    ProtocolVersion::V2025_11_25,
                    Arc::new(serde_json::Value::Null)
                )
                .is_ok()
        );
        assert!(store.get(&idle.id).is_none());
    }

    #[test]
    fn a_busy_session_does_not_expire() {
        let store = aged_store(Duration::from_secs(600), 2);
        let working = open(&store, true, 601);
        let _guard = working.track(RequestId::Number(1), CancellationToken::new());
        store.sweep();
        assert!(
            store.get(&working.id).is_some(),
            "a request is still running"
        );
    }
}
