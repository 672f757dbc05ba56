//! Settings of the Streamable HTTP endpoint.

use std::time::Duration;

/// Which `Host` headers the endpoint answers (DNS-rebinding protection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPolicy {
    /// `localhost`, `127.0.0.1` and `[::1]`, any port. The default.
    Loopback,
    /// Exactly these: `example.com` (any port) or `example.com:8443`.
    List(Vec<String>),
    /// Any host. For servers behind a proxy that checks `Host` itself.
    Any,
}

/// Whether the server keeps per-client sessions for session-based revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionMode {
    /// `Mcp-Session-Id` minted at `initialize`; GET streams; DELETE ends a session.
    Stateful,
    /// Every POST stands alone: no session ids, GET and DELETE answer 405.
    /// For deployments behind a load balancer.
    Stateless,
}

/// Settings of the MCP endpoint.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The endpoint's path. Default `/mcp`.
    pub path: String,
    /// Accepted `Host` headers.
    pub hosts: HostPolicy,
    /// Browser origins allowed besides loopback and same-origin ones, e.g. `https://app.example.com`.
    pub allowed_origins: Vec<String>,
    /// Largest accepted request body. Default 4 MiB.
    pub max_body_bytes: usize,
    /// Sessions or none.
    pub session_mode: SessionMode,
    /// A session unused this long is forgotten. Default 30 minutes.
    pub session_idle_timeout: Duration,
    /// At most this many live sessions. Default 10,000.
    pub max_sessions: usize,
    /// Entries per page of every `*/list` answer. Default 100.
    pub page_size: usize,
    /// Interval of SSE keep-alive comments on GET streams. Default 15 s.
    pub sse_keep_alive: Duration,
    /// Worker threads of `listen`; `None` for one per CPU the process may use.
    pub workers: Option<usize>,
    /// How long shutting down waits for calls in flight. Default 10 s.
    pub shutdown_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            path: "/mcp".to_owned(),
            hosts: HostPolicy::Loopback,
            allowed_origins: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
            session_mode: SessionMode::Stateful,
            session_idle_timeout: Duration::from_secs(30 * 60),
            max_sessions: 10_000,
            page_size: 100,
            sse_keep_alive: Duration::from_secs(15),
            workers: None,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}
