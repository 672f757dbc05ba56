//! Several replicas of an example behind nginx, sharing state in Redis: the
//! harness of multi-replica tests. Each piece is a child process on a free
//! loopback port, stopped on drop; each panics with the child's output when it
//! cannot start. `redis-server` and `nginx` come from Debian's packages
//! (`.ci/run` installs them): a missing one fails the test, it never skips.
//!
//! nginx runs `deploy/nginx.conf`, the configuration users are told to copy,
//! so the tests exercise what the documentation ships.

use super::example::{Example, Vars};
use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a test that needs Redis or nginx says when one is missing.
pub const MISSING: &str = "install Debian's redis-server and nginx (.ci/run does)";

/// The `MCP_STATE_SECRET` [`Cluster::start`] gives every replica (at least 32
/// bytes); a test's own `MCP_STATE_SECRET` var replaces it.
pub const STATE_SECRET: &str = "cluster-test-state-secret-0123456789abcdef";

/// How long a child has to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// `name`'s path: on `PATH`, else in `/usr/sbin` or `/usr/bin` (nginx is in
/// `/usr/sbin`, off a non-root user's `PATH`). Panics with [`MISSING`].
fn program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{name} not found: {MISSING}"))
}

/// Spawns `command` with stdout and stderr appended to one string, drained on
/// threads of their own (a full pipe would block the child).
fn spawn_logged(mut command: Command, what: &str) -> (Child, Arc<Mutex<String>>) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}; {MISSING}"));
    let output = Arc::new(Mutex::new(String::new()));
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ] {
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let Some(mut pipe) = pipe else { return };
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut text = sink.lock().unwrap_or_else(|e| e.into_inner());
                if text.len() < 256 * 1024 {
                    text.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
    }
    (child, output)
}

fn read_text(text: &Mutex<String>) -> String {
    text.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Connects to `127.0.0.1:port` within 1 s.
fn connect(port: u16) -> std::io::Result<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1))
}

// ---------------------------------------------------------------------------
// Redis.

/// A `redis-server` on a loopback port, in memory only (`--save ''
/// --appendonly no`). Killed on drop. [`Redis::stop`] and
/// [`Redis::start_again`] take it away and bring it back, empty, on the same
/// port: what replicas see when Redis is lost and restarted.
pub struct Redis {
    port: u16,
    child: Option<Child>,
    /// What the current process printed.
    output: Arc<Mutex<String>>,
}

impl Redis {
    /// Starts redis-server on a free loopback port and waits until it answers
    /// `PING`. Panics with its output if it exits first or does not answer
    /// within 20 s, and with [`MISSING`] if it is not installed.
    pub fn start() -> Self {
        let mut redis = Self {
            port: super::free_port(),
            child: None,
            output: Arc::default(),
        };
        redis.start_again();
        redis
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/0`, for `MCP_REDIS_URL`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Sends `PING` on a fresh connection: `Ok` on `+PONG`, else the error
    /// (`ConnectionRefused` while it is stopped).
    pub fn ping(&self) -> std::io::Result<()> {
        let mut stream = connect(self.port)?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(b"PING\r\n")?;
        let mut reply = [0u8; 64];
        let n = stream.read(&mut reply)?;
        if reply[..n].starts_with(b"+PONG") {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "PING answered {:?}",
                String::from_utf8_lossy(&reply[..n])
            )))
        }
    }

    /// Kills it (SIGKILL, as a crash) and waits until it is gone: its port
    /// refuses connections until [`Redis::start_again`]. A no-op when stopped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a new, empty redis-server on the same port and waits until it
    /// answers `PING`. Panics like [`Redis::start`], and if it is running.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "Redis is already running");
        let mut command = Command::new(program("redis-server"));
        command
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(std::env::temp_dir());
        let (mut child, output) = spawn_logged(command, "redis-server");
        self.output = output;
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last = self.ping();
        while let Err(why) = &last {
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(100)); // the pipes' last words
                panic!(
                    "redis-server on port {} exited with {status} before answering PING:\n{}",
                    self.port,
                    self.output()
                );
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-server on port {} did not answer PING within {START_TIMEOUT:?} ({why}):\n{}",
                    self.port,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
            last = self.ping();
        }
        self.child = Some(child);
    }

    /// What the current (or last) redis-server printed.
    pub fn output(&self) -> String {
        read_text(&self.output)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------
// Replicas.

/// `n` copies of one example, each on its own loopback port. Killed on drop.
pub struct Replicas {
    name: String,
    vars: Vec<(String, String)>,
    replicas: Vec<Example>,
}

impl Replicas {
    /// Starts `n` copies of the example `name`, all with `vars` (for a
    /// cluster: `MCP_REDIS_URL`, `MCP_STATE_SECRET` and `MCP_URL` = the
    /// balancer's URL; [`Cluster::start`] sets them), and waits until each
    /// listens. Panics like [`Example::start`].
    pub fn start(name: &str, n: usize, vars: Vars) -> Self {
        let replicas = (0..n).map(|_| Example::start(name, vars)).collect();
        Self {
            name: name.to_owned(),
            vars: vars
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            replicas,
        }
    }

    /// How many there are (killed ones included).
    pub fn len(&self) -> usize {
        self.replicas.len()
    }

    /// Replica `i`.
    pub fn get(&self, i: usize) -> &Example {
        &self.replicas[i]
    }

    /// Whether replica `i` is still running.
    pub fn is_running(&mut self, i: usize) -> bool {
        self.replicas[i].is_running()
    }

    /// Their ports, in order.
    pub fn ports(&self) -> Vec<u16> {
        self.replicas.iter().map(Example::port).collect()
    }

    /// Their `127.0.0.1:PORT` addresses, as nginx's `$upstream_addr` names
    /// them.
    pub fn addrs(&self) -> BTreeSet<String> {
        self.ports()
            .into_iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect()
    }

    /// Kills replica `i` now (SIGKILL, no draining: a crash or a lost
    /// machine). Its port refuses connections; nginx then skips it.
    pub fn kill(&mut self, i: usize) {
        self.replicas[i].kill();
    }

    /// Starts replica `i` again on its port, with the same vars (after
    /// [`Replicas::kill`]; killed first if still running).
    pub fn restart(&mut self, i: usize) {
        let port = self.replicas[i].port();
        self.replicas[i].kill();
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.replicas[i] = Example::start_on(&self.name, &vars, port);
    }

    /// Everything each replica printed, under a heading naming it.
    pub fn output(&self) -> String {
        self.replicas
            .iter()
            .enumerate()
            .map(|(i, r)| format!("--- replica {i} (port {}):\n{}\n", r.port(), r.output()))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// nginx.

/// nginx running `deploy/nginx.conf` in the foreground, round robin over
/// loopback ports, from a prefix directory of its own (config, pid, logs,
/// temp files) that is removed on drop. Stopped on drop.
pub struct Nginx {
    port: u16,
    program: PathBuf,
    dir: PathBuf,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Nginx {
    /// nginx on a free port in front of `upstream_ports`.
    pub fn start(upstream_ports: &[u16]) -> Self {
        Self::start_on(super::free_port(), upstream_ports)
    }

    /// nginx on `port` in front of `upstream_ports` (loopback): renders
    /// `deploy/nginx.conf` into a new prefix directory, runs `nginx -p DIR -c
    /// DIR/nginx.conf` and waits until it listens. Panics with its output and
    /// error log if it exits first or does not listen within 20 s, and with
    /// [`MISSING`] if it is not installed.
    pub fn start_on(port: u16, upstream_ports: &[u16]) -> Self {
        assert!(!upstream_ports.is_empty(), "nginx needs an upstream");
        let nginx = program("nginx");
        let dir = prefix_dir();
        let template = super::root().join("deploy/nginx.conf");
        let template = std::fs::read_to_string(&template)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", template.display()));
        let upstreams: Vec<String> = upstream_ports
            .iter()
            .map(|p| format!("        server 127.0.0.1:{p};"))
            .collect();
        let conf = template
            .replace("@PREFIX@", path_str(&dir))
            .replace("@LISTEN_PORT@", &port.to_string())
            .replace("@UPSTREAMS@", &upstreams.join("\n"));
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", conf_path.display()));

        let (mut child, output) = spawn_logged(nginx_command(&nginx, &dir), "nginx");
        let deadline = Instant::now() + START_TIMEOUT;
        while let Err(why) = connect(port) {
            let failure = if let Ok(Some(status)) = child.try_wait() {
                format!("exited with {status}")
            } else if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                format!("did not listen within {START_TIMEOUT:?} ({why})")
            } else {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            };
            std::thread::sleep(Duration::from_millis(100)); // the pipes' last words
            let error_log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            let printed = read_text(&output);
            let _ = std::fs::remove_dir_all(&dir);
            panic!(
                "nginx on port {port} {failure}; it printed:\n{printed}\nerror.log:\n{error_log}"
            );
        }
        Self {
            port,
            program: nginx,
            dir,
            child,
            output,
        }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// The access log so far: one line per finished request.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default()
    }

    /// How many requests the access log holds. nginx writes a line once it
    /// has finished a request, which can be just after the client read the
    /// response: see [`Nginx::wait_logged`].
    pub fn logged_requests(&self) -> usize {
        self.access_log().lines().count()
    }

    /// Waits until the access log holds at least `n` requests; panics with
    /// the log after 10 s.
    pub fn wait_logged(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.logged_requests() < n {
            assert!(
                Instant::now() < deadline,
                "nginx logged fewer than {n} requests within 10 s:\n{}",
                self.access_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The `$upstream_addr`s (`127.0.0.1:PORT`) that answered a request in
    /// the access log so far. A request nginx had to try on several replicas
    /// lists each; one that could not be reached (status 502 or 504 in the
    /// matching place of `$upstream_status`) did not answer and is left out.
    pub fn upstreams_seen(&self) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        for line in self.access_log().lines() {
            let (Some(addrs), Some(statuses)) = (
                quoted_field(line, "upstream"),
                quoted_field(line, "upstream_status"),
            ) else {
                continue;
            };
            // `, ` separates the replicas tried, ` : ` internal redirects;
            // `-` stands for no replica (a request nginx answered itself).
            let split = |list: &'_ str| -> Vec<String> {
                list.split(", ")
                    .flat_map(|part| part.split(" : "))
                    .map(str::to_owned)
                    .collect()
            };
            for (addr, status) in split(addrs).into_iter().zip(split(statuses)) {
                let answered = status.len() == 3
                    && status.bytes().all(|b| b.is_ascii_digit())
                    && status != "502"
                    && status != "504";
                if answered && addr != "-" {
                    seen.insert(addr);
                }
            }
        }
        seen
    }

    /// What nginx printed, and its error log.
    pub fn output(&self) -> String {
        let error_log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
        format!("{}\nerror.log:\n{error_log}", read_text(&self.output))
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // `nginx -s stop` (SIGTERM to the master, found through its pid
        // file), not SIGKILL: the master takes its workers down with it, where
        // a killed master would leave them listening.
        let termed = nginx_command(&self.program, &self.dir)
            .args(["-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(5);
        while termed && Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `nginx -p DIR -e DIR/error.log -c DIR/nginx.conf`.
fn nginx_command(program: &Path, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .arg("-p")
        .arg(dir)
        // Its own error log from the first line on, not /var/log/nginx.
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"));
    command
}

/// The value of `name="..."` in an access log line.
fn quoted_field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {name}=\""))? + name.len() + 3;
    let rest = &line[start..];
    Some(&rest[..rest.find('"')?])
}

fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", path.display()))
}

/// A new, empty directory under the temp dir, readable by nginx's workers
/// (they run as `nobody` when nginx is started as root).
fn prefix_dir() -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = super::fresh_dir("nginx");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", dir.display()));
    dir
}

// ---------------------------------------------------------------------------
// The three together.

/// Redis, `n` replicas of an example sharing it, and nginx in front: what
/// `deploy/run-replicas.sh` runs. Dropped in field order: nginx, the
/// replicas, then Redis.
pub struct Cluster {
    /// The balancer's MCP endpoint, `http://127.0.0.1:PORT/mcp` (the
    /// replicas' `MCP_URL` is its origin).
    pub url: String,
    pub nginx: Nginx,
    pub replicas: Replicas,
    pub redis: Redis,
}

impl Cluster {
    /// Starts Redis, then `n` replicas of the example `name` with
    /// `MCP_REDIS_URL` = Redis's URL, `MCP_STATE_SECRET` = [`STATE_SECRET`],
    /// `MCP_URL` = the balancer's origin, and `extra_vars` (which win over
    /// those three), then nginx in front of them. Panics like the parts do.
    pub fn start(name: &str, n: usize, extra_vars: Vars) -> Self {
        let redis = Redis::start();
        let nginx_port = super::free_port();
        let public = format!("http://127.0.0.1:{nginx_port}");
        let redis_url = redis.url();
        let mut vars: Vec<(&str, &str)> = vec![
            ("MCP_REDIS_URL", &redis_url),
            ("MCP_STATE_SECRET", STATE_SECRET),
            ("MCP_URL", &public),
        ];
        vars.extend_from_slice(extra_vars);
        let replicas = Replicas::start(name, n, &vars);
        let nginx = Nginx::start_on(nginx_port, &replicas.ports());
        Self {
            url: nginx.url(),
            nginx,
            replicas,
            redis,
        }
    }

    /// Everything the replicas, nginx and Redis printed, and nginx's access
    /// log: for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "{}--- nginx:\n{}\n--- access.log:\n{}\n--- redis:\n{}",
            self.replicas.output(),
            self.nginx.output(),
            self.nginx.access_log(),
            self.redis.output()
        )
    }
}
