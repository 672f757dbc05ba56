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
use crate::context::{ContextInner, RequestContext};
use crate::input::InputChannel;
use crate::input::task::{TaskInbox, Unchanged, now_ms};
use crate::protocol::jsonrpc::{MISSING_CLIENT_CAPABILITY, RequestId};
use crate::protocol::messages::CallToolParams;
use crate::protocol::tasks::{
    TaskIdParams, TaskStatus, TaskSupport, TaskView, UpdateTaskParams, declares_tasks,
    tasks_capability_required,
};
use crate::protocol::{ErrorObject, INTERNAL_ERROR};
use crate::state::{TaskCreateError, TaskRecord, Tasks};
use dashmap::DashMap;
use futures_util::FutureExt as _;
use serde_json::value::RawValue;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a task's record is kept after its last change.
pub(crate) const TASK_TTL: Duration = Duration::from_secs(3600);
/// How often clients are asked to poll.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Largest result a task keeps (its JSON): a bigger one fails the task.
pub(crate) const MAX_TASK_RESULT_BYTES: usize = 1024 * 1024;

/// Tasks running in this process.
pub(crate) struct TaskRunner {
    pub(crate) store: Arc<dyn Tasks>,
    running: DashMap<Arc<str>, Running>,
}

struct Running {
    inbox: Arc<TaskInbox>,
    cancel: CancellationToken,
}

impl TaskRunner {
    pub(crate) fn new(store: Arc<dyn Tasks>) -> Self {
        Self {
            store,
            running: DashMap::new(),
        }
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
        .map(RawValue::from_string_ref)
        .transpose()
        .map_err(|_| ErrorObject::internal("the task's stored result is not JSON"))?;
    let terminal_or_asking = !created;
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
        input_requests: Some(&record.input_requests).filter(|requests| {
            terminal_or_asking && record.status == TaskStatus::InputRequired && !requests.is_empty()
        }),
    })
}

/// Writes a task's end into its record.
struct TaskFinisher {
    inbox: Arc<TaskInbox>,
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
        let failed = |record: &mut TaskRecord, message: String| {
            record.status = TaskStatus::Failed;
            record.status_message = Some(message.clone());
            record.error = Some(ErrorObject::new(INTERNAL_ERROR, message));
            record.input_requests.clear();
        };
        let tool = &self.tool;
        let ended = match outcome {
            Ok(mut result) => {
                if !self.structured {
                    result.structured_content = None;
                }
                match serde_json::to_string(&result) {
                    Ok(json) if json.len() <= MAX_TASK_RESULT_BYTES => {
                        self.inbox
                            .change(|record| {
                                record.status = TaskStatus::Completed;
                                record.result = Some(json);
                                record.input_requests.clear();
                            })
                            .await
                    }
                    Ok(json) => {
                        let message = format!(
                            "tool `{tool}` returned {} bytes; a task keeps at most {MAX_TASK_RESULT_BYTES}",
                            json.len()
                        );
                        self.inbox.change(|record| failed(record, message)).await
                    }
                    Err(_) => {
                        let message = format!("tool `{tool}` returned a result that is not JSON");
                        self.inbox.change(|record| failed(record, message)).await
                    }
                }
            }
            Err(_) => {
                tracing::error!(tool = %tool, "tool panicked in a task");
                let message = format!("tool `{tool}` failed with an internal error");
                self.inbox.change(|record| failed(record, message)).await
            }
        };
        if matches!(ended, Err(Unchanged::Unavailable)) {
            tracing::warn!(tool = %tool, "the shared task store is unavailable; a task's end was not recorded");
        }
    }
}

/// `RawValue::from_string` for a borrowed string.
trait FromStringRef {
    fn from_string_ref(text: &str) -> Result<Box<RawValue>, serde_json::Error>;
}

impl FromStringRef for RawValue {
    fn from_string_ref(text: &str) -> Result<Box<RawValue>, serde_json::Error> {
        RawValue::from_string(text.to_owned())
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
        let now = now_ms();
        let task_id: Arc<str> = crate::random::random_token::<16>().into();
        let record = TaskRecord {
            id: Arc::clone(&task_id),
            owner: origin.caller.as_ref().map(|c| c.owner_key().into()),
            status: TaskStatus::Working,
            status_message: None,
            created_at: now,
            updated_at: now,
            ttl_ms: u64::try_from(TASK_TTL.as_millis()).unwrap_or(u64::MAX),
            poll_interval_ms: u64::try_from(POLL_INTERVAL.as_millis()).unwrap_or(u64::MAX),
            result: None,
            error: None,
            input_requests: serde_json::Map::new(),
        };
        match self.tasks.store.create_task(&record).await {
            Ok(()) => {}
            Err(TaskCreateError::OwnerFull) => {
                return Err(ErrorObject::invalid_request(format!(
                    "too many unfinished tasks: at most {} per caller; wait for one to finish \
                     or cancel one (tasks/cancel)",
                    crate::state::MAX_TASKS_PER_OWNER
                )));
            }
            Err(TaskCreateError::Unavailable) => return Err(unavailable()),
        }
        let inbox = Arc::new(TaskInbox::new(
            Arc::clone(&task_id),
            Arc::clone(&self.tasks.store),
        ));
        let cancel = CancellationToken::new();
        let ctx = RequestContext::new(ContextInner {
            request_id: id,
            protocol_version: origin.version,
            session_id: None,
            progress_token: None,
            // The request that created the task ends now: nothing streams.
            notifier: None,
            min_log_level: None,
            cancellation: cancel.clone(),
            caller: origin.caller,
            client_capabilities: origin.client_capabilities,
            input: InputChannel::Task(Arc::clone(&inbox)),
        });
        self.tasks.running.insert(
            Arc::clone(&task_id),
            Running {
                inbox: Arc::clone(&inbox),
                cancel: cancel.clone(),
            },
        );
        let handler = entry.tool.handler().clone();
        let finisher = TaskFinisher {
            inbox,
            cancel,
            tool: params.name,
            structured: origin.version.has_structured_output(),
        };
        let arguments = params.arguments;
        let runner = Arc::clone(&self.tasks);
        tokio::spawn(async move {
            // Calling the handler inside the guarded future also catches
            // panics in its synchronous part and in its arguments.
            let run = AssertUnwindSafe(async move { handler(arguments, ctx).await }).catch_unwind();
            finisher.finish(run).await;
            runner.running.remove(finisher.inbox.task_id());
        });
        view(&record, true)
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
        Some(match method {
            "tasks/get" => self.get_task(params, owner.as_deref()).await,
            "tasks/update" => self.update_task(params, owner.as_deref()).await,
            _ => self.cancel_task(params, owner.as_deref()).await,
        })
    }

    /// The record of `id`, if it is `owner`'s.
    async fn owned(&self, id: &str, owner: Option<&str>) -> Result<TaskRecord, ErrorObject> {
        let record = self
            .tasks
            .store
            .load_task(id)
            .await
            .map_err(|_| unavailable())?
            .ok_or_else(unknown_task)?;
        if record.owner.as_deref() != owner {
            return Err(unknown_task());
        }
        Ok(record)
    }

    async fn get_task(
        &self,
        params: Option<&RawValue>,
        owner: Option<&str>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let TaskIdParams { task_id } = parse_params(params)?;
        view(&self.owned(&task_id, owner).await?, false)
    }

    async fn update_task(
        &self,
        params: Option<&RawValue>,
        owner: Option<&str>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let UpdateTaskParams {
            task_id,
            input_responses,
        } = parse_params(params)?;
        let record = self.owned(&task_id, owner).await?;
        let inbox = self
            .tasks
            .running
            .get(record.id.as_ref())
            .map(|running| Arc::clone(&running.inbox));
        // Answers for a finished task, or one no handler here waits on, are
        // ignored, as are keys it never asked.
        if let Some(inbox) = inbox {
            inbox
                .deliver(input_responses)
                .await
                .map_err(|_| unavailable())?;
        }
        to_raw(&serde_json::json!({}))
    }

    async fn cancel_task(
        &self,
        params: Option<&RawValue>,
        owner: Option<&str>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let TaskIdParams { task_id } = parse_params(params)?;
        let record = self.owned(&task_id, owner).await?;
        if !record.status.is_terminal() {
            let running = self
                .tasks
                .running
                .get(record.id.as_ref())
                .map(|r| (Arc::clone(&r.inbox), r.cancel.clone()));
            let cancelled = |record: &mut TaskRecord| {
                record.status = TaskStatus::Cancelled;
                record.status_message = Some("cancelled by the client".to_owned());
                record.input_requests.clear();
            };
            let changed = match &running {
                Some((inbox, _)) => inbox.change(cancelled).await,
                None => {
                    let inbox = TaskInbox::new(record.id.clone(), Arc::clone(&self.tasks.store));
                    inbox.change(cancelled).await
                }
            };
            if matches!(changed, Err(Unchanged::Unavailable)) {
                return Err(unavailable());
            }
            if let Some((_, cancel)) = running {
                cancel.cancel();
            }
        }
        to_raw(&serde_json::json!({}))
    }
}
