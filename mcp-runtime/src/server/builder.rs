//! The builder: a server's identity, tools, resources, prompts and
//! settings, validated together by [`McpServerBuilder::build`].

use super::oauth;
use super::session::SessionStore;
use super::{
    AuthSettings, BuildError, DEFAULT_INPUT_TIMEOUT, HostPolicy, HttpConfig, InputSettings,
    McpServer, ServerCore, SessionMode,
};
use crate::auth::{IntoOAuth, OAuth, ScopeHierarchy};
use crate::prompts::{IntoPrompt, Prompt, PromptRegistry};
use crate::protocol::messages::{
    Implementation, ListChangedCapability, ResourcesCapability, ServerCapabilities,
};
use crate::rate::RateLimit;
use crate::resources::{
    IntoResource, IntoResourceTemplate, Resource, ResourceRegistry, ResourceTemplate,
};
use crate::state::{Backend, SharedState};
use crate::tools::{IntoTool, Tool, ToolRegistry};
use arc_swap::ArcSwap;
use serde_json::Map;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// How long a replica holds a task it runs without renewing; `None`
    /// until settled from code or `MCP_TASK_LEASE`.
    task_lease: Option<Duration>,
    /// How long shutting down waits for calls in flight; `None` until
    /// settled from code or `MCP_SHUTDOWN_TIMEOUT`.
    shutdown_timeout: Option<Duration>,
    /// Where `/metrics` is served; `None` until settled from code or
    /// `MCP_METRICS_ADDR`.
    metrics_addr: Option<std::net::SocketAddr>,
    /// Every request of one caller; `None` until settled from code or
    /// `MCP_RATE_LIMIT`.
    rate_limit: Option<Option<RateLimit>>,
    /// Callers never limited; `None` until settled from code or
    /// `MCP_RATE_LIMIT_EXEMPT`.
    rate_limit_exempt: Option<Vec<String>>,
    request_state_secret: Option<SecretBytes>,
    redis_url: Option<RedisUrl>,
    state_secret: Option<SecretBytes>,
}

/// A secret setting: `Debug` (and so a logged builder) never shows it.
#[derive(Clone)]
struct SecretBytes(Vec<u8>);

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<set, not shown>")
    }
}

/// A Redis URL, which may hold a password: `Debug` shows it without.
#[derive(Clone)]
struct RedisUrl(String);

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::state::redacted_url(&self.0))
    }
}

impl McpServerBuilder {
    /// How long a handler waits for the client to answer a question
    /// ([`RequestContext::elicit`](crate::RequestContext::elicit) and the
    /// like) on protocol revisions up to 2025-11-25. Default: 5 minutes.
    pub fn client_request_timeout(mut self, timeout: Duration) -> Self {
        self.input_timeout = timeout;
        self
    }

    /// How long the replica running a task holds it without renewing the
    /// lease (renewed every third of it while the handler runs): a replica
    /// that dies leaves its tasks `working` at most this long, then the next
    /// `tasks/get` on any replica fails them. Default: `MCP_TASK_LEASE`
    /// (seconds), else 30 s.
    pub fn task_lease(mut self, lease: Duration) -> Self {
        self.task_lease = Some(lease);
        self
    }

    /// How long shutting down (Ctrl-C or SIGTERM under
    /// [`listen`](McpServer::listen)) waits for calls in flight after it
    /// stops accepting connections; open streams end at once, listen
    /// streams with their closing response. Default: `MCP_SHUTDOWN_TIMEOUT`
    /// (seconds), else 10 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Serves Prometheus metrics at `http://ADDR/metrics` under
    /// [`listen`](McpServer::listen), on that address alone (never on the
    /// MCP listener): e.g. `127.0.0.1:9464`. Default: `MCP_METRICS_ADDR`,
    /// else off.
    pub fn metrics_addr(mut self, addr: std::net::SocketAddr) -> Self {
        self.metrics_addr = Some(addr);
        self
    }

    /// At most `limit` requests per caller on the MCP endpoint (its subject
    /// when signed in, else its client id, else its address), counted as a
    /// token bucket across every replica on Redis; beyond it, HTTP 429 with
    /// `Retry-After`, before anything runs. Tools may add their own
    /// (`#[mcp_tool(rate = "10/min")]`). `None` turns it off. Default:
    /// `MCP_RATE_LIMIT` (`600/min`, or `off`), else off.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Callers no rate limit applies to: `sub:SUBJECT` (a token's `sub`)
    /// or `client:CLIENT_ID` entries. Default: `MCP_RATE_LIMIT_EXEMPT`
    /// (comma-separated), else none.
    pub fn rate_limit_exempt<S: Into<String>>(
        mut self,
        callers: impl IntoIterator<Item = S>,
    ) -> Self {
        self.rate_limit_exempt = Some(callers.into_iter().map(Into::into).collect());
        self
    }

    /// The secret that signs the `requestState` of 2026-07-28
    /// `input_required` results (at least 32 bytes). Default: a random key
    /// drawn at start, which is right for one instance; give every instance
    /// behind one URL the same secret, so a retry may reach any of them.
    pub fn request_state_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.request_state_secret = Some(SecretBytes(secret.into()));
        self
    }

    /// Shares sessions, the proxy's sign-in state and the bus between every
    /// replica of this server through the Redis at `url`
    /// (`redis://[:password@]host:6379[/db]`, or `rediss://` for TLS).
    /// Default: `MCP_REDIS_URL`, else everything lives in this process. Needs
    /// [`state_secret`](Self::state_secret) too, the same on every replica.
    /// See "Running several replicas" in the README.
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(RedisUrl(url.into()));
        self
    }

    /// The secret (at least 32 bytes) every replica of this server signs
    /// and checks its shared values with: proxy-mode states and consent
    /// cookies, and the 2026-07-28 `requestState` unless
    /// [`request_state_secret`](Self::request_state_secret) is set. Default:
    /// `MCP_STATE_SECRET`, else a random key drawn at start, which is right
    /// for one process only; a server with Redis refuses to start without it.
    pub fn state_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.state_secret = Some(SecretBytes(secret.into()));
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

    /// Proxy and dev mode: how many requests one client address may make to
    /// each authorization-server endpoint (`/register`, `/authorize`, the
    /// consent post, the callback, `/token`) per minute, counted across
    /// every replica when they share Redis; beyond it, 429 with
    /// `Retry-After`. `0` turns it off. Default: `MCP_OAUTH_RATE_LIMIT`,
    /// else 60.
    pub fn oauth_rate_limit(mut self, per_minute: u32) -> Self {
        self.auth_settings.proxy.rate_limit = Some(per_minute);
        self
    }

    /// The proxies (addresses or CIDR blocks: `10.0.0.0/8`, `127.0.0.1`) in
    /// front of this server whose forwarded header names the client, for
    /// the rate limits (see [`forwarded_header`](Self::forwarded_header)).
    /// Without them no forwarded header is read: anyone can write one.
    /// Default: `MCP_TRUSTED_PROXIES` (comma-separated), else none.
    pub fn trusted_proxies<S: Into<String>>(
        mut self,
        proxies: impl IntoIterator<Item = S>,
    ) -> Self {
        self.auth_settings.proxy.trusted_proxies =
            Some(proxies.into_iter().map(Into::into).collect());
        self
    }

    /// The one header the [trusted proxies](Self::trusted_proxies) name
    /// the client in: `"x-forwarded-for"` (nginx's
    /// `$proxy_add_x_forwarded_for`, most cloud balancers) or
    /// `"forwarded"` (RFC 7239). The other is never read: a proxy that
    /// appends to one passes the other on as the client wrote it, so
    /// reading both would let a client choose its own address. Anything
    /// else fails the build. Default: `MCP_FORWARDED_HEADER`, else
    /// `x-forwarded-for`.
    pub fn forwarded_header(mut self, header: impl Into<String>) -> Self {
        self.auth_settings.proxy.forwarded_header = Some(header.into());
        self
    }

    /// Proxy and dev mode: whether a client may identify itself by the
    /// https URL of its client metadata document instead of registering
    /// (the way MCP 2025-11-25 prefers; the metadata then says
    /// `client_id_metadata_document_supported`). The document is fetched
    /// from public addresses only (see
    /// [`oauth_client_metadata_networks`](Self::oauth_client_metadata_networks)),
    /// must name itself and list the redirect URI asked for, and is kept as
    /// its `Cache-Control` says. Registration stays for older clients.
    /// Default: `MCP_OAUTH_CLIENT_METADATA_DOCUMENTS` (`true` or `false`),
    /// else on.
    pub fn oauth_client_metadata_documents(mut self, accept: bool) -> Self {
        self.auth_settings.proxy.client_metadata_documents = Some(accept);
        self
    }

    /// Address blocks (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`) client
    /// metadata documents may be fetched from although they are not public
    /// addresses: by default a document on loopback, a private network or
    /// a link-local address (a cloud's metadata service) is refused, since
    /// anyone can make the server fetch a URL of their choosing. The
    /// development server also allows loopback. Default:
    /// `MCP_OAUTH_CLIENT_METADATA_NETWORKS` (comma-separated), else none.
    pub fn oauth_client_metadata_networks<S: Into<String>>(
        mut self,
        blocks: impl IntoIterator<Item = S>,
    ) -> Self {
        self.auth_settings.proxy.client_metadata_networks =
            Some(blocks.into_iter().map(Into::into).collect());
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
            .is_some_and(|s| s.0.len() < 32)
        {
            return Err(BuildError::Config(
                "the request state secret must be at least 32 bytes".into(),
            ));
        }
        let shared = shared_state_settings(
            self.redis_url.take().map(|url| url.0),
            self.state_secret.take().map(|secret| secret.0),
        )?;
        self.oauth = oauth::resolve(self.oauth)?;
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
        oauth::check_reachable(&self.oauth, &self.tools, &rules)?;
        let auth_settings = oauth::settle(self.auth_settings, &self.tools, &rules)?;
        let rate_limit = match self.rate_limit {
            Some(limit) => limit,
            None => match std::env::var("MCP_RATE_LIMIT") {
                Ok(value) if value.trim() == "off" => None,
                Ok(value) if !value.trim().is_empty() => {
                    Some(value.parse::<RateLimit>().map_err(|e| {
                        BuildError::Config(format!("MCP_RATE_LIMIT: {e}, or `off`"))
                    })?)
                }
                _ => None,
            },
        };
        let rate_limit_exempt = self.rate_limit_exempt.unwrap_or_else(|| {
            std::env::var("MCP_RATE_LIMIT_EXEMPT")
                .map(|list| {
                    list.split(',')
                        .map(|entry| entry.trim().to_owned())
                        .filter(|entry| !entry.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        });
        let runs_tasks = self
            .tools
            .iter()
            .any(|tool| tool.task_support() != crate::tools::TaskSupport::Forbidden);
        let registry = ToolRegistry::new(self.tools).map_err(BuildError::Tools)?;
        let task_lease = match self.task_lease {
            Some(lease) => lease,
            None => seconds_from_env("MCP_TASK_LEASE")?.unwrap_or(super::tasks::TASK_LEASE),
        };
        let metrics_addr = match self.metrics_addr {
            Some(addr) => Some(addr),
            None => match std::env::var("MCP_METRICS_ADDR") {
                Ok(value) if !value.trim().is_empty() => {
                    Some(value.trim().parse().map_err(|_| {
                        BuildError::Config(format!(
                            "MCP_METRICS_ADDR must be an address and port such as \
                             127.0.0.1:9464, got `{value}`"
                        ))
                    })?)
                }
                _ => None,
            },
        };
        self.http.shutdown_timeout = match self.shutdown_timeout {
            Some(timeout) => timeout,
            None => seconds_from_env("MCP_SHUTDOWN_TIMEOUT")?.unwrap_or(self.http.shutdown_timeout),
        };
        if task_lease < Duration::from_secs(1) || task_lease > super::tasks::TASK_TTL {
            return Err(BuildError::Config(format!(
                "the task lease must be 1 s to {} s",
                super::tasks::TASK_TTL.as_secs()
            )));
        }
        let state = SharedState::new(
            &shared.backend,
            &namespace(&self.info.name, shared.secret.as_deref()),
            self.http.session_idle_timeout,
            self.http.max_sessions,
        )
        .map_err(BuildError::Config)?;
        let sessions = Arc::new(SessionStore::new(
            state.clone(),
            self.http.session_idle_timeout,
        ));
        let limits = super::limits::CallerLimits::new(
            rate_limit,
            &rate_limit_exempt,
            auth_settings.proxy.trusted().map_err(BuildError::Config)?,
            Arc::clone(&state.buckets),
        )
        .map_err(BuildError::Config)?;
        let core = ServerCore {
            limits,
            tasks: Arc::new(super::tasks::TaskRunner::new(
                Arc::clone(&state.tasks),
                Arc::clone(&state.bus),
                Arc::clone(&sessions),
                task_lease,
            )),
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
                extensions: {
                    let mut extensions = Map::new();
                    if runs_tasks {
                        extensions.insert(
                            crate::protocol::tasks::TASKS_EXTENSION.to_owned(),
                            serde_json::Value::Object(Map::new()),
                        );
                    }
                    // Machine clients' tokens are verified like any other,
                    // and tools can take or refuse them.
                    if self.oauth.is_enabled() {
                        extensions.insert(
                            crate::protocol::CLIENT_CREDENTIALS_EXTENSION.to_owned(),
                            serde_json::Value::Object(Map::new()),
                        );
                    }
                    (!extensions.is_empty()).then_some(extensions)
                },
            },
            instructions: self.instructions,
            tools: ArcSwap::from_pointee(registry),
            resources: ArcSwap::from_pointee(resources),
            prompts: ArcSwap::from_pointee(prompts),
            registry_writer: Mutex::new(()),
            page_size: self.http.page_size,
            oauth: self.oauth,
            auth_settings,
            input: InputSettings {
                pending: Arc::default(),
                state_key: match self
                    .request_state_secret
                    .as_ref()
                    .map(|secret| secret.0.as_slice())
                    .or(shared.secret.as_deref())
                {
                    Some(secret) => crate::input::round::StateKey::from_secret(secret),
                    None => crate::input::round::StateKey::random(),
                },
                timeout: self.input_timeout,
            },
        };
        let tasks = Arc::downgrade(&core.tasks);
        sessions.listen(
            Arc::clone(&core.input.pending),
            Arc::new(move |message| {
                if let Some(tasks) = tasks.upgrade() {
                    tasks.on_bus(message);
                }
            }),
        );
        let core = Arc::new(core);
        core.tasks.attach(&core);
        Ok(McpServer {
            core,
            sessions,
            state,
            state_secret: shared.secret.map(Arc::from),
            http: self.http,
            hosts_set: self.hosts_set,
            metrics_addr,
        })
    }
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
            task_lease: None,
            shutdown_timeout: None,
            metrics_addr: None,
            rate_limit: None,
            rate_limit_exempt: None,
            request_state_secret: None,
            redis_url: None,
            state_secret: None,
        }
    }
}

/// A number of seconds above 0 from the variable `name`; `None` when it is
/// unset or empty.
fn seconds_from_env(name: &str) -> Result<Option<Duration>, BuildError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => match value.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Ok(Some(Duration::from_secs(secs))),
            _ => Err(BuildError::Config(format!(
                "{name} must be a number of seconds above 0, got `{value}`"
            ))),
        },
        _ => Ok(None),
    }
}

/// Where shared state lives, and the secret replicas sign it with.
struct SharedSettings {
    backend: Backend,
    secret: Option<Vec<u8>>,
}

/// Settles the backend and the shared secret: code first, then
/// `MCP_REDIS_URL` and `MCP_STATE_SECRET`. Several replicas must sign with
/// one secret, or a state signed on one fails on the next: with Redis, a
/// missing secret is an error, not a random key.
fn shared_state_settings(
    redis_url: Option<String>,
    secret: Option<Vec<u8>>,
) -> Result<SharedSettings, BuildError> {
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let redis_url = redis_url.or_else(|| from_env("MCP_REDIS_URL"));
    let secret = secret.or_else(|| from_env("MCP_STATE_SECRET").map(String::into_bytes));
    if let Some(secret) = &secret
        && secret.len() < 32
    {
        return Err(BuildError::Config(format!(
            "the state secret (MCP_STATE_SECRET) must be at least 32 bytes, got {}; \
             generate one with `openssl rand -base64 48`",
            secret.len()
        )));
    }
    let backend = match redis_url {
        None => Backend::Memory,
        #[cfg(feature = "redis")]
        Some(url) => {
            if secret.is_none() {
                return Err(BuildError::Config(format!(
                    "shared state on Redis ({}) needs MCP_STATE_SECRET (or \
                     `state_secret(..)`): at least 32 bytes, the same on every replica, so \
                     that what one replica signs the others accept",
                    crate::state::redacted_url(&url)
                )));
            }
            Backend::Redis(url)
        }
        #[cfg(not(feature = "redis"))]
        Some(_) => {
            return Err(BuildError::Config(
                "MCP_REDIS_URL (or `redis(..)`) is set, but mcp-runtime was built without its \
                 `redis` feature"
                    .into(),
            ));
        }
    };
    Ok(SharedSettings { backend, secret })
}

/// The prefix of this server's keys in a shared store: its name and a
/// digest of its secret, so that two deployments of one server (staging
/// and production, each with its own secret) on one Redis never share
/// sessions, sign-ins or messages.
fn namespace(name: &str, secret: Option<&[u8]>) -> String {
    let Some(secret) = secret else {
        return name.to_owned();
    };
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, b"mcp shared state namespace");
    let digest: String = tag.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{name}:{digest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_with_other_secrets_use_other_keys() {
        let a = namespace("greeter", Some(b"one secret of at least thirty-two bytes"));
        let b = namespace("greeter", Some(b"another secret of at least thirty-two b"));
        assert!(a.starts_with("greeter:") && b.starts_with("greeter:"));
        assert_ne!(a, b);
        assert_eq!(
            a,
            namespace("greeter", Some(b"one secret of at least thirty-two bytes"))
        );
        assert!(!a.contains("secret"));
    }

    #[test]
    fn a_logged_builder_shows_no_secret() {
        let builder = McpServer::builder("s", "1")
            .redis("redis://:hunter2@cache:6379")
            .state_secret("state-secret-of-at-least-32-bytes!!")
            .request_state_secret("request-secret-of-at-least-32-bytes");
        let shown = format!("{builder:?}");
        for secret in ["hunter2", "state-secret", "request-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("cache:6379"), "{shown}");
    }
}
