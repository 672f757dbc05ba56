//! The in-memory backend: one process, nothing to configure. Every
//! operation answers at once and never fails for want of a connection.

use super::{
    Bus, BusListener, BusMessage, Connect, Counters, CreateError, MAX_RECORDS,
    MAX_SESSIONS_PER_OWNER, MAX_SUBSCRIPTIONS_PER_SESSION, Markers, Records, SessionRecord,
    SessionRecords, StateFuture, UNINITIALIZED_LIFETIME, Unavailable,
};
use dashmap::DashMap;
use futures_util::future::{BoxFuture, FutureExt as _, ready};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most single-use markers remembered at once; past it (after dropping the
/// expired ones) a claim fails closed.
const MAX_MARKERS: usize = 100_000;

struct SessionEntry {
    record: Mutex<SessionRecord>,
    /// Milliseconds since the store's epoch at its last use.
    last_seen: AtomicU64,
    subscriptions: Mutex<HashSet<String>>,
}

/// Everything shared, held by this process.
pub(crate) struct MemoryState {
    sessions: DashMap<Arc<str>, SessionEntry>,
    /// Live sessions per owner, for the per-user limit.
    owners: DashMap<Arc<str>, usize>,
    markers: DashMap<String, Instant>,
    records: DashMap<String, (Vec<u8>, Instant)>,
    /// Rate-limit windows: hits and when the window ends.
    counters: DashMap<String, (u64, Instant)>,
    epoch: Instant,
    last_sweep: AtomicU64,
    /// When expired markers, records and counters were last dropped (ms
    /// since the epoch): once a minute, so memory follows what is live
    /// rather than waiting for a store to fill, at an amortized O(1).
    last_purge: AtomicU64,
    idle: Duration,
    max_sessions: usize,
}

impl MemoryState {
    pub(crate) fn new(idle: Duration, max_sessions: usize) -> Self {
        Self {
            sessions: DashMap::new(),
            owners: DashMap::new(),
            markers: DashMap::new(),
            records: DashMap::new(),
            counters: DashMap::new(),
            epoch: Instant::now(),
            last_sweep: AtomicU64::new(0),
            last_purge: AtomicU64::new(0),
            idle,
            max_sessions,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Idle too long. A session that never finished its handshake gets a
    /// minute: it costs a slot and may be a flood.
    fn is_expired(&self, entry: &SessionEntry, now_ms: u64) -> bool {
        let initialized = entry.record.lock().is_ok_and(|r| r.initialized);
        let limit = if initialized {
            self.idle
        } else {
            UNINITIALIZED_LIFETIME.min(self.idle)
        };
        let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
        now_ms.saturating_sub(entry.last_seen.load(Ordering::Relaxed)) > limit_ms
    }

    /// Forgets idle sessions.
    fn sweep(&self) {
        let now = self.now_ms();
        self.sessions.retain(|_, entry| {
            let expired = self.is_expired(entry, now);
            if expired {
                self.forget_owner(entry);
            }
            !expired
        });
    }

    /// One session fewer for its owner.
    fn forget_owner(&self, entry: &SessionEntry) {
        let owner = entry.record.lock().ok().and_then(|r| r.owner.clone());
        if let Some(owner) = owner {
            self.owners.remove_if_mut(&owner, |_, count| {
                *count = count.saturating_sub(1);
                *count == 0
            });
        }
    }

    /// The live entry of `id`, refreshing its clock with `touch`.
    fn live(
        &self,
        id: &str,
        touch: bool,
    ) -> Option<dashmap::mapref::one::Ref<'_, Arc<str>, SessionEntry>> {
        let now = self.now_ms();
        let entry = self.sessions.get(id)?;
        if self.is_expired(&entry, now) {
            drop(entry);
            if let Some((_, gone)) = self
                .sessions
                .remove_if(id, |_, entry| self.is_expired(entry, now))
            {
                self.forget_owner(&gone);
            }
            return None;
        }
        if touch {
            entry.last_seen.store(now, Ordering::Relaxed);
        }
        Some(entry)
    }
}

impl MemoryState {
    /// Drops expired markers, records and counters, at most once a minute.
    fn purge_expired(&self) {
        let now_ms = self.now_ms();
        let last = self.last_purge.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < 60_000
            || self
                .last_purge
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let now = Instant::now();
        self.markers.retain(|_, expires| *expires > now);
        self.records.retain(|_, (_, expires)| *expires > now);
        self.counters.retain(|_, (_, ends)| *ends > now);
    }
}

fn done<'a, T: Send + 'a>(value: T) -> StateFuture<'a, T> {
    ready(Ok(value)).boxed()
}

impl SessionRecords for MemoryState {
    fn create<'a>(
        &'a self,
        id: &'a str,
        record: &'a SessionRecord,
    ) -> BoxFuture<'a, Result<(), CreateError>> {
        // Sweeping here, at most once a minute, keeps idle sessions bounded
        // without a background task tied to one runtime.
        let now = self.now_ms();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 60_000
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
                return ready(Err(CreateError::Full)).boxed();
            }
        }
        if let Some(owner) = &record.owner {
            let mut count = self.owners.entry(Arc::clone(owner)).or_insert(0);
            if *count >= MAX_SESSIONS_PER_OWNER {
                drop(count);
                // Idle ones of theirs may have expired since: look once.
                self.sweep();
                let mut count = self.owners.entry(Arc::clone(owner)).or_insert(0);
                if *count >= MAX_SESSIONS_PER_OWNER {
                    return ready(Err(CreateError::OwnerFull)).boxed();
                }
                *count += 1;
            } else {
                *count += 1;
            }
        }
        self.sessions.insert(
            id.into(),
            SessionEntry {
                record: Mutex::new(record.clone()),
                last_seen: AtomicU64::new(now),
                subscriptions: Mutex::default(),
            },
        );
        ready(Ok(())).boxed()
    }

    fn load<'a>(&'a self, id: &'a str) -> StateFuture<'a, Option<SessionRecord>> {
        let record = self
            .live(id, true)
            .and_then(|entry| entry.record.lock().ok().map(|r| r.clone()));
        done(record)
    }

    fn touch<'a>(&'a self, id: &'a str) -> StateFuture<'a, bool> {
        done(self.live(id, true).is_some())
    }

    fn update<'a>(&'a self, id: &'a str, record: &'a SessionRecord) -> StateFuture<'a, bool> {
        let updated = self
            .live(id, true)
            .is_some_and(|entry| entry.record.lock().map(|mut r| *r = record.clone()).is_ok());
        done(updated)
    }

    fn remove<'a>(&'a self, id: &'a str) -> StateFuture<'a, bool> {
        let now = self.now_ms();
        let removed = self.sessions.remove(id).is_some_and(|(_, entry)| {
            self.forget_owner(&entry);
            !self.is_expired(&entry, now)
        });
        done(removed)
    }

    fn subscribe<'a>(
        &'a self,
        id: &'a str,
        uri: &'a str,
        on: bool,
    ) -> StateFuture<'a, Result<(), usize>> {
        let Some(entry) = self.live(id, false) else {
            return done(Ok(()));
        };
        let Ok(mut subscriptions) = entry.subscriptions.lock() else {
            return ready(Err(Unavailable)).boxed();
        };
        let outcome = if !on {
            subscriptions.remove(uri);
            Ok(())
        } else if subscriptions.contains(uri) {
            Ok(())
        } else if subscriptions.len() >= MAX_SUBSCRIPTIONS_PER_SESSION {
            Err(MAX_SUBSCRIPTIONS_PER_SESSION)
        } else {
            subscriptions.insert(uri.to_owned());
            Ok(())
        };
        done(outcome)
    }

    fn subscribed<'a>(&'a self, ids: &'a [Arc<str>], uri: &'a str) -> StateFuture<'a, Vec<bool>> {
        let answers = ids
            .iter()
            .map(|id| {
                self.sessions.get(id.as_ref()).is_some_and(|entry| {
                    entry
                        .subscriptions
                        .lock()
                        .is_ok_and(|subscriptions| subscriptions.contains(uri))
                })
            })
            .collect();
        done(answers)
    }
}

impl Markers for MemoryState {
    fn claim<'a>(&'a self, key: &'a str, ttl: Duration) -> StateFuture<'a, bool> {
        self.purge_expired();
        let now = Instant::now();
        if self.markers.len() >= MAX_MARKERS {
            self.markers.retain(|_, expires| *expires > now);
            if self.markers.len() >= MAX_MARKERS {
                // Forgetting a live marker would let it be used twice.
                return ready(Err(Unavailable)).boxed();
            }
        }
        let claimed = match self.markers.entry(key.to_owned()) {
            dashmap::Entry::Occupied(mut slot) if *slot.get() <= now => {
                slot.insert(now + ttl);
                true
            }
            dashmap::Entry::Occupied(_) => false,
            dashmap::Entry::Vacant(slot) => {
                slot.insert(now + ttl);
                true
            }
        };
        done(claimed)
    }
}

impl Records for MemoryState {
    fn put<'a>(&'a self, key: &'a str, value: &'a [u8], ttl: Duration) -> StateFuture<'a, ()> {
        self.purge_expired();
        let now = Instant::now();
        if self.records.len() >= MAX_RECORDS && !self.records.contains_key(key) {
            self.records.retain(|_, (_, expires)| *expires > now);
            let overflow = (self.records.len() + 1).saturating_sub(MAX_RECORDS);
            if overflow > 0 {
                // Drop a tenth at once, so a flood does not rescan on every put.
                let mut entries: Vec<(Instant, String)> = self
                    .records
                    .iter()
                    .map(|e| (e.value().1, e.key().clone()))
                    .collect();
                entries.sort_unstable();
                for (_, key) in entries.into_iter().take(overflow + MAX_RECORDS / 10) {
                    self.records.remove(&key);
                }
            }
        }
        self.records
            .insert(key.to_owned(), (value.to_vec(), now + ttl));
        done(())
    }

    fn get<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<Vec<u8>>> {
        let now = Instant::now();
        let value = self
            .records
            .get(key)
            .filter(|entry| entry.value().1 > now)
            .map(|entry| entry.value().0.clone());
        done(value)
    }
}

/// Most counters kept at once: past it, ended windows are dropped first,
/// then the counter is refused (fail closed) until some end.
const MAX_COUNTERS: usize = 100_000;

impl Counters for MemoryState {
    fn hit<'a>(&'a self, key: &'a str, window: Duration) -> StateFuture<'a, (u64, Duration)> {
        self.purge_expired();
        let now = Instant::now();
        if self.counters.len() >= MAX_COUNTERS && !self.counters.contains_key(key) {
            self.counters.retain(|_, (_, ends)| *ends > now);
            if self.counters.len() >= MAX_COUNTERS {
                return ready(Err(Unavailable)).boxed();
            }
        }
        let mut entry = self
            .counters
            .entry(key.to_owned())
            .or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
        let counted = (entry.0, entry.1.saturating_duration_since(now));
        drop(entry);
        done(counted)
    }
}

/// One process has no other replica to tell: the caller has already
/// acted on its own.
impl Bus for MemoryState {
    fn publish(&self, _: BusMessage) -> StateFuture<'_, ()> {
        done(())
    }

    fn listen(&self, _: BusListener) {}
}

impl Connect for MemoryState {
    fn connect(&self) -> BoxFuture<'_, Result<(), String>> {
        ready(Ok(())).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ProtocolVersion;

    fn record(initialized: bool) -> SessionRecord {
        SessionRecord {
            version: ProtocolVersion::V2025_11_25,
            capabilities: Arc::new(serde_json::Value::Null),
            owner: None,
            log_level: 0,
            initialized,
        }
    }

    /// A store whose clock reads one hour, so sessions can be aged by hand.
    fn aged(idle: Duration, max: usize) -> MemoryState {
        let mut store = MemoryState::new(idle, max);
        store.epoch = Instant::now()
            .checked_sub(Duration::from_secs(3600))
            .expect("an hour after boot");
        store
    }

    async fn open(store: &MemoryState, id: &str, initialized: bool, idle_secs: u64) {
        store.create(id, &record(initialized)).await.unwrap();
        let entry = store.sessions.get(id).unwrap();
        entry
            .last_seen
            .store(store.now_ms() - idle_secs * 1000, Ordering::Relaxed);
    }

    #[tokio::test]
    async fn idle_sessions_expire_and_free_their_slots() {
        let store = aged(Duration::from_secs(600), 3);
        open(&store, "fresh", true, 10).await;
        open(&store, "idle", true, 601).await;
        // A handshake never finished gets a minute, whatever the idle timeout.
        open(&store, "half-open", false, 61).await;
        assert!(store.load("fresh").await.unwrap().is_some());
        assert!(
            store.load("idle").await.unwrap().is_none(),
            "idle past the timeout"
        );
        assert!(
            store.load("half-open").await.unwrap().is_none(),
            "never initialized"
        );

        // A full store sweeps before refusing: the idle one makes room.
        let store = aged(Duration::from_secs(600), 2);
        open(&store, "fresh", true, 10).await;
        open(&store, "idle", true, 601).await;
        assert!(store.create("new", &record(false)).await.is_ok());
        assert_eq!(
            store.create("one-more", &record(false)).await,
            Err(CreateError::Full)
        );
        assert!(!store.touch("idle").await.unwrap());
    }

    #[tokio::test]
    async fn one_owner_cannot_take_every_slot() {
        let store = aged(Duration::from_secs(600), 1000);
        let mut mine = record(true);
        mine.owner = Some("https://issuer\nmallory".into());
        for n in 0..MAX_SESSIONS_PER_OWNER {
            store.create(&format!("m{n}"), &mine).await.unwrap();
        }
        assert_eq!(
            store.create("one-more", &mine).await,
            Err(CreateError::OwnerFull)
        );
        let mut theirs = record(true);
        theirs.owner = Some("https://issuer\nalice".into());
        assert!(
            store.create("alice", &theirs).await.is_ok(),
            "others still get in"
        );
        assert!(store.remove("m0").await.unwrap());
        assert!(
            store.create("freed", &mine).await.is_ok(),
            "a DELETE frees a slot"
        );
        open(&store, "x", true, 0).await;
        // An expired one frees its slot too.
        store
            .sessions
            .get("m1")
            .unwrap()
            .last_seen
            .store(store.now_ms() - 601_000, Ordering::Relaxed);
        assert!(store.create("after-expiry", &mine).await.is_ok());
    }

    #[tokio::test]
    async fn a_touched_session_stays_and_a_removed_one_is_gone() {
        let store = aged(Duration::from_secs(600), 2);
        open(&store, "s", true, 590).await;
        assert!(store.touch("s").await.unwrap());
        let mut changed = record(true);
        changed.log_level = 5;
        assert!(store.update("s", &changed).await.unwrap());
        assert_eq!(store.load("s").await.unwrap(), Some(changed.clone()));
        assert!(store.remove("s").await.unwrap());
        assert!(!store.remove("s").await.unwrap());
        assert!(!store.update("s", &changed).await.unwrap());
        assert!(store.load("s").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn subscriptions_are_per_session_and_bounded() {
        let store = MemoryState::new(Duration::from_secs(60), 10);
        store.create("a", &record(true)).await.unwrap();
        store.create("b", &record(true)).await.unwrap();
        store
            .subscribe("a", "file:///x", true)
            .await
            .unwrap()
            .unwrap();
        let ids: Vec<Arc<str>> = vec!["a".into(), "b".into(), "gone".into()];
        assert_eq!(
            store.subscribed(&ids, "file:///x").await.unwrap(),
            [true, false, false]
        );
        for n in 1..MAX_SUBSCRIPTIONS_PER_SESSION {
            store
                .subscribe("a", &format!("file:///{n}"), true)
                .await
                .unwrap()
                .unwrap();
        }
        assert_eq!(
            store.subscribe("a", "file:///over", true).await.unwrap(),
            Err(MAX_SUBSCRIPTIONS_PER_SESSION)
        );
        store
            .subscribe("a", "file:///x", false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store.subscribed(&ids, "file:///x").await.unwrap(),
            [false, false, false]
        );
    }

    #[tokio::test]
    async fn a_marker_is_claimed_once_until_it_expires() {
        let store = MemoryState::new(Duration::from_secs(60), 10);
        assert!(store.claim("n1", Duration::from_secs(60)).await.unwrap());
        assert!(!store.claim("n1", Duration::from_secs(60)).await.unwrap());
        assert!(store.claim("n2", Duration::ZERO).await.unwrap());
        assert!(
            store.claim("n2", Duration::from_secs(60)).await.unwrap(),
            "expired"
        );
    }

    #[tokio::test]
    async fn counters_count_within_their_window() {
        let store = MemoryState::new(Duration::from_secs(60), 10);
        let minute = Duration::from_secs(60);
        assert_eq!(store.hit("a", minute).await.unwrap().0, 1);
        let (hits, left) = store.hit("a", minute).await.unwrap();
        assert_eq!(hits, 2);
        assert!(left <= minute && left > Duration::from_secs(50));
        assert_eq!(store.hit("b", minute).await.unwrap().0, 1);
        assert_eq!(store.hit("c", Duration::ZERO).await.unwrap().0, 1);
        assert_eq!(store.hit("c", minute).await.unwrap().0, 1, "a new window");
    }

    #[tokio::test]
    async fn expired_entries_are_dropped_without_waiting_for_a_full_store() {
        let store = aged(Duration::from_secs(60), 10);
        store.claim("spent", Duration::ZERO).await.unwrap();
        store.put("old", b"v", Duration::ZERO).await.unwrap();
        store.hit("ended", Duration::ZERO).await.unwrap();
        store.claim("live", Duration::from_secs(60)).await.unwrap();
        // A minute on: the next use drops what expired.
        store
            .last_purge
            .store(store.now_ms() - 61_000, Ordering::Relaxed);
        store
            .put("new", b"v", Duration::from_secs(60))
            .await
            .unwrap();
        assert!(!store.markers.contains_key("spent"));
        assert!(!store.records.contains_key("old"));
        assert!(!store.counters.contains_key("ended"));
        assert!(store.markers.contains_key("live"));
        assert!(
            !store.claim("live", Duration::from_secs(60)).await.unwrap(),
            "still spent"
        );
    }

    #[tokio::test]
    async fn records_expire() {
        let store = MemoryState::new(Duration::from_secs(60), 10);
        store.put("k", b"v", Duration::from_secs(60)).await.unwrap();
        store.put("gone", b"v", Duration::ZERO).await.unwrap();
        assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(store.get("gone").await.unwrap(), None);
    }
}
