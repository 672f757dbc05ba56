//! Questions a task asks: they go into the task's shared record (its
//! status turns `input_required`, `tasks/get` shows them), and the answers
//! come back through `tasks/update`, on whichever connection the client
//! uses. Every write to a running task's record goes through its inbox, one
//! at a time, so the handler's questions and the client's answers never
//! overwrite each other.

use super::{InputError, InputRequests, InputResponses, input_request};
use crate::protocol::tasks::TaskStatus;
use crate::state::{TaskRecord, Tasks};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The running side of one task: its record's only writer while it runs,
/// and where `tasks/update` leaves the client's answers.
pub(crate) struct TaskInbox {
    task_id: Arc<str>,
    tasks: Arc<dyn Tasks>,
    /// Held across each load-change-save of the record.
    writing: tokio::sync::Mutex<()>,
    /// Answers delivered and not yet taken, by the keys the client saw.
    answers: Mutex<HashMap<String, Value>>,
    /// Every key this task has used, so none is used twice in its life.
    used_keys: Mutex<HashSet<String>>,
    arrived: Notify,
}

/// Why a task's record could not be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unchanged {
    /// The task is finished (or gone): nothing changes it any more.
    Finished,
    /// The shared state could not be reached.
    Unavailable,
}

impl TaskInbox {
    pub(crate) fn new(task_id: Arc<str>, tasks: Arc<dyn Tasks>) -> Self {
        Self {
            task_id,
            tasks,
            writing: tokio::sync::Mutex::new(()),
            answers: Mutex::new(HashMap::new()),
            used_keys: Mutex::new(HashSet::new()),
            arrived: Notify::new(),
        }
    }

    /// The task's id.
    pub(crate) fn task_id(&self) -> &Arc<str> {
        &self.task_id
    }

    /// Loads the record, lets `change` edit it, and saves it, one writer at
    /// a time. `change` sees the record as stored and stamps nothing itself.
    pub(crate) async fn change(
        &self,
        change: impl FnOnce(&mut TaskRecord),
    ) -> Result<TaskRecord, Unchanged> {
        let _writing = self.writing.lock().await;
        let mut record = self
            .tasks
            .load_task(&self.task_id)
            .await
            .map_err(|_| Unchanged::Unavailable)?
            .ok_or(Unchanged::Finished)?;
        if record.status.is_terminal() {
            return Err(Unchanged::Finished);
        }
        change(&mut record);
        record.updated_at = now_ms();
        match self.tasks.save_task(&record).await {
            Ok(true) => Ok(record),
            Ok(false) => Err(Unchanged::Finished),
            Err(_) => Err(Unchanged::Unavailable),
        }
    }

    /// `tasks/update`: takes the answers to questions still open (others
    /// are ignored, as the extension asks) and drops them from the record
    /// before returning, so the next `tasks/get` no longer shows them.
    pub(crate) async fn deliver(&self, responses: Map<String, Value>) -> Result<(), Unchanged> {
        let mut taken = Vec::new();
        let changed = self
            .change(|record| {
                for (key, answer) in responses {
                    if record.input_requests.remove(&key).is_some() {
                        taken.push((key, answer));
                    }
                }
                if record.input_requests.is_empty() && record.status == TaskStatus::InputRequired {
                    record.status = TaskStatus::Working;
                }
            })
            .await;
        match changed {
            Ok(_) | Err(Unchanged::Finished) => {}
            Err(Unchanged::Unavailable) => return Err(Unchanged::Unavailable),
        }
        if !taken.is_empty() {
            if let Ok(mut answers) = self.answers.lock() {
                answers.extend(taken);
            }
            self.arrived.notify_waiters();
        }
        Ok(())
    }

    /// A key of its own for `key`, never used before in this task's life.
    fn fresh_key(&self, key: &str) -> String {
        let Ok(mut used) = self.used_keys.lock() else {
            return format!("{key}#{}", crate::random::random_token::<6>());
        };
        let mut fresh = key.to_owned();
        let mut n = 1;
        while used.contains(&fresh) {
            n += 1;
            fresh = format!("{key}#{n}");
        }
        used.insert(fresh.clone());
        fresh
    }

    /// Asks every question of `requests`: recorded in the task, answered by
    /// `tasks/update`. Waits until all are answered, or `cancellation`.
    pub(crate) async fn ask(
        &self,
        requests: InputRequests,
        cancellation: &CancellationToken,
    ) -> Result<InputResponses, InputError> {
        let asked: Vec<(String, String, super::Kind, Value)> = requests
            .items
            .into_iter()
            .map(|(key, kind, params)| (self.fresh_key(&key), key, kind, params))
            .collect();
        let recorded = self
            .change(|record| {
                for (wire_key, _, kind, params) in &asked {
                    record.input_requests.insert(
                        wire_key.clone(),
                        input_request(kind.method(), params.clone()),
                    );
                }
                record.status = TaskStatus::InputRequired;
            })
            .await;
        match recorded {
            Ok(_) => {}
            Err(Unchanged::Finished) => return Err(InputError::Cancelled),
            Err(Unchanged::Unavailable) => {
                return Err(InputError::Unavailable {
                    reason: "the shared task store is unavailable",
                });
            }
        }
        loop {
            // Registered before the check, so an answer arriving in between
            // still wakes this waiter.
            let arrived = self.arrived.notified();
            if let Some(answers) = self.take_all(&asked)? {
                return Ok(InputResponses { answers });
            }
            tokio::select! {
                () = arrived => {}
                () = cancellation.cancelled() => return Err(InputError::Cancelled),
            }
        }
    }

    /// The parsed answers to every question of `asked`, once all are here.
    fn take_all(
        &self,
        asked: &[(String, String, super::Kind, Value)],
    ) -> Result<Option<HashMap<String, super::InputResponse>>, InputError> {
        let Ok(mut answers) = self.answers.lock() else {
            return Err(InputError::Unavailable {
                reason: "the task's answers cannot be read",
            });
        };
        if !asked.iter().all(|(wire, ..)| answers.contains_key(wire)) {
            return Ok(None);
        }
        let mut parsed = HashMap::with_capacity(asked.len());
        for (wire, key, kind, _) in asked {
            let Some(answer) = answers.remove(wire) else {
                return Ok(None);
            };
            let response = kind
                .parse(&answer)
                .map_err(|reason| InputError::InvalidResponse {
                    reason: format!("inputResponses.{wire}: {reason}"),
                })?;
            parsed.insert(key.clone(), response);
        }
        Ok(Some(parsed))
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
