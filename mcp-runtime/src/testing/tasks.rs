//! The tasks extension from the test client's side: start a tool as a
//! task, read it, answer its questions, cancel it, wait for its end.

use super::client::{ClientError, TestClient};
use crate::protocol::tasks::TASKS_EXTENSION;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// A task, as the server shows it (`tasks/get`, or the create result).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskInfo {
    /// Its id.
    pub task_id: String,
    /// `working`, `input_required`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Why it is where it is, if the server says.
    #[serde(default)]
    pub status_message: Option<String>,
    /// The tool's result, once `completed`.
    #[serde(default)]
    pub result: Option<Value>,
    /// The error, once `failed`.
    #[serde(default)]
    pub error: Option<Value>,
    /// The questions waiting for answers, by key, while `input_required`.
    #[serde(default)]
    pub input_requests: Map<String, Value>,
}

impl TaskInfo {
    /// Completed, failed or cancelled.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }

    /// The text of the result's content blocks, joined, once completed.
    pub fn text(&self) -> String {
        self.result
            .as_ref()
            .and_then(|r| r.get("content"))
            .and_then(Value::as_array)
            .map(|blocks| {
                blocks
                    .iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("")
            })
            .unwrap_or_default()
    }
}

fn decode(value: Value) -> Result<TaskInfo, ClientError> {
    serde_json::from_value(value).map_err(|e| ClientError::Decode(e.to_string()))
}

impl TestClient {
    /// The same client declaring the tasks extension besides its other
    /// capabilities, with a session of its own.
    #[must_use]
    pub fn with_tasks(&self) -> Self {
        let mut capabilities = self.capabilities().clone();
        if !capabilities.is_object() {
            capabilities = json!({});
        }
        capabilities["extensions"][TASKS_EXTENSION] = json!({});
        self.with_capabilities(capabilities)
    }

    /// Calls `tool` with `arguments`, expecting a task (the client must
    /// declare the extension: [`with_tasks`](Self::with_tasks)). A plain
    /// result is a [`ClientError::Decode`].
    pub async fn start_task(&self, tool: &str, arguments: Value) -> Result<TaskInfo, ClientError> {
        let created = self
            .rpc("tools/call", json!({"name": tool, "arguments": arguments}))
            .await?;
        if created.get("resultType").and_then(Value::as_str) != Some("task") {
            return Err(ClientError::Decode(format!(
                "`{tool}` answered without a task: {created}"
            )));
        }
        decode(created)
    }

    /// The task `id` (`tasks/get`).
    pub async fn task(&self, id: &str) -> Result<TaskInfo, ClientError> {
        decode(self.rpc("tasks/get", json!({"taskId": id})).await?)
    }

    /// Answers the task's questions (`tasks/update`): `responses` by key,
    /// e.g. `{"confirm": {"action": "accept", "content": {"ok": true}}}`.
    pub async fn update_task(&self, id: &str, responses: Value) -> Result<(), ClientError> {
        self.rpc(
            "tasks/update",
            json!({"taskId": id, "inputResponses": responses}),
        )
        .await
        .map(|_| ())
    }

    /// Cancels the task (`tasks/cancel`).
    pub async fn cancel_task(&self, id: &str) -> Result<(), ClientError> {
        self.rpc("tasks/cancel", json!({"taskId": id}))
            .await
            .map(|_| ())
    }

    /// Polls the task until it ends or asks for input, for at most
    /// `timeout` ([`ClientError::Decode`] past it).
    pub async fn wait_for_task(
        &self,
        id: &str,
        timeout: Duration,
    ) -> Result<TaskInfo, ClientError> {
        let deadline = Instant::now() + timeout;
        loop {
            let task = self.task(id).await?;
            if task.is_finished() || task.status == "input_required" {
                return Ok(task);
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Decode(format!(
                    "task {id} still {} after {timeout:?}",
                    task.status
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
