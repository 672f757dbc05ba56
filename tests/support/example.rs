//! Example binaries run as child processes, configured from environment
//! variables alone: serving on a loopback port, or expected to exit with a
//! configuration error.

use std::io::Read as _;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Environment variables for an example: `(name, value)`.
pub type Vars<'a> = &'a [(&'a str, &'a str)];

/// Variables a child must not inherit: only what a test sets configures it.
fn clean_environment(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("MCP_USE_OAUTH_")
            || name.starts_with("OAUTH_")
            || matches!(
                name,
                "MCP_URL"
                    | "HOST"
                    | "PORT"
                    | "MCP_ALLOWED_HOSTS"
                    | "MCP_REDIS_URL"
                    | "MCP_STATE_SECRET"
            )
        {
            command.env_remove(name);
        }
    }
}

fn example_command(name: &str, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(super::built_example(name));
    clean_environment(&mut command);
    command.env("RUST_LOG", "info").envs(vars.iter().copied());
    command
}

/// An example binary serving on a loopback port. Killed on drop.
pub struct Example {
    child: Child,
    pub url: String,
    port: u16,
    /// Everything it printed, stdout and stderr.
    output: Arc<Mutex<String>>,
    /// What it printed on stderr alone.
    stderr: Arc<Mutex<String>>,
}

impl Example {
    /// Starts the example `name` with `vars` on a free loopback port and waits
    /// until it listens. Panics with its output if it exits first or does not
    /// listen within 20 s.
    pub fn start(name: &str, vars: &[(&str, &str)]) -> Self {
        Self::start_on(name, vars, super::free_port())
    }

    /// [`Example::start`] on `port` (e.g. the port of a replica killed
    /// before, to bring it back where a balancer expects it).
    pub fn start_on(name: &str, vars: &[(&str, &str)], port: u16) -> Self {
        let mut child = example_command(name, vars)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {name} example: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers = [
            drain(child.stdout.take(), &[&output]),
            drain(child.stderr.take(), &[&output, &stderr]),
        ];
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                for reader in readers {
                    let _ = reader.join();
                }
                panic!(
                    "the {name} example exited with {status} before listening:\n{}",
                    output.lock().unwrap_or_else(|e| e.into_inner())
                );
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the {name} example did not listen on port {port} within 20 s:\n{}",
                    output.lock().unwrap_or_else(|e| e.into_inner())
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
            port,
            output,
            stderr,
        }
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it now (SIGKILL: no draining, as a crash or a lost machine) and
    /// waits until it is gone; a no-op once it has exited. What it printed
    /// stays readable.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks it to stop as an orchestrator does (SIGTERM), without waiting.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits at most `within` for it to exit; its exit code, `None` if it
    /// is still running (or was killed by a signal).
    pub fn wait_exit(&mut self, within: std::time::Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// It printed where it listens, the variables it read, and never `secret`.
    pub fn printed_settings(&self, read: &[&str], secret: Option<&str>) {
        let output = self.output();
        assert!(
            output.contains(&format!("listening on {}", self.url)),
            "{output}"
        );
        for name in read {
            assert!(output.contains(name), "{name} is not reported:\n{output}");
        }
        if let Some(secret) = secret {
            assert!(!output.contains(secret), "a secret was printed:\n{output}");
            assert!(output.contains("<set, not shown>"), "{output}");
        }
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Appends everything `pipe` yields to each of `into`, on a thread of its own.
fn drain(
    pipe: Option<impl std::io::Read + Send + 'static>,
    into: &[&Arc<Mutex<String>>],
) -> std::thread::JoinHandle<()> {
    let into: Vec<Arc<Mutex<String>>> = into.iter().map(|sink| Arc::clone(sink)).collect();
    std::thread::spawn(move || {
        let Some(mut pipe) = pipe else { return };
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf[..n]);
            for sink in &into {
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&text);
            }
        }
    })
}

/// Runs the example `name` with `vars` until it exits (it must, with a
/// configuration error): its status, stdout and stderr.
pub fn run_to_exit(name: &str, vars: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut child = example_command(name, vars)
        .env("HOST", "127.0.0.1")
        .env("PORT", super::free_port().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the {name} example: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the {name} example started with {vars:?}; it must refuse that configuration");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut stdout);
    }
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status.code(), stdout, stderr)
}
