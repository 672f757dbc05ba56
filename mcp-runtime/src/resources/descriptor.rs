//! Resource and resource-template descriptors, built by hand with
//! [`Resource::new`] and [`ResourceTemplate::new`].

use super::template::UriTemplate;
use crate::access::AccessRule;
use crate::completion::{Completer, CompletionRequest};
use crate::context::RequestContext;
use crate::protocol::{HandlerError, ResourceContents};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

/// Why a resource could not be read: the one error type of resources and
/// prompts, answered as a JSON-RPC error.
pub type ResourceError = HandlerError;

/// The contents a read returns.
pub type ReadOutcome = Result<Vec<ResourceContents>, ResourceError>;

/// The future a resource handler returns.
pub type ResourceFuture = Pin<Box<dyn Future<Output = ReadOutcome> + Send + 'static>>;

/// A type-erased resource handler.
pub type ResourceHandler = Arc<dyn Fn(ResourceRequest) -> ResourceFuture + Send + Sync>;

/// Binary contents, sent base64 encoded as a `blob`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

/// One read of a resource: its URI, the template parameters and the context.
#[derive(Clone)]
pub struct ResourceRequest {
    pub(crate) uri: String,
    pub(crate) mime_type: Option<String>,
    pub(crate) params: HashMap<String, String>,
    pub(crate) context: RequestContext,
}

impl ResourceRequest {
    /// A request for `uri`, for calling a handler directly in tests.
    pub fn new(uri: impl Into<String>, params: HashMap<String, String>) -> Self {
        Self {
            uri: uri.into(),
            mime_type: None,
            params,
            context: RequestContext::detached(),
        }
    }

    /// The URI read.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// A template parameter, as found in the URI (percent-decoded).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A template parameter parsed with `FromStr` (-32602 if absent or invalid).
    pub fn param_as<T: FromStr>(&self, name: &str) -> Result<T, ResourceError>
    where
        T::Err: Display,
    {
        let raw = self
            .param(name)
            .ok_or_else(|| ResourceError::invalid(format!("missing URI parameter `{name}`")))?;
        raw.parse()
            .map_err(|e| ResourceError::invalid(format!("URI parameter `{name}`: {e}")))
    }

    /// The request's context (caller, logging, cancellation).
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    fn text(&self, text: String) -> ResourceContents {
        ResourceContents::Text {
            uri: self.uri.clone(),
            mime_type: self.mime_type.clone(),
            text,
        }
    }
}

/// What a resource handler may return.
pub trait IntoReadResult {
    /// The contents, for the request `request`.
    fn into_read_result(self, request: &ResourceRequest) -> ReadOutcome;
}

impl IntoReadResult for ResourceContents {
    fn into_read_result(self, _: &ResourceRequest) -> ReadOutcome {
        Ok(vec![self])
    }
}

impl IntoReadResult for Vec<ResourceContents> {
    fn into_read_result(self, _: &ResourceRequest) -> ReadOutcome {
        Ok(self)
    }
}

impl IntoReadResult for String {
    fn into_read_result(self, request: &ResourceRequest) -> ReadOutcome {
        Ok(vec![request.text(self)])
    }
}

impl IntoReadResult for &'static str {
    fn into_read_result(self, request: &ResourceRequest) -> ReadOutcome {
        Ok(vec![request.text(self.to_owned())])
    }
}

impl IntoReadResult for Blob {
    fn into_read_result(self, request: &ResourceRequest) -> ReadOutcome {
        Ok(vec![ResourceContents::Blob {
            uri: request.uri.clone(),
            mime_type: request.mime_type.clone(),
            blob: base64::engine::general_purpose::STANDARD.encode(self.0),
        }])
    }
}

impl<T: IntoReadResult, E: Into<ResourceError>> IntoReadResult for Result<T, E> {
    fn into_read_result(self, request: &ResourceRequest) -> ReadOutcome {
        self.map_err(Into::into)?.into_read_result(request)
    }
}

fn erase<F, Fut, R>(handler: F) -> ResourceHandler
where
    F: Fn(ResourceRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoReadResult,
{
    Arc::new(move |request: ResourceRequest| {
        let fut = handler(request.clone());
        Box::pin(async move { fut.await.into_read_result(&request) })
    })
}

/// What resources and templates share: listing fields, access, handler.
#[derive(Clone)]
pub(crate) struct Common {
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) title: Option<Cow<'static, str>>,
    pub(crate) description: Option<Cow<'static, str>>,
    pub(crate) mime_type: Option<Cow<'static, str>>,
    pub(crate) access: AccessRule,
    pub(crate) handler: ResourceHandler,
}

impl Common {
    fn listing(&self, key: &str, uri: &str) -> Value {
        let mut map = Map::new();
        map.insert(key.into(), json!(uri));
        map.insert("name".into(), json!(self.name.as_deref().unwrap_or(uri)));
        for (k, v) in [
            ("title", &self.title),
            ("description", &self.description),
            ("mimeType", &self.mime_type),
        ] {
            if let Some(v) = v {
                map.insert(k.into(), json!(v));
            }
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

macro_rules! listing_methods {
    () => {
        /// Sets the name shown in listings (default: the URI).
        pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
            self.common.name = Some(name.into());
            self
        }

        /// Sets the human-readable title.
        pub fn title(mut self, title: impl Into<Cow<'static, str>>) -> Self {
            self.common.title = Some(title.into());
            self
        }

        /// Sets the description.
        pub fn description(mut self, description: impl Into<Cow<'static, str>>) -> Self {
            self.common.description = Some(description.into());
            self
        }

        /// Sets the MIME type, used for text and blob contents the handler
        /// returns without one.
        pub fn mime_type(mut self, mime_type: impl Into<Cow<'static, str>>) -> Self {
            self.common.mime_type = Some(mime_type.into());
            self
        }

        access_rule_methods!(common.access);

        /// Requires an authenticated caller (the handler takes `&Auth`): a
        /// request without one is refused before the handler runs.
        pub fn requires_caller(mut self) -> Self {
            self.common.access.caller = true;
            self
        }

        /// The access rule enforced before the handler runs.
        pub fn access(&self) -> &AccessRule {
            &self.common.access
        }
    };
}

/// A resource at a fixed URI.
///
/// ```
/// use mcp_runtime::resources::Resource;
/// let r = Resource::new("test://hello", |_req| async { "Hello" }).mime_type("text/plain");
/// assert_eq!(r.uri(), "test://hello");
/// ```
#[derive(Clone)]
pub struct Resource {
    pub(crate) uri: Cow<'static, str>,
    pub(crate) common: Common,
}

impl Resource {
    /// The resource at `uri`, read by `handler`.
    pub fn new<F, Fut, R>(uri: impl Into<Cow<'static, str>>, handler: F) -> Self
    where
        F: Fn(ResourceRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoReadResult,
    {
        Self {
            uri: uri.into(),
            common: Common {
                name: None,
                title: None,
                description: None,
                mime_type: None,
                access: AccessRule::default(),
                handler: erase(handler),
            },
        }
    }

    /// The URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The `resources/list` entry.
    pub fn to_listing(&self) -> Value {
        self.common.listing("uri", &self.uri)
    }

    listing_methods!();
}

/// Resources whose URIs follow a template, e.g. `test://template/{id}/data`.
#[derive(Clone)]
pub struct ResourceTemplate {
    pub(crate) template: Result<UriTemplate, String>,
    pub(crate) raw: Cow<'static, str>,
    pub(crate) common: Common,
    pub(crate) completers: HashMap<String, Completer>,
}

impl ResourceTemplate {
    /// Resources matching `template`, read by `handler`
    /// ([`ResourceRequest::param`] gives the parameters by name).
    pub fn new<F, Fut, R>(template: impl Into<Cow<'static, str>>, handler: F) -> Self
    where
        F: Fn(ResourceRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoReadResult,
    {
        let raw = template.into();
        Self {
            template: UriTemplate::parse(&raw),
            raw,
            common: Common {
                name: None,
                title: None,
                description: None,
                mime_type: None,
                access: AccessRule::default(),
                handler: erase(handler),
            },
            completers: HashMap::new(),
        }
    }

    /// The template as written.
    pub fn uri_template(&self) -> &str {
        &self.raw
    }

    /// Suggests values of the parameter `param` for `completion/complete`.
    pub fn complete<F>(mut self, param: impl Into<String>, completer: F) -> Self
    where
        F: Fn(&CompletionRequest) -> Vec<String> + Send + Sync + 'static,
    {
        self.completers.insert(param.into(), Arc::new(completer));
        self
    }

    /// The `resources/templates/list` entry.
    pub fn to_listing(&self) -> Value {
        self.common.listing("uriTemplate", &self.raw)
    }

    listing_methods!();
}

/// What [`McpServerBuilder::resource`](crate::McpServerBuilder::resource)
/// registers: a [`Resource`], or a function marked `#[mcp_resource]` with a
/// fixed URI.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an MCP resource",
    label = "expected a `Resource` or a function marked `#[mcp_resource(uri = \"...\")]`",
    note = "mark the function with `#[mcp_resource(uri = \"...\")]`, or build one with `Resource::new(uri, handler)`; a URI with `{{variables}}` is a template, registered with `.resource_template(..)`"
)]
pub trait IntoResource {
    /// The resource.
    fn into_resource(self) -> Resource;
}

impl IntoResource for Resource {
    fn into_resource(self) -> Resource {
        self
    }
}

/// What [`McpServerBuilder::resource_template`](crate::McpServerBuilder::resource_template)
/// registers: a [`ResourceTemplate`], or a function marked `#[mcp_resource]`
/// whose URI has `{variables}`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an MCP resource template",
    label = "expected a `ResourceTemplate` or a function marked `#[mcp_resource(uri = \"...{{id}}\")]`",
    note = "mark the function with `#[mcp_resource(uri = \"app://items/{{id}}\")]`, or build one with `ResourceTemplate::new(template, handler)`; a fixed URI is registered with `.resource(..)`"
)]
pub trait IntoResourceTemplate {
    /// The resource template.
    fn into_resource_template(self) -> ResourceTemplate;
}

impl IntoResourceTemplate for ResourceTemplate {
    fn into_resource_template(self) -> ResourceTemplate {
        self
    }
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("uri", &self.uri)
            .field("access", &self.common.access)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ResourceTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceTemplate")
            .field("uri_template", &self.raw)
            .field("access", &self.common.access)
            .finish_non_exhaustive()
    }
}
