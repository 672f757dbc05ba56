//! Changes to the tools, resources and prompts while the server runs: each
//! change swaps in a new registry under a writer lock (readers never wait)
//! and is announced on the sessions' GET streams.

use super::{McpServer, PROMPTS_CHANGED, RESOURCES_CHANGED, TOOLS_CHANGED};
use crate::access::AccessRule;
use crate::auth::OAuthKind;
use crate::prompts::IntoPrompt;
use crate::resources::{IntoResource, IntoResourceTemplate};
use crate::tools::{IntoTool, RegistryError};
use arc_swap::ArcSwap;
use std::sync::Arc;

impl McpServer {
    /// Adds a tool while the server runs, validated like the builder's tools
    /// (name rules, unique name, schemas; a tool that needs an authenticated
    /// caller is refused on a server without OAuth), then sends
    /// `notifications/tools/list_changed` on the GET stream of every session
    /// that has one open. Requests already running keep the tool set they
    /// started with.
    ///
    /// Clones share the tools, so keep a clone to change them once serving:
    ///
    /// ```no_run
    /// # use mcp_runtime::prelude::*;
    /// # async fn run(server: McpServer) -> std::io::Result<()> {
    /// let handle = server.clone();
    /// let running = server.bind("127.0.0.1:3000")?;
    /// handle
    ///     .add_tool(Tool::new("late", || async { "added at run time" }))
    ///     .expect("valid tool");
    /// running.await
    /// # }
    /// ```
    ///
    /// The protected-resource metadata's `scopes_supported` is settled when
    /// the server is bound (or mounted): a scope that only a tool added later
    /// declares is not listed there. Declare such scopes up front, e.g. on a
    /// placeholder tool, resource or prompt, if clients should discover them.
    pub fn add_tool(&self, tool: impl IntoTool) -> Result<(), RegistryError> {
        let tool = tool.into_tool();
        if matches!(self.core.oauth.kind, OAuthKind::None) && tool.access().needs_caller() {
            return Err(RegistryError::Unreachable(tool.name().to_owned()));
        }
        let name = tool.name().to_owned();
        self.replace(
            &self.core.tools,
            TOOLS_CHANGED,
            ("tool", &name, "added"),
            |t| Some(t.with_tool(tool)),
        )
        .map(drop)
    }

    /// Removes the tool called `name` while the server runs and, if there
    /// was one, sends `notifications/tools/list_changed` like
    /// [`add_tool`](Self::add_tool). Calls of it already running finish;
    /// later calls answer "unknown tool". Returns whether it existed.
    pub fn remove_tool(&self, name: &str) -> bool {
        self.replace(
            &self.core.tools,
            TOOLS_CHANGED,
            ("tool", name, "removed"),
            |t| t.without_tool(name).map(Ok),
        )
        .unwrap_or(false)
    }

    /// Adds a resource while the server runs (validated like those given to
    /// the builder) and sends `notifications/resources/list_changed` on
    /// every open GET stream.
    ///
    /// # Errors
    /// When it clashes with a served resource, or declares access rules on a
    /// server that authenticates no one.
    pub fn add_resource(&self, resource: impl IntoResource) -> Result<(), RegistryError> {
        let resource = resource.into_resource();
        self.refuse_unreachable(resource.access(), &format!("resource `{}`", resource.uri()))?;
        let uri = resource.uri().to_owned();
        let audit = ("resource", uri.as_str(), "added");
        self.replace(&self.core.resources, RESOURCES_CHANGED, audit, |r| {
            Some(r.with_resource(resource).map_err(RegistryError::Features))
        })
        .map(drop)
    }

    /// Adds a resource template while the server runs, like
    /// [`add_resource`](Self::add_resource).
    ///
    /// # Errors
    /// As [`add_resource`](Self::add_resource).
    pub fn add_resource_template(
        &self,
        template: impl IntoResourceTemplate,
    ) -> Result<(), RegistryError> {
        let template = template.into_resource_template();
        let what = format!("resource template `{}`", template.uri_template());
        self.refuse_unreachable(template.access(), &what)?;
        let written = template.uri_template().to_owned();
        let audit = ("resource_template", written.as_str(), "added");
        self.replace(&self.core.resources, RESOURCES_CHANGED, audit, |r| {
            Some(r.with_template(template).map_err(RegistryError::Features))
        })
        .map(drop)
    }

    /// Removes the resource at `uri` (or the template written `uri`) and
    /// sends `notifications/resources/list_changed`. Returns whether it existed.
    pub fn remove_resource(&self, uri: &str) -> bool {
        self.replace(
            &self.core.resources,
            RESOURCES_CHANGED,
            ("resource", uri, "removed"),
            |r| r.without(uri).map(Ok),
        )
        .unwrap_or(false)
    }

    /// Adds a prompt while the server runs (validated like those given to
    /// the builder) and sends `notifications/prompts/list_changed`.
    ///
    /// # Errors
    /// As [`add_resource`](Self::add_resource).
    pub fn add_prompt(&self, prompt: impl IntoPrompt) -> Result<(), RegistryError> {
        let prompt = prompt.into_prompt();
        self.refuse_unreachable(prompt.access(), &format!("prompt `{}`", prompt.name()))?;
        let name = prompt.name().to_owned();
        self.replace(
            &self.core.prompts,
            PROMPTS_CHANGED,
            ("prompt", &name, "added"),
            |p| Some(p.with_prompt(prompt).map_err(RegistryError::Features)),
        )
        .map(drop)
    }

    /// Removes the prompt called `name` and sends
    /// `notifications/prompts/list_changed`. Returns whether it existed.
    pub fn remove_prompt(&self, name: &str) -> bool {
        self.replace(
            &self.core.prompts,
            PROMPTS_CHANGED,
            ("prompt", name, "removed"),
            |p| p.without(name).map(Ok),
        )
        .unwrap_or(false)
    }

    /// Swaps `registry` for what `next` makes of it, under the one writer
    /// lock of all three registries, announces `notification`, and writes
    /// the audit event `audit` (kind, name, change). `next` answers `None`
    /// when there is nothing to change; an invalid result changes nothing.
    /// Returns whether it changed.
    fn replace<R>(
        &self,
        registry: &ArcSwap<R>,
        notification: &'static str,
        audit: (&'static str, &str, &'static str),
        next: impl FnOnce(&R) -> Option<Result<R, RegistryError>>,
    ) -> Result<bool, RegistryError> {
        {
            let _writer = self
                .core
                .registry_writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(next) = next(&registry.load()) else {
                return Ok(false);
            };
            registry.store(Arc::new(next?));
        }
        let (kind, name, change) = audit;
        crate::operations::audit::registry_change(kind, name, change);
        self.sessions.notify_list_changed(notification);
        Ok(true)
    }

    /// Access rules no caller could ever meet on a server without OAuth.
    fn refuse_unreachable(&self, access: &AccessRule, what: &str) -> Result<(), RegistryError> {
        if matches!(self.core.oauth.kind, OAuthKind::None) && access.needs_caller() {
            return Err(RegistryError::Features(vec![format!(
                "{what} declares scopes, roles or permissions, or needs a caller, \
                 but the server authenticates no one; configure `oauth`"
            )]));
        }
        Ok(())
    }
}
