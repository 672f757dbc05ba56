//! The server: identity, tools, settings, and the state every request shares.
//!
//! The builder and its validation are in `builder`, changes to the
//! registries while the server runs in `registry`, the OAuth settings in
//! `oauth`; binding, serving and mounting ([`McpServer::listen`],
//! [`McpServer::bind`], [`McpServer::configure`]) are the transport's.

mod builder;
mod config;
pub(crate) mod dispatch;
mod error;
mod features;
pub(crate) mod limits;
pub(crate) mod listen;
mod oauth;
mod registry;
pub(crate) mod session;
pub(crate) mod tasks;

pub use builder::McpServerBuilder;
pub use config::{HostPolicy, HttpConfig, SessionMode};
pub use error::BuildError;

use crate::auth::{OAuth, ProxySettings, ScopeHierarchy};
use crate::prompts::PromptRegistry;
use crate::protocol::messages::{Implementation, ServerCapabilities};
use crate::resources::ResourceRegistry;
use crate::tools::ToolRegistry;
use arc_swap::ArcSwap;
use session::SessionStore;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What every request handler shares: identity, capabilities and tools.
pub(crate) struct ServerCore {
    pub(crate) info: Implementation,
    pub(crate) capabilities: ServerCapabilities,
    pub(crate) instructions: Option<String>,
    pub(crate) tools: ArcSwap<ToolRegistry>,
    pub(crate) resources: ArcSwap<ResourceRegistry>,
    pub(crate) prompts: ArcSwap<PromptRegistry>,
    /// Serialises every change to the tools, resources and prompts at run
    /// time (readers never take it).
    pub(crate) registry_writer: Mutex<()>,
    pub(crate) page_size: usize,
    pub(crate) oauth: OAuth,
    pub(crate) auth_settings: AuthSettings,
    pub(crate) input: InputSettings,
    /// Tools running as tasks here, and the store of every task's record.
    pub(crate) tasks: Arc<tasks::TaskRunner>,
    /// Per-caller rate limits.
    pub(crate) limits: limits::CallerLimits,
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

/// What announces a change to the tools served.
pub(crate) const TOOLS_CHANGED: &str = "notifications/tools/list_changed";
/// What announces a change to the resources served.
pub(crate) const RESOURCES_CHANGED: &str = "notifications/resources/list_changed";
/// What announces a change to the prompts served.
pub(crate) const PROMPTS_CHANGED: &str = "notifications/prompts/list_changed";

/// Default wait for a client's answer: a person may be filling in a form.
pub(crate) const DEFAULT_INPUT_TIMEOUT: Duration = Duration::from_secs(300);

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

/// An MCP server: serve it with [`McpServer::listen`] or mount it in your own
/// actix-web `App` with [`McpServer::configure`].
///
/// ```no_run
/// use mcp_runtime::prelude::*;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Greet { name: String }
///
/// #[mcp_runtime::main]
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
    pub(crate) core: Arc<ServerCore>,
    pub(crate) sessions: Arc<SessionStore>,
    /// What replicas share (in memory for one process).
    pub(crate) state: crate::state::SharedState,
    /// The secret replicas sign shared values with, if configured.
    pub(crate) state_secret: Option<Arc<[u8]>>,
    pub(crate) http: HttpConfig,
    /// Whether the `Host` allow-list was set in code (it then wins over the
    /// environment and the bind address).
    pub(crate) hosts_set: bool,
    /// Where `listen` serves `/metrics`, if anywhere.
    pub(crate) metrics_addr: Option<std::net::SocketAddr>,
}

impl McpServer {
    /// Tells every session subscribed to `uri` (`resources/subscribe`) that
    /// it changed, on its GET stream; returns how many sessions were told
    /// before it returned. With several replicas on Redis, the sessions
    /// whose streams other replicas hold are told through Redis too, after
    /// this returns, and are not counted. Clone the server before `listen`
    /// to keep a handle for this.
    pub fn notify_resource_updated(&self, uri: &str) -> usize {
        self.sessions.notify_resource_updated(uri)
    }

    /// The names of the tools served now, in registration order.
    pub fn tool_names(&self) -> Vec<String> {
        self.core.tools.load().names().map(str::to_owned).collect()
    }

    /// The Prometheus text exposition of this process's metrics (installing
    /// the recorder on first use), for mounting `/metrics` yourself;
    /// [`listen`](Self::listen) serves it on `MCP_METRICS_ADDR` (or
    /// [`metrics_addr`](crate::McpServerBuilder::metrics_addr)). `None` when
    /// the application installed a `metrics` recorder of its own: its
    /// exporter has the same metrics.
    pub async fn render_metrics(&self) -> Option<String> {
        let handle = crate::operations::metrics::install().ok()?;
        let (sessions_here, get_streams) = self.sessions.held();
        let sessions = self.sessions.live().await;
        crate::operations::metrics::set_levels(&crate::operations::metrics::Levels {
            sessions,
            sessions_here,
            get_streams,
            listen_streams: self.sessions.listeners.len(),
            pending_questions: self.core.input.pending.len(),
            tasks_running: self.core.tasks.running(),
        });
        Some(handle.render())
    }

    /// The endpoint settings.
    pub fn http_config(&self) -> &HttpConfig {
        &self.http
    }

    /// The server's name and version.
    pub fn info(&self) -> &Implementation {
        &self.core.info
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
