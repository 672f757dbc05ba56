//! [`TestServer`]: an [`McpServer`] on a loopback port, in the background.

use super::{KitError, TestClient, TestIssuer};
use crate::McpServer;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

/// How long [`TestServer::start`] waits for the server thread to come up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A server under test, serving on `127.0.0.1` on a free port in its own
/// thread and actix system. Stopped when dropped.
///
/// Start it from any test, synchronous or async (`#[tokio::test]`,
/// `#[actix_web::test]`): it does not use the caller's runtime.
pub struct TestServer {
    url: String,
    addr: SocketAddr,
    handle: Option<actix_web::dev::ServerHandle>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Serves `server` on a free loopback port.
    pub fn start(server: McpServer) -> Result<Self, KitError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| KitError(format!("cannot bind a loopback port: {e}")))?;
        Self::start_on(listener, server)
    }

    /// Serves `server` on a free loopback port and makes its MCP URL the
    /// default audience of `issuer`'s tokens.
    pub fn start_with(server: McpServer, issuer: &TestIssuer) -> Result<Self, KitError> {
        let started = Self::start(server)?;
        issuer.set_audience(started.url());
        Ok(started)
    }

    /// Serves `server` on `listener`, bound by the caller (when the port
    /// must be known before the server is built, e.g. for its `public_url`).
    pub fn start_on(listener: TcpListener, server: McpServer) -> Result<Self, KitError> {
        let addr = listener
            .local_addr()
            .map_err(|e| KitError(format!("the listener has no address: {e}")))?;
        let path = server.http_config().path.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("mcp-test-server-{}", addr.port()))
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    // The shared state (Redis, if configured) is reached on
                    // the runtime that serves, which its bus task needs.
                    if let Err(e) = server.connect().await {
                        let _ = tx.send(Err(e.to_string()));
                        return;
                    }
                    match server.bind_listener(listener) {
                        Ok(running) => {
                            let _ = tx.send(Ok(running.handle()));
                            let _ = running.await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.to_string()));
                        }
                    }
                })
            })
            .map_err(|e| KitError(format!("cannot start the server thread: {e}")))?;
        let handle = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(handle)) => handle,
            Ok(Err(why)) => return Err(KitError(format!("the server did not start: {why}"))),
            Err(_) => {
                return Err(KitError(
                    "the server thread ended or hung before serving".into(),
                ));
            }
        };
        let host = match addr {
            SocketAddr::V4(_) => addr.to_string(),
            SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
        };
        Ok(Self {
            url: format!("http://{host}{path}"),
            addr,
            handle: Some(handle),
        })
    }

    /// The MCP endpoint, e.g. `http://127.0.0.1:PORT/mcp`: the tokens'
    /// audience, unless the server was built with another `public_url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for other routes (e.g. discovery metadata).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client of this server, without a token.
    pub fn client(&self) -> TestClient {
        TestClient::new(&self.url)
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop(false).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // Stopping needs a runtime and the caller's may be gone or busy:
            // use a thread of its own. Best effort, the process ends anyway.
            let _ = std::thread::Builder::new()
                .name("mcp-test-server-stop".into())
                .spawn(move || actix_web::rt::System::new().block_on(handle.stop(false)));
        }
    }
}
