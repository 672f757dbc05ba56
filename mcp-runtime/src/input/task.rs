//! Questions a task asks: they go into the task's shared record (its
//! status turns `input_required`, `tasks/get` shows them), and the answers
//! come back through `tasks/update`, on whichever replica the client
//! reaches: that replica takes them out of the record (atomically, in the
//! store) and hands them to this inbox, here or over the bus.

use super::{InputError, InputRequests, InputResponses, input_request};
use crate::state::{TaskChange, Tasks};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Where a running task's answers arrive.
pub(crate) struct TaskInbox {
    task_id: Arc<str>,
    tasks: Arc<dyn Tasks>,
    /// Answers delivered and not yet taken, by the keys the client saw.
    answers: Mutex<HashMap<String, Value>>,
    /// Every key this task has used, so none is used twice in its life.
    used_keys: Mutex<HashSet<String>>,
    arrived: Notify,
}

impl TaskInbox {
    pub(crate) fn new(task_id: Arc<str>, tasks: Arc<dyn Tasks>) -> Self {
        Self {
            task_id,
            tasks,
            answers: Mutex::new(HashMap::new()),
            used_keys: Mutex::new(HashSet::new()),
            arrived: Notify::new(),
        }
    }

    /// Answers the store already took out of the record, for the handler.
    pub(crate) fn deliver(&self, answers: Map<String, Value>) {
        if answers.is_empty() {
            return;
        }
        if let Ok(mut waiting) = self.answers.lock() {
            waiting.extend(answers);
        }
        self.arrived.notify_waiters();
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
        let asked: Vec<(String, String, super::Kind)> = requests
            .items
            .iter()
            .map(|(key, kind, _)| (self.fresh_key(key), key.clone(), *kind))
            .collect();
        let questions = asked
            .iter()
            .zip(requests.items)
            .map(|((wire, ..), (_, kind, params))| {
                (wire.clone(), input_request(kind.method(), params))
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
        asked: &[(String, String, super::Kind)],
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
        for (wire, key, kind) in asked {
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
