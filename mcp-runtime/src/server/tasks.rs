//! Tools run as tasks (the `io.modelcontextprotocol/tasks` extension): a
//! `tools/call` from a client that declared the extension, to a tool that
//! supports tasks, is answered at once with a task the handler then runs
//! in; `tasks/get` shows it, `tasks/update` answers its questions and
//! `tasks/cancel` stops it.
//!
//! The record lives in the shared state ([`Tasks`]) and is stored before
//! the client hears of the task, so any replica finds it. A task is its
//! creator's (issuer and subject): for anyone else its id is unknown. Ids
//! are 128 random bits.

use super::ServerCore;
use super::dispatch::{RequestOrigin, parse_params, to_raw};
use super::session::SessionStore;
use crate::context::{ContextInner, RequestContext};
use crate::input::InputChannel;
use crate::input::task::{TaskInbox, now_ms};
use crate::protocol::jsonrpc::{MISSING_CLIENT_CAPABILITY, RequestId};
use crate::protocol::messages::CallToolParams;
use crate::protocol::tasks::{
    TaskIdParams, TaskStatus, TaskSupport, TaskView, UpdateTaskParams, declares_tasks,
    tasks_capability_required,
};
use crate::protocol::{ErrorObject, INTERNAL_ERROR};
use crate::state::{
    Bus, BusMessage, StateFuture, StoredTask, TaskChange, TaskCreateError, TaskRecord, Tasks,
};
use dashmap::DashMap;
use futures_util::FutureExt as _;
use serde_json::Value;
use serde_json::value::RawValue;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a task's record is kept after its last change (its handler's
/// heartbeat keeps a running one), and how long a task's question waits for
/// its answer.
pub(crate) const TASK_TTL: Duration = Duration::from_secs(15 * 60);
/// How often clients are asked to poll.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Largest result a task keeps (its JSON): a bigger one fails the task.
pub(crate) const MAX_TASK_RESULT_BYTES: usize = 1024 * 1024;
/// How long the replica running a task holds it without renewing, unless
/// configured: a replica that dies leaves its tasks `working` at most this
/// long, then the next look at one fails it.
pub(crate) const TASK_LEASE: Duration = Duration::from_secs(30);

/// Tasks running in this process, and how to reach the others'.
pub(crate) struct TaskRunner {
    /// The shared records, announcing each change a client can see.
    pub(crate) store: Arc<dyn Tasks>,
    bus: Arc<dyn Bus>,
    sessions: Arc<SessionStore>,
    server: ServerOf,
    running: DashMap<Arc<str>, Running>,
    /// How long this replica holds a task it runs without renewing.
    lease: Duration,
}

struct Running {
    inbox: Arc<TaskInbox>,
    cancel: CancellationToken,
}

impl TaskRunner {
    pub(crate) fn new(
        store: Arc<dyn Tasks>,
        bus: Arc<dyn Bus>,
        sessions: Arc<SessionStore>,
        lease: Duration,
    ) -> Self {
        let server = ServerOf::default();
        Self {
            store: Arc::new(Announcing {
                records: store,
                sessions: Arc::clone(&sessions),
                server: Arc::clone(&server),
            }),
            bus,
            sessions,
            server,
            running: DashMap::new(),
            lease,
        }
    }

    /// How many tasks' handlers run here.
    pub(crate) fn running(&self) -> usize {
        self.running.len()
    }

    /// Makes `server`'s tools the judges of who may see a task (once it is
    /// built, as it holds this runner).
    pub(crate) fn attach(&self, server: &Arc<ServerCore>) {
        let _ = self.server.set(Arc::downgrade(server));
    }

    /// Acts on a task message from another replica: if the task runs
    /// here, or a stream here follows it.
    pub(crate) fn on_bus(&self, message: &BusMessage) {
        match message {
            BusMessage::TaskAnswered { task } => {
                self.here(task, |running| running.inbox.wake());
            }
            BusMessage::TaskCancel { task } => {
                self.here(task, |running| running.cancel.cancel());
            }
            BusMessage::TaskChanged { task, session } => {
                self.tell_here(task, session.as_deref());
            }
            _ => {}
        }
    }

    /// Tells the streams here that follow `task` (changed on another
    /// replica) what it is now, read from its record.
    fn tell_here(&self, task: &Arc<str>, session: Option<&str>) {
        if !self.sessions.follows_task_here(task, session) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = Arc::clone(&self.store);
        let sessions = Arc::clone(&self.sessions);
        let server = Arc::clone(&self.server);
        let task = Arc::clone(task);
        runtime.spawn(async move {
            match store.load_task(&task).await {
                Ok(Some(stored)) => {
                    let record = stored.record;
                    if let Some(state) = state_of(&record) {
                        // The record names the session, not the message:
                        // nothing on the bus can point a task elsewhere.
                        sessions.task_changed_here(
                            &task,
                            record.session.as_deref(),
                            &state,
                            record.status.is_terminal(),
                            &|caller| may_see(&server, &record.tool, caller),
                        );
                    }
                }
                Ok(None) => {}
                Err(_) => {
                    tracing::warn!(
                        "the shared task store is unavailable; ended the streams that follow a \
                         task whose change could not be told"
                    );
                    sessions.listeners.end_following(&task);
                }
            }
        });
    }

    /// Does `act` on the task if it runs here; `false` if it does not.
    fn here(&self, task: &str, act: impl FnOnce(&Running)) -> bool {
        match self.running.get(task) {
            Some(running) => {
                act(&running);
                true
            }
            None => false,
        }
    }

    /// Wakes the task's handler to its answers, here or on its replica.
    async fn wake(&self, task: &Arc<str>) {
        if !self.here(task, |running| running.inbox.wake()) {
            let message = BusMessage::TaskAnswered {
                task: Arc::clone(task),
            };
            // A lost wake-up only delays: the handler looks by itself.
            if self.bus.publish(message).await.is_err() {
                tracing::debug!("could not wake a task's handler on its replica");
            }
        }
    }

    /// Stops the task's handler, here or on its replica.
    async fn cancel(&self, task: &Arc<str>) {
        if !self.here(task, |running| running.cancel.cancel()) {
            let message = BusMessage::TaskCancel {
                task: Arc::clone(task),
            };
            if self.bus.publish(message).await.is_err() {
                tracing::warn!("could not forward a task's cancellation to its replica");
            }
        }
    }
}

/// Who asks about a task: its owner key, and the verified caller whose
/// access to the task's tool is checked.
#[derive(Clone, Copy)]
struct Caller<'a> {
    owner: Option<&'a str>,
    auth: Option<&'a crate::auth::Auth>,
}

/// A task started by its handler: how it ends, and its lease's renewal.
type StartedSlot = Arc<std::sync::Mutex<Option<(TaskFinisher, Heartbeat)>>>;

/// The renewal of a running task's lease, stopped when dropped.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a new task is made of, taken from the call that starts it.
pub(crate) struct TaskSpec {
    request_id: RequestId,
    tool: String,
    owner: Option<Arc<str>>,
    session: Option<Arc<str>>,
    version: crate::protocol::ProtocolVersion,
    caller: Option<Arc<crate::auth::Auth>>,
    client_capabilities: Arc<Value>,
}

impl TaskSpec {
    fn of(request_id: RequestId, tool: &str, origin: &RequestOrigin) -> Self {
        Self {
            request_id,
            tool: tool.to_owned(),
            owner: origin.caller.as_ref().map(|c| c.owner_key().into()),
            session: origin.session.as_ref().map(|s| Arc::clone(&s.id)),
            version: origin.version,
            caller: origin.caller.clone(),
            client_capabilities: Arc::clone(&origin.client_capabilities),
        }
    }
}

impl TaskRunner {
    /// Stores a new task (before anyone hears of it) and makes what its
    /// handler runs with: the create result, its context, how it ends.
    async fn begin(
        self: Arc<Self>,
        spec: TaskSpec,
    ) -> Result<(Box<RawValue>, RequestContext, TaskFinisher), ErrorObject> {
        let now = now_ms();
        let task_id: Arc<str> = crate::random::random_token::<16>().into();
        let record = TaskRecord {
            id: Arc::clone(&task_id),
            owner: spec.owner,
            tool: spec.tool.clone(),
            session: spec.session,
            status: TaskStatus::Working,
            status_message: None,
            created_at: now,
            updated_at: now,
            ttl_ms: u64::try_from(TASK_TTL.as_millis()).unwrap_or(u64::MAX),
            poll_interval_ms: u64::try_from(POLL_INTERVAL.as_millis()).unwrap_or(u64::MAX),
            result: None,
            error: None,
            input_requests: std::collections::BTreeMap::new(),
            answers: std::collections::BTreeMap::new(),
        };
        match self.store.create_task(&record, self.lease).await {
            Ok(()) => {}
            Err(TaskCreateError::OwnerFull) => {
                return Err(ErrorObject::invalid_request(format!(
                    "too many tasks: a caller holds at most {} at once, finished ones \
                     included until they expire ({} min after their end); cancel \
                     unfinished ones (tasks/cancel) or wait",
                    crate::state::MAX_TASKS_PER_OWNER,
                    TASK_TTL.as_secs() / 60
                )));
            }
            Err(TaskCreateError::Full) => {
                return Err(ErrorObject::internal(
                    "this server holds as many tasks as it can; try again later",
                ));
            }
            Err(TaskCreateError::Unavailable) => return Err(unavailable()),
        }
        let inbox = Arc::new(TaskInbox::new(
            Arc::clone(&task_id),
            Arc::clone(&self.store),
            TASK_TTL,
        ));
        let cancel = CancellationToken::new();
        let ctx = RequestContext::new(ContextInner {
            request_id: spec.request_id,
            protocol_version: spec.version,
            session_id: None,
            progress_token: None,
            // The request that created the task ends now: nothing streams.
            notifier: None,
            min_log_level: None,
            cancellation: cancel.clone(),
            caller: spec.caller,
            client_capabilities: spec.client_capabilities,
            input: InputChannel::Task(Arc::clone(&inbox)),
            task_starter: std::sync::Mutex::new(None),
        });
        self.running.insert(
            Arc::clone(&task_id),
            Running {
                inbox,
                cancel: cancel.clone(),
            },
        );
        let finisher = TaskFinisher {
            store: Arc::clone(&self.store),
            task: task_id,
            cancel,
            tool: spec.tool,
            structured: spec.version.has_structured_output(),
        };
        Ok((view(&record, true)?, ctx, finisher))
    }

    /// Records how the handler of a task ended, and lets go of the task.
    async fn end(
        &self,
        finisher: TaskFinisher,
        heartbeat: Heartbeat,
        run: impl std::future::Future<
            Output = Result<crate::tools::CallToolResult, Box<dyn std::any::Any + Send>>,
        >,
    ) {
        finisher.finish(run).await;
        drop(heartbeat);
        self.running.remove(&finisher.task);
    }

    /// Renews the lease on `task` (and keeps its record) until dropped; a
    /// task found finished (cancelled on another replica whose message was
    /// lost, or failed as a lost one) or gone stops its handler.
    fn heartbeat(&self, task: &Arc<str>) -> Heartbeat {
        let cancel = self
            .running
            .get(task.as_ref())
            .map(|running| running.cancel.clone());
        Heartbeat(tokio::spawn(renew_lease(
            Arc::clone(&self.store),
            Arc::clone(task),
            self.lease,
            cancel,
        )))
    }
}

/// What a `tools/call` to a tool of `support` becomes for a client that
/// declared `capabilities`: a task (`Ok(true)`), a call in its request
/// (`Ok(false)`), or the error a client without the extension gets.
fn runs_as_task(
    support: TaskSupport,
    capabilities: &serde_json::Value,
    tool: &str,
) -> Result<bool, ErrorObject> {
    let declared = declares_tasks(capabilities);
    match support {
        TaskSupport::Forbidden => Ok(false),
        TaskSupport::Optional => Ok(declared),
        TaskSupport::Required if declared => Ok(true),
        TaskSupport::Required => Err(ErrorObject::new(
            MISSING_CLIENT_CAPABILITY,
            format!(
                "tool `{tool}` runs only as a task: declare the io.modelcontextprotocol/tasks \
                 extension in the client's capabilities"
            ),
        )
        .with_data(tasks_capability_required())),
    }
}

/// The extension's answer to a `tasks/*` request from a client that did not
/// declare it.
fn undeclared() -> ErrorObject {
    ErrorObject::new(
        MISSING_CLIENT_CAPABILITY,
        "tasks/* needs the io.modelcontextprotocol/tasks extension in the client's capabilities",
    )
    .with_data(tasks_capability_required())
}

/// The extension's answer for an id that is unknown, expired, or another
/// caller's: all look the same.
fn unknown_task() -> ErrorObject {
    ErrorObject::invalid_params("Failed to retrieve task: Task not found")
}

fn unavailable() -> ErrorObject {
    super::session::store_unavailable()
}

/// How a record looks to the client; `created` for the create result.
fn view(record: &TaskRecord, created: bool) -> Result<Box<RawValue>, ErrorObject> {
    let result = record
        .result
        .as_deref()
        .map(|result| RawValue::from_string(result.to_owned()))
        .transpose()
        .map_err(|_| ErrorObject::internal("the task's stored result is not JSON"))?;
    let terminal_or_asking = !created;
    // Each question as written: raw JSON, never parsed and written again.
    let questions: Option<std::collections::BTreeMap<&str, Box<RawValue>>> =
        (!record.input_requests.is_empty())
            .then(|| {
                record
                    .input_requests
                    .iter()
                    .map(|(key, question)| {
                        RawValue::from_string(question.clone()).map(|raw| (key.as_str(), raw))
                    })
                    .collect::<Result<_, _>>()
            })
            .transpose()
            .map_err(|_| ErrorObject::internal("a task's stored question is not JSON"))?;
    to_raw(&TaskView {
        result_type: created.then_some("task"),
        task_id: &record.id,
        status: record.status,
        status_message: record.status_message.as_deref(),
        created_at: crate::protocol::tasks::iso8601(record.created_at),
        last_updated_at: crate::protocol::tasks::iso8601(record.updated_at),
        ttl_ms: Some(record.ttl_ms),
        poll_interval_ms: Some(record.poll_interval_ms),
        result: result
            .as_deref()
            .filter(|_| terminal_or_asking && record.status == TaskStatus::Completed),
        error: record
            .error
            .as_ref()
            .filter(|_| terminal_or_asking && record.status == TaskStatus::Failed),
        input_requests: questions
            .as_ref()
            .filter(|_| terminal_or_asking && record.status == TaskStatus::InputRequired),
    })
}

/// Whether `id` has the shape of the ids this server makes (128 bits in
/// base64url): any other is unknown without a look in the store.
fn is_task_id(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What `tasks/get` shows of `record`, as a notification carries it.
fn state_of(record: &TaskRecord) -> Option<Value> {
    let view = view(record, false).ok()?;
    serde_json::from_str(view.get()).ok()
}

/// The task store as the runtime uses it: every change a client can see
/// (a question asked, an answer taken, the end) is told to the streams
/// that follow the task, here and on the other replicas. One place, so
/// no path that changes a task can forget it.
struct Announcing {
    records: Arc<dyn Tasks>,
    sessions: Arc<SessionStore>,
    server: ServerOf,
}

/// The server whose tools' access rules decide who may see a task: set
/// once it is built (it holds the runner, so the runner holds it weakly).
type ServerOf = Arc<std::sync::OnceLock<std::sync::Weak<ServerCore>>>;

/// Whether `caller` may see a task of `tool`: as `tasks/get` decides.
fn may_see(server: &ServerOf, tool: &str, caller: Option<&crate::auth::Auth>) -> bool {
    server
        .get()
        .and_then(std::sync::Weak::upgrade)
        .is_some_and(|core| {
            core.tools
                .load()
                .get(tool)
                .is_some_and(|entry| entry.tool.access().check(caller).is_ok())
        })
}

impl Tasks for Announcing {
    fn create_task<'a>(
        &'a self,
        record: &'a TaskRecord,
        lease: Duration,
    ) -> futures_util::future::BoxFuture<'a, Result<(), TaskCreateError>> {
        self.records.create_task(record, lease)
    }

    fn load_task<'a>(&'a self, id: &'a str) -> StateFuture<'a, Option<StoredTask>> {
        self.records.load_task(id)
    }

    fn change_task<'a>(
        &'a self,
        id: &'a str,
        change: &'a TaskChange,
        now_ms: u64,
    ) -> StateFuture<'a, Option<(TaskRecord, Vec<String>)>> {
        Box::pin(async move {
            let changed = self.records.change_task(id, change, now_ms).await?;
            if let Some((record, taken)) = &changed {
                let seen = match change {
                    TaskChange::Ask { .. } | TaskChange::Finish { .. } => true,
                    TaskChange::Answer { .. } => !taken.is_empty(),
                    // The handler took its answers: nothing a client sees.
                    TaskChange::Collect { .. } => false,
                };
                if seen {
                    self.announce(record);
                }
            }
            Ok(changed)
        })
    }

    fn renew_task_lease<'a>(&'a self, id: &'a str, lease: Duration) -> StateFuture<'a, bool> {
        self.records.renew_task_lease(id, lease)
    }
}

impl Announcing {
    fn announce(&self, record: &TaskRecord) {
        let session = record.session.as_deref();
        // The state is rendered only for streams here; other replicas read
        // the record if theirs follow it.
        let state = if self.sessions.follows_task_here(&record.id, session) {
            state_of(record)
        } else {
            None
        };
        self.sessions.task_changed(
            &record.id,
            record.session.as_ref(),
            state.as_ref(),
            record.status.is_terminal(),
            &|caller| may_see(&self.server, &record.tool, caller),
        );
    }
}

/// Renews the lease on `task` while its handler runs here (aborted when
/// it ends).
async fn renew_lease(
    store: Arc<dyn Tasks>,
    task: Arc<str>,
    lease: Duration,
    cancel: Option<CancellationToken>,
) {
    loop {
        tokio::time::sleep(lease / 3).await;
        match store.renew_task_lease(&task, lease).await {
            Ok(true) => {}
            Ok(false) => {
                if let Some(cancel) = &cancel {
                    cancel.cancel();
                }
                return;
            }
            Err(_) => {
                tracing::warn!(
                    "the shared task store is unavailable; a task's lease was not renewed"
                );
            }
        }
    }
}

/// Writes a task's end into its record.
struct TaskFinisher {
    store: Arc<dyn Tasks>,
    task: Arc<str>,
    cancel: CancellationToken,
    tool: String,
    structured: bool,
}

impl TaskFinisher {
    async fn finish(
        &self,
        run: impl std::future::Future<
            Output = Result<crate::tools::CallToolResult, Box<dyn std::any::Any + Send>>,
        >,
    ) {
        let outcome = tokio::select! {
            biased;
            // `tasks/cancel` wrote the end already.
            () = self.cancel.cancelled() => return,
            outcome = run => outcome,
        };
        let tool = &self.tool;
        let failed = |message: String| TaskChange::Finish {
            status: TaskStatus::Failed,
            status_message: Some(message.clone()),
            result: None,
            error: Some(ErrorObject::new(INTERNAL_ERROR, message)),
        };
        let end = match outcome {
            Ok(mut result) => {
                if !self.structured {
                    result.structured_content = None;
                }
                match serde_json::to_string(&result) {
                    Ok(json) if json.len() <= MAX_TASK_RESULT_BYTES => TaskChange::Finish {
                        status: TaskStatus::Completed,
                        status_message: None,
                        result: Some(json),
                        error: None,
                    },
                    Ok(json) => failed(format!(
                        "tool `{tool}` returned {} bytes; a task keeps at most {MAX_TASK_RESULT_BYTES}",
                        json.len()
                    )),
                    Err(_) => failed(format!("tool `{tool}` returned a result that is not JSON")),
                }
            }
            Err(_) => {
                tracing::error!(tool = %tool, "tool panicked in a task");
                failed(format!("tool `{tool}` failed with an internal error"))
            }
        };
        if self
            .store
            .change_task(&self.task, &end, now_ms())
            .await
            .is_err()
        {
            tracing::warn!(tool = %tool, "the shared task store is unavailable; a task's end was not recorded");
        }
    }
}

impl ServerCore {
    /// Whether a `tools/call` of `entry` from `origin` runs as a task (see
    /// [`runs_as_task`]).
    pub(crate) fn runs_as_task(
        &self,
        entry: &crate::tools::RegisteredTool,
        origin: &RequestOrigin,
        tool: &str,
    ) -> Result<bool, ErrorObject> {
        runs_as_task(entry.tool.task_support(), &origin.client_capabilities, tool)
    }

    /// Starts `entry`'s handler as a task for `params` and answers with the
    /// task, stored first.
    pub(crate) async fn start_task(
        &self,
        id: RequestId,
        entry: Arc<crate::tools::RegisteredTool>,
        params: CallToolParams,
        origin: RequestOrigin,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let spec = TaskSpec::of(id, &params.name, &origin);
        let (view, ctx, finisher) = Arc::clone(&self.tasks).begin(spec).await?;
        let handler = entry.tool.handler().clone();
        let arguments = params.arguments;
        let runner = Arc::clone(&self.tasks);
        tokio::spawn(async move {
            let heartbeat = runner.heartbeat(&finisher.task);
            // Calling the handler inside the guarded future also catches
            // panics in its synchronous part and in its arguments.
            let run = AssertUnwindSafe(async move { handler(arguments, ctx).await }).catch_unwind();
            runner.end(finisher, heartbeat, run).await;
        });
        Ok(view)
    }

    /// What a task started by this call's handler is made of.
    pub(crate) fn task_spec(&self, id: RequestId, tool: &str, origin: &RequestOrigin) -> TaskSpec {
        TaskSpec::of(id, tool, origin)
    }

    /// A call of a tool whose handler starts its task itself
    /// ([`RequestContext::start_task`]): it runs in its request, asking
    /// questions there, until the handler starts the task; the request then
    /// answers with the task while the handler runs on. A handler that never
    /// starts it answers as a plain call.
    pub(crate) async fn call_deferred(
        &self,
        spec: TaskSpec,
        entry: &crate::tools::RegisteredTool,
        arguments: Option<Box<RawValue>>,
        tool: &str,
        prepared: super::dispatch::Prepared,
        structured: bool,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Box<RawValue>>();
        let slot: StartedSlot = Arc::new(std::sync::Mutex::new(None));
        let runner = Arc::clone(&self.tasks);
        let filled = Arc::clone(&slot);
        prepared.ctx.set_task_starter(Box::new(move || {
            async move {
                let (view, ctx, finisher) = Arc::clone(&runner).begin(spec).await?;
                let heartbeat = runner.heartbeat(&finisher.task);
                if let Ok(mut slot) = filled.lock() {
                    *slot = Some((finisher, heartbeat));
                }
                let _ = started_tx.send(view);
                Ok(ctx)
            }
            .boxed()
        }));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let handler = entry.tool.handler().clone();
        let ctx = prepared.ctx.clone();
        let runner = Arc::clone(&self.tasks);
        tokio::spawn(async move {
            let outcome = AssertUnwindSafe(async move { handler(arguments, ctx).await })
                .catch_unwind()
                .await;
            let started = slot.lock().ok().and_then(|mut slot| slot.take());
            match started {
                Some((finisher, heartbeat)) => {
                    runner
                        .end(finisher, heartbeat, std::future::ready(outcome))
                        .await;
                }
                None => {
                    let _ = done_tx.send(outcome);
                }
            }
        });
        // A request that goes away before the task starts takes its handler
        // along; once started, the task is the client's to cancel.
        let request_gone = prepared.ctx.cancellation().clone().drop_guard();
        tokio::select! {
            biased;
            Ok(view) = started_rx => {
                request_gone.disarm();
                Ok(view)
            }
            outcome = done_rx => match outcome {
                Ok(outcome) => self.call_answer(&prepared, outcome, tool, structured),
                Err(_) => Err(ErrorObject::internal("the tool stopped without an answer")),
            },
        }
    }

    /// `tasks/get`, `tasks/update` and `tasks/cancel`; `None` for any other
    /// method.
    pub(crate) async fn answer_task_method(
        &self,
        method: &str,
        params: Option<&RawValue>,
        origin: &RequestOrigin,
    ) -> Option<Result<Box<RawValue>, ErrorObject>> {
        if !matches!(method, "tasks/get" | "tasks/update" | "tasks/cancel") {
            return None;
        }
        // The capability first: an undeclared client learns nothing of ids.
        if !declares_tasks(&origin.client_capabilities) {
            return Some(Err(undeclared()));
        }
        let owner = origin.caller.as_ref().map(|c| c.owner_key());
        let caller = Caller {
            owner: owner.as_deref(),
            auth: origin.caller.as_deref(),
        };
        Some(match method {
            "tasks/get" => self.get_task(params, caller).await,
            "tasks/update" => self.update_task(params, caller).await,
            _ => self.cancel_task(params, caller).await,
        })
    }

    /// Of `ids`, those the caller of `origin` may follow (what `tasks/get`
    /// would show them), once each; the others are left out, as unknown
    /// ones are. An id that is not one this server makes is not looked up.
    pub(crate) async fn followable_tasks(
        &self,
        ids: &[String],
        origin: &RequestOrigin,
    ) -> Result<Vec<String>, ErrorObject> {
        let owner = origin.caller.as_ref().map(|c| c.owner_key());
        let caller = Caller {
            owner: owner.as_deref(),
            auth: origin.caller.as_deref(),
        };
        let mut followed: Vec<String> = Vec::new();
        for id in ids {
            if !is_task_id(id) || followed.contains(id) {
                continue;
            }
            match self.owned(id, caller).await {
                Ok(_) => followed.push(id.clone()),
                Err(error) if error.code == INTERNAL_ERROR => return Err(error),
                Err(_) => {}
            }
        }
        Ok(followed)
    }

    /// What `tasks/get` from `caller` would show of task `id` now, as a
    /// notification carries it; `None` if it is gone or not theirs.
    pub(crate) async fn task_state(
        &self,
        id: &str,
        caller: Option<&crate::auth::Auth>,
    ) -> Option<Value> {
        let owner = caller.map(crate::auth::Auth::owner_key);
        let caller = Caller {
            owner: owner.as_deref(),
            auth: caller,
        };
        state_of(&self.owned(id, caller).await.ok()?)
    }

    /// The record of `id`, if it is `owner`'s. An unfinished task whose
    /// replica stopped renewing its lease is failed first: it would never
    /// end otherwise.
    async fn owned(&self, id: &str, caller: Caller<'_>) -> Result<TaskRecord, ErrorObject> {
        let stored = self
            .tasks
            .store
            .load_task(id)
            .await
            .map_err(|_| unavailable())?
            .ok_or_else(unknown_task)?;
        if stored.record.owner.as_deref() != caller.owner {
            return Err(unknown_task());
        }
        // The same user through a token that may not call the tool (fewer
        // scopes, another client) does not see the task either.
        let allowed = self
            .tools
            .load()
            .get(&stored.record.tool)
            .is_some_and(|entry| entry.tool.access().check(caller.auth).is_ok());
        if !allowed {
            return Err(unknown_task());
        }
        if stored.record.status.is_terminal() || stored.leased {
            return Ok(stored.record);
        }
        let message = "the server running this task stopped before it finished".to_owned();
        let lost = TaskChange::Finish {
            status: TaskStatus::Failed,
            status_message: Some(message.clone()),
            result: None,
            error: Some(ErrorObject::new(INTERNAL_ERROR, message)),
        };
        match self.tasks.store.change_task(id, &lost, now_ms()).await {
            Ok(Some((record, _))) => Ok(record),
            // Finished meanwhile: read what it became.
            Ok(None) => self
                .tasks
                .store
                .load_task(id)
                .await
                .map_err(|_| unavailable())?
                .map(|stored| stored.record)
                .ok_or_else(unknown_task),
            Err(_) => Err(unavailable()),
        }
    }

    async fn get_task(
        &self,
        params: Option<&RawValue>,
        caller: Caller<'_>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let TaskIdParams { task_id } = parse_params(params)?;
        view(&self.owned(&task_id, caller).await?, false)
    }

    async fn update_task(
        &self,
        params: Option<&RawValue>,
        caller: Caller<'_>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let UpdateTaskParams {
            task_id,
            input_responses,
        } = parse_params(params)?;
        let record = self.owned(&task_id, caller).await?;
        // Answers to questions still open are taken out of the record
        // before the acknowledgement, so the next `tasks/get` on any replica
        // no longer shows them; the rest (unknown keys, a finished task) are
        // ignored, as the extension asks.
        let answers = input_responses
            .into_iter()
            .map(|(key, answer)| (key, answer.to_string()))
            .collect();
        let taken = match self
            .tasks
            .store
            .change_task(&record.id, &TaskChange::Answer { answers }, now_ms())
            .await
        {
            Ok(Some((_, taken))) => taken,
            Ok(None) => Vec::new(),
            Err(_) => return Err(unavailable()),
        };
        if !taken.is_empty() {
            self.tasks.wake(&record.id).await;
        }
        to_raw(&serde_json::json!({}))
    }

    async fn cancel_task(
        &self,
        params: Option<&RawValue>,
        caller: Caller<'_>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let TaskIdParams { task_id } = parse_params(params)?;
        let record = self.owned(&task_id, caller).await?;
        if !record.status.is_terminal() {
            let cancelled = TaskChange::Finish {
                status: TaskStatus::Cancelled,
                status_message: Some("cancelled by the client".to_owned()),
                result: None,
                error: None,
            };
            match self
                .tasks
                .store
                .change_task(&record.id, &cancelled, now_ms())
                .await
            {
                Ok(Some(_)) => self.tasks.cancel(&record.id).await,
                Ok(None) => {}
                Err(_) => return Err(unavailable()),
            }
        }
        to_raw(&serde_json::json!({}))
    }
}
