//! The server: identity, tools, settings, and how it is served.

pub(crate) mod dispatch;
mod features;

use crate::auth::{
    IntoOAuth, OAuth, OAuthKind, ProxySettings, ResourceServer, ResourceUrl, ScopeHierarchy,
};
use crate::prompts::{IntoPrompt, Prompt, PromptRegistry};
use crate::protocol::messages::{
    Implementation, ListChangedCapability, ResourcesCapability, ServerCapabilities,
};
use crate::resources::{
    IntoResource, IntoResourceTemplate, Resource, ResourceRegistry, ResourceTemplate,
};
use crate::tools::{IntoTool, RegistryError, Tool, ToolRegistry};
use crate::transport::session::SessionStore;
use crate::transport::{self, AuthMode, HostPolicy, HttpConfig, SessionMode};
use arc_swap::ArcSwap;
use serde_json::Map;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use dispatch::REQUEST_CANCELLED;

/// What every request handler shares: identity, capabilities and tools.
pub(crate) struct ServerCore {
    pub(crate) info: Implementation,
    pub(crate) capabilities: ServerCapabilities,
    pub(crate) instructions: Option<String>,
    pub(crate) tools: ArcSwap<ToolRegistry>,
    /// Serialises [`McpServer::add_tool`] and [`McpServer::remove_tool`]
    /// (readers never take it).
    tools_writer: Mutex<()>,
    pub(crate) resources: ArcSwap<ResourceRegistry>,
    pub(crate) prompts: ArcSwap<PromptRegistry>,
    /// Serialises changes to resources and prompts at run time.
    features_writer: Mutex<()>,
    pub(crate) page_size: usize,
    pub(crate) oauth: OAuth,
    pub(crate) auth_settings: AuthSettings,
    pub(crate) input: InputSettings,
}

/// How handlers ask clients for input.
pub(crate) struct InputSettings {
    /// Questions sent on response streams, waiting for their answers.
    pub(crate) pending: Arc<crate::input::pending::PendingRequests>,
    /// Signs the 2026-07-28 `requestState`.
    pub(crate) state_key: crate::input::round::StateKey,
    /// How long a handler waits for an answer on a stream.
    pub(crate) timeout: Duration,
}

/// What announces a change to the resources served.
const RESOURCES_CHANGED: &str = "notifications/resources/list_changed";
/// What announces a change to the prompts served.
const PROMPTS_CHANGED: &str = "notifications/prompts/list_changed";

/// Default wait for a client's answer: a person may be filling in a form.
const DEFAULT_INPUT_TIMEOUT: Duration = Duration::from_secs(300);

/// Resource-server settings of a server with OAuth.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthSettings {
    /// The public base URL (or MCP endpoint URL), if set in code.
    pub(crate) public_url: Option<String>,
    pub(crate) hierarchy: Arc<ScopeHierarchy>,
    pub(crate) hide_forbidden_tools: bool,
    /// Every scope a tool declares, for the metadata's `scopes_supported`.
    pub(crate) tool_scopes: Vec<String>,
    /// Proxy mode: the allow-list and the consent step.
    pub(crate) proxy: ProxySettings,
    /// How many verified tokens to remember; `None` for the default.
    pub(crate) verified_token_capacity: Option<usize>,
}

/// Why a server could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// One or more tools are invalid; every problem is listed.
    #[error("invalid tools:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Tools(Vec<RegistryError>),
    /// A setting is invalid.
    #[error("invalid setting: {0}")]
    Config(String),
    /// The chosen identity provider is not part of this build yet.
    #[error(
        "the `{0}` OAuth provider is not available in this version of mcp-runtime; \
         use `oauth = custom(<your TokenVerifier>)` or `oauth = none`"
    )]
    ProviderUnavailable(&'static str),
    /// Tools (or resources, prompts) only an authenticated caller could
    /// use, on a server that authenticates no one: they could never be used.
    #[error(
        "{} declare scopes, roles or permissions, or take `&Auth`, but the server \
         authenticates no one; configure `oauth`",
        .0.iter().map(|t| if t.contains(' ') { format!("`{t}`") } else { format!("tool `{t}`") }).collect::<Vec<_>>().join(", ")
    )]
    UnreachableTools(Vec<String>),
    /// One or more resources, resource templates or prompts are invalid;
    /// every problem is listed.
    #[error("invalid resources or prompts:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Features(Vec<String>),
}

/// Builds an [`McpServer`].
#[derive(Debug)]
#[must_use]
pub struct McpServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    tools: Vec<Tool>,
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
    prompts: Vec<Prompt>,
    http: HttpConfig,
    hosts_set: bool,
    oauth: OAuth,
    auth_settings: AuthSettings,
    input_timeout: Duration,
    request_state_secret: Option<Vec<u8>>,
}

impl McpServerBuilder {
    /// How long a handler waits for the client to answer a question
    /// ([`RequestContext::elicit`](crate::RequestContext::elicit) and the
    /// like) on protocol revisions up to 2025-11-25. Default: 5 minutes.
    pub fn client_request_timeout(mut self, timeout: Duration) -> Self {
        self.input_timeout = timeout;
        self
    }

    /// The secret that signs the `requestState` of 2026-07-28
    /// `input_required` results (at least 32 bytes). Default: a random key
    /// drawn at start, which is right for one instance; give every instance
    /// behind one URL the same secret, so a retry may reach any of them.
    pub fn request_state_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.request_state_secret = Some(secret.into());
        self
    }

    /// The server's public base URL (`https://mcp.example.com`; the endpoint
    /// is then `https://mcp.example.com/mcp`), or the endpoint URL itself. It
    /// is the OAuth `resource` and the tokens' audience. Default: `MCP_URL`,
    /// else the bound address.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.auth_settings.public_url = Some(url.into());
        self
    }

    /// Which granted scopes imply others (`admin` implies everything).
    pub fn scope_hierarchy(mut self, hierarchy: ScopeHierarchy) -> Self {
        self.auth_settings.hierarchy = Arc::new(hierarchy);
        self
    }

    /// How many verified bearer tokens to remember (default
    /// [`DEFAULT_VERIFIED_TOKEN_CAPACITY`](crate::auth::DEFAULT_VERIFIED_TOKEN_CAPACITY);
    /// `0` turns the cache off). A client sends the same token on every
    /// request, so its signature is checked once; the verdict lasts until
    /// the token's `exp` and ends early when the provider stops publishing
    /// the key that signed it. Only signature-checked JWTs are remembered;
    /// tokens checked by a custom verifier or introspection never are.
    pub fn verified_token_cache(mut self, capacity: usize) -> Self {
        self.auth_settings.verified_token_capacity = Some(capacity);
        self
    }

    /// Leaves tools the caller cannot use out of `tools/list` (default: listed,
    /// with their requirements in the description).
    pub fn hide_unauthorized_tools(mut self, hide: bool) -> Self {
        self.auth_settings.hide_forbidden_tools = hide;
        self
    }

    /// Proxy mode ([`Mode::Proxy`](crate::auth::Mode::Proxy)): redirect URIs
    /// clients may use at `/authorize` without registering them first, e.g.
    /// a known web client's `https://app.example.com/oauth/callback` or a
    /// native app's `com.example.app:/callback`. Registered clients may use
    /// any `https` URI, or `http` on a loopback host, that they registered.
    /// These URIs are trusted: their sign-ins skip the consent page (see
    /// [`oauth_proxy_consent`](Self::oauth_proxy_consent)).
    pub fn oauth_redirect_uris<S: Into<String>>(
        mut self,
        uris: impl IntoIterator<Item = S>,
    ) -> Self {
        self.auth_settings
            .proxy
            .redirect_uris
            .extend(uris.into_iter().map(Into::into));
        self
    }

    /// Proxy mode ([`Mode::Proxy`](crate::auth::Mode::Proxy)): whether the
    /// user approves each dynamically registered client before its
    /// sign-in is forwarded to the provider (default: `true`). The browser
    /// remembers an approval for that client's redirect URI for 30 days.
    /// Redirect URIs from [`oauth_redirect_uris`](Self::oauth_redirect_uris)
    /// never need consent.
    ///
    /// **Risk of turning it off**: every registered client shares this
    /// server's one client id at the provider, and the provider may approve a
    /// returning user without asking. Without consent here, anyone can
    /// register their own redirect URI, send a signed-in user a link to
    /// `/authorize`, and receive that user's authorization code (the
    /// "confused deputy" of the MCP security best practices; PKCE does not
    /// help, the attacker chose the challenge). Turn it off only if the
    /// provider asks the user every time, or every client is trusted.
    pub fn oauth_proxy_consent(mut self, ask: bool) -> Self {
        self.auth_settings.proxy.consent = ask;
        self
    }

    /// Chooses how callers are authenticated (default: [`OAuth::none`]): a
    /// provider such as `Auth0::new(..)` or `CustomProvider::new(..)`, an
    /// [`OAuth`], or any [`TokenVerifier`](crate::auth::TokenVerifier).
    pub fn oauth(mut self, oauth: impl IntoOAuth) -> Self {
        self.oauth = oauth.into_oauth();
        self
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// Sets instructions the client may show the model.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Registers a tool: a [`Tool`] or a function marked `#[mcp_tool]`.
    pub fn tool(mut self, tool: impl IntoTool) -> Self {
        self.tools.push(tool.into_tool());
        self
    }

    /// Registers several tools.
    pub fn tools<T: IntoTool>(mut self, tools: impl IntoIterator<Item = T>) -> Self {
        self.tools
            .extend(tools.into_iter().map(IntoTool::into_tool));
        self
    }

    /// Registers a resource at a fixed URI.
    pub fn resource(mut self, resource: impl IntoResource) -> Self {
        self.resources.push(resource.into_resource());
        self
    }

    /// Registers a resource template (`test://items/{id}`).
    pub fn resource_template(mut self, template: impl IntoResourceTemplate) -> Self {
        self.templates.push(template.into_resource_template());
        self
    }

    /// Registers a prompt.
    pub fn prompt(mut self, prompt: impl IntoPrompt) -> Self {
        self.prompts.push(prompt.into_prompt());
        self
    }

    /// Serves MCP at `path` instead of `/mcp`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.http.path = path.into();
        self
    }

    /// Keeps no sessions: every POST stands alone; GET and DELETE answer 405.
    pub fn stateless(mut self, stateless: bool) -> Self {
        self.http.session_mode = if stateless {
            SessionMode::Stateless
        } else {
            SessionMode::Stateful
        };
        self
    }

    /// Answers only these `Host`s: `example.com` (any port) or `example.com:8443`.
    pub fn allowed_hosts<S: Into<String>>(mut self, hosts: impl IntoIterator<Item = S>) -> Self {
        self.http.hosts = HostPolicy::List(hosts.into_iter().map(Into::into).collect());
        self.hosts_set = true;
        self
    }

    /// Answers any `Host`. Only behind a proxy that checks `Host` itself.
    pub fn allow_any_host(mut self) -> Self {
        self.http.hosts = HostPolicy::Any;
        self.hosts_set = true;
        self
    }

    /// Lets browser pages from these origins call the endpoint (besides loopback
    /// and same-origin pages), e.g. `https://app.example.com`.
    pub fn allowed_origins<S: Into<String>>(
        mut self,
        origins: impl IntoIterator<Item = S>,
    ) -> Self {
        self.http
            .allowed_origins
            .extend(origins.into_iter().map(Into::into));
        self
    }

    /// Largest request body accepted (413 above it).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.http.max_body_bytes = bytes;
        self
    }

    /// Forget sessions idle this long.
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.http.session_idle_timeout = timeout;
        self
    }

    /// How many worker threads [`listen`](McpServer::listen) runs (default:
    /// one per CPU the process may use). Each worker is a single-threaded
    /// runtime; sessions, tools and the token cache are shared by all.
    pub fn workers(mut self, workers: usize) -> Self {
        self.http.workers = Some(workers);
        self
    }

    /// At most this many live sessions (503 on `initialize` beyond it).
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.http.max_sessions = max;
        self
    }

    /// Entries per page of `tools/list`, `resources/list`,
    /// `resources/templates/list` and `prompts/list` (default 100).
    pub fn page_size(mut self, size: usize) -> Self {
        self.http.page_size = size;
        self
    }

    /// Validates tools and settings.
    pub fn build(mut self) -> Result<McpServer, BuildError> {
        if !self.http.path.starts_with('/') {
            return Err(BuildError::Config(format!(
                "path `{}` must start with `/`",
                self.http.path
            )));
        }
        if self.http.page_size == 0 {
            return Err(BuildError::Config("page size must be at least 1".into()));
        }
        if self.http.workers == Some(0) {
            return Err(BuildError::Config(
                "a server needs at least 1 worker".into(),
            ));
        }
        if self
            .request_state_secret
            .as_ref()
            .is_some_and(|s| s.len() < 32)
        {
            return Err(BuildError::Config(
                "the request state secret must be at least 32 bytes".into(),
            ));
        }
        if let OAuthKind::FromEnv(name) = self.oauth.kind {
            let provider = crate::providers::from_env(name)
                .map_err(|e| BuildError::Config(format!("`{name}` provider: {e}")))?;
            self.oauth = OAuth::from_provider(provider);
        }
        let resources = ResourceRegistry::new(self.resources, self.templates);
        let prompts = PromptRegistry::new(self.prompts);
        let (resources, prompts) = match (resources, prompts) {
            (Ok(r), Ok(p)) => (r, p),
            (r, p) => {
                let mut errors = r.err().unwrap_or_default();
                errors.extend(p.err().unwrap_or_default());
                return Err(BuildError::Features(errors));
            }
        };
        let rules: Vec<(String, &crate::access::AccessRule)> =
            resources.rules().chain(prompts.rules()).collect();
        match &self.oauth.kind {
            OAuthKind::Unavailable(name) => return Err(BuildError::ProviderUnavailable(name)),
            // Resolved above; kept closed should that ever change.
            OAuthKind::FromEnv(name) => return Err(BuildError::ProviderUnavailable(name)),
            OAuthKind::Invalid(why) => return Err(BuildError::Config(why.clone())),
            OAuthKind::None => {
                let unreachable: Vec<String> = self
                    .tools
                    .iter()
                    .filter(|t| t.access().needs_caller())
                    .map(|t| t.name().to_owned())
                    .chain(
                        rules
                            .iter()
                            .filter(|(_, r)| r.needs_caller())
                            .map(|(n, _)| n.clone()),
                    )
                    .collect();
                if !unreachable.is_empty() {
                    return Err(BuildError::UnreachableTools(unreachable));
                }
            }
            OAuthKind::Provider(_) => {}
        }
        let mut auth_settings = self.auth_settings;
        for uri in &auth_settings.proxy.redirect_uris {
            crate::auth::check_allowed_redirect_uri(uri).map_err(BuildError::Config)?;
        }
        for rule in self
            .tools
            .iter()
            .map(Tool::access)
            .chain(rules.iter().map(|(_, r)| *r))
        {
            for scope in rule.scopes.iter().chain(&rule.any_scope) {
                if !auth_settings.tool_scopes.iter().any(|s| s == scope) {
                    auth_settings.tool_scopes.push(scope.to_string());
                }
            }
        }
        let registry = ToolRegistry::new(self.tools).map_err(BuildError::Tools)?;
        let core = ServerCore {
            info: self.info,
            capabilities: ServerCapabilities {
                // Tools may be added or removed at run time; the change is
                // announced on the sessions' GET streams, which only
                // stateful servers have.
                tools: ListChangedCapability {
                    list_changed: (self.http.session_mode == SessionMode::Stateful).then_some(true),
                },
                logging: Map::new(),
                resources: (!resources.is_empty()).then_some(ResourcesCapability {
                    subscribe: Some(true),
                    list_changed: (self.http.session_mode == SessionMode::Stateful).then_some(true),
                }),
                prompts: (!prompts.is_empty()).then_some(ListChangedCapability {
                    list_changed: (self.http.session_mode == SessionMode::Stateful).then_some(true),
                }),
                completions: (!prompts.is_empty() || !resources.templates.is_empty())
                    .then(Map::new),
            },
            instructions: self.instructions,
            tools: ArcSwap::from_pointee(registry),
            tools_writer: Mutex::new(()),
            resources: ArcSwap::from_pointee(resources),
            prompts: ArcSwap::from_pointee(prompts),
            features_writer: Mutex::new(()),
            page_size: self.http.page_size,
            oauth: self.oauth,
            auth_settings,
            input: InputSettings {
                pending: Arc::default(),
                state_key: match &self.request_state_secret {
                    Some(secret) => crate::input::round::StateKey::from_secret(secret),
                    None => crate::input::round::StateKey::random(),
                },
                timeout: self.input_timeout,
            },
        };
        Ok(McpServer {
            core: Arc::new(core),
            sessions: Arc::new(SessionStore::new(
                self.http.session_idle_timeout,
                self.http.max_sessions,
            )),
            http: self.http,
            hosts_set: self.hosts_set,
        })
    }
}

/// An MCP server: serve it with [`McpServer::listen`] or mount it in your own
/// actix-web `App` with [`McpServer::configure`].
///
/// ```no_run
/// use mcp_runtime::prelude::*;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Greet { name: String }
///
/// #[actix_web::main]
/// async fn main() -> std::io::Result<()> {
///     McpServer::builder("greeter", "1.0.0")
///         .tool(Tool::new("greet", |a: Greet| async move { format!("Hello, {}!", a.name) }))
///         .build()
///         .expect("valid server")
///         .listen()
///         .await
/// }
/// ```
#[derive(Clone)]
pub struct McpServer {
    core: Arc<ServerCore>,
    sessions: Arc<SessionStore>,
    http: HttpConfig,
    hosts_set: bool,
}

impl McpServer {
    /// Starts building a server called `name` at `version`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> McpServerBuilder {
        McpServerBuilder {
            info: Implementation {
                name: name.into(),
                version: version.into(),
                title: None,
            },
            instructions: None,
            tools: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            http: HttpConfig::default(),
            hosts_set: false,
            oauth: OAuth::none(),
            auth_settings: AuthSettings::default(),
            input_timeout: DEFAULT_INPUT_TIMEOUT,
            request_state_secret: None,
        }
    }

    /// Tells every session subscribed to `uri` (`resources/subscribe`) that
    /// it changed, on its GET stream; returns how many sessions were told.
    /// Clone the server before `listen` to keep a handle for this.
    pub fn notify_resource_updated(&self, uri: &str) -> usize {
        self.sessions.notify_resource_updated(uri)
    }

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
    /// let running = server.bind("127.0.0.1:3000".parse().unwrap())?;
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
        {
            let _writer = self
                .core
                .tools_writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let next = self.core.tools.load().with_tool(tool)?;
            self.core.tools.store(Arc::new(next));
        }
        self.sessions
            .notify_list_changed("notifications/tools/list_changed");
        Ok(())
    }

    /// Removes the tool called `name` while the server runs and, if there
    /// was one, sends `notifications/tools/list_changed` like
    /// [`add_tool`](Self::add_tool). Calls of it already running finish;
    /// later calls answer "unknown tool". Returns whether it existed.
    pub fn remove_tool(&self, name: &str) -> bool {
        {
            let _writer = self
                .core
                .tools_writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(next) = self.core.tools.load().without_tool(name) else {
                return false;
            };
            self.core.tools.store(Arc::new(next));
        }
        self.sessions
            .notify_list_changed("notifications/tools/list_changed");
        true
    }

    /// Adds a resource while the server runs (validated like those given to
    /// the builder) and sends `notifications/resources/list_changed` on
    /// every open GET stream.
    ///
    /// # Errors
    /// When it clashes with a served resource, or declares access rules on a
    /// server that authenticates no one.
    pub fn add_resource(&self, resource: impl IntoResource) -> Result<(), BuildError> {
        let resource = resource.into_resource();
        self.refuse_unreachable(resource.access(), &format!("resource `{}`", resource.uri()))?;
        self.replace(&self.core.resources, RESOURCES_CHANGED, |r| {
            Some(r.with_resource(resource))
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
    ) -> Result<(), BuildError> {
        let template = template.into_resource_template();
        let what = format!("resource template `{}`", template.uri_template());
        self.refuse_unreachable(template.access(), &what)?;
        self.replace(&self.core.resources, RESOURCES_CHANGED, |r| {
            Some(r.with_template(template))
        })
        .map(drop)
    }

    /// Removes the resource at `uri` (or the template written `uri`) and
    /// sends `notifications/resources/list_changed`. Returns whether it existed.
    pub fn remove_resource(&self, uri: &str) -> bool {
        self.replace(&self.core.resources, RESOURCES_CHANGED, |r| {
            r.without(uri).map(Ok)
        })
        .unwrap_or(false)
    }

    /// Adds a prompt while the server runs (validated like those given to
    /// the builder) and sends `notifications/prompts/list_changed`.
    ///
    /// # Errors
    /// As [`add_resource`](Self::add_resource).
    pub fn add_prompt(&self, prompt: impl IntoPrompt) -> Result<(), BuildError> {
        let prompt = prompt.into_prompt();
        self.refuse_unreachable(prompt.access(), &format!("prompt `{}`", prompt.name()))?;
        self.replace(&self.core.prompts, PROMPTS_CHANGED, |p| {
            Some(p.with_prompt(prompt))
        })
        .map(drop)
    }

    /// Removes the prompt called `name` and sends
    /// `notifications/prompts/list_changed`. Returns whether it existed.
    pub fn remove_prompt(&self, name: &str) -> bool {
        self.replace(&self.core.prompts, PROMPTS_CHANGED, |p| {
            p.without(name).map(Ok)
        })
        .unwrap_or(false)
    }

    /// Swaps `registry` for what `next` makes of it, under the writer lock,
    /// and announces `notification`. `next` answers `None` when there is
    /// nothing to change; an invalid result changes nothing. Returns
    /// whether it changed.
    fn replace<R>(
        &self,
        registry: &ArcSwap<R>,
        notification: &'static str,
        next: impl FnOnce(&R) -> Option<Result<R, Vec<String>>>,
    ) -> Result<bool, BuildError> {
        {
            let _writer = self
                .core
                .features_writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(next) = next(&registry.load()) else {
                return Ok(false);
            };
            registry.store(Arc::new(next.map_err(BuildError::Features)?));
        }
        self.sessions.notify_list_changed(notification);
        Ok(true)
    }

    /// Access rules no caller could ever meet on a server without OAuth.
    fn refuse_unreachable(
        &self,
        access: &crate::access::AccessRule,
        what: &str,
    ) -> Result<(), BuildError> {
        if matches!(self.core.oauth.kind, OAuthKind::None) && access.needs_caller() {
            return Err(BuildError::Features(vec![format!(
                "{what} declares scopes, roles or permissions, or needs a caller, \
                 but the server authenticates no one; configure `oauth`"
            )]));
        }
        Ok(())
    }

    /// The names of the tools served now, in registration order.
    pub fn tool_names(&self) -> Vec<String> {
        self.core.tools.load().names().map(str::to_owned).collect()
    }

    /// The endpoint settings.
    pub fn http_config(&self) -> &HttpConfig {
        &self.http
    }

    /// The server's name and version.
    pub fn info(&self) -> &Implementation {
        &self.core.info
    }

    /// Registers the MCP endpoint on an actix-web app, next to your own routes:
    /// `App::new().configure(server.configure())`.
    ///
    /// Mounted this way the server cannot see the bind address, so it answers
    /// loopback `Host`s only unless built with `allowed_hosts([...])` or
    /// `allow_any_host()`.
    ///
    /// With OAuth, the canonical URL comes from `public_url` or `MCP_URL`
    /// (else `HOST`:`PORT`); a configuration the server cannot honour makes
    /// the endpoint refuse every request, and is logged.
    pub fn configure(&self) -> impl Fn(&mut actix_web::web::ServiceConfig) + Clone + use<> {
        let auth = self.auth_mode(None).unwrap_or_else(|why| {
            tracing::error!("the MCP endpoint refuses every request: {why}");
            AuthMode::Broken
        });
        transport::http::configure(transport::http::Endpoint::new(
            Arc::clone(&self.core),
            Arc::clone(&self.sessions),
            self.http.clone(),
            auth,
        ))
    }

    /// How the endpoint authenticates, for a server bound to `bound` (if known).
    fn auth_mode(&self, bound: Option<SocketAddr>) -> Result<AuthMode, String> {
        let OAuthKind::Provider(provider) = &self.core.oauth.kind else {
            return Ok(AuthMode::Open);
        };
        let settings = &self.core.auth_settings;
        let url = ResourceUrl::resolve(settings.public_url.as_deref(), bound, &self.http.path)?;
        if !provider.checks_signatures() {
            let loopback_only = match bound {
                Some(addr) => addr.ip().is_loopback(),
                None => self.http.hosts == HostPolicy::Loopback,
            };
            if !loopback_only {
                return Err(
                    "token signatures are not checked (`verify_jwt(false)`): allowed only \
                     on a server bound to loopback"
                        .into(),
                );
            }
            tracing::warn!(
                "!!! DEVELOPMENT MODE: access token signatures are NOT checked; anyone can forge a \
                 token. Never deploy this configuration. !!!"
            );
        }
        // `oauth = dev`: issuer and audience are this server's own URL, and
        // only a loopback bind (or the loud override) may issue tokens.
        let served;
        let provider = match &provider.dev {
            Some(dev) => {
                let loopback = match bound {
                    Some(addr) => addr.ip().is_loopback(),
                    None => self.http.hosts == HostPolicy::Loopback,
                };
                served = dev.provider_at(provider, &url, loopback, &settings.tool_scopes)?;
                &served
            }
            None => provider.as_ref(),
        };
        let name = self
            .core
            .info
            .title
            .as_deref()
            .unwrap_or(&self.core.info.name);
        tracing::info!(resource = %url.endpoint, provider = provider.name(), "OAuth resource server");
        Ok(AuthMode::Protected(Arc::new(
            ResourceServer::new(
                provider,
                url,
                &settings.tool_scopes,
                name,
                Arc::clone(&settings.hierarchy),
                settings.hide_forbidden_tools,
                &settings.proxy,
            )?
            .with_token_cache(
                settings
                    .verified_token_capacity
                    .unwrap_or(crate::auth::DEFAULT_VERIFIED_TOKEN_CAPACITY),
            ),
        )))
    }

    /// With `oauth = dev` only: a ready access token for the development
    /// user `dev-user` holding `scopes` (those the server supports; others
    /// are dropped), e.g. to print for curl. Available once the server is
    /// bound (or mounted with [`configure`](Self::configure)); the token is
    /// a secret: show it only on the developer's own terminal.
    pub fn dev_token<S: AsRef<str>>(
        &self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<String, String> {
        let OAuthKind::Provider(provider) = &self.core.oauth.kind else {
            return Err("the server has no OAuth provider; use `oauth = dev`".into());
        };
        let dev = provider
            .dev
            .as_ref()
            .ok_or("dev tokens need `oauth = dev`")?;
        let scopes: Vec<String> = scopes.into_iter().map(|s| s.as_ref().to_owned()).collect();
        dev.mint(&scopes)
    }

    /// Serves on `HOST`:`PORT` from the environment (default `127.0.0.1:3000`)
    /// until Ctrl-C or SIGTERM, then drains in-flight requests.
    pub async fn listen(self) -> std::io::Result<()> {
        let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
        let port = match std::env::var("PORT") {
            Ok(p) => p.parse::<u16>().map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("PORT must be a port number, got `{p}`"),
                )
            })?,
            Err(_) => 3000,
        };
        let ip: IpAddr = if host == "localhost" {
            IpAddr::from([127, 0, 0, 1])
        } else {
            host.parse().map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("HOST must be an IP address, got `{host}`"),
                )
            })?
        };
        self.listen_on(SocketAddr::new(ip, port)).await
    }

    /// Serves on `addr` until Ctrl-C or SIGTERM.
    pub async fn listen_on(self, addr: SocketAddr) -> std::io::Result<()> {
        let server = self.bind(addr)?;
        server.await
    }

    /// Binds `addr` and returns the running actix server (await it to serve;
    /// its handle stops it). Port 0 picks a free port: see the log line or
    /// use [`McpServer::bind_listener`].
    pub fn bind(mut self, addr: SocketAddr) -> std::io::Result<actix_web::dev::Server> {
        let listener = std::net::TcpListener::bind(addr)?;
        self.adjust_hosts_for(addr.ip());
        self.serve_listener(listener)
    }

    /// Serves on an already bound listener.
    pub fn bind_listener(
        mut self,
        listener: std::net::TcpListener,
    ) -> std::io::Result<actix_web::dev::Server> {
        self.adjust_hosts_for(listener.local_addr()?.ip());
        self.serve_listener(listener)
    }

    /// Settles the `Host` allow-list for a bind address. Explicit settings win;
    /// then `MCP_ALLOWED_HOSTS` (comma-separated, `*` for any); else loopback
    /// names plus the bound address itself, so a public bind stays closed to
    /// DNS rebinding until real host names are configured.
    fn adjust_hosts_for(&mut self, ip: IpAddr) {
        if self.hosts_set {
            return;
        }
        if let Ok(list) = std::env::var("MCP_ALLOWED_HOSTS") {
            let entries: Vec<String> = list
                .split(',')
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect();
            self.http.hosts = if entries.iter().any(|h| h == "*") {
                HostPolicy::Any
            } else {
                HostPolicy::List(entries)
            };
            return;
        }
        if ip.is_loopback() {
            return;
        }
        let mut entries: Vec<String> = transport::LOOPBACK_NAMES.map(String::from).to_vec();
        if !ip.is_unspecified() {
            entries.push(match ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            });
        }
        tracing::warn!(
            "bound to non-loopback {ip}: only loopback and IP-literal Host headers are answered; \
             set MCP_ALLOWED_HOSTS=mcp.example.com (or allowed_hosts([...])) to serve your domain"
        );
        self.http.hosts = HostPolicy::List(entries);
    }

    fn serve_listener(
        self,
        listener: std::net::TcpListener,
    ) -> std::io::Result<actix_web::dev::Server> {
        let local = listener.local_addr()?;
        let auth = self
            .auth_mode(Some(local))
            .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        let endpoint = transport::http::Endpoint::new(
            Arc::clone(&self.core),
            Arc::clone(&self.sessions),
            self.http.clone(),
            auth,
        );
        let configure = transport::http::configure(endpoint);
        let mut server =
            actix_web::HttpServer::new(move || actix_web::App::new().configure(configure.clone()))
                .shutdown_timeout(10);
        if let Some(workers) = self.http.workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        let shown = if local.ip().is_unspecified() {
            SocketAddr::new(IpAddr::from([127, 0, 0, 1]), local.port())
        } else {
            local
        };
        tracing::info!(
            "MCP server `{}` listening on http://{shown}{}",
            self.core.info.name,
            self.http.path
        );
        Ok(server)
    }
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("info", &self.core.info)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}
