//! Serving a server: mounting the endpoint on an actix-web app, binding
//! sockets, and settling the `Host` allow-list and the authentication mode
//! for the address bound.

use super::AuthMode;
use super::http::{Endpoint, configure};
use crate::server::{HostPolicy, McpServer};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

impl McpServer {
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
    ///
    /// With Redis (`MCP_REDIS_URL`), call [`connect`](Self::connect) first,
    /// on the runtime that serves: until it succeeded, requests that need
    /// sessions are refused with 503.
    pub fn configure(&self) -> impl Fn(&mut actix_web::web::ServiceConfig) + Clone + use<> {
        let auth = auth_mode(self, None).unwrap_or_else(|why| {
            tracing::error!("the MCP endpoint refuses every request: {why}");
            AuthMode::Broken
        });
        configure(Endpoint::new(
            Arc::clone(&self.core),
            Arc::clone(&self.sessions),
            self.http.clone(),
            auth,
        ))
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

    /// Serves on `addr` until Ctrl-C or SIGTERM, then shuts down gracefully:
    /// it stops accepting connections, ends open streams (GET streams close,
    /// listen streams with their closing response), and waits for calls in
    /// flight up to the shutdown timeout
    /// ([`shutdown_timeout`](crate::McpServerBuilder::shutdown_timeout)).
    ///
    /// With `oauth = dev` it first prints on stderr the MCP URL, how to sign
    /// in with the MCP Inspector and, on loopback, a ready development token
    /// with every scope the server declares (see
    /// [`dev_token`](Self::dev_token) for fewer).
    pub async fn listen_on(self, addr: SocketAddr) -> std::io::Result<()> {
        self.connect().await?;
        let banner = self.clone();
        let sessions = Arc::clone(&self.sessions);
        let mut this = self;
        let listener = std::net::TcpListener::bind(addr)?;
        this.adjust_hosts_for(listener.local_addr()?.ip());
        let server = this.serve_listener(listener, true)?;
        if let Some(text) = banner.dev_banner() {
            // One write, so the text reaches a pipe in one piece.
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
        }
        let metrics = match banner.metrics_addr {
            Some(addr) => Some(banner.serve_metrics(addr)?),
            None => None,
        };
        let handle = server.handle();
        actix_web::rt::spawn(async move {
            shutdown_signal().await;
            if let Some(metrics) = &metrics {
                metrics.stop(true).await;
            }
            tracing::info!("shutting down: ending open streams, then waiting for calls in flight");
            // Streams never end by themselves: ended first, so the graceful
            // stop waits only for calls.
            sessions.end_streams();
            handle.stop(true).await;
        });
        server.await
    }

    /// Serves `/metrics` on `addr` alone, in the background; its handle.
    fn serve_metrics(&self, addr: SocketAddr) -> std::io::Result<actix_web::dev::ServerHandle> {
        if let Err(why) = crate::operations::metrics::install() {
            tracing::warn!("metrics are not served on {addr}: {why}");
        }
        let server = self.clone();
        let metrics = actix_web::HttpServer::new(move || {
            let server = server.clone();
            actix_web::App::new().route(
                "/metrics",
                actix_web::web::get().to(move || {
                    let server = server.clone();
                    async move {
                        match server.render_metrics().await {
                            Some(text) => actix_web::HttpResponse::Ok()
                                .content_type("text/plain; version=0.0.4")
                                .body(text),
                            None => actix_web::HttpResponse::NotFound().finish(),
                        }
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind(addr)?
        .run();
        let handle = metrics.handle();
        actix_web::rt::spawn(metrics);
        tracing::info!("metrics on http://{addr}/metrics");
        Ok(handle)
    }

    /// Ends every stream this process holds: GET streams close, listen
    /// streams end with their closing response. [`listen`](Self::listen)
    /// does this on Ctrl-C or SIGTERM; call it before stopping a server you
    /// [`bind`](Self::bind) yourself, so the graceful stop does not wait
    /// for streams that never end.
    pub fn end_streams(&self) {
        self.sessions.end_streams();
    }

    /// Connects the shared state (Redis, when configured) and checks it
    /// answers; the error names the URL, never its password. `listen` and
    /// `listen_on` do this first, so a replica that cannot reach Redis does
    /// not start; call it yourself before [`bind`](Self::bind) or
    /// [`configure`](Self::configure). Without Redis it does nothing.
    pub async fn connect(&self) -> std::io::Result<()> {
        self.state
            .connect()
            .await
            .map_err(|why| std::io::Error::new(std::io::ErrorKind::ConnectionRefused, why))?;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            self.sessions.serve_on(runtime);
        }
        Ok(())
    }

    /// Binds `addr` and returns the running actix server (await it to serve;
    /// its handle stops it). Like actix's `HttpServer::bind`, `addr` is
    /// anything [`ToSocketAddrs`]: `"127.0.0.1:3000"`, `("127.0.0.1", 3000)`,
    /// a [`SocketAddr`]; the first address that binds is served. Port 0 picks
    /// a free port: see the log line or use [`McpServer::bind_listener`].
    pub fn bind(self, addr: impl ToSocketAddrs) -> std::io::Result<actix_web::dev::Server> {
        self.bind_listener(std::net::TcpListener::bind(addr)?)
    }

    /// Serves on an already bound listener.
    pub fn bind_listener(
        mut self,
        listener: std::net::TcpListener,
    ) -> std::io::Result<actix_web::dev::Server> {
        self.adjust_hosts_for(listener.local_addr()?.ip());
        self.serve_listener(listener, false)
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
        let mut entries: Vec<String> = super::LOOPBACK_NAMES.map(String::from).to_vec();
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

    /// Serves on `listener`; with `own_signals`, the caller handles Ctrl-C
    /// and SIGTERM (actix does otherwise).
    fn serve_listener(
        self,
        listener: std::net::TcpListener,
        own_signals: bool,
    ) -> std::io::Result<actix_web::dev::Server> {
        let local = listener.local_addr()?;
        let auth = auth_mode(&self, Some(local))
            .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        let endpoint = Endpoint::new(
            Arc::clone(&self.core),
            Arc::clone(&self.sessions),
            self.http.clone(),
            auth,
        );
        let configure = configure(endpoint);
        let mut server =
            actix_web::HttpServer::new(move || actix_web::App::new().configure(configure.clone()))
                .shutdown_timeout(self.http.shutdown_timeout.as_secs());
        if own_signals {
            server = server.disable_signals();
        }
        if let Some(workers) = self.http.workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        let shown = if local.ip().is_unspecified() {
            SocketAddr::new(IpAddr::from([127, 0, 0, 1]), local.port())
        } else {
            local
        };
        let listening = format!(
            "MCP server `{}` listening on http://{shown}{}",
            self.core.info.name, self.http.path
        );
        // Without a subscriber the log line goes nowhere; the address is the
        // one thing a new user must see.
        let subscribed = tracing::dispatcher::get_default(|dispatch| {
            !dispatch.is::<tracing::subscriber::NoSubscriber>()
        });
        if subscribed {
            tracing::info!("{listening}");
        } else {
            eprintln!("{listening}");
        }
        Ok(server)
    }
}

/// How the endpoint authenticates, for `server` bound to `bound` (if known).
fn auth_mode(server: &McpServer, bound: Option<SocketAddr>) -> Result<AuthMode, String> {
    Ok(match server.resource_server(bound)? {
        Some(resource_server) => AuthMode::Protected(resource_server),
        None => AuthMode::Open,
    })
}

/// Ctrl-C, or SIGTERM (what orchestrators send) on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = actix_web::rt::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = actix_web::rt::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = actix_web::rt::signal::ctrl_c().await;
    }
}
