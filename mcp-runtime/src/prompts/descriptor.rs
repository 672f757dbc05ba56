//! The prompt descriptor, built by hand with [`Prompt::new`].

use crate::access::AccessRule;
use crate::completion::{Completer, CompletionRequest};
use crate::context::RequestContext;
use crate::protocol::{Content, HandlerError, Role};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Why a prompt could not be rendered: the one error type of prompts and
/// resources, answered as a JSON-RPC error.
pub type PromptError = HandlerError;

/// One message of a rendered prompt: text, image, audio or an embedded resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptMessage {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: Content,
}

impl PromptMessage {
    /// A user message.
    pub fn user(content: Content) -> Self {
        Self {
            role: Role::User,
            content,
        }
    }

    /// An assistant message.
    pub fn assistant(content: Content) -> Self {
        Self {
            role: Role::Assistant,
            content,
        }
    }

    /// A user message of plain text.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self::user(Content::text(text))
    }
}

/// The result of `prompts/get`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct GetPromptResult {
    /// A description of the rendered prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The messages.
    pub messages: Vec<PromptMessage>,
}

/// What a prompt handler may return.
pub trait IntoPromptResult {
    /// The result.
    fn into_prompt_result(self) -> Result<GetPromptResult, PromptError>;
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> Result<GetPromptResult, PromptError> {
        Ok(self)
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> Result<GetPromptResult, PromptError> {
        Ok(GetPromptResult {
            description: None,
            messages: self,
        })
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> Result<GetPromptResult, PromptError> {
        vec![self].into_prompt_result()
    }
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> Result<GetPromptResult, PromptError> {
        PromptMessage::user_text(self).into_prompt_result()
    }
}

impl IntoPromptResult for &'static str {
    fn into_prompt_result(self) -> Result<GetPromptResult, PromptError> {
        PromptMessage::user_text(self).into_prompt_result()
    }
}

impl<T: IntoPromptResult, E: Into<PromptError>> IntoPromptResult for Result<T, E> {
    fn into_prompt_result(self) -> Result<GetPromptResult, PromptError> {
        self.map_err(Into::into)?.into_prompt_result()
    }
}

/// The future a prompt handler returns.
pub type PromptFuture =
    Pin<Box<dyn Future<Output = Result<GetPromptResult, PromptError>> + Send + 'static>>;

/// A type-erased prompt handler.
pub type PromptHandler = Arc<dyn Fn(PromptRequest) -> PromptFuture + Send + Sync>;

/// One `prompts/get`: the arguments and the context.
#[derive(Clone)]
pub struct PromptRequest {
    pub(crate) arguments: HashMap<String, String>,
    pub(crate) context: RequestContext,
}

impl PromptRequest {
    /// A request with `arguments`, for calling a handler directly in tests.
    pub fn new(arguments: HashMap<String, String>) -> Self {
        Self {
            arguments,
            context: RequestContext::detached(),
        }
    }

    /// An argument, if given.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.arguments.get(name).map(String::as_str)
    }

    /// All arguments.
    pub fn arguments(&self) -> &HashMap<String, String> {
        &self.arguments
    }

    /// The arguments as a typed struct (-32602 if they do not fit).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, PromptError> {
        let value = serde_json::to_value(&self.arguments).map_err(PromptError::from)?;
        serde_json::from_value(value)
            .map_err(|e| PromptError::invalid(format!("invalid prompt arguments: {e}")))
    }

    /// The request's context (caller, logging, cancellation).
    pub fn context(&self) -> &RequestContext {
        &self.context
    }
}

/// One declared argument of a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptArgument {
    /// Its name.
    pub name: String,
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether `prompts/get` must supply it.
    pub required: bool,
}

/// One prompt: its listing, arguments, access rule and handler.
///
/// ```
/// use mcp_runtime::prompts::Prompt;
/// let p = Prompt::new("greet", |req| async move {
///     format!("Say hello to {}", req.arg("name").unwrap_or("everyone"))
/// })
/// .description("A greeting.")
/// .optional_argument("name", "Who to greet");
/// assert_eq!(p.name(), "greet");
/// ```
#[derive(Clone)]
pub struct Prompt {
    pub(crate) name: Cow<'static, str>,
    pub(crate) title: Option<Cow<'static, str>>,
    pub(crate) description: Option<Cow<'static, str>>,
    pub(crate) arguments: Vec<PromptArgument>,
    pub(crate) access: AccessRule,
    pub(crate) handler: PromptHandler,
    pub(crate) completers: HashMap<String, Completer>,
}

impl Prompt {
    /// The prompt `name`, rendered by `handler`.
    pub fn new<F, Fut, R>(name: impl Into<Cow<'static, str>>, handler: F) -> Self
    where
        F: Fn(PromptRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoPromptResult,
    {
        let handler: PromptHandler = Arc::new(move |request| {
            let fut = handler(request);
            Box::pin(async move { fut.await.into_prompt_result() })
        });
        Self {
            name: name.into(),
            title: None,
            description: None,
            arguments: Vec::new(),
            access: AccessRule::default(),
            handler,
            completers: HashMap::new(),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The declared arguments.
    pub fn arguments(&self) -> &[PromptArgument] {
        &self.arguments
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<Cow<'static, str>>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<Cow<'static, str>>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Declares an argument.
    pub fn argument(mut self, argument: PromptArgument) -> Self {
        self.arguments.push(argument);
        self
    }

    /// Declares a required argument.
    pub fn required_argument(
        self,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.argument(PromptArgument {
            name: name.into(),
            description: Some(description.into()),
            required: true,
        })
    }

    /// Declares an optional argument.
    pub fn optional_argument(
        self,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.argument(PromptArgument {
            name: name.into(),
            description: Some(description.into()),
            required: false,
        })
    }

    /// Suggests values of the argument `argument` for `completion/complete`.
    pub fn complete<F>(mut self, argument: impl Into<String>, completer: F) -> Self
    where
        F: Fn(&CompletionRequest) -> Vec<String> + Send + Sync + 'static,
    {
        self.completers.insert(argument.into(), Arc::new(completer));
        self
    }

    access_rule_methods!(access);

    /// Requires an authenticated caller (the handler takes `&Auth`): a
    /// request without one is refused before the handler runs.
    pub fn requires_caller(mut self) -> Self {
        self.access.caller = true;
        self
    }

    /// The access rule enforced before the handler runs.
    pub fn access(&self) -> &AccessRule {
        &self.access
    }

    /// The `prompts/list` entry.
    pub fn to_listing(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), json!(self.name));
        if let Some(title) = &self.title {
            map.insert("title".into(), json!(title));
        }
        // The suite wants a description on every prompt.
        map.insert(
            "description".into(),
            json!(self.description.as_deref().unwrap_or(&self.name)),
        );
        if !self.arguments.is_empty() {
            map.insert("arguments".into(), json!(self.arguments));
        }
        if let Some(access) = self.access.to_meta() {
            map.insert(
                "_meta".into(),
                json!({ crate::access::ACCESS_META_KEY: access }),
            );
        }
        Value::Object(map)
    }
}

/// What [`McpServerBuilder::prompt`](crate::McpServerBuilder::prompt)
/// registers: a [`Prompt`], or a function marked `#[mcp_prompt]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an MCP prompt",
    label = "expected a `Prompt` or a function marked `#[mcp_prompt]`",
    note = "mark the function with `#[mcp_prompt]`, or build one with `Prompt::new(name, handler)`"
)]
pub trait IntoPrompt {
    /// The prompt.
    fn into_prompt(self) -> Prompt;
}

impl IntoPrompt for Prompt {
    fn into_prompt(self) -> Prompt {
        self
    }
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("name", &self.name)
            .field("arguments", &self.arguments)
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}
