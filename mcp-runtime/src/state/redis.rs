//! The Redis backend: every replica of a server shares its sessions,
//! serials, markers, counters and bus through one Redis, each operation one round
//! trip on Redis's own primitives (keys that expire by themselves, `SET NX`,
//! sets, one Lua script where a check and a write must be one step, and
//! pub/sub). Nothing is polled or scanned.
//!
//! Operations before [`Connect::connect`] succeeded answer [`Unavailable`]
//! rather than connect lazily: a replica that cannot reach Redis fails at
//! start, loudly, not on its first request.
//!
//! No session limit: [`CreateError::Full`] is never returned, Redis's
//! `maxmemory` bounds what sessions hold and idle ones expire by themselves.

use super::{
    Buckets, Bus, BusEvent, BusListener, BusMessage, Connect, Counters, CreateError,
    MAX_SESSIONS_PER_OWNER, MAX_SUBSCRIPTIONS_PER_SESSION, MAX_TASKS_PER_OWNER, Markers,
    SERIAL_WINDOW, Serial, Serials, SessionRecord, SessionRecords, StateFuture, StateResult,
    StoredTask, TaskChange, TaskCreateError, TaskRecord, Tasks, UNINITIALIZED_LIFETIME,
    Unavailable, Values,
};
use futures_util::StreamExt as _;
use futures_util::future::{BoxFuture, FutureExt as _};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use redis::ExistenceCheck::{self, NX};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubStream};
use redis::io::tcp::{TcpSettings, socket2::TcpKeepalive};
use redis::{
    Client, Cmd, ErrorKind, Expiry, FromRedisValue, IntoConnectionInfo as _, Pipeline, RedisError,
    RedisResult, Script, SetExpiry, SetOptions,
};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::task::AbortHandle;

/// How long one connection attempt, or one reply, may take: a request
/// waiting on Redis holds a client waiting too.
const TIMEOUT: Duration = Duration::from_secs(2);
/// The most any operation waits, reconnecting included, before the request
/// is refused: a Redis down or unreachable fails fast.
const DEADLINE: Duration = Duration::from_secs(3);
/// Reconnection attempts after a command failed (100 ms, then 200 ms
/// apart): the next command starts another round, so Redis is found again
/// as soon as it answers, and a dead one is not hammered.
const RECONNECT_RETRIES: usize = 2;
/// The bus's first wait before resubscribing after its connection dropped,
/// doubled after each failure up to [`BUS_RETRY_MAX`].
const BUS_RETRY_MIN: Duration = Duration::from_millis(100);
/// The bus's longest wait between resubscriptions.
const BUS_RETRY_MAX: Duration = Duration::from_secs(5);
/// Silence before TCP probes a connection, and between probes: a peer gone
/// without a word (a partition, a host lost) is noticed, not awaited forever.
const KEEPALIVE: Duration = Duration::from_secs(10);
/// Longest lifetime given to a key (about 100 years): Redis refuses
/// expiries that overflow its clock.
const MAX_TTL_MS: i64 = 100 * 365 * 24 * 3600 * 1000;

/// What stays readable in a namespace: anything else (`:`, `{`, `%`, ...)
/// is percent-encoded, so one server's keys can never reach another's.
const NAMESPACE_KEPT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Adds or drops a subscription of a live session, atomically: the session
/// must exist, the set stays bounded, and it expires with the session.
/// KEYS: the session's record, its set. ARGV: the URI, `1` to add, the
/// bound. Returns 1 (done), 0 (the session is gone) or -1 (full).
const SUBSCRIBE_LUA: &str = r"
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return 0 end
if ARGV[2] == '1' then
  if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then
    if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
    redis.call('SADD', KEYS[2], ARGV[1])
  end
else
  redis.call('SREM', KEYS[2], ARGV[1])
end
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
";

/// Opens a session unless the live ones opened within the idle timeout
/// reach the bound, overall or for its owner. KEYS: the record, the index of
/// sessions by opening time. ARGV: the record, its lifetime (ms), now (ms),
/// the idle timeout (ms), the bound, the id, the owner's bound, the owner
/// (empty for none), the prefix of the owners' indexes. Returns 1 (opened),
/// 0 (the id is taken), -1 (full) or -2 (the owner's share is full).
const CREATE_LUA: &str = r"
local floor = tonumber(ARGV[3]) - tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', floor)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return -1 end
local mine = nil
if ARGV[8] ~= '' then
  mine = ARGV[9] .. redis.sha1hex(ARGV[8])
  redis.call('ZREMRANGEBYSCORE', mine, '-inf', floor)
  if redis.call('ZCARD', mine) >= tonumber(ARGV[7]) then return -2 end
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if mine then
  redis.call('ZADD', mine, ARGV[3], ARGV[6])
  redis.call('PEXPIRE', mine, ARGV[4])
end
return 1
";

/// Ends a session: its record, its subscriptions, and its places in the
/// indexes. KEYS: the record, its subscriptions, the index of sessions.
/// ARGV: the id, the prefix of the owners' indexes. Returns 1, or 0 if the
/// session was gone.
const REMOVE_LUA: &str = r"
local record = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
if not record then return 0 end
local ok, decoded = pcall(cjson.decode, record)
if ok and type(decoded) == 'table' and type(decoded.owner) == 'string' then
  redis.call('ZREM', ARGV[2] .. redis.sha1hex(decoded.owner), ARGV[1])
end
return 1
";

/// Replaces a live session's record; once initialized it stays so, whatever
/// a replica that read it earlier writes back. KEYS: the record, its
/// subscriptions. ARGV: the record, the lifetime of an initialized session,
/// of one that is not (ms). Returns 1, or 0 if the session is gone.
const UPDATE_LUA: &str = r#"
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local new = ARGV[1]
local yes = '"initialized":true}'
local no = '"initialized":false}'
if string.sub(old, -#yes) == yes and string.sub(new, -#no) == no then
  new = string.sub(new, 1, #new - #no) .. yes
end
local ttl = ARGV[3]
if string.sub(new, -#yes) == yes then ttl = ARGV[2] end
redis.call('SET', KEYS[1], new, 'PX', ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
"#;

/// Draws a serial: the store's epoch and the next number. The epoch is set
/// from ARGV[1], a random candidate, when the store has none (it was never
/// used, or lost its data), and replaced by it when the counter went back
/// (a failover or a restore lost writes): this replica drew at least
/// ARGV[3] in epoch ARGV[2] before, so numbers below it may come again,
/// and no serial of that epoch can be trusted. KEYS: the epoch, the counter.
const ISSUE_LUA: &str = r"
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local number = redis.call('INCR', KEYS[2]) - 1
if redis.call('GET', KEYS[1]) == ARGV[2] and number < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return {redis.call('GET', KEYS[1]), number}
";

/// Spends a serial: 1 the first time, 0 after, and 0 for a serial of
/// another epoch, never issued, or too old. The chunk's bits are kept as
/// long as the latest token spent there may live. KEYS: the epoch, the
/// counter, the chunk. ARGV: the epoch, the number, its bit in the chunk,
/// the token's remaining lifetime (ms), the window.
const SPEND_LUA: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local issued = tonumber(redis.call('GET', KEYS[2]) or '0')
local number = tonumber(ARGV[2])
if number >= issued or number + tonumber(ARGV[5]) < issued then return 0 end
local was = redis.call('SETBIT', KEYS[3], ARGV[3], 1)
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
return 1 - was
";

/// Stores a new task, unless its owner holds the most unfinished ones, and
/// the lease of the replica that runs it. KEYS: the task, its owner's
/// unfinished tasks (by expiry), its lease. ARGV: the record, its lifetime
/// (ms), now (ms), the most unfinished tasks, whether it has an owner, its
/// id, the lease (ms).
const CREATE_TASK_LUA: &str = r"
if ARGV[5] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 0 end
  redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[2]), ARGV[6])
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[2], ARGV[2])
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[7])
return 1
";

/// Makes one change to an unfinished task (the rules of
/// `TaskChange::apply`), atomically: the record after it and the keys an
/// answer took, or nil when the task is gone or finished. KEYS: the task,
/// its owner's tasks, its lease. ARGV: the change (JSON), its
/// lifetime (ms), the time of the change (ms since the epoch), whether it
/// has an owner, its id, now (ms since the epoch, for its owner's count).
const CHANGE_TASK_LUA: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return nil end
local task = cjson.decode(current)
local status = task['status']
if status == 'completed' or status == 'failed' or status == 'cancelled' then return nil end
local change = cjson.decode(ARGV[1])
local taken = {}
local open = task['input_requests'] or {}
if change['kind'] == 'ask' then
  for key, request in pairs(change['requests']) do open[key] = request end
  task['input_requests'] = open
  task['status'] = 'input_required'
elseif change['kind'] == 'answer' then
  local answers = task['answers'] or {}
  for key, answer in pairs(change['answers']) do
    if open[key] ~= nil then
      open[key] = nil
      answers[key] = answer
      table.insert(taken, key)
    end
  end
  if next(answers) == nil then task['answers'] = nil else task['answers'] = answers end
  if next(open) == nil then
    task['input_requests'] = nil
    if task['status'] == 'input_required' then task['status'] = 'working' end
  else
    task['input_requests'] = open
  end
elseif change['kind'] == 'collect' then
  local answers = task['answers'] or {}
  for _, key in ipairs(change['keys']) do answers[key] = nil end
  if next(answers) == nil then task['answers'] = nil else task['answers'] = answers end
else
  task['status'] = change['status']
  task['status_message'] = change['status_message']
  task['result'] = change['result']
  task['error'] = change['error']
  task['input_requests'] = nil
  task['answers'] = nil
end
task['updated_at'] = tonumber(ARGV[3])
local record = cjson.encode(task)
redis.call('SET', KEYS[1], record, 'PX', ARGV[2])
local finished = task['status'] == 'completed' or task['status'] == 'failed'
  or task['status'] == 'cancelled'
if finished then redis.call('DEL', KEYS[3]) end
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[2], tonumber(ARGV[6]) + tonumber(ARGV[2]), ARGV[5])
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[2], ARGV[2])
  end
end
return {record, cjson.encode(taken)}
";

/// The running replica's heartbeat: renews its lease and keeps the record
/// (and its owner's count of it) for its lifetime from now. 0 when the task
/// is gone or finished: its handler should stop. KEYS: the task, its
/// owner's tasks, its lease. ARGV: the lease (ms), now (ms), its id.
const RENEW_TASK_LUA: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local task = cjson.decode(current)
local status = task['status']
if status == 'completed' or status == 'failed' or status == 'cancelled' then return 0 end
local ttl = tonumber(task['ttl_ms'])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[3], '1', 'PX', ARGV[1])
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) + ttl, ARGV[3])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
";

/// Takes a token from a bucket: 0 when taken, else the milliseconds until
/// the next one. Redis's own clock, so replicas' clocks do not matter.
/// KEYS: the bucket. ARGV: its most tokens, its period (ms).
const TAKE_LUA: &str = r"
local count = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local per = period / count
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(held[1]) or count
local at = tonumber(held[2]) or now
tokens = math.min(count, tokens + math.max(0, now - at) / per)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * per) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((count - tokens) * per) + 1000)
return wait
";

/// Shared state on one Redis server, for every replica that names it.
pub(crate) struct RedisState {
    /// Where Redis is (parsed, credentials included), for every connection.
    client: Client,
    /// The URL without credentials, for errors.
    shown: String,
    /// `mcp:{encoded namespace}:`, before every key.
    prefix: String,
    /// How long an initialized session lives without use.
    idle: Duration,
    /// The connection once [`Connect::connect`] ran: its outcome, kept.
    manager: OnceCell<Result<ConnectionManager, String>>,
    /// Shared with the bus task, which may outlive a call to `listen`.
    listener: Arc<OnceLock<BusListener>>,
    /// The bus task, stopped when the state is dropped.
    bus_task: OnceLock<AbortHandle>,
    /// [`SUBSCRIBE_LUA`], sent by its hash once Redis has it.
    subscribe_script: Script,
    /// [`CREATE_LUA`], [`REMOVE_LUA`], [`UPDATE_LUA`], [`ISSUE_LUA`] and
    /// [`SPEND_LUA`], likewise.
    create_script: Script,
    remove_script: Script,
    update_script: Script,
    issue_script: Script,
    spend_script: Script,
    /// [`CREATE_TASK_LUA`], [`CHANGE_TASK_LUA`] and [`RENEW_TASK_LUA`], likewise.
    create_task_script: Script,
    take_script: Script,
    change_task_script: Script,
    renew_task_script: Script,
    /// The epoch this replica last drew a serial in, and the number it
    /// expects to draw next at least (see [`ISSUE_LUA`]).
    drawn: std::sync::Mutex<(Option<u64>, u64)>,
    /// The most sessions opened within one idle timeout.
    max_sessions: usize,
    /// This replica's name on the bus (random), so it skips its own
    /// messages: a sender has acted on them already.
    replica: Arc<str>,
}

/// A bus message with its sender.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    from: Arc<str>,
    message: BusMessage,
}

impl RedisState {
    /// Checks `url` (no I/O yet); keys are prefixed with `namespace`.
    pub(crate) fn new(
        url: &str,
        namespace: &str,
        idle: Duration,
        max_sessions: usize,
    ) -> Result<Self, String> {
        let shown = super::redacted_url(url);
        let invalid = |e: RedisError| format!("invalid Redis URL {shown}: {}", reason(&e));
        let info = url.into_connection_info().map_err(invalid)?;
        // Requests are small and many share the connection: no Nagle delay.
        let tcp = TcpSettings::default()
            .set_nodelay(true)
            .set_keepalive(keepalive());
        let client = Client::open(info.set_tcp_settings(tcp)).map_err(invalid)?;
        Ok(Self {
            client,
            prefix: key_prefix(namespace),
            shown,
            idle,
            manager: OnceCell::new(),
            listener: Arc::new(OnceLock::new()),
            bus_task: OnceLock::new(),
            subscribe_script: Script::new(SUBSCRIBE_LUA),
            create_script: Script::new(CREATE_LUA),
            remove_script: Script::new(REMOVE_LUA),
            update_script: Script::new(UPDATE_LUA),
            issue_script: Script::new(ISSUE_LUA),
            spend_script: Script::new(SPEND_LUA),
            create_task_script: Script::new(CREATE_TASK_LUA),
            take_script: Script::new(TAKE_LUA),
            change_task_script: Script::new(CHANGE_TASK_LUA),
            renew_task_script: Script::new(RENEW_TASK_LUA),
            drawn: std::sync::Mutex::new((None, 0)),
            max_sessions,
            replica: crate::random::random_token::<12>().into(),
        })
    }

    /// The key of `id` among the records of one `kind`.
    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// A session's record and its subscriptions.
    fn session_keys(&self, id: &str) -> (String, String) {
        (self.key("s", id), self.key("sub", id))
    }

    /// Where every replica of this server publishes and listens.
    fn channel(&self) -> String {
        format!("{}bus", self.prefix)
    }

    /// A session's lifetime: a handshake never finished gets a minute at
    /// most, as in memory. A `load` or `touch` (one round trip, without
    /// reading the record first) gives it `idle`: it is in use.
    fn session_ttl(&self, record: &SessionRecord) -> i64 {
        px(if record.initialized {
            self.idle
        } else {
            UNINITIALIZED_LIFETIME.min(self.idle)
        })
    }

    /// Connects, checks Redis answers and starts hearing the bus.
    async fn open(&self) -> Result<ConnectionManager, String> {
        let fail = |e: RedisError| format!("cannot reach Redis at {}: {}", self.shown, reason(&e));
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_secs(1));
        let mut manager = ConnectionManager::new_with_config(self.client.clone(), config)
            .await
            .map_err(fail)?;
        redis::cmd("PING")
            .query_async::<()>(&mut manager)
            .await
            .map_err(fail)?;
        check_eviction_policy(&mut manager, &self.shown).await?;
        // Subscribed before `connect` returns: nothing published after it
        // is missed.
        let channel = self.channel();
        let messages = subscribe_bus(&self.client, &channel).await.map_err(fail)?;
        let listener = self.listener.clone();
        let bus = hear(
            self.client.clone(),
            manager.clone(),
            channel,
            listener,
            messages,
            Arc::clone(&self.replica),
        );
        let task = tokio::spawn(bus);
        let _ = self.bus_task.set(task.abort_handle());
        Ok(manager)
    }

    /// Runs `call` on the connection within [`DEADLINE`]: an error, an
    /// unexpected reply or silence is [`Unavailable`], logged with the
    /// operation (never a key or the URL).
    async fn run<T, F>(
        &self,
        operation: &'static str,
        call: impl FnOnce(ConnectionManager) -> F,
    ) -> StateResult<T>
    where
        F: Future<Output = RedisResult<T>>,
    {
        let Some(Ok(manager)) = self.manager.get() else {
            tracing::warn!(operation, "Redis is not connected");
            crate::operations::metrics::redis_error(operation);
            return Err(Unavailable);
        };
        match tokio::time::timeout(DEADLINE, call(manager.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                tracing::warn!(operation, "Redis failed: {}", reason(&e));
                crate::operations::metrics::redis_error(operation);
                Err(Unavailable)
            }
            Err(_) => {
                tracing::warn!(operation, "Redis did not answer within {DEADLINE:?}");
                crate::operations::metrics::redis_error(operation);
                Err(Unavailable)
            }
        }
    }

    /// One command, as [`Self::run`] runs it.
    async fn command<T: FromRedisValue>(
        &self,
        operation: &'static str,
        cmd: &Cmd,
    ) -> StateResult<T> {
        self.run(operation, |mut con| async move {
            cmd.query_async(&mut con).await
        })
        .await
    }

    /// Several commands sent at once: one round trip.
    async fn pipeline<T: FromRedisValue>(
        &self,
        operation: &'static str,
        pipe: &Pipeline,
    ) -> StateResult<T> {
        self.run(operation, |mut con| async move {
            pipe.query_async(&mut con).await
        })
        .await
    }
}

/// The bus task holds no reference to the state: it is stopped here.
impl Drop for RedisState {
    fn drop(&mut self) {
        if let Some(task) = self.bus_task.get() {
            task.abort();
        }
    }
}

/// `mcp:{namespace}:`, the namespace percent-encoded: `a:b` and `a%3Ab`
/// stay apart, and no name ends the prefix early.
fn key_prefix(namespace: &str) -> String {
    format!("mcp:{}:", utf8_percent_encode(namespace, NAMESPACE_KEPT))
}

/// Milliseconds for `PX`/`PEXPIRE`: Redis refuses 0 and overflowing
/// values, so a zero lifetime is 1 ms and a huge one a century.
fn px(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis())
        .unwrap_or(i64::MAX)
        .clamp(1, MAX_TTL_MS)
}

/// `SET ... NX|XX PX ttl`.
fn if_(condition: ExistenceCheck, ttl: i64) -> SetOptions {
    SetOptions::default()
        .conditional_set(condition)
        .with_expiration(SetExpiry::PX(ttl.unsigned_abs()))
}

/// TCP probes after [`KEEPALIVE`] of silence, then every [`KEEPALIVE`].
fn keepalive() -> TcpKeepalive {
    let probe = TcpKeepalive::new().with_time(KEEPALIVE);
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
    let probe = probe.with_interval(KEEPALIVE);
    probe
}

/// Why Redis failed, from the error's kind: never the URL or a password.
/// I/O and URL errors are fixed texts; a server's error is named by its
/// code, not its text.
fn reason(e: &RedisError) -> String {
    if e.is_timeout() {
        return "no answer in time".to_owned();
    }
    match (e.kind(), e.code()) {
        (ErrorKind::Io | ErrorKind::InvalidClientConfig, _) => e.to_string(),
        (_, Some(code)) => format!("{} ({code})", e.category()),
        _ => e.category().to_owned(),
    }
}

/// Refuses a Redis that evicts keys under memory pressure: a forgotten
/// marker would let a state be used twice, a forgotten session end a
/// client's work. A Redis that does not let us ask (managed services often
/// refuse `CONFIG`) is trusted, with a warning.
async fn check_eviction_policy(manager: &mut ConnectionManager, shown: &str) -> Result<(), String> {
    let asked: RedisResult<Vec<String>> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .query_async(manager)
        .await;
    match asked.as_deref() {
        Ok([_, policy]) if policy == "noeviction" => Ok(()),
        Ok([_, policy]) => Err(format!(
            "Redis at {shown} evicts keys under memory pressure (maxmemory-policy {policy}), \
             which could forget a used sign-in state or a live session; set \
             `maxmemory-policy noeviction`"
        )),
        _ => {
            tracing::warn!(
                "could not read Redis's maxmemory-policy: make sure it is `noeviction`, or a \
                 used sign-in state could be forgotten under memory pressure"
            );
            Ok(())
        }
    }
}

/// A connection subscribed to the bus, within [`TIMEOUT`]: it can do
/// nothing else, so it is its own.
async fn subscribe_bus(client: &Client, channel: &str) -> RedisResult<PubSubStream> {
    let subscribe = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(pubsub.into_on_message())
    };
    tokio::time::timeout(TIMEOUT, subscribe)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()))
}

/// Hands the bus's messages to the listener for as long as the state lives.
/// A lost connection is told once (messages may have been missed), then
/// resubscribed with a growing wait, forever: Redis may come back any time.
async fn hear(
    client: Client,
    mut commands: ConnectionManager,
    channel: String,
    listener: Arc<OnceLock<BusListener>>,
    mut messages: PubSubStream,
    replica: Arc<str>,
) {
    let deliver = |event| {
        if let Some(listener) = listener.get() {
            listener(event);
        }
    };
    loop {
        while let Some(message) = messages.next().await {
            match serde_json::from_slice::<Envelope>(message.get_payload_bytes()) {
                Ok(envelope) if envelope.from == replica => {}
                Ok(envelope) => deliver(BusEvent::Message(envelope.message)),
                Err(e) => tracing::warn!("ignoring an undecodable bus message: {e}"),
            }
        }
        tracing::warn!("the Redis bus connection was lost; resubscribing");
        deliver(BusEvent::Disconnected);
        let mut wait = BUS_RETRY_MIN;
        messages = loop {
            tokio::time::sleep(wait).await;
            match subscribe_bus(&client, &channel).await {
                Ok(messages) => break messages,
                Err(e) => tracing::debug!("resubscribing to the Redis bus failed: {}", reason(&e)),
            }
            wait = (wait * 2).min(BUS_RETRY_MAX);
        };
        tracing::info!("the Redis bus is back");
        // The commands' connection most likely died with this one: a PING
        // makes it reconnect now, before a request finds it dead.
        let _ = redis::cmd("PING").query_async::<()>(&mut commands).await;
    }
}

/// The JSON of a session's record (cannot fail: it holds JSON and strings).
/// Milliseconds since the Unix epoch, this replica's clock.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn encode(record: &SessionRecord) -> StateResult<Vec<u8>> {
    serde_json::to_vec(record).map_err(|_| Unavailable)
}

impl SessionRecords for RedisState {
    /// A collision of the random id, practically never, is `Unavailable`.
    /// The bound counts sessions opened within one idle timeout: a flood
    /// of `initialize` is refused with `Full`, as in memory.
    fn create<'a>(
        &'a self,
        id: &'a str,
        record: &'a SessionRecord,
    ) -> BoxFuture<'a, Result<(), CreateError>> {
        async move {
            let mut call = self.create_script.key(self.key("s", id));
            call.key(self.key("index", "s"))
                .arg(encode(record)?)
                .arg(self.session_ttl(record))
                .arg(now_ms())
                .arg(px(self.idle))
                .arg(self.max_sessions)
                .arg(id)
                .arg(MAX_SESSIONS_PER_OWNER)
                .arg(record.owner.as_deref().unwrap_or(""))
                .arg(self.key("index", "owner:"));
            let outcome: i64 = self
                .run("create session", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            match outcome {
                1 => Ok(()),
                -1 => Err(CreateError::Full),
                -2 => Err(CreateError::OwnerFull),
                _ => {
                    tracing::warn!(operation = "create session", "the new id is in use");
                    Err(CreateError::Unavailable)
                }
            }
        }
        .boxed()
    }

    /// The hot path of every request: one pipeline, one round trip.
    fn load<'a>(&'a self, id: &'a str) -> StateFuture<'a, Option<SessionRecord>> {
        async move {
            let (key, subscriptions) = self.session_keys(id);
            let ttl = px(self.idle);
            let mut pipe = redis::pipe();
            pipe.get_ex(key, Expiry::PX(ttl.unsigned_abs()))
                .pexpire(subscriptions, ttl)
                .ignore();
            let (json,): (Option<Vec<u8>>,) = self.pipeline("load session", &pipe).await?;
            let Some(json) = json else { return Ok(None) };
            serde_json::from_slice(&json).map(Some).map_err(|e| {
                tracing::warn!(operation = "load session", "undecodable record: {e}");
                Unavailable
            })
        }
        .boxed()
    }

    fn touch<'a>(&'a self, id: &'a str) -> StateFuture<'a, bool> {
        async move {
            let (key, subscriptions) = self.session_keys(id);
            let ttl = px(self.idle);
            let mut pipe = redis::pipe();
            pipe.pexpire(key, ttl).pexpire(subscriptions, ttl).ignore();
            let (live,): (bool,) = self.pipeline("touch session", &pipe).await?;
            Ok(live)
        }
        .boxed()
    }

    /// One script, so that `initialized`, once recorded, is never undone by
    /// a replica that read the record before (`logging/setLevel` racing
    /// `notifications/initialized`).
    fn update<'a>(&'a self, id: &'a str, record: &'a SessionRecord) -> StateFuture<'a, bool> {
        async move {
            let (key, subscriptions) = self.session_keys(id);
            let mut call = self.update_script.key(key);
            call.key(subscriptions)
                .arg(encode(record)?)
                .arg(px(self.idle))
                .arg(px(UNINITIALIZED_LIFETIME.min(self.idle)));
            let updated: i64 = self
                .run("update session", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            Ok(updated == 1)
        }
        .boxed()
    }

    fn remove<'a>(&'a self, id: &'a str) -> StateFuture<'a, bool> {
        async move {
            let (key, subscriptions) = self.session_keys(id);
            let mut call = self.remove_script.key(key);
            call.key(subscriptions)
                .key(self.key("index", "s"))
                .arg(id)
                .arg(self.key("index", "owner:"));
            let removed: i64 = self
                .run("remove session", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            Ok(removed == 1)
        }
        .boxed()
    }

    /// One script, so the session's check, the bound and the set's
    /// lifetime cannot race another replica.
    fn subscribe<'a>(
        &'a self,
        id: &'a str,
        uri: &'a str,
        on: bool,
    ) -> StateFuture<'a, Result<(), usize>> {
        async move {
            let (key, subscriptions) = self.session_keys(id);
            let mut call = self.subscribe_script.key(key);
            call.key(subscriptions)
                .arg(uri)
                .arg(u8::from(on))
                .arg(MAX_SUBSCRIPTIONS_PER_SESSION);
            let outcome: i64 = self
                .run("subscribe", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            match outcome {
                0 | 1 => Ok(Ok(())),
                -1 => Ok(Err(MAX_SUBSCRIPTIONS_PER_SESSION)),
                _ => {
                    tracing::warn!(operation = "subscribe", "unexpected reply {outcome}");
                    Err(Unavailable)
                }
            }
        }
        .boxed()
    }

    /// The index of sessions holds each one's last use: those within the
    /// idle timeout are live (an uninitialized one counts until it lapses).
    fn live(&self) -> StateFuture<'_, u64> {
        async move {
            let floor = now_ms().saturating_sub(px(self.idle));
            let floor = floor.max(0);
            let count = redis::cmd("ZCOUNT")
                .arg(self.key("index", "s"))
                .arg(format!("({floor}"))
                .arg("+inf")
                .clone();
            self.command("count sessions", &count).await
        }
        .boxed()
    }

    fn subscribed<'a>(&'a self, ids: &'a [Arc<str>], uri: &'a str) -> StateFuture<'a, Vec<bool>> {
        async move {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut pipe = redis::pipe();
            for id in ids {
                pipe.sismember(self.key("sub", id), uri);
            }
            let answers: Vec<bool> = self.pipeline("check subscriptions", &pipe).await?;
            if answers.len() != ids.len() {
                tracing::warn!(operation = "check subscriptions", "unexpected reply");
                return Err(Unavailable);
            }
            Ok(answers)
        }
        .boxed()
    }
}

impl Values for RedisState {
    fn get<'a>(&'a self, key: &'a str) -> StateFuture<'a, Option<String>> {
        async move {
            let mut get = Cmd::new();
            get.arg("GET").arg(self.key("v", key));
            self.command("get a value", &get).await
        }
        .boxed()
    }

    /// `SET PX`: Redis drops it when it expires.
    fn put<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> StateFuture<'a, ()> {
        async move {
            let set = Cmd::set_options(
                self.key("v", key),
                value,
                redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(
                    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1),
                )),
            );
            let _: Option<String> = self.command("put a value", &set).await?;
            Ok(())
        }
        .boxed()
    }
}

impl Markers for RedisState {
    /// `SET NX`: Redis decides the first claim, whichever replica asks.
    fn claim<'a>(&'a self, key: &'a str, ttl: Duration) -> StateFuture<'a, bool> {
        async move {
            let set = Cmd::set_options(self.key("m", key), 1, if_(NX, px(ttl)));
            let claimed: Option<String> = self.command("claim marker", &set).await?;
            Ok(claimed.is_some())
        }
        .boxed()
    }
}

impl Serials for RedisState {
    fn issue(&self) -> StateFuture<'_, Serial> {
        async move {
            let candidate = u64::from_le_bytes(crate::random::random_bytes::<8>());
            let (known, next) = *self.drawn.lock().map_err(|_| Unavailable)?;
            let mut call = self.issue_script.key(self.key("serial", "epoch"));
            call.key(self.key("serial", "next"))
                .arg(candidate)
                .arg(known.map(|e| e.to_string()).unwrap_or_default())
                .arg(next);
            let (epoch, number): (String, u64) = self
                .run("issue a serial", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            // An epoch that is no number was not written by this code.
            let epoch: u64 = epoch.parse().map_err(|_| Unavailable)?;
            let mut drawn = self.drawn.lock().map_err(|_| Unavailable)?;
            let expected = if drawn.0 == Some(epoch) { drawn.1 } else { 0 };
            *drawn = (Some(epoch), expected.max(number + 1));
            Ok(Serial { epoch, number })
        }
        .boxed()
    }

    fn spend(&self, serial: Serial, ttl: Duration) -> StateFuture<'_, bool> {
        async move {
            let (chunk, bit) = serial.position();
            let mut call = self.spend_script.key(self.key("serial", "epoch"));
            call.key(self.key("serial", "next"))
                .key(self.key("spent", &format!("{}:{chunk}", serial.epoch)))
                .arg(serial.epoch)
                .arg(serial.number)
                .arg(bit)
                .arg(px(ttl))
                .arg(SERIAL_WINDOW);
            let first: i64 = self
                .run("spend a serial", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            Ok(first == 1)
        }
        .boxed()
    }
}

impl RedisState {
    /// A task's keys: its record, its owner's unfinished tasks, its lease.
    fn task_keys<'s>(
        &self,
        script: &'s Script,
        id: &str,
        owner: &str,
    ) -> redis::ScriptInvocation<'s> {
        let mut call = script.key(self.key("task", id));
        call.key(self.key("task-owner", owner))
            .key(self.key("task-lease", id));
        call
    }
}

impl Tasks for RedisState {
    fn create_task<'a>(
        &'a self,
        record: &'a TaskRecord,
        lease: Duration,
    ) -> BoxFuture<'a, Result<(), TaskCreateError>> {
        async move {
            let value = serde_json::to_string(record).map_err(|_| TaskCreateError::Unavailable)?;
            let owner = record.owner.as_deref().unwrap_or_default();
            let mut call = self.task_keys(&self.create_task_script, &record.id, owner);
            call.arg(value)
                .arg(record.ttl_ms.max(1))
                .arg(now_ms())
                .arg(MAX_TASKS_PER_OWNER)
                // Anonymous callers share one count (the owner key "").
                .arg(1)
                .arg(record.id.as_ref())
                .arg(px(lease));
            let stored: i64 = self
                .run("create a task", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            if stored == 1 {
                Ok(())
            } else {
                Err(TaskCreateError::OwnerFull)
            }
        }
        .boxed()
    }

    fn load_task<'a>(&'a self, id: &'a str) -> StateFuture<'a, Option<StoredTask>> {
        async move {
            let mut pipe = redis::pipe();
            pipe.get(self.key("task", id))
                .exists(self.key("task-lease", id));
            let (value, leased): (Option<String>, bool) =
                self.pipeline("load a task", &pipe).await?;
            // A record that does not parse is no task to guess from.
            value
                .map(|v| {
                    serde_json::from_str(&v)
                        .map(|record| StoredTask { record, leased })
                        .map_err(|_| Unavailable)
                })
                .transpose()
        }
        .boxed()
    }

    fn change_task<'a>(
        &'a self,
        id: &'a str,
        change: &'a TaskChange,
        stamp: u64,
    ) -> StateFuture<'a, Option<(TaskRecord, Vec<String>)>> {
        async move {
            // The owner's key is known only from the record: one round trip
            // reads it, the script checks and changes atomically.
            let Some(stored) = self.load_task(id).await? else {
                return Ok(None);
            };
            let owner = stored.record.owner.as_deref().unwrap_or_default();
            let change = serde_json::to_string(change).map_err(|_| Unavailable)?;
            let mut call = self.task_keys(&self.change_task_script, id, owner);
            call.arg(change)
                .arg(stored.record.ttl_ms.max(1))
                .arg(stamp)
                .arg(1)
                .arg(id)
                .arg(now_ms());
            let changed: Option<(String, String)> = self
                .run("change a task", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            let Some((record, taken)) = changed else {
                return Ok(None);
            };
            let record = serde_json::from_str(&record).map_err(|_| Unavailable)?;
            // Lua's JSON writes an empty list as `{}`.
            let taken = serde_json::from_str::<Vec<String>>(&taken).unwrap_or_default();
            Ok(Some((record, taken)))
        }
        .boxed()
    }

    fn renew_task_lease<'a>(&'a self, id: &'a str, lease: Duration) -> StateFuture<'a, bool> {
        async move {
            let Some(stored) = self.load_task(id).await? else {
                return Ok(false);
            };
            let owner = stored.record.owner.as_deref().unwrap_or_default();
            let mut call = self.task_keys(&self.renew_task_script, id, owner);
            call.arg(px(lease)).arg(now_ms()).arg(id);
            let renewed: i64 = self
                .run("renew a task lease", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            Ok(renewed == 1)
        }
        .boxed()
    }
}

/// A fixed window per key: the first hit sets its expiry (`PEXPIRE NX`),
/// later hits only count. One pipeline.
impl Counters for RedisState {
    fn hit<'a>(&'a self, key: &'a str, window: Duration) -> StateFuture<'a, (u64, Duration)> {
        async move {
            let key = self.key("c", key);
            let mut pipe = redis::pipe();
            pipe.incr(&key, 1)
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(px(window))
                .arg("NX")
                .ignore()
                .pttl(&key);
            let (hits, left): (u64, i64) = self.pipeline("count a hit", &pipe).await?;
            let left = Duration::from_millis(u64::try_from(left).unwrap_or(0));
            Ok((hits, left))
        }
        .boxed()
    }
}

impl Buckets for RedisState {
    fn take<'a>(
        &'a self,
        key: &'a str,
        count: u32,
        period: Duration,
    ) -> StateFuture<'a, Result<(), Duration>> {
        async move {
            let mut call = self.take_script.key(self.key("b", key));
            call.arg(count).arg(px(period));
            let wait: u64 = self
                .run("take a rate-limit token", |mut con| async move {
                    call.invoke_async(&mut con).await
                })
                .await?;
            Ok(if wait == 0 {
                Ok(())
            } else {
                Err(Duration::from_millis(wait))
            })
        }
        .boxed()
    }
}

impl Bus for RedisState {
    fn publish(&self, message: BusMessage) -> StateFuture<'_, ()> {
        async move {
            let envelope = Envelope {
                from: Arc::clone(&self.replica),
                message,
            };
            let json = serde_json::to_vec(&envelope).map_err(|_| Unavailable)?;
            let publish = Cmd::publish(self.channel(), json);
            self.command("publish", &publish).await
        }
        .boxed()
    }

    /// Heard by the task [`Connect::connect`] starts, whichever comes first.
    fn listen(&self, listener: BusListener) {
        let _ = self.listener.set(listener);
    }
}

impl Connect for RedisState {
    fn connect(&self) -> BoxFuture<'_, Result<(), String>> {
        async move {
            match self.manager.get_or_init(|| self.open()).await {
                Ok(_) => Ok(()),
                Err(why) => Err(why.clone()),
            }
        }
        .boxed()
    }

    fn ready(&self) -> StateFuture<'_, ()> {
        Box::pin(async move {
            self.command::<String>("ping", &redis::cmd("PING"))
                .await
                .map(drop)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ProtocolVersion;
    use redis::aio::MultiplexedConnection;
    use std::io::{Read as _, Write as _};
    use std::process::{Child, Command, Stdio};
    use std::time::Instant;
    use tokio::sync::mpsc;

    const MINUTE: Duration = Duration::from_secs(60);

    /// A `redis-server` of its own for one test, on a loopback port, killed
    /// on drop. Never skipped: a test that cannot run Redis fails.
    struct Server {
        child: Child,
        port: u16,
    }

    impl Server {
        fn start() -> Self {
            Self::on(free_port(), &[])
        }

        fn on(port: u16, options: &[&str]) -> Self {
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(options)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start redis-server ({e}): install Debian's redis-server")
                });
            let server = Self { child, port };
            let deadline = Instant::now() + Duration::from_secs(10);
            while !answers(port) {
                assert!(
                    Instant::now() < deadline,
                    "redis-server does not answer on port {port}: install Debian's redis-server"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            server
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}", self.port)
        }

        async fn admin(&self) -> MultiplexedConnection {
            let client = Client::open(self.url()).unwrap();
            client.get_multiplexed_async_connection().await.unwrap()
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn free_port() -> u16 {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    }

    /// Whether a Redis listens on `port` (its answer to `PING`, or the
    /// refusal of a server with a password).
    fn answers(port: u16) -> bool {
        let Ok(mut socket) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let mut reply = [0; 5];
        socket.write_all(b"PING\r\n").is_ok()
            && socket.read_exact(&mut reply).is_ok()
            && (&reply == b"+PONG" || &reply == b"-NOAU")
    }

    /// One command on the test's own connection.
    async fn ask<T: FromRedisValue>(admin: &mut MultiplexedConnection, args: &[&str]) -> T {
        let mut cmd = redis::cmd(args[0]);
        cmd.arg(&args[1..]);
        cmd.query_async(admin).await.unwrap()
    }

    async fn connected(server: &Server, idle: Duration) -> RedisState {
        let state = RedisState::new(&server.url(), "test", idle, 100).unwrap();
        state.connect().await.unwrap();
        state
    }

    fn record(initialized: bool) -> SessionRecord {
        SessionRecord {
            version: ProtocolVersion::V2025_11_25,
            capabilities: Arc::new(serde_json::json!({"roots": {}})),
            owner: Some("https://issuer\nalice".into()),
            log_level: 2,
            initialized,
        }
    }

    async fn follow(store: &RedisState, id: &str, uri: &str, on: bool) -> Result<(), usize> {
        store.subscribe(id, uri, on).await.unwrap()
    }

    /// Hands each bus event to the returned receiver.
    fn listening(state: &RedisState) -> mpsc::UnboundedReceiver<BusEvent> {
        let (sender, receiver) = mpsc::unbounded_channel();
        state.listen(Arc::new(move |event| {
            let _ = sender.send(event);
        }));
        receiver
    }

    async fn next_event(events: &mut mpsc::UnboundedReceiver<BusEvent>) -> BusEvent {
        let wait = Duration::from_secs(5);
        let event = tokio::time::timeout(wait, events.recv()).await;
        event.expect("a bus event in time").expect("a bus task")
    }

    fn list_changed() -> BusMessage {
        let method = "notifications/tools/list_changed".to_owned();
        BusMessage::ListChanged { method }
    }

    #[tokio::test]
    async fn sessions_are_bounded() {
        let server = Server::start();
        let store = RedisState::new(&server.url(), "test", MINUTE, 2).unwrap();
        store.connect().await.unwrap();
        store.create("a", &record(false)).await.unwrap();
        store.create("b", &record(false)).await.unwrap();
        assert_eq!(
            store.create("c", &record(false)).await,
            Err(CreateError::Full)
        );
        assert!(store.remove("a").await.unwrap());
        store.create("c", &record(false)).await.unwrap();
        // Every replica counts the same live sessions.
        let other = RedisState::new(&server.url(), "test", MINUTE, 2).unwrap();
        other.connect().await.unwrap();
        assert_eq!(store.live().await, Ok(2));
        assert_eq!(other.live().await, Ok(2));
        assert!(other.remove("b").await.unwrap());
        assert_eq!(store.live().await, Ok(1));
    }

    #[tokio::test]
    async fn counters_are_shared_and_windowed() {
        let server = Server::start();
        let one = connected(&server, MINUTE).await;
        let two = connected(&server, MINUTE).await;
        assert_eq!(one.hit("ip", MINUTE).await.unwrap().0, 1);
        let (hits, left) = two.hit("ip", MINUTE).await.unwrap();
        assert_eq!(hits, 2, "counted across replicas");
        assert!(left <= MINUTE && left > Duration::from_secs(50), "{left:?}");
        let short = Duration::from_millis(200);
        assert_eq!(one.hit("burst", short).await.unwrap().0, 1);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(one.hit("burst", short).await.unwrap().0, 1, "a new window");
    }

    #[tokio::test]
    async fn one_owner_cannot_take_every_slot() {
        let server = Server::start();
        let store = RedisState::new(&server.url(), "test", MINUTE, 1000).unwrap();
        store.connect().await.unwrap();
        let mut mine = record(true);
        mine.owner = Some("https://issuer\nmallory".into());
        for n in 0..MAX_SESSIONS_PER_OWNER {
            store.create(&format!("m{n}"), &mine).await.unwrap();
        }
        assert_eq!(
            store.create("one-more", &mine).await,
            Err(CreateError::OwnerFull)
        );
        assert!(
            store.create("alice", &record(true)).await.is_ok(),
            "others still get in"
        );
        assert!(store.remove("m0").await.unwrap());
        assert!(!store.remove("m0").await.unwrap());
        assert!(
            store.create("freed", &mine).await.is_ok(),
            "a DELETE frees a slot"
        );
    }

    /// `initialized` once recorded stays, whatever an older copy writes.
    #[tokio::test]
    async fn an_update_never_undoes_initialized() {
        let server = Server::start();
        let store = connected(&server, MINUTE).await;
        store.create("s", &record(false)).await.unwrap();
        assert!(store.update("s", &record(true)).await.unwrap());
        let mut stale = record(false);
        stale.log_level = 6;
        assert!(store.update("s", &stale).await.unwrap());
        let now = store.load("s").await.unwrap().unwrap();
        assert!(now.initialized, "{now:?}");
        assert_eq!(now.log_level, 6);
        let mut admin = server.admin().await;
        let ttl: i64 = ask(&mut admin, &["PTTL", "mcp:test:s:s"]).await;
        assert!(ttl > 59_000, "an initialized session's lifetime: {ttl}");
        assert!(!store.update("gone", &record(true)).await.unwrap());
    }

    #[tokio::test]
    async fn a_redis_that_evicts_keys_is_refused() {
        let server = Server::on(free_port(), &["--maxmemory-policy", "allkeys-lru"]);
        let store = RedisState::new(&server.url(), "test", MINUTE, 100).unwrap();
        let why = store.connect().await.unwrap_err();
        assert!(why.contains("maxmemory-policy allkeys-lru"), "{why}");
        assert!(why.contains("noeviction"), "{why}");
    }

    #[test]
    fn namespaces_cannot_reach_each_other() {
        assert_eq!(key_prefix("weather-bot_1.0"), "mcp:weather-bot_1.0:");
        assert_eq!(key_prefix("a:b"), "mcp:a%3Ab:");
        assert_eq!(key_prefix("a%3Ab"), "mcp:a%253Ab:");
        assert_eq!(key_prefix("{x} y"), "mcp:%7Bx%7D%20y:");
        assert_eq!((px(Duration::ZERO), px(Duration::MAX)), (1, MAX_TTL_MS));
    }

    #[tokio::test]
    async fn idle_sessions_expire_unless_used() {
        let server = Server::start();
        let store = connected(&server, Duration::from_millis(500)).await;
        store.create("used", &record(true)).await.unwrap();
        store.create("idle", &record(true)).await.unwrap();
        store.create("half-open", &record(false)).await.unwrap();
        follow(&store, "idle", "file:///x", true).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(store.touch("used").await.unwrap());
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(store.load("used").await.unwrap(), Some(record(true)));
        assert_eq!(store.load("idle").await.unwrap(), None, "idle too long");
        assert_eq!(store.load("half-open").await.unwrap(), None);
        assert!(!store.touch("idle").await.unwrap());
        let ids: Vec<Arc<str>> = vec!["idle".into()];
        assert_eq!(store.subscribed(&ids, "file:///x").await.unwrap(), [false]);
        let mut admin = server.admin().await;
        assert_eq!(ask::<usize>(&mut admin, &["DBSIZE"]).await, 1, "expired");
        assert!(ask::<bool>(&mut admin, &["EXISTS", "mcp:test:s:used"]).await);
    }

    #[tokio::test]
    async fn a_handshake_gets_a_minute_at_most() {
        let server = Server::start();
        let store = connected(&server, 10 * MINUTE).await;
        let mut admin = server.admin().await;
        store.create("s", &record(false)).await.unwrap();
        let ttl: i64 = ask(&mut admin, &["PTTL", "mcp:test:s:s"]).await;
        assert!((59_000..=60_000).contains(&ttl), "{ttl}");
        assert!(store.update("s", &record(true)).await.unwrap());
        let ttl: i64 = ask(&mut admin, &["PTTL", "mcp:test:s:s"]).await;
        assert!((599_000..=600_000).contains(&ttl), "{ttl}");
    }

    #[tokio::test]
    async fn a_touched_session_stays_and_a_removed_one_is_gone() {
        let server = Server::start();
        let store = connected(&server, MINUTE).await;
        store.create("s", &record(true)).await.unwrap();
        assert_eq!(
            store.create("s", &record(true)).await,
            Err(CreateError::Unavailable),
            "an id in use is never replaced"
        );
        assert!(store.touch("s").await.unwrap());
        let mut changed = record(true);
        changed.log_level = 5;
        assert!(store.update("s", &changed).await.unwrap());
        assert_eq!(store.load("s").await.unwrap(), Some(changed.clone()));
        assert!(store.remove("s").await.unwrap());
        assert!(!store.remove("s").await.unwrap());
        assert!(!store.update("s", &changed).await.unwrap());
        assert!(!store.touch("s").await.unwrap());
        assert!(store.load("s").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn subscriptions_are_per_session_and_bounded() {
        let server = Server::start();
        let store = connected(&server, MINUTE).await;
        let mut admin = server.admin().await;
        store.create("a", &record(true)).await.unwrap();
        store.create("b", &record(true)).await.unwrap();
        follow(&store, "a", "file:///x", true).await.unwrap();
        let ids: Vec<Arc<str>> = vec!["a".into(), "b".into(), "gone".into()];
        let found = store.subscribed(&ids, "file:///x").await.unwrap();
        assert_eq!(found, [true, false, false]);
        assert!(store.subscribed(&[], "file:///x").await.unwrap().is_empty());
        follow(&store, "gone", "file:///x", true).await.unwrap();
        let exists: bool = ask(&mut admin, &["EXISTS", "mcp:test:sub:gone"]).await;
        assert!(!exists, "a gone session gains nothing");
        let session: i64 = ask(&mut admin, &["PTTL", "mcp:test:s:a"]).await;
        let set: i64 = ask(&mut admin, &["PTTL", "mcp:test:sub:a"]).await;
        assert!(set > 0 && session - set < 1000, "{session} {set}");

        for n in 1..MAX_SUBSCRIPTIONS_PER_SESSION {
            let uri = format!("file:///{n}");
            follow(&store, "a", &uri, true).await.unwrap();
        }
        let over = follow(&store, "a", "file:///over", true).await;
        assert_eq!(over, Err(MAX_SUBSCRIPTIONS_PER_SESSION));
        follow(&store, "a", "file:///x", true).await.unwrap();
        follow(&store, "a", "file:///x", false).await.unwrap();
        let found = store.subscribed(&ids, "file:///x").await.unwrap();
        assert_eq!(found, [false, false, false]);
        follow(&store, "a", "file:///over", true).await.unwrap();
        assert!(store.remove("a").await.unwrap());
        let exists: bool = ask(&mut admin, &["EXISTS", "mcp:test:sub:a"]).await;
        assert!(!exists, "removed with its session");
    }

    #[tokio::test]
    async fn a_value_put_by_one_replica_is_read_by_another_until_it_expires() {
        let server = Server::start();
        let one = connected(&server, MINUTE).await;
        let two = connected(&server, MINUTE).await;
        assert_eq!(Values::get(&two, "x:a").await.unwrap(), None);
        one.put("x:a", "sealed", MINUTE).await.unwrap();
        assert_eq!(
            Values::get(&two, "x:a").await.unwrap().as_deref(),
            Some("sealed")
        );
        one.put("x:b", "brief", Duration::from_millis(5))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(Values::get(&two, "x:b").await.unwrap(), None, "expired");
        let other = RedisState::new(&server.url(), "other", MINUTE, 100).unwrap();
        other.connect().await.unwrap();
        assert_eq!(
            Values::get(&other, "x:a").await.unwrap(),
            None,
            "another server"
        );
    }

    #[tokio::test]
    async fn a_marker_is_claimed_once_on_any_replica_until_it_expires() {
        let server = Server::start();
        let one = connected(&server, MINUTE).await;
        let two = connected(&server, MINUTE).await;
        assert!(one.claim("n1", MINUTE).await.unwrap());
        assert!(!two.claim("n1", MINUTE).await.unwrap());
        assert!(!one.claim("n1", MINUTE).await.unwrap());
        assert!(one.claim("n2", Duration::ZERO).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(two.claim("n2", MINUTE).await.unwrap(), "expired");
        let other = RedisState::new(&server.url(), "other", MINUTE, 100).unwrap();
        other.connect().await.unwrap();
        assert!(other.claim("n1", MINUTE).await.unwrap(), "another server");
    }

    #[tokio::test]
    async fn a_serial_is_spent_once_on_any_replica_and_a_lost_store_spends_all() {
        let server = Server::start();
        let one = connected(&server, MINUTE).await;
        let two = connected(&server, MINUTE).await;
        let first = one.issue().await.unwrap();
        let second = two.issue().await.unwrap();
        assert_eq!(
            second,
            Serial {
                number: first.number + 1,
                ..first
            },
            "one order"
        );
        assert!(two.spend(first, MINUTE).await.unwrap());
        assert!(!one.spend(first, MINUTE).await.unwrap(), "spent everywhere");
        assert!(one.spend(second, MINUTE).await.unwrap());
        for never in [
            Serial {
                number: second.number + 1,
                ..second
            },
            Serial {
                epoch: first.epoch ^ 1,
                ..first
            },
        ] {
            assert!(!one.spend(never, MINUTE).await.unwrap(), "{never:?}");
        }
        // One bit per serial, in a chunk that lives as long as its tokens.
        let mut admin = server.admin().await;
        let chunk = format!("mcp:test:spent:{}:0", first.epoch);
        let bits: u64 = ask(&mut admin, &["BITCOUNT", &chunk]).await;
        assert_eq!(bits, 2);
        let ttl: i64 = ask(&mut admin, &["PTTL", &chunk]).await;
        assert!(ttl > 50_000 && ttl <= 60_000, "{ttl}");
        // Another server's store is another sequence.
        let other = RedisState::new(&server.url(), "other", MINUTE, 100).unwrap();
        other.connect().await.unwrap();
        assert!(!other.spend(first, MINUTE).await.unwrap());
        // Redis loses its data: every serial drawn before is refused, for
        // no bit can prove it unspent; new ones work.
        let pending = one.issue().await.unwrap();
        let _: () = ask(&mut admin, &["FLUSHALL"]).await;
        assert!(!one.spend(pending, MINUTE).await.unwrap());
        let fresh = two.issue().await.unwrap();
        assert_ne!(fresh.epoch, pending.epoch);
        assert!(one.spend(fresh, MINUTE).await.unwrap());

        // Redis goes back in time (a failover or a restore lost the latest
        // writes: the counter and bits went back, the epoch stayed): the
        // first replica to draw a number it drew before starts a new epoch,
        // so no serial of the old one can be spent again.
        let spent = one.issue().await.unwrap();
        assert!(one.spend(spent, MINUTE).await.unwrap());
        let rolled_back = spent.number.to_string();
        let _: () = ask(&mut admin, &["SET", "mcp:test:serial:next", &rolled_back]).await;
        let chunk = format!("mcp:test:spent:{}:0", spent.epoch);
        let _: () = ask(&mut admin, &["DEL", &chunk]).await;
        let after = one.issue().await.unwrap();
        assert_ne!(after.epoch, spent.epoch, "a new epoch");
        assert!(!two.spend(spent, MINUTE).await.unwrap(), "never twice");
        assert!(two.spend(after, MINUTE).await.unwrap());
        let next = two.issue().await.unwrap();
        assert_eq!(next.epoch, after.epoch, "the other replica follows");
    }

    #[tokio::test]
    async fn token_buckets_are_one_budget_across_replicas() {
        let server = Server::start();
        let store = connected(&server, MINUTE).await;
        crate::state::check_buckets(&store).await;
        // Another replica draws from the same buckets.
        let other = connected(&server, MINUTE).await;
        let period = Duration::from_secs(60);
        assert_eq!(store.take("carol", 2, period).await, Ok(Ok(())));
        assert_eq!(other.take("carol", 2, period).await, Ok(Ok(())));
        assert!(matches!(store.take("carol", 2, period).await, Ok(Err(_))));
        assert!(matches!(other.take("carol", 2, period).await, Ok(Err(_))));
    }

    #[tokio::test]
    async fn tasks_change_atomically_on_any_replica_and_leases_lapse() {
        let server = Server::start();
        let store = connected(&server, MINUTE).await;
        crate::state::check_task_store(&store, MINUTE).await;
        // What one replica stored, another reads and changes.
        let other = connected(&server, MINUTE).await;
        let finish = crate::state::TaskChange::Finish {
            status: crate::protocol::tasks::TaskStatus::Cancelled,
            status_message: None,
            result: None,
            error: None,
        };
        let (cancelled, _) = other.change_task("t2", &finish, 1).await.unwrap().unwrap();
        assert_eq!(
            store.load_task("t2").await.unwrap().unwrap().record,
            cancelled
        );
    }

    #[tokio::test]
    async fn the_bus_reaches_every_replica() {
        let server = Server::start();
        let one = connected(&server, MINUTE).await;
        let two = connected(&server, MINUTE).await;
        let mut heard = listening(&two);
        let mut own = listening(&one);
        let mut admin = server.admin().await;
        let _: usize = ask(&mut admin, &["PUBLISH", "mcp:test:bus", "not a message"]).await;
        one.publish(list_changed()).await.unwrap();
        match next_event(&mut heard).await {
            BusEvent::Message(BusMessage::ListChanged { method }) => {
                assert_eq!(method, "notifications/tools/list_changed");
            }
            other => panic!("{other:?}"),
        }
        // A sender has acted on its message itself: it never hears it back.
        let updated = BusMessage::ResourceUpdated {
            uri: "file:///x".into(),
        };
        two.publish(updated).await.unwrap();
        match next_event(&mut own).await {
            BusEvent::Message(BusMessage::ResourceUpdated { uri }) => assert_eq!(uri, "file:///x"),
            other => panic!("its own message came back first: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_password_is_used_but_never_shown() {
        let port = free_port();
        let url = format!("redis://:hunter2@127.0.0.1:{port}");
        let store = RedisState::new(&url, "test", MINUTE, 100).unwrap();
        let why = store.connect().await.unwrap_err();
        assert!(why.starts_with("cannot reach Redis at redis://"), "{why}");
        assert!(why.contains(&format!("127.0.0.1:{port}")), "{why}");
        assert!(!why.contains("hunter2"), "{why}");
        assert_eq!(store.connect().await.unwrap_err(), why, "the first outcome");
        assert_eq!(store.load("s").await, Err(Unavailable));
        assert_eq!(store.claim("n", MINUTE).await, Err(Unavailable));

        let _server = Server::on(port, &["--requirepass", "s3cret"]);
        let refused = RedisState::new(&url, "test", MINUTE, 100).unwrap();
        let why = refused.connect().await.unwrap_err();
        assert!(
            why.ends_with("authentication failed") && !why.contains("hunter2"),
            "{why}"
        );
        let url = format!("redis://:s3cret@127.0.0.1:{port}");
        let store = RedisState::new(&url, "test", MINUTE, 100).unwrap();
        store.connect().await.unwrap();
        assert!(store.claim("n", MINUTE).await.unwrap());

        let why = RedisState::new("redis://:hunter2@host:port", "test", MINUTE, 100);
        let why = why.err().unwrap();
        assert!(why.starts_with("invalid Redis URL"), "{why}");
        assert!(!why.contains("hunter2"), "{why}");
    }

    #[tokio::test]
    async fn a_redis_gone_fails_fast_and_its_return_is_noticed() {
        let server = Server::start();
        let port = server.port;
        let store = connected(&server, MINUTE).await;
        let mut heard = listening(&store);
        assert!(store.claim("k", MINUTE).await.unwrap());
        drop(server);

        assert!(matches!(
            next_event(&mut heard).await,
            BusEvent::Disconnected
        ));
        for _ in 0..3 {
            let asked = Instant::now();
            assert_eq!(store.claim("k", MINUTE).await, Err(Unavailable));
            assert!(
                asked.elapsed() < Duration::from_secs(3),
                "{:?}",
                asked.elapsed()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await; // every reconnection failed

        // Back on the same port: the bus resubscribes by itself and has the
        // commands' connection reconnect, so no request finds it dead.
        let server = Server::on(port, &[]);
        let mut admin = server.admin().await;
        let back = Instant::now() + Duration::from_secs(15);
        while !ask::<String>(&mut admin, &["INFO", "clients"])
            .await
            .contains("connected_clients:3\r")
        {
            assert!(Instant::now() < back, "the state did not reconnect");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            store.claim("k", MINUTE).await,
            Ok(true),
            "a new Redis, empty"
        );
        let other = connected(&server, MINUTE).await;
        other.publish(list_changed()).await.unwrap();
        let event = next_event(&mut heard).await;
        assert!(matches!(event, BusEvent::Message(_)), "{event:?}");
    }

    #[tokio::test]
    async fn a_load_is_one_round_trip() {
        let server = Server::start();
        let store = connected(&server, MINUTE).await;
        store.create("s", &record(true)).await.unwrap();
        let mut admin = server.admin().await;
        let () = ask(&mut admin, &["CONFIG", "RESETSTAT"]).await;
        assert_eq!(store.load("s").await.unwrap(), Some(record(true)));
        let stats: String = ask(&mut admin, &["INFO", "commandstats"]).await;
        let mut calls: Vec<&str> = stats
            .lines()
            .filter_map(|line| line.strip_prefix("cmdstat_"))
            .filter(|line| !line.starts_with("config") && !line.starts_with("info"))
            .map(|line| line.split(",usec=").next().unwrap_or(line))
            .collect();
        calls.sort_unstable();
        assert_eq!(calls, ["getex:calls=1", "pexpire:calls=1"], "{stats}");
    }
}
