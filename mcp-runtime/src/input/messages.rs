//! What a server may ask a client, and what the client answers: elicitation
//! (`elicitation/create`), sampling (`sampling/createMessage`) and roots
//! (`roots/list`).

use super::InputError;
use crate::protocol::{Content, Role};
use crate::schema::object_schema_for;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// An `elicitation/create` request: a question for the user, answered
/// through a form the client draws from a flat JSON Schema, or by visiting
/// a URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Elicitation {
    message: String,
    mode: ElicitationMode,
}

#[derive(Debug, Clone, PartialEq)]
enum ElicitationMode {
    Form { requested_schema: Value },
    Url { url: String, elicitation_id: String },
}

impl Elicitation {
    /// A form: `requested_schema` is an object schema whose properties are
    /// strings, numbers, integers, booleans or enums (with `default`s if you
    /// like), as the MCP specification restricts them.
    pub fn form(message: impl Into<String>, requested_schema: Value) -> Self {
        Self {
            message: message.into(),
            mode: ElicitationMode::Form { requested_schema },
        }
    }

    /// A form whose schema is derived from `T`, whose fields must be
    /// primitive values. Read the answer back with [`ElicitResult::accepted`].
    ///
    /// # Errors
    /// When `T`'s schema is not an object schema.
    pub fn form_for<T: JsonSchema + 'static>(
        message: impl Into<String>,
    ) -> Result<Self, InputError> {
        let schema = object_schema_for::<T>().map_err(|e| InputError::InvalidRequest {
            reason: e.to_string(),
        })?;
        let mut schema = (*schema).clone();
        // A client renders a flat form; the dialect and title add nothing.
        schema.remove("$schema");
        schema.remove("title");
        Ok(Self::form(message, Value::Object(schema)))
    }

    /// URL mode (2025-11-25): the user goes to `url` (to sign in elsewhere,
    /// pay, or enter something the client must not see). `elicitation_id`
    /// names this elicitation in a later `notifications/elicitation/complete`.
    pub fn url(
        message: impl Into<String>,
        url: impl Into<String>,
        elicitation_id: impl Into<String>,
    ) -> Self {
        Self {
            message: message.into(),
            mode: ElicitationMode::Url {
                url: url.into(),
                elicitation_id: elicitation_id.into(),
            },
        }
    }

    pub(crate) fn is_url(&self) -> bool {
        matches!(self.mode, ElicitationMode::Url { .. })
    }

    pub(crate) fn params(&self) -> Value {
        match &self.mode {
            ElicitationMode::Form { requested_schema } => json!({
                "mode": "form",
                "message": self.message,
                "requestedSchema": requested_schema,
            }),
            ElicitationMode::Url {
                url,
                elicitation_id,
            } => json!({
                "mode": "url",
                "message": self.message,
                "url": url,
                "elicitationId": elicitation_id,
            }),
        }
    }
}

/// What the user did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted the form (or agreed to go to the URL).
    Accept,
    /// Explicitly refused.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// The client's answer to an [`Elicitation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted values, on `accept` of a form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Map<String, Value>>,
}

impl ElicitResult {
    /// The submitted form as `T`, or `None` if the user declined or cancelled.
    ///
    /// # Errors
    /// When the submitted values do not fit `T`.
    pub fn accepted<T: DeserializeOwned>(&self) -> Result<Option<T>, InputError> {
        if self.action != ElicitAction::Accept {
            return Ok(None);
        }
        let content = Value::Object(self.content.clone().unwrap_or_default());
        serde_json::from_value(content)
            .map(Some)
            .map_err(|e| InputError::InvalidResponse {
                reason: format!(
                    "the submitted form does not fit: {}",
                    crate::protocol::jsonrpc::describe_json_error(&e)
                ),
            })
    }
}

/// One message of a sampling conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplingMessage {
    /// Who says it.
    pub role: Role,
    /// What is said: text, an image or audio.
    pub content: Content,
}

/// A `sampling/createMessage` request: ask the client's model to write the
/// next message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplingRequest {
    messages: Vec<SamplingMessage>,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stop_sequences: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_preferences: Option<Value>,
}

impl SamplingRequest {
    /// A request for at most `max_tokens` tokens; add messages next.
    pub fn new(max_tokens: u32) -> Self {
        Self {
            messages: Vec::new(),
            max_tokens,
            system_prompt: None,
            temperature: None,
            stop_sequences: Vec::new(),
            model_preferences: None,
        }
    }

    /// Appends a user message in text.
    pub fn user_text(self, text: impl Into<String>) -> Self {
        self.message(Role::User, Content::text(text))
    }

    /// Appends an assistant message in text.
    pub fn assistant_text(self, text: impl Into<String>) -> Self {
        self.message(Role::Assistant, Content::text(text))
    }

    /// Appends a message.
    pub fn message(mut self, role: Role, content: Content) -> Self {
        self.messages.push(SamplingMessage { role, content });
        self
    }

    /// The system prompt the client may use.
    pub fn system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.system_prompt = Some(prompt.into());
        self
    }

    /// Sampling temperature.
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// A sequence that ends generation.
    pub fn stop_sequence(mut self, stop: impl Into<String>) -> Self {
        self.stop_sequences.push(stop.into());
        self
    }

    /// Model preferences (`hints`, `costPriority`, `speedPriority`,
    /// `intelligencePriority`), passed as the specification writes them.
    pub fn model_preferences(mut self, preferences: Value) -> Self {
        self.model_preferences = Some(preferences);
        self
    }

    pub(crate) fn params(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }
}

/// The client's answer to a [`SamplingRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplingResult {
    /// Normally `assistant`.
    pub role: String,
    /// One content block, or several; kept as sent.
    pub content: Value,
    /// The model that wrote it.
    pub model: String,
    /// Why generation stopped (`endTurn`, `stopSequence`, `maxTokens`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
}

impl SamplingResult {
    /// The text of the answer: its text blocks joined, or `None` if it has none.
    pub fn text(&self) -> Option<String> {
        let blocks = match &self.content {
            Value::Array(blocks) => blocks.iter().collect(),
            block => vec![block],
        };
        let texts: Vec<&str> = blocks
            .into_iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        (!texts.is_empty()).then(|| texts.join("\n"))
    }
}

/// A root the client exposes (a folder or a repository, named by URI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    /// A `file://` URI, normally.
    pub uri: String,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The answer to `roots/list`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListRootsResult {
    pub(crate) roots: Vec<Root>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_params_follow_the_specification() {
        let request = SamplingRequest::new(100)
            .user_text("What is the capital of France?")
            .system_prompt("Be brief.");
        assert_eq!(
            request.params(),
            json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": "What is the capital of France?"}}],
                "maxTokens": 100,
                "systemPrompt": "Be brief."
            })
        );
    }

    #[test]
    fn form_for_derives_a_flat_schema() {
        #[derive(JsonSchema, Deserialize)]
        #[allow(dead_code)]
        struct Contact {
            /// Your name.
            name: String,
            age: Option<u8>,
        }
        let elicitation = Elicitation::form_for::<Contact>("Who are you?").unwrap();
        let params = elicitation.params();
        assert_eq!(params["mode"], "form");
        assert_eq!(params["requestedSchema"]["type"], "object");
        assert_eq!(params["requestedSchema"]["required"], json!(["name"]));
        assert!(params["requestedSchema"].get("$schema").is_none());
    }

    #[test]
    fn accepted_reads_the_form_only_on_accept() {
        let answer: ElicitResult =
            serde_json::from_value(json!({"action": "accept", "content": {"name": "Ada"}}))
                .unwrap();
        let name: Option<Map<String, Value>> = answer.accepted().unwrap();
        assert_eq!(name.unwrap()["name"], "Ada");
        let declined: ElicitResult = serde_json::from_value(json!({"action": "decline"})).unwrap();
        assert_eq!(declined.accepted::<Map<String, Value>>().unwrap(), None);
        assert!(serde_json::from_value::<ElicitResult>(json!({"action": "maybe"})).is_err());
    }

    #[test]
    fn sampling_text_joins_text_blocks() {
        let one: SamplingResult = serde_json::from_value(json!({
            "role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "m"
        }))
        .unwrap();
        assert_eq!(one.text().as_deref(), Some("Paris"));
        let image: SamplingResult = serde_json::from_value(json!({
            "role": "assistant", "content": [{"type": "image", "data": "", "mimeType": "image/png"}], "model": "m"
        }))
        .unwrap();
        assert_eq!(image.text(), None);
    }
}
