//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663): a
//! `tools/call` answered at once with a task the client polls
//! (`tasks/get`), feeds (`tasks/update`) and cancels (`tasks/cancel`).

use super::ErrorObject;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

/// The extension's name, under `capabilities.extensions`.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// The notification that carries a task's state as `tasks/get` shows it.
pub const STATUS_NOTIFICATION: &str = "notifications/tasks";

/// Whether `capabilities` (a client's declaration) names the extension.
pub(crate) fn declares_tasks(capabilities: &Value) -> bool {
    capabilities
        .get("extensions")
        .and_then(|extensions| extensions.get(TASKS_EXTENSION))
        .is_some_and(Value::is_object)
}

/// The `data` of the -32021 error for a client that did not declare the
/// extension a method or a tool needs.
pub(crate) fn tasks_capability_required() -> Value {
    json!({ "requiredCapabilities": { "extensions": { TASKS_EXTENSION: {} } } })
}

/// Whether a tool may, or must, run as a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskSupport {
    /// Never: every call runs in its request (the default).
    #[default]
    Forbidden,
    /// When the client declared the extension; else in its request.
    Optional,
    /// Only as a task: a client without the extension is refused (-32021).
    Required,
}

impl TaskSupport {
    /// The tool descriptor's `execution.taskSupport` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// The handler runs.
    Working,
    /// The handler waits for the client's answers (`tasks/update`).
    InputRequired,
    /// The handler returned; its result (an error result included) is kept.
    Completed,
    /// The handler failed outside its result (a panic, a protocol error).
    Failed,
    /// Cancelled by the client.
    Cancelled,
}

impl TaskStatus {
    /// Completed, failed or cancelled: nothing changes it any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// A task as the client sees it: in the create result (without the
/// status-specific fields) and in `tasks/get`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskView<'a> {
    /// `"task"` in the create result; `tasks/get` gets `"complete"` added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) result_type: Option<&'static str>,
    pub(crate) task_id: &'a str,
    pub(crate) status: TaskStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status_message: Option<&'a str>,
    /// ISO 8601, UTC.
    pub(crate) created_at: String,
    pub(crate) last_updated_at: String,
    /// Always present: `null` means kept without limit.
    pub(crate) ttl_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) poll_interval_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) result: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<&'a ErrorObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) input_requests: Option<&'a std::collections::BTreeMap<&'a str, Box<RawValue>>>,
}

/// `tasks/get` and `tasks/cancel`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskIdParams {
    pub(crate) task_id: String,
}

/// `tasks/update`: the client's answers to the questions a task asked.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateTaskParams {
    pub(crate) task_id: String,
    #[serde(default)]
    pub(crate) input_responses: Map<String, Value>,
}

/// `millis` since the Unix epoch as ISO 8601 in UTC
/// (`2026-12-07T10:20:30.123Z`).
pub(crate) fn iso8601(millis: u64) -> String {
    let secs = millis / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rest = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_8601_in_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_796_638_830_123), "2026-12-07T10:20:30.123Z");
        assert_eq!(iso8601(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
    }

    #[test]
    fn the_extension_is_declared_as_an_object_under_extensions() {
        assert!(declares_tasks(
            &json!({"extensions": {TASKS_EXTENSION: {}}})
        ));
        for other in [
            json!(null),
            json!({}),
            json!({"extensions": {}}),
            json!({"extensions": {TASKS_EXTENSION: true}}),
            json!({"tasks": {}}),
        ] {
            assert!(!declares_tasks(&other), "{other}");
        }
        assert_eq!(
            tasks_capability_required()["requiredCapabilities"]["extensions"][TASKS_EXTENSION],
            json!({})
        );
    }

    #[test]
    fn statuses_are_snake_case() {
        assert_eq!(
            serde_json::to_value(TaskStatus::InputRequired).unwrap(),
            "input_required"
        );
        assert!(TaskStatus::Cancelled.is_terminal() && !TaskStatus::Working.is_terminal());
    }
}
