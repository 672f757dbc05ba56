//! Questions a task asks: they go into the task's shared record (its
//! status turns `input_required`, `tasks/get` shows them), and the answers
//! come back through `tasks/update`, on whichever replica the client
//! reaches: that replica moves them, atomically, from the record's
//! questions to its answers and wakes this inbox (here, or over the bus);
//! the inbox also looks every second, so an answer whose wake-up was lost
//! is only late.

use super::{InputError, InputRequests, InputResponses, input_request};
use crate::state::{TaskChange, Tasks};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How often a waiting handler looks for its answers without a wake-up.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// Where a running task's answers arrive.
pub(crate) struct TaskInbox {
    task_id: Arc<str>,
    tasks: Arc<dyn Tasks>,
    /// How often each key was asked, so no key is used twice in its life.
    asked_keys: Mutex<HashMap<String, u64>>,
    arrived: Notify,
    /// How long a question waits for its answer.
    timeout: Duration,
}

impl TaskInbox {
    pub(crate) fn new(task_id: Arc<str>, tasks: Arc<dyn Tasks>, timeout: Duration) -> Self {
        Self {
            task_id,
            tasks,
            asked_keys: Mutex::new(HashMap::new()),
            arrived: Notify::new(),
            timeout,
        }
    }

    /// Answers wait in the record: look now.
    pub(crate) fn wake(&self) {
        self.arrived.notify_waiters();
    }

    /// A key of its own for `key`, never used before in this task's life:
    /// `key` the first time, then `key#2`, `key#3`, ...
    fn fresh_key(&self, key: &str) -> String {
        let Ok(mut asked) = self.asked_keys.lock() else {
            return format!("{key}#{}", crate::random::random_token::<6>());
        };
        let n = asked.entry(key.to_owned()).or_insert(0);
        *n += 1;
        if *n == 1 {
            key.to_owned()
        } else {
            format!("{key}#{n}")
        }
    }

    /// Asks every question of `requests`: recorded in the task, answered by
    /// `tasks/update`. Waits until all are answered, or `cancellation`.
    pub(crate) async fn ask(
        &self,
        requests: InputRequests,
        cancellation: &CancellationToken,
    ) -> Result<InputResponses, InputError> {
        if requests.items.is_empty() {
            return Ok(InputResponses::default());
        }
        let asked: Vec<(String, String, super::Kind)> = requests
            .items
            .iter()
            .map(|(key, kind, _)| (self.fresh_key(key), key.clone(), *kind))
            .collect();
        let questions = asked
            .iter()
            .zip(requests.items)
            .map(|((wire, ..), (_, kind, params))| {
                (
                    wire.clone(),
                    input_request(kind.method(), params).to_string(),
                )
            })
            .collect();
        let change = TaskChange::Ask {
            requests: questions,
        };
        match self
            .tasks
            .change_task(&self.task_id, &change, now_ms())
            .await
        {
            Ok(Some(_)) => {}
            Ok(None) => return Err(InputError::Cancelled),
            Err(_) => {
                return Err(InputError::Unavailable {
                    reason: "the shared task store is unavailable",
                });
            }
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            // Registered before the check, so an answer arriving in between
            // still wakes this waiter.
            let arrived = self.arrived.notified();
            if let Some(answers) = self.take_all(&asked).await? {
                return Ok(InputResponses { answers });
            }
            tokio::select! {
                () = arrived => {}
                () = tokio::time::sleep(LOOK_EVERY) => {}
                () = cancellation.cancelled() => return Err(InputError::Cancelled),
                () = tokio::time::sleep_until(deadline) => {
                    return Err(InputError::TimedOut(self.timeout));
                }
            }
        }
    }

    /// The parsed answers to every question of `asked`, once all wait in
    /// the record; taken out of it then.
    async fn take_all(
        &self,
        asked: &[(String, String, super::Kind)],
    ) -> Result<Option<HashMap<String, super::InputResponse>>, InputError> {
        let unavailable = || InputError::Unavailable {
            reason: "the shared task store is unavailable",
        };
        let Some(stored) = self
            .tasks
            .load_task(&self.task_id)
            .await
            .map_err(|_| unavailable())?
        else {
            return Err(InputError::Cancelled);
        };
        let record = stored.record;
        if record.status.is_terminal() {
            return Err(InputError::Cancelled);
        }
        if !asked
            .iter()
            .all(|(wire, ..)| record.answers.contains_key(wire))
        {
            return Ok(None);
        }
        let mut parsed = HashMap::with_capacity(asked.len());
        for (wire, key, kind) in asked {
            let answer = serde_json::from_str::<Value>(&record.answers[wire]).map_err(|e| {
                InputError::InvalidResponse {
                    reason: format!("inputResponses.{wire}: {e}"),
                }
            })?;
            let response = kind
                .parse(&answer)
                .map_err(|reason| InputError::InvalidResponse {
                    reason: format!("inputResponses.{wire}: {reason}"),
                })?;
            parsed.insert(key.clone(), response);
        }
        let collect = TaskChange::Collect {
            keys: asked.iter().map(|(wire, ..)| wire.clone()).collect(),
        };
        self.tasks
            .change_task(&self.task_id, &collect, now_ms())
            .await
            .map_err(|_| unavailable())?;
        Ok(Some(parsed))
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
