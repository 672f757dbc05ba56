//! The resource, prompt and completion side of [`TestClient`]: listings
//! (every page), reads and gets with typed results, completion, and
//! resource subscriptions.

use super::{ClientError, TestClient};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// One resource of a `resources/list` answer.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceInfo {
    /// Its URI.
    pub uri: String,
    /// Its name.
    pub name: String,
    /// Its title, if any.
    #[serde(default)]
    pub title: Option<String>,
    /// Its description, with the access requirements the server appends.
    #[serde(default)]
    pub description: Option<String>,
    /// Its MIME type, if declared.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// `_meta`, e.g. `mcp-runtime/access`.
    #[serde(default, rename = "_meta")]
    pub meta: Option<Value>,
}

/// One template of a `resources/templates/list` answer.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceTemplateInfo {
    /// Its URI template, e.g. `notes://{id}`.
    pub uri_template: String,
    /// Its name.
    pub name: String,
    /// Its title, if any.
    #[serde(default)]
    pub title: Option<String>,
    /// Its description, with the access requirements the server appends.
    #[serde(default)]
    pub description: Option<String>,
    /// Its MIME type, if declared.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// `_meta`, e.g. `mcp-runtime/access`.
    #[serde(default, rename = "_meta")]
    pub meta: Option<Value>,
}

/// One prompt of a `prompts/list` answer.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[non_exhaustive]
pub struct PromptInfo {
    /// Its name.
    pub name: String,
    /// Its title, if any.
    #[serde(default)]
    pub title: Option<String>,
    /// Its description, with the access requirements the server appends.
    #[serde(default)]
    pub description: Option<String>,
    /// Its arguments, in order.
    #[serde(default)]
    pub arguments: Vec<PromptArgumentInfo>,
    /// `_meta`, e.g. `mcp-runtime/access`.
    #[serde(default, rename = "_meta")]
    pub meta: Option<Value>,
}

/// One argument of a listed prompt.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[non_exhaustive]
pub struct PromptArgumentInfo {
    /// Its name.
    pub name: String,
    /// Its description, if any.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the prompt needs it.
    #[serde(default)]
    pub required: bool,
}

/// A `resources/read` answer.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[non_exhaustive]
pub struct ResourceRead {
    /// The contents, as sent (`{"uri", "mimeType", "text"}` or `{..., "blob"}`).
    pub contents: Vec<Value>,
}

impl ResourceRead {
    /// The text of every text content, joined with newlines.
    pub fn text(&self) -> String {
        join_texts(self.contents.iter().map(|c| &c["text"]))
    }

    /// The MIME type of the first content, if it has one.
    pub fn mime_type(&self) -> Option<&str> {
        self.contents.first()?["mimeType"].as_str()
    }
}

/// A `prompts/get` answer.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[non_exhaustive]
pub struct PromptResult {
    /// The prompt's description, if it sent one.
    #[serde(default)]
    pub description: Option<String>,
    /// The messages, as sent (`{"role", "content": {"type": "text", ...}}`).
    pub messages: Vec<Value>,
}

impl PromptResult {
    /// The text of every text message, joined with newlines.
    pub fn text(&self) -> String {
        join_texts(self.messages.iter().map(|m| &m["content"]["text"]))
    }
}

/// What a `completion/complete` request completes an argument of.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompletionRef {
    /// A prompt, by name.
    Prompt(String),
    /// A resource template, by its URI template.
    ResourceTemplate(String),
}

impl CompletionRef {
    /// The prompt `name`.
    pub fn prompt(name: impl Into<String>) -> Self {
        Self::Prompt(name.into())
    }

    /// The resource template `uri_template` (as listed, e.g. `notes://{id}`).
    pub fn resource_template(uri_template: impl Into<String>) -> Self {
        Self::ResourceTemplate(uri_template.into())
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Prompt(name) => json!({ "type": "ref/prompt", "name": name }),
            Self::ResourceTemplate(uri) => json!({ "type": "ref/resource", "uri": uri }),
        }
    }
}

/// A `completion/complete` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Completion {
    /// The suggested values, best first.
    pub values: Vec<String>,
    /// How many values there are in all, if the server said.
    #[serde(default)]
    pub total: Option<u64>,
    /// Whether there are more values than were sent.
    #[serde(default)]
    pub has_more: bool,
}

impl TestClient {
    /// Every resource the server lists for this caller, all pages.
    pub async fn list_resources(&self) -> Result<Vec<ResourceInfo>, ClientError> {
        self.list_all("resources/list", "resources").await
    }

    /// Every resource template the server lists for this caller, all pages.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplateInfo>, ClientError> {
        self.list_all("resources/templates/list", "resourceTemplates")
            .await
    }

    /// Every prompt the server lists for this caller, all pages.
    pub async fn list_prompts(&self) -> Result<Vec<PromptInfo>, ClientError> {
        self.list_all("prompts/list", "prompts").await
    }

    /// Reads the resource at `uri` (`resources/read`).
    pub async fn read_resource(&self, uri: &str) -> Result<ResourceRead, ClientError> {
        let result = self.rpc("resources/read", json!({ "uri": uri })).await?;
        decode("resources/read", result)
    }

    /// Gets prompt `name` (`prompts/get`) with `arguments` (a struct, a
    /// `json!({..})` object, or `()` to send none).
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<PromptResult, ClientError> {
        let mut params = json!({ "name": name });
        if let Some(arguments) = super::client::arguments_object(arguments, "prompt")? {
            params["arguments"] = Value::Object(arguments);
        }
        let result = self.rpc("prompts/get", params).await?;
        decode("prompts/get", result)
    }

    /// Asks for completions of `argument` of `target`, whose value so far
    /// is `value` (`completion/complete`).
    pub async fn complete(
        &self,
        target: CompletionRef,
        argument: &str,
        value: &str,
    ) -> Result<Completion, ClientError> {
        let params = json!({
            "ref": target.to_json(),
            "argument": { "name": argument, "value": value },
        });
        let result = self.rpc("completion/complete", params).await?;
        decode("completion/complete", result["completion"].clone())
    }

    /// Subscribes this session to updates of the resource at `uri`
    /// (`resources/subscribe`); `notifications/resources/updated` then
    /// arrives on the session's GET stream.
    pub async fn subscribe(&self, uri: &str) -> Result<(), ClientError> {
        self.rpc("resources/subscribe", json!({ "uri": uri }))
            .await
            .map(|_| ())
    }

    /// Ends a subscription made with [`subscribe`](Self::subscribe).
    pub async fn unsubscribe(&self, uri: &str) -> Result<(), ClientError> {
        self.rpc("resources/unsubscribe", json!({ "uri": uri }))
            .await
            .map(|_| ())
    }

    /// The `key` array of every page of the listing `method`.
    pub(super) async fn list_all<T: DeserializeOwned>(
        &self,
        method: &str,
        key: &str,
    ) -> Result<Vec<T>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let params = match &cursor {
                Some(cursor) => json!({ "cursor": cursor }),
                None => json!({}),
            };
            let result = self.rpc(method, params).await?;
            let page: Vec<T> = serde_json::from_value(result[key].clone())
                .map_err(|e| ClientError::Decode(format!("{method}: {e}: {result}")))?;
            items.extend(page);
            match result["nextCursor"].as_str() {
                Some(next) if !next.is_empty() => cursor = Some(next.to_owned()),
                _ => return Ok(items),
            }
        }
    }
}

fn decode<T: DeserializeOwned>(method: &str, result: Value) -> Result<T, ClientError> {
    serde_json::from_value(result.clone())
        .map_err(|e| ClientError::Decode(format!("{method}: {e}: {result}")))
}

fn join_texts<'a>(texts: impl Iterator<Item = &'a Value>) -> String {
    texts
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}
