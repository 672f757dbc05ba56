//! The in-memory backend: one process, nothing to configure. Every
//! operation answers at once and never fails for want of a connection.

use super::{
    Buckets, Bus, BusListener, BusMessage, Connect, Counters, CreateError, MAX_BUCKETS,
    MAX_SESSIONS_PER_OWNER, MAX_SUBSCRIPTIONS_PER_SESSION, MAX_TASKS, MAX_TASKS_PER_OWNER, Markers,
    SERIAL_WINDOW, SERIALS_PER_CHUNK, Serial, Serials, SessionRecord, SessionRecords, StateFuture,
    StoredTask, TaskChange, TaskCreateError, TaskRecord, Tasks, UNINITIALIZED_LIFETIME,
    Unavailable, Values,
};
use dashmap::DashMap;
use futures_util::future::{BoxFuture, FutureExt as _, ready};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Most markers remembered at once (about 20 MiB). Past it the oldest are
/// forgotten first, in O(1): markers guard a provider's codes, a defence in
/// depth, never this server's own single-use tokens (those are serials,
/// which nothing evicts), so a flood may wear that defence thin for codes
/// older than the flood but can never stop a sign-in.
const MAX_MARKERS: usize = 100_000;

/// The keys of a map's entries in the order they were made, with when each
/// ends: ended entries, and past a bound the oldest live ones, leave from
/// the front, in amortized O(1) and never by a scan.
struct Arrivals {
    order: Mutex<VecDeque<(Instant, Arc<str>)>>,
    max: usize,
}

/// The order of arrivals, held while one more is made.
type ArrivalGuard<'a> = MutexGuard<'a, VecDeque<(Instant, Arc<str>)>>;

impl Arrivals {
    fn new(max: usize) -> Self {
        Self {
            order: Mutex::new(VecDeque::new()),
            max,
        }
    }

    /// Makes room in `map` for one more entry: drops, oldest first, those
    /// ended by `now` and those past the bound. The caller inserts while it
    /// holds the guard, and pushes what it made.
    fn make_room<V>(
        &self,
        map: &DashMap<Arc<str>, V>,
        ends: impl Fn(&V) -> Instant,
        now: Instant,
    ) -> Option<ArrivalGuard<'_>> {
        let mut order = self.order.lock().ok()?;
        while let Some((ended, oldest)) = order.front() {
            if *ended > now && order.len() < self.max {
                break;
            }
            // Only the entry this arrival made: the key may have a newer one.
            let ended = *ended;
            map.remove_if(oldest, |_, value| ends(value) <= ended);
            order.pop_front();
        }
        Some(order)
    }
}

/// One chunk of the spent-serial bitmap.
struct SpentChunk {
    bits: Box<[u64]>,
    /// Until when a token whose serial is here may still be presented:
    /// past it, the chunk may go (its bits then guard only expired tokens).
    keep_until: Instant,
}

/// The serials of this process: a random epoch, a counter, and a bitmap
/// of spent serials in chunks.
struct SerialBook {
    epoch: u64,
    next: AtomicU64,
    chunks: Mutex<HashMap<u64, SpentChunk>>,
}

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
    serials: SerialBook,
    markers: DashMap<Arc<str>, Instant>,
    marker_arrivals: Arrivals,
    /// Values and until when each is kept.
    values: DashMap<Arc<str>, (String, Instant)>,
    value_arrivals: Arrivals,
    /// Rate-limit windows: hits and when the window ends.
    counters: DashMap<Arc<str>, (u64, Instant)>,
    counter_arrivals: Arrivals,
    /// Rate-limit token buckets by key.
    buckets: DashMap<Arc<str>, Bucket>,
    /// When full buckets were last dropped (ms since the epoch).
    buckets_swept: AtomicU64,
    /// Tasks' records and when each expires.
    tasks: DashMap<Arc<str>, (TaskRecord, Instant)>,
    /// Live (unfinished, unexpired) tasks per owner.
    task_owners: Mutex<std::collections::HashMap<Arc<str>, usize>>,
    /// Until when the runner of each unfinished task holds it.
    task_leases: DashMap<Arc<str>, Instant>,
    epoch: Instant,
    last_sweep: AtomicU64,
    /// When expired serial chunks and counters were last dropped (ms
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
            serials: SerialBook {
                epoch: u64::from_le_bytes(crate::random::random_bytes::<8>()),
                next: AtomicU64::new(0),
                chunks: Mutex::new(HashMap::new()),
            },
            markers: DashMap::new(),
            marker_arrivals: Arrivals::new(MAX_MARKERS),
            values: DashMap::new(),
            value_arrivals: Arrivals::new(MAX_VALUES),
            counters: DashMap::new(),
            counter_arrivals: Arrivals::new(MAX_COUNTERS),
            buckets: DashMap::new(),
            buckets_swept: AtomicU64::new(0),
            tasks: DashMap::new(),
            task_owners: Mutex::new(std::collections::HashMap::new()),
            task_leases: DashMap::new(),
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
    /// Drops spent-serial chunks no live token needs and expired tasks, at
    /// most once a minute.
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
        if let Ok(mut chunks) = self.serials.chunks.lock() {
            chunks.retain(|_, chunk| chunk.keep_until > now);
        }
        self.drop_expired_tasks(now);
        self.task_leases.retain(|id, _| self.tasks.contains_key(id));
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

    fn live(&self) -> StateFuture<'_, u64> {
        let now = self.now_ms();
        let live = self
            .sessions
            .iter()
            .filter(|entry| !self.is_expired(entry.value(), now))
            .count();
        done(u64::try_from(live).unwrap_or(u64::MAX))
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

impl Serials for MemoryState {
    fn issue(&self) -> StateFuture<'_, Serial> {
        let number = self.serials.next.fetch_add(1, Ordering::Relaxed);
        done(Serial {
            epoch: self.serials.epoch,
            number,
        })
    }

    fn spend(&self, serial: Serial, ttl: Duration) -> StateFuture<'_, bool> {
        self.purge_expired();
        let issued = self.serials.next.load(Ordering::Relaxed);
        if serial.epoch != self.serials.epoch
            || serial.number >= issued
            || serial.number.saturating_add(SERIAL_WINDOW) < issued
        {
            return done(false);
        }
        let Ok(mut chunks) = self.serials.chunks.lock() else {
            return ready(Err(Unavailable)).boxed();
        };
        let now = Instant::now();
        let (chunk, bit) = serial.position();
        let chunk = chunks.entry(chunk).or_insert_with(|| SpentChunk {
            bits: vec![0; (SERIALS_PER_CHUNK / 64) as usize].into_boxed_slice(),
            keep_until: now,
        });
        chunk.keep_until = chunk.keep_until.max(now + ttl);
        let (word, mask) = ((bit / 64) as usize, 1u64 << (bit % 64));
        let first = chunk.bits[word] & mask == 0;
        chunk.bits[word] |= mask;
        done(first)
    }
}

impl Markers for MemoryState {
    fn claim<'a>(&'a self, key: &'a str, ttl: Duration) -> StateFuture<'a, bool> {
        let now = Instant::now();
        let Some(mut arrivals) = self.marker_arrivals.make_room(&self.markers, |e| *e, now) else {
            return ready(Err(Unavailable)).boxed();
        };
        let key: Arc<str> = Arc::from(key);
        let claimed = match self.markers.entry(Arc::clone(&key)) {
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
        if claimed {
            arrivals.push_back((now + ttl, key));
        }
        done(claimed)
    }
}

/// Most values kept at once; past it the oldest go first (a value is a
/// cache: its holder makes it again).
const MAX_VALUES: usize = 100_000;

impl Values for MemoryState {
    fn get<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<String>> {
        let now = Instant::now();
        let value = self
            .values
            .get(key)
            .filter(|entry| entry.1 > now)
            .map(|entry| entry.0.clone());
        ready(Ok(value)).boxed()
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> StateFuture<'a, ()> {
        let now = Instant::now();
        let Some(mut arrivals) = self.value_arrivals.make_room(&self.values, |e| e.1, now) else {
            return ready(Err(Unavailable)).boxed();
        };
        let key: Arc<str> = Arc::from(key);
        self.values
            .insert(Arc::clone(&key), (value.to_owned(), now + ttl));
        arrivals.push_back((now + ttl, key));
        ready(Ok(())).boxed()
    }
}

/// Most rate-limit windows kept at once. Past it the oldest windows are
/// forgotten first (their clients start a new one): a flood from many
/// addresses makes the limits forget, never refuse everyone.
const MAX_COUNTERS: usize = 100_000;

impl Counters for MemoryState {
    fn hit<'a>(&'a self, key: &'a str, window: Duration) -> StateFuture<'a, (u64, Duration)> {
        let now = Instant::now();
        let Some(mut arrivals) =
            self.counter_arrivals
                .make_room(&self.counters, |(_, ends)| *ends, now)
        else {
            return ready(Err(Unavailable)).boxed();
        };
        let mut entry = self.counters.entry(Arc::from(key)).or_insert((0, now));
        if entry.1 <= now {
            // A new window: it arrives, in order, with its end.
            *entry = (0, now + window);
            arrivals.push_back((now + window, Arc::clone(entry.key())));
        }
        entry.0 += 1;
        let counted = (entry.0, entry.1.saturating_duration_since(now));
        drop(entry);
        done(counted)
    }
}

impl Buckets for MemoryState {
    fn take<'a>(
        &'a self,
        key: &'a str,
        count: u32,
        period: Duration,
    ) -> StateFuture<'a, Result<(), Duration>> {
        let now = Instant::now();
        let per_token = period / count.max(1);
        if self.buckets.len() >= MAX_BUCKETS && !self.buckets.contains_key(key) {
            // A full bucket (by its own limit) is no bucket: those go, at
            // most once a second, so a flood of new callers cannot make
            // every request scan them all.
            let now_ms = self.now_ms();
            let last = self.buckets_swept.load(Ordering::Relaxed);
            if now_ms.saturating_sub(last) >= 1000
                && self
                    .buckets_swept
                    .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                self.buckets.retain(|_, bucket| bucket.full_at > now);
            }
            if self.buckets.len() >= MAX_BUCKETS {
                tracing::warn!("too many callers in their rate-limit periods: refused a new one");
                return ready(Err(Unavailable)).boxed();
            }
        }
        let mut bucket = self.buckets.entry(Arc::from(key)).or_insert(Bucket {
            tokens: f64::from(count),
            at: now,
            full_at: now,
        });
        let taken = bucket.take(now, count, per_token);
        drop(bucket);
        done(taken)
    }
}

/// A token bucket: `tokens` as of `at`, full again at `full_at`.
pub(super) struct Bucket {
    tokens: f64,
    at: Instant,
    full_at: Instant,
}

impl Bucket {
    /// Refills up to `count` (one token per `per_token` since `at`), then
    /// takes one, or says how long until there is one.
    fn take(&mut self, now: Instant, count: u32, per_token: Duration) -> Result<(), Duration> {
        let per = per_token.as_secs_f64().max(f64::MIN_POSITIVE);
        let refilled = now.saturating_duration_since(self.at).as_secs_f64() / per;
        self.tokens = (self.tokens + refilled).min(f64::from(count));
        self.at = now;
        let taken = if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) * per))
        };
        // Full again, by its own limit, at this instant: then it is as good
        // as absent.
        let missing = (f64::from(count) - self.tokens).max(0.0);
        self.full_at = now + Duration::from_secs_f64(missing * per);
        taken
    }
}

impl MemoryState {
    /// Drops expired tasks, and their owners' counts of them.
    fn drop_expired_tasks(&self, now: Instant) {
        self.tasks.retain(|_, (record, expires)| {
            let live = *expires > now;
            if !live {
                self.task_gone(record.owner.as_ref());
            }
            live
        });
    }

    /// One task fewer for `owner` (the anonymous callers of a server
    /// without authentication count as one).
    fn task_gone(&self, owner: Option<&Arc<str>>) {
        let Ok(mut owners) = self.task_owners.lock() else {
            return;
        };
        let owner: Arc<str> = owner.map_or_else(|| Arc::from(""), Arc::clone);
        if let Some(count) = owners.get_mut(&owner) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                owners.remove(&owner);
            }
        }
    }
}

fn task_expiry(record: &TaskRecord) -> Instant {
    Instant::now() + Duration::from_millis(record.ttl_ms)
}

impl Tasks for MemoryState {
    fn create_task<'a>(
        &'a self,
        record: &'a TaskRecord,
        lease: Duration,
    ) -> BoxFuture<'a, Result<(), TaskCreateError>> {
        self.purge_expired();
        let owner: Arc<str> = record.owner.clone().unwrap_or_else(|| Arc::from(""));
        let at_cap = |state: &Self| {
            state.tasks.len() >= MAX_TASKS
                || state.task_owners.lock().map_or(true, |owners| {
                    owners
                        .get(&owner)
                        .is_some_and(|n| *n >= MAX_TASKS_PER_OWNER)
                })
        };
        if at_cap(self) {
            // Expired tasks may hold the places: drop them first (a scan, at
            // most of MAX_TASKS, only for a caller at a cap).
            self.drop_expired_tasks(Instant::now());
        }
        if self.tasks.len() >= MAX_TASKS {
            return ready(Err(TaskCreateError::Full)).boxed();
        }
        {
            // Anonymous callers (a server without authentication) share one
            // count: nobody creates tasks without a bound.
            let Ok(mut owners) = self.task_owners.lock() else {
                return ready(Err(TaskCreateError::Unavailable)).boxed();
            };
            let count = owners.entry(owner).or_insert(0);
            if *count >= MAX_TASKS_PER_OWNER {
                return ready(Err(TaskCreateError::OwnerFull)).boxed();
            }
            *count += 1;
        }
        self.task_leases
            .insert(Arc::clone(&record.id), Instant::now() + lease);
        self.tasks.insert(
            Arc::clone(&record.id),
            (record.clone(), task_expiry(record)),
        );
        ready(Ok(())).boxed()
    }

    fn load_task<'a>(&'a self, id: &'a str) -> StateFuture<'a, Option<StoredTask>> {
        let now = Instant::now();
        let record = self
            .tasks
            .get(id)
            .filter(|entry| entry.value().1 > now)
            .map(|entry| entry.value().0.clone());
        let leased = self.task_leases.get(id).is_some_and(|until| *until > now);
        done(record.map(|record| StoredTask { record, leased }))
    }

    fn change_task<'a>(
        &'a self,
        id: &'a str,
        change: &'a TaskChange,
        now_ms: u64,
    ) -> StateFuture<'a, Option<(TaskRecord, Vec<String>)>> {
        let now = Instant::now();
        let Some(mut entry) = self.tasks.get_mut(id) else {
            return done(None);
        };
        let (record, expires) = entry.value_mut();
        if *expires <= now || record.status.is_terminal() {
            return done(None);
        }
        let taken = change.apply(record);
        record.updated_at = now_ms;
        *expires = task_expiry(record);
        let changed = record.clone();
        drop(entry);
        if changed.status.is_terminal() {
            self.task_leases.remove(id);
        }
        done(Some((changed, taken)))
    }

    fn renew_task_lease<'a>(&'a self, id: &'a str, lease: Duration) -> StateFuture<'a, bool> {
        let now = Instant::now();
        let Some(mut entry) = self.tasks.get_mut(id) else {
            return done(false);
        };
        let (record, expires) = entry.value_mut();
        if *expires <= now || record.status.is_terminal() {
            return done(false);
        }
        *expires = task_expiry(record);
        drop(entry);
        self.task_leases.insert(Arc::from(id), now + lease);
        done(true)
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

    fn ready(&self) -> StateFuture<'_, ()> {
        Box::pin(ready(Ok(())))
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
        assert_eq!(
            SessionRecords::live(&store).await,
            Ok(1),
            "only the fresh one is live"
        );
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
    async fn unneeded_serial_chunks_are_dropped_within_a_minute() {
        let store = aged(Duration::from_secs(60), 10);
        let old = store.issue().await.unwrap();
        assert!(store.spend(old, Duration::ZERO).await.unwrap());
        // A minute on: the next use drops what no live token needs.
        store
            .last_purge
            .store(store.now_ms() - 61_000, Ordering::Relaxed);
        let live = store.issue().await.unwrap();
        store
            .serials
            .next
            .fetch_add(SERIALS_PER_CHUNK, Ordering::Relaxed);
        let later = Serial {
            number: live.number + SERIALS_PER_CHUNK,
            ..live
        };
        assert!(store.spend(later, Duration::from_secs(60)).await.unwrap());
        let chunks = store.serials.chunks.lock().unwrap();
        assert_eq!(
            chunks.len(),
            1,
            "the expired chunk went, the live one stays"
        );
        assert!(chunks.contains_key(&later.position().0));
    }

    #[tokio::test]
    async fn ended_windows_go_and_a_flood_of_addresses_makes_limits_forget_not_refuse() {
        let store = MemoryState::new(Duration::from_secs(60), 10);
        let minute = Duration::from_secs(60);
        store.hit("ended", Duration::ZERO).await.unwrap();
        store.hit("mine", minute).await.unwrap();
        assert!(
            !store.counters.contains_key("ended"),
            "gone on the next hit"
        );
        for i in 0..MAX_COUNTERS + 10 {
            let hit = store.hit(&format!("flood-{i}"), minute).await;
            assert_eq!(hit.unwrap().0, 1, "never refused");
        }
        assert!(store.counters.len() <= MAX_COUNTERS);
        assert_eq!(
            store.hit("mine", minute).await.unwrap().0,
            1,
            "the oldest window was forgotten: a new one"
        );
        let newest = format!("flood-{}", MAX_COUNTERS + 9);
        assert_eq!(
            store.hit(&newest, minute).await.unwrap().0,
            2,
            "the newest stays"
        );
    }

    #[tokio::test]
    async fn token_buckets_burst_refuse_and_refill() {
        let store = MemoryState::new(Duration::from_secs(60), 10);
        crate::state::check_buckets(&store).await;
    }

    #[tokio::test]
    async fn tasks_change_atomically_and_leases_lapse() {
        let store = MemoryState::new(Duration::from_secs(60), 10);
        crate::state::check_task_store(&store, Duration::from_secs(30)).await;
    }

    #[tokio::test]
    async fn a_serial_is_spent_once_and_only_if_it_was_issued_here() {
        let store = MemoryState::new(Duration::from_secs(60), 10);
        let ttl = Duration::from_secs(600);
        let first = store.issue().await.unwrap();
        let second = store.issue().await.unwrap();
        assert_eq!(second.number, first.number + 1);
        assert!(store.spend(second, ttl).await.unwrap());
        assert!(!store.spend(second, ttl).await.unwrap(), "spent");
        assert!(
            store.spend(first, ttl).await.unwrap(),
            "its neighbour is not"
        );
        // Another run's serials, and ones never issued, are never good.
        let other = MemoryState::new(Duration::from_secs(60), 10);
        let foreign = other.issue().await.unwrap();
        assert_ne!(foreign.epoch, first.epoch);
        assert!(!store.spend(foreign, ttl).await.unwrap());
        let unissued = Serial {
            number: second.number + 1,
            ..second
        };
        assert!(!store.spend(unissued, ttl).await.unwrap());
        // Too far behind the newest: refused, and its bit never looked up.
        let stale = store.issue().await.unwrap();
        store
            .serials
            .next
            .fetch_add(SERIAL_WINDOW + 1, Ordering::Relaxed);
        assert!(!store.spend(stale, ttl).await.unwrap());
    }

    #[tokio::test]
    async fn a_flood_of_spent_serials_leaves_the_next_sign_in_its_own() {
        // Far past the 100,000 single-use nonces that once filled the store
        // (after which every sign-in was refused): each costs a bit.
        let store = MemoryState::new(Duration::from_secs(60), 10);
        let ttl = Duration::from_secs(600);
        for _ in 0..300_000 {
            let serial = store.issue().await.unwrap();
            assert!(store.spend(serial, ttl).await.unwrap());
        }
        let mine = store.issue().await.unwrap();
        assert!(store.spend(mine, ttl).await.unwrap());
        assert!(!store.spend(mine, ttl).await.unwrap());
        let chunks = store.serials.chunks.lock().unwrap().len();
        assert_eq!(chunks, 5, "300,001 serials fill five 8 KiB chunks");
    }

    #[tokio::test]
    async fn markers_are_claimed_once_and_the_oldest_give_way_first() {
        let store = MemoryState::new(Duration::from_secs(60), 10);
        let minute = Duration::from_secs(60);
        assert!(store.claim("a", minute).await.unwrap());
        assert!(!store.claim("a", minute).await.unwrap());
        assert!(store.claim("gone", Duration::ZERO).await.unwrap());
        assert!(store.claim("gone", minute).await.unwrap(), "expired: anew");
        for i in 0..MAX_MARKERS {
            assert!(store.claim(&format!("m{i}"), minute).await.unwrap());
        }
        assert!(store.markers.len() <= MAX_MARKERS);
        assert!(
            store.claim("a", minute).await.unwrap(),
            "the oldest was forgotten, never the newest"
        );
        assert!(
            !store
                .claim(&format!("m{}", MAX_MARKERS - 1), minute)
                .await
                .unwrap()
        );
    }
}
