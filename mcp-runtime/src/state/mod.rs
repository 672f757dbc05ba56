//! What replicas of one server share, behind one small interface with two
//! backends: in memory (the default: one process, nothing to configure) and
//! Redis (`redis` feature; `MCP_REDIS_URL` or
//! [`McpServerBuilder::redis`](crate::McpServerBuilder::redis)).
//!
//! Its parts, each a trait the code above uses without knowing the backend:
//!
//! - [`SessionRecords`]: a session's shared facts (negotiated revision,
//!   client capabilities, owner, log level, subscriptions) with a sliding
//!   idle expiry;
//! - [`Serials`]: the serial numbers of single-use tokens (states, consent
//!   forms, codes) and which of them are spent, one bit each: the first
//!   spend wins, on every replica, and no flood can fill it;
//! - [`Markers`]: single-use markers keyed by a value this server did not
//!   issue (a provider's code), with a lifetime;
//! - [`Counters`]: hits per fixed window (rate limits);
//! - [`Tasks`]: the records of tasks (the tasks extension), each its
//!   owner's, kept until its time-to-live ends;
//! - [`Bus`]: messages every replica hears (a change to announce on the
//!   sessions' streams, a cancellation, a client's answer, a session ended).
//!
//! What each replica keeps for itself (the request futures, the open SSE
//! streams, the JWKS and verified-token caches) is not here: it cannot
//! move between processes, and the bus reaches it where it lives.
//!
//! Every operation may fail with [`Unavailable`] when the backend cannot be
//! reached; callers then refuse the request (503 with `Retry-After`) rather
//! than answer from a guess.

pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;

use crate::protocol::tasks::TaskStatus;
use crate::protocol::{ErrorObject, ProtocolVersion, RequestId};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// The shared state could not be reached (or answered nonsense): the
/// request that needed it must be refused, never answered from a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the shared session store is unavailable")]
pub(crate) struct Unavailable;

/// What a backend operation resolves to.
pub(crate) type StateResult<T> = Result<T, Unavailable>;

/// A backend operation in flight.
pub(crate) type StateFuture<'a, T> = BoxFuture<'a, StateResult<T>>;

/// Seconds the clients of a refused request are told to wait
/// (`Retry-After`): long enough for a reconnect, short enough to notice.
pub(crate) const RETRY_AFTER_SECS: u64 = 2;

/// Most resources one session may follow with `resources/subscribe`.
pub(crate) const MAX_SUBSCRIPTIONS_PER_SESSION: usize = 1024;
/// Longest URI a session may subscribe to: with the count, it bounds what
/// one session's subscriptions hold (2 MiB at most).
pub(crate) const MAX_SUBSCRIBED_URI_BYTES: usize = 2048;
/// Serial numbers per chunk of the spent-serial bitmaps (8 KiB each).
pub(crate) const SERIALS_PER_CHUNK: u64 = 1 << 16;
/// How many serials back from the newest one is still spendable: an older
/// one is refused as spent, whatever its token says, without its bit being
/// looked up. Never reached by honest use (ten minutes of tokens at 400,000
/// sign-ins a second). The bitmaps themselves are kept only as long as
/// their tokens live: one bit per token drawn in the last eleven minutes.
pub(crate) const SERIAL_WINDOW: u64 = 1 << 28;
/// Most live sessions one user (issuer and subject) may hold, so one caller
/// cannot take every slot of the server's session limit.
pub(crate) const MAX_SESSIONS_PER_OWNER: usize = 100;
/// How long a session may wait for `notifications/initialized`.
pub(crate) const UNINITIALIZED_LIFETIME: Duration = Duration::from_secs(60);

/// A session's shared facts. The local half (requests running here, the GET
/// stream held here) lives with the replica that serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    /// The negotiated protocol revision.
    #[serde(with = "version_text")]
    pub(crate) version: ProtocolVersion,
    /// What the client declared at `initialize`.
    pub(crate) capabilities: Arc<serde_json::Value>,
    /// The user who opened it (issuer and subject), on servers that
    /// authenticate: only they may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<Arc<str>>,
    /// `logging/setLevel`, as an index into `LoggingLevel::ALL`.
    pub(crate) log_level: u8,
    /// Whether `notifications/initialized` arrived.
    pub(crate) initialized: bool,
}

mod version_text {
    use crate::protocol::ProtocolVersion;
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &ProtocolVersion, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<ProtocolVersion, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        ProtocolVersion::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("unknown protocol revision"))
    }
}

/// Why a session could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreateError {
    /// The store holds its most live sessions.
    Full,
    /// The session's owner holds [`MAX_SESSIONS_PER_OWNER`] already.
    OwnerFull,
    /// The backend cannot be reached.
    Unavailable,
}

impl From<Unavailable> for CreateError {
    fn from(_: Unavailable) -> Self {
        Self::Unavailable
    }
}

/// Sessions' shared facts, by id, each expiring after `idle` without use.
pub(crate) trait SessionRecords: Send + Sync {
    /// Stores a new session's record; `Full` past the store's limit.
    fn create<'a>(
        &'a self,
        id: &'a str,
        record: &'a SessionRecord,
    ) -> BoxFuture<'a, Result<(), CreateError>>;

    /// The live record of `id`, restarting its idle clock; `None` once it was
    /// removed or expired.
    fn load<'a>(&'a self, id: &'a str) -> StateFuture<'a, Option<SessionRecord>>;

    /// Restarts `id`'s idle clock (an open stream or a finished request
    /// counts as use); `false` if the session is gone.
    fn touch<'a>(&'a self, id: &'a str) -> StateFuture<'a, bool>;

    /// Replaces the record of a live session, restarting its idle clock;
    /// `false` if the session is gone.
    fn update<'a>(&'a self, id: &'a str, record: &'a SessionRecord) -> StateFuture<'a, bool>;

    /// Ends a session and forgets its subscriptions; `false` if it was gone.
    fn remove<'a>(&'a self, id: &'a str) -> StateFuture<'a, bool>;

    /// Adds (`on`) or drops a subscription of `id` to `uri`. `Ok(Err(max))`
    /// when the session already follows `max` resources.
    fn subscribe<'a>(
        &'a self,
        id: &'a str,
        uri: &'a str,
        on: bool,
    ) -> StateFuture<'a, Result<(), usize>>;

    /// For each of `ids`, whether it follows `uri`.
    fn subscribed<'a>(&'a self, ids: &'a [Arc<str>], uri: &'a str) -> StateFuture<'a, Vec<bool>>;

    /// How many sessions are live, on every replica (used within the idle
    /// timeout): what the metrics show.
    fn live(&self) -> StateFuture<'_, u64>;
}

/// The serial number of a single-use token: which run of the store drew
/// it (`epoch`, random, renewed when the store starts empty) and its place
/// in the order of issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Serial {
    #[serde(rename = "e")]
    pub(crate) epoch: u64,
    #[serde(rename = "n")]
    pub(crate) number: u64,
}

impl Serial {
    /// The chunk of the bitmaps this serial's bit is in, and its place there.
    pub(crate) fn position(self) -> (u64, u64) {
        (
            self.number / SERIALS_PER_CHUNK,
            self.number % SERIALS_PER_CHUNK,
        )
    }
}

/// Single-use tokens this server issues (a sign-in's state, a consent
/// form, a code) carry a serial number drawn here; spending one sets its
/// bit. One bit per token issued, kept as long as the tokens live, and no
/// scan or search anywhere: a flood of sign-ins costs a bit each and never
/// fills anything the next user needs.
///
/// A serial of another epoch (the store was emptied: a restart of the
/// in-memory backend, a Redis that lost its data) or more than
/// [`SERIAL_WINDOW`] behind the newest is refused as spent: what cannot be
/// proven unspent is never accepted.
pub(crate) trait Serials: Send + Sync {
    /// Draws the next serial.
    fn issue(&self) -> StateFuture<'_, Serial>;

    /// Spends `serial`, whose token stays valid for `ttl` more: `true` for
    /// the first spend only.
    fn spend(&self, serial: Serial, ttl: Duration) -> StateFuture<'_, bool>;
}

/// Single-use markers keyed by a value this server did not issue (a
/// provider's code), good once on whichever replica it arrives.
pub(crate) trait Markers: Send + Sync {
    /// Marks `key` used for `ttl`; `true` for the first claim only.
    fn claim<'a>(&'a self, key: &'a str, ttl: Duration) -> StateFuture<'a, bool>;
}

/// Values kept for a while under a key, shared by every replica (tokens
/// a provider exchanged, sealed by their holder before they are put).
pub(crate) trait Values: Send + Sync {
    /// The value under `key`, if it is there and has not expired.
    fn get<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<String>>;
    /// Puts `value` under `key` for `ttl`.
    fn put<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> StateFuture<'a, ()>;
}

/// Counters over a fixed window, for rate limits every replica shares.
pub(crate) trait Counters: Send + Sync {
    /// Counts one hit on `key`: how many hits its current window (started
    /// by the first of them, `window` long) holds, this one included, and
    /// how long until that window ends.
    fn hit<'a>(&'a self, key: &'a str, window: Duration) -> StateFuture<'a, (u64, Duration)>;
}

/// Token buckets for per-caller rate limits.
pub(crate) trait Buckets: Send + Sync {
    /// Takes one token from bucket `key`, which holds at most `count` and
    /// refills fully over `period`: `Ok(())`, or `Err(wait)` when it is
    /// empty and the next token comes in `wait`.
    fn take<'a>(
        &'a self,
        key: &'a str,
        count: u32,
        period: Duration,
    ) -> StateFuture<'a, Result<(), Duration>>;
}

/// Most buckets one process keeps in memory; past it (every one in use
/// within its period), a new caller is refused rather than let through
/// uncounted.
pub(crate) const MAX_BUCKETS: usize = 100_000;

/// Most tasks one caller may hold at once, finished ones included until
/// they expire (anonymous callers count as one caller).
pub(crate) const MAX_TASKS_PER_OWNER: usize = 100;
/// Most tasks one process keeps in memory, whoever holds them.
pub(crate) const MAX_TASKS: usize = 10_000;

/// A task's shared record: what `tasks/get` shows on any replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TaskRecord {
    pub(crate) id: Arc<str>,
    /// Who created it (issuer and subject), on servers that authenticate:
    /// for anyone else its id is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<Arc<str>>,
    /// The tool it runs: its access rule is checked again on every
    /// `tasks/*`, so a token that may not call the tool cannot see its task.
    #[serde(default)]
    pub(crate) tool: String,
    /// The session it was created in (session-based revisions): its
    /// changes go out on that session's GET stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session: Option<Arc<str>>,
    pub(crate) status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status_message: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub(crate) created_at: u64,
    pub(crate) updated_at: u64,
    /// How long the record is kept after its last change.
    pub(crate) ttl_ms: u64,
    pub(crate) poll_interval_ms: u64,
    /// The tool's result (JSON), once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) result: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<ErrorObject>,
    /// The questions waiting for the client, by key, each as JSON text:
    /// kept as written (Redis's Lua would rewrite JSON it parsed).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub(crate) input_requests: std::collections::BTreeMap<String, String>,
    /// The client's answers (JSON text, by key) waiting for the handler:
    /// kept here, not only sent to its replica, so none is lost on the way.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub(crate) answers: std::collections::BTreeMap<String, String>,
}

/// Why a task could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskCreateError {
    /// The owner holds [`MAX_TASKS_PER_OWNER`] tasks already.
    OwnerFull,
    /// The store holds its most tasks ([`MAX_TASKS`], in memory).
    Full,
    /// The backend cannot be reached.
    Unavailable,
}

impl From<Unavailable> for TaskCreateError {
    fn from(_: Unavailable) -> Self {
        Self::Unavailable
    }
}

/// One change to an unfinished task, made atomically by the store: the
/// handler (on the replica running it) and the client (through any
/// replica) change the same record, and neither may undo the other.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum TaskChange {
    /// The handler asks these questions (by key): the task waits for input.
    Ask {
        requests: std::collections::BTreeMap<String, String>,
    },
    /// The client answered: answers to questions still open move from the
    /// questions to the answers waiting for the handler (the others are
    /// ignored); with no question left, the task works again.
    Answer {
        answers: std::collections::BTreeMap<String, String>,
    },
    /// The handler took these answers.
    Collect { keys: Vec<String> },
    /// The task ended: completed, failed or cancelled.
    Finish {
        status: TaskStatus,
        #[serde(skip_serializing_if = "Option::is_none")]
        status_message: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<ErrorObject>,
    },
}

impl TaskChange {
    /// Applies the change to `record` (not finished); returns the keys an
    /// `Answer` took. The in-memory backend's rules; Redis runs the same in
    /// Lua.
    pub(crate) fn apply(&self, record: &mut TaskRecord) -> Vec<String> {
        match self {
            Self::Ask { requests } => {
                record
                    .input_requests
                    .extend(requests.iter().map(|(k, v)| (k.clone(), v.clone())));
                record.status = TaskStatus::InputRequired;
                Vec::new()
            }
            Self::Answer { answers } => {
                let mut taken = Vec::new();
                for (key, answer) in answers {
                    if record.input_requests.remove(key).is_some() {
                        record.answers.insert(key.clone(), answer.clone());
                        taken.push(key.clone());
                    }
                }
                if record.input_requests.is_empty() && record.status == TaskStatus::InputRequired {
                    record.status = TaskStatus::Working;
                }
                taken
            }
            Self::Collect { keys } => {
                for key in keys {
                    record.answers.remove(key);
                }
                Vec::new()
            }
            Self::Finish {
                status,
                status_message,
                result,
                error,
            } => {
                record.status = *status;
                record.status_message.clone_from(status_message);
                record.result.clone_from(result);
                record.error.clone_from(error);
                record.input_requests.clear();
                record.answers.clear();
                Vec::new()
            }
        }
    }
}

/// A task as stored, and whether the replica running it still holds its
/// lease (renewed while the handler runs).
#[derive(Debug, Clone)]
pub(crate) struct StoredTask {
    pub(crate) record: TaskRecord,
    pub(crate) leased: bool,
}

/// A fresh task record for the backends' tests.
#[cfg(test)]
pub(crate) fn test_task(id: &str, owner: Option<&str>) -> TaskRecord {
    TaskRecord {
        id: id.into(),
        owner: owner.map(Into::into),
        tool: "build".to_owned(),
        session: None,
        status: TaskStatus::Working,
        status_message: None,
        created_at: 1_796_638_830_123,
        updated_at: 1_796_638_830_123,
        ttl_ms: 60_000,
        poll_interval_ms: 500,
        result: None,
        error: None,
        input_requests: std::collections::BTreeMap::new(),
        answers: std::collections::BTreeMap::new(),
    }
}

/// Runs the same checks of the token buckets against either backend: a
/// burst of `count`, then a refusal naming the wait, buckets apart, and a
/// token back after its share of the period.
#[cfg(test)]
pub(crate) async fn check_buckets(store: &dyn Buckets) {
    let period = Duration::from_secs(2);
    for _ in 0..4 {
        assert_eq!(store.take("alice", 4, period).await, Ok(Ok(())));
    }
    let Ok(Err(wait)) = store.take("alice", 4, period).await else {
        panic!("a fifth token in the burst");
    };
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_millis(500),
        "{wait:?}"
    );
    // Another caller, and the same caller's bucket for another limit, are apart.
    assert_eq!(store.take("bob", 4, period).await, Ok(Ok(())));
    assert_eq!(store.take("alice/tool", 1, period).await, Ok(Ok(())));
    assert!(matches!(
        store.take("alice/tool", 1, period).await,
        Ok(Err(_))
    ));
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    assert_eq!(store.take("alice", 4, period).await, Ok(Ok(())), "refilled");
    assert!(matches!(store.take("alice", 4, period).await, Ok(Err(_))));
}

/// Runs the same checks of the task store against either backend: asking,
/// answering (keys taken once), finishing (then nothing changes), leases
/// and the per-owner cap.
#[cfg(test)]
pub(crate) async fn check_task_store(store: &dyn Tasks, lease: Duration) {
    use serde_json::json;
    let record = test_task("t1", Some("https://issuer\nalice"));
    store.create_task(&record, lease).await.unwrap();
    let stored = store.load_task("t1").await.unwrap().expect("stored");
    assert_eq!(stored.record, record);
    assert!(stored.leased);
    // Questions come back exactly as written (`[]` stays a list, big
    // numbers stay whole).
    let question = r#"{"method":"elicitation/create","params":{"requestedSchema":{"required":[]},"n":12345678901234567}}"#;
    let ask = TaskChange::Ask {
        requests: [
            ("a".to_owned(), question.to_owned()),
            ("b".to_owned(), json!({"method": "roots/list"}).to_string()),
        ]
        .into(),
    };
    let (asked, _) = store.change_task("t1", &ask, 7).await.unwrap().unwrap();
    assert_eq!(asked.status, TaskStatus::InputRequired);
    assert_eq!(asked.input_requests.len(), 2);
    assert_eq!(asked.input_requests["a"], question);
    assert_eq!(asked.updated_at, 7);
    let answer = |keys: &[&str]| TaskChange::Answer {
        answers: keys
            .iter()
            .map(|k| {
                (
                    (*k).to_owned(),
                    format!(r#"{{"action":"accept","content":{{"k":"{k}"}}}}"#),
                )
            })
            .collect(),
    };
    let (partly, taken) = store
        .change_task("t1", &answer(&["a", "zzz"]), 8)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken, ["a"], "only open keys are taken");
    assert_eq!(
        partly.answers["a"], r#"{"action":"accept","content":{"k":"a"}}"#,
        "kept for the handler, as written"
    );
    assert!(!partly.answers.contains_key("zzz"));
    assert_eq!(partly.status, TaskStatus::InputRequired);
    assert!(partly.input_requests.contains_key("b") && !partly.input_requests.contains_key("a"));
    let (_, again) = store
        .change_task("t1", &answer(&["a"]), 9)
        .await
        .unwrap()
        .unwrap();
    assert!(again.is_empty(), "an answer is taken once");
    let (working, taken) = store
        .change_task("t1", &answer(&["b"]), 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken, ["b"]);
    assert_eq!(working.status, TaskStatus::Working);
    assert!(working.input_requests.is_empty());
    let collect = TaskChange::Collect {
        keys: vec!["a".to_owned(), "b".to_owned()],
    };
    let (collected, _) = store
        .change_task("t1", &collect, 10)
        .await
        .unwrap()
        .unwrap();
    assert!(collected.answers.is_empty(), "taken by the handler");
    let finish = TaskChange::Finish {
        status: TaskStatus::Completed,
        status_message: None,
        result: Some(r#"{"content":[],"isError":false}"#.to_owned()),
        error: None,
    };
    let (done, _) = store.change_task("t1", &finish, 11).await.unwrap().unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(
        done.result.as_deref(),
        Some(r#"{"content":[],"isError":false}"#)
    );
    assert!(
        store.change_task("t1", &ask, 12).await.unwrap().is_none(),
        "finished"
    );
    assert_eq!(store.load_task("t1").await.unwrap().unwrap().record, done);
    assert!(store.load_task("never").await.unwrap().is_none());
    // A lease not renewed lapses; renewed, it holds.
    store
        .create_task(&test_task("t2", None), Duration::from_millis(50))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert!(!store.load_task("t2").await.unwrap().unwrap().leased);
    assert!(
        store.renew_task_lease("t2", lease).await.unwrap(),
        "unfinished"
    );
    assert!(store.load_task("t2").await.unwrap().unwrap().leased);
    assert!(
        !store.renew_task_lease("t1", lease).await.unwrap(),
        "finished: stop"
    );
    assert!(
        !store.renew_task_lease("never", lease).await.unwrap(),
        "gone: stop"
    );
    // One owner's unfinished tasks are capped; a finished one frees a place.
    for i in 0..MAX_TASKS_PER_OWNER {
        let id = format!("c{i}");
        store
            .create_task(&test_task(&id, Some("bob")), lease)
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .create_task(&test_task("over", Some("bob")), lease)
            .await,
        Err(TaskCreateError::OwnerFull)
    );
    store
        .create_task(&test_task("other", Some("carol")), lease)
        .await
        .expect("others are not held back");
    store.change_task("c0", &finish, 13).await.unwrap().unwrap();
    assert_eq!(
        store
            .create_task(&test_task("after", Some("bob")), lease)
            .await,
        Err(TaskCreateError::OwnerFull),
        "a finished task counts until it expires"
    );
    let mut brief = test_task("brief", Some("dora"));
    brief.ttl_ms = 50;
    store.create_task(&brief, lease).await.unwrap();
    for i in 1..MAX_TASKS_PER_OWNER {
        store
            .create_task(&test_task(&format!("d{i}"), Some("dora")), lease)
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(80)).await;
    store
        .create_task(&test_task("d-after", Some("dora")), lease)
        .await
        .expect("an expired task frees a place");
    // Anonymous callers are bounded too, together.
    for i in 0..MAX_TASKS_PER_OWNER - 1 {
        let id = format!("anonymous{i}");
        store
            .create_task(&test_task(&id, None), lease)
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .create_task(&test_task("one-too-many", None), lease)
            .await,
        Err(TaskCreateError::OwnerFull),
        "t2 and the {} above",
        MAX_TASKS_PER_OWNER - 1
    );
}

/// Tasks' records, by id, each kept `ttl_ms` after its last change.
pub(crate) trait Tasks: Send + Sync {
    /// Stores a new task, with a lease of `lease` for the replica that will
    /// run it, before anyone is told its id; unless its owner holds too many
    /// unfinished ones (anonymous callers, on a server without
    /// authentication, count as one owner).
    fn create_task<'a>(
        &'a self,
        record: &'a TaskRecord,
        lease: Duration,
    ) -> BoxFuture<'a, Result<(), TaskCreateError>>;

    /// The task `id`, unless it expired.
    fn load_task<'a>(&'a self, id: &'a str) -> StateFuture<'a, Option<StoredTask>>;

    /// Makes `change` to task `id`, stamped `now_ms`: the record after it
    /// and the keys an `Answer` took, or `None` when the task is gone or
    /// finished (a finished task never changes).
    fn change_task<'a>(
        &'a self,
        id: &'a str,
        change: &'a TaskChange,
        now_ms: u64,
    ) -> StateFuture<'a, Option<(TaskRecord, Vec<String>)>>;

    /// Renews the lease of the replica running task `id` for `lease`, and
    /// keeps its record (and its owner's count of it) for its lifetime
    /// from now: `false` when the task is gone or finished, and its handler
    /// should stop.
    fn renew_task_lease<'a>(&'a self, id: &'a str, lease: Duration) -> StateFuture<'a, bool>;
}

/// A client's answer to a question the server sent, on its way to the
/// replica whose handler waits for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ClientAnswer {
    /// The id of the server's request.
    pub(crate) id: RequestId,
    /// Who answered: the caller (issuer and subject) and session.
    pub(crate) owner: Option<Arc<str>>,
    pub(crate) session: Option<Arc<str>>,
    /// The client's `result`, else its `error`, as JSON text (raw JSON
    /// cannot ride inside a tagged message).
    pub(crate) result: Option<String>,
    pub(crate) error: Option<String>,
}

/// What one replica tells every other.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum BusMessage {
    /// Send `method` (`notifications/tools/list_changed`, ...) on every
    /// initialized session's GET stream.
    ListChanged { method: String },
    /// Send `notifications/resources/updated` to the sessions following `uri`.
    ResourceUpdated { uri: String },
    /// `notifications/cancelled`: stop `request` of `session` wherever it runs.
    Cancel {
        session: Arc<str>,
        request: RequestId,
    },
    /// The session was deleted: stop its requests and close its stream.
    SessionEnded { session: Arc<str> },
    /// A client's answer for the handler waiting for it.
    Answer(ClientAnswer),
    /// Answers for the task's handler wait in its record: wake it, wherever
    /// it runs (it also looks by itself, so a lost message delays, never
    /// loses, an answer).
    TaskAnswered { task: Arc<str> },
    /// `tasks/cancel`: stop the task's handler, wherever it runs.
    TaskCancel { task: Arc<str> },
    /// The task changed as its client sees it: the replicas whose streams
    /// follow it (a listen stream, or the GET stream of the session that
    /// created it) read its record and tell them.
    TaskChanged {
        task: Arc<str>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<Arc<str>>,
    },
}

/// What a replica's bus listener hears.
#[derive(Debug, Clone)]
#[cfg_attr(
    not(feature = "redis"),
    allow(dead_code, reason = "only the Redis bus hears other replicas")
)]
pub(crate) enum BusEvent {
    /// A message from another replica.
    Message(BusMessage),
    /// The bus connection was lost: messages may have been missed until it
    /// is back, so streams that rely on it should end (their clients
    /// reconnect and are answered, or refused, from the shared state).
    Disconnected,
}

/// Receives every bus event.
pub(crate) type BusListener = Arc<dyn Fn(BusEvent) + Send + Sync>;

/// Messages between replicas.
pub(crate) trait Bus: Send + Sync {
    /// Sends `message` to every other replica. The sender acts on it for
    /// itself first, so no replica needs to hear its own messages (the
    /// Redis backend drops them).
    fn publish(&self, message: BusMessage) -> StateFuture<'_, ()>;

    /// Hands every message from now on to `listener`. Set once, when the
    /// server starts serving.
    fn listen(&self, listener: BusListener);
}

/// Which backend holds the shared state.
#[derive(Clone)]
pub(crate) enum Backend {
    /// This process alone.
    Memory,
    /// A Redis server, at this URL (which may hold a password: never logged
    /// as such, see [`redacted_url`]).
    #[cfg(feature = "redis")]
    Redis(String),
}

/// One server's shared state: every part, from one backend.
#[derive(Clone)]
pub(crate) struct SharedState {
    pub(crate) sessions: Arc<dyn SessionRecords>,
    pub(crate) serials: Arc<dyn Serials>,
    pub(crate) markers: Arc<dyn Markers>,
    pub(crate) counters: Arc<dyn Counters>,
    pub(crate) buckets: Arc<dyn Buckets>,
    pub(crate) tasks: Arc<dyn Tasks>,
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) values: Arc<dyn Values>,
    /// Connects and starts listening; a no-op in memory.
    connector: Arc<dyn Connect>,
}

/// Starting a backend's connections.
pub(crate) trait Connect: Send + Sync {
    /// Connects (once; later calls return the first outcome) and checks the
    /// backend answers: the error names where it looked, without a password.
    fn connect(&self) -> BoxFuture<'_, Result<(), String>>;

    /// Whether the backend answers now (what `/readyz` asks); always, in
    /// memory.
    fn ready(&self) -> StateFuture<'_, ()>;
}

impl SharedState {
    /// Whether the backend answers now.
    pub(crate) async fn ready(&self) -> StateResult<()> {
        self.connector.ready().await
    }

    /// The in-memory state of one process.
    pub(crate) fn memory(idle: Duration, max_sessions: usize) -> Self {
        let store = Arc::new(memory::MemoryState::new(idle, max_sessions));
        Self {
            sessions: store.clone(),
            serials: store.clone(),
            markers: store.clone(),
            counters: store.clone(),
            buckets: store.clone(),
            tasks: store.clone(),
            bus: store.clone(),
            values: store.clone(),
            connector: store,
        }
    }

    /// The state of `backend`, for sessions idle at most `idle`; `namespace`
    /// keeps servers sharing one Redis apart.
    pub(crate) fn new(
        backend: &Backend,
        namespace: &str,
        idle: Duration,
        max_sessions: usize,
    ) -> Result<Self, String> {
        let _ = namespace;
        match backend {
            Backend::Memory => Ok(Self::memory(idle, max_sessions)),
            #[cfg(feature = "redis")]
            Backend::Redis(url) => {
                let store = Arc::new(redis::RedisState::new(url, namespace, idle, max_sessions)?);
                Ok(Self {
                    sessions: store.clone(),
                    serials: store.clone(),
                    markers: store.clone(),
                    counters: store.clone(),
                    buckets: store.clone(),
                    tasks: store.clone(),
                    bus: store.clone(),
                    values: store.clone(),
                    connector: store,
                })
            }
        }
    }

    /// Connects the backend and checks it answers (see [`Connect`]).
    pub(crate) async fn connect(&self) -> Result<(), String> {
        self.connector.connect().await
    }
}

/// `url` without its user name or password, for logs and errors.
pub(crate) fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            if !parsed.username().is_empty() {
                let _ = parsed.set_username("***");
            }
            // A Unix socket's URL carries them in its query.
            let secret = |name: &str| name == "pass" || name == "user";
            if parsed.query_pairs().any(|(name, _)| secret(&name)) {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(name, value)| {
                        let value = if secret(&name) { "***".into() } else { value };
                        (name.into_owned(), value.into_owned())
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => "(an unparsable URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_credentials() {
        let shown = redacted_url("redis://user:hunter2@cache.internal:6379/0");
        assert!(
            !shown.contains("hunter2") && !shown.contains("user"),
            "{shown}"
        );
        assert!(shown.contains("cache.internal:6379"), "{shown}");
        let shown = redacted_url("redis://:hunter2@127.0.0.1:6379");
        assert!(
            !shown.contains("hunter2") && shown.contains("127.0.0.1:6379"),
            "{shown}"
        );
        assert!(!redacted_url("not a url hunter2").contains("hunter2"));
        let shown = redacted_url("redis+unix:///run/redis.sock?db=2&user=app&pass=hunter2");
        assert_eq!(shown, "redis+unix:///run/redis.sock?db=2&user=***&pass=***");
    }

    /// What one replica publishes, every other can read: every kind of
    /// message survives JSON both ways (a raw JSON field inside the tagged
    /// enum once did not).
    #[test]
    fn every_bus_message_round_trips() {
        let messages = [
            BusMessage::ListChanged {
                method: "notifications/tools/list_changed".into(),
            },
            BusMessage::ResourceUpdated {
                uri: "file:///x".into(),
            },
            BusMessage::Cancel {
                session: "s".into(),
                request: RequestId::Number(3),
            },
            BusMessage::SessionEnded {
                session: "s".into(),
            },
            BusMessage::TaskAnswered { task: "t".into() },
            BusMessage::TaskCancel { task: "t".into() },
            BusMessage::TaskChanged {
                task: "t".into(),
                session: Some("s".into()),
            },
            BusMessage::TaskChanged {
                task: "t".into(),
                session: None,
            },
            BusMessage::Answer(ClientAnswer {
                id: RequestId::String("mcp-1".into()),
                owner: Some("https://issuer\nalice".into()),
                session: Some("s".into()),
                result: Some(r#"{"action":"accept","content":{"name":"Ada"}}"#.into()),
                error: None,
            }),
        ];
        for message in messages {
            let text = serde_json::to_string(&message).unwrap();
            let back: BusMessage = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), text);
        }
    }

    #[test]
    fn records_round_trip() {
        let record = SessionRecord {
            version: ProtocolVersion::V2025_11_25,
            capabilities: Arc::new(serde_json::json!({"elicitation": {}})),
            owner: Some("https://issuer\nalice".into()),
            log_level: 3,
            initialized: true,
        };
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(
            serde_json::from_str::<SessionRecord>(&text).unwrap(),
            record
        );
    }
}
