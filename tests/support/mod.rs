//! Shared helpers of the integration tests: start servers on loopback, find
//! the Node harness.

#![allow(dead_code)]

use mcp_runtime::McpServer;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A server running on a loopback port in its own actix system.
pub struct TestServer {
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub authority: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Stopping is best effort: the process ends with the test anyway.
        let handle = self.handle.clone();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false)));
    }
}

/// Serves `server` on a free loopback port.
pub fn start(server: McpServer) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let authority = listener.local_addr().expect("local address").to_string();
    let path = server.http_config().path.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let running = server.bind_listener(listener).expect("serve the listener");
            tx.send(running.handle()).expect("report the handle");
            running.await
        })
    });
    let handle = rx.recv().expect("server thread started");
    TestServer {
        url: format!("http://{authority}{path}"),
        authority,
        handle,
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The workspace root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Node harness folder (`tests/node`), installed with `npm ci` on first
/// use. Panics with the reason if it cannot be installed: a real-peer test
/// must fail, never skip, when its peer is missing.
pub fn node_harness() -> &'static Path {
    static READY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let dir = root().join("tests/node");
        let node = dir.join("node_modules/.bin/node");
        if !node.exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .map_err(|e| {
                    format!(
                        "cannot run `npm ci` in {}: {e}; install Node.js and npm",
                        dir.display()
                    )
                })?;
            if !status.success() {
                return Err(format!(
                    "`npm ci` in {} failed with {status}",
                    dir.display()
                ));
            }
        }
        let version = Command::new(&node)
            .arg("--version")
            .output()
            .map_err(|e| format!("cannot start {}: {e}", node.display()))?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
        if !version.starts_with("v22.") {
            return Err(format!(
                "the harness needs Node 22, {} is {version}",
                node.display()
            ));
        }
        Ok(dir)
    });
    match ready {
        Ok(dir) => dir,
        Err(why) => panic!("Node test harness unavailable: {why}"),
    }
}

/// The harness's Node 22 binary.
pub fn node() -> PathBuf {
    node_harness().join("node_modules/.bin/node")
}

/// A binary built by `cargo test` next to this test's own: examples live in
/// `target/<profile>/examples/`.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "example binary {} not found; `cargo test` builds examples, run the tests through cargo",
        path.display()
    );
    path
}
