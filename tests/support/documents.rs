//! Client metadata documents served over https on loopback
//! (`tests/node/documents.mjs`), with a certificate authority made for the
//! run by `openssl`: the server under test trusts it through
//! `SSL_CERT_FILE`, as an operator adds a private authority.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// A running document host. Killed on drop.
pub struct DocumentHost {
    /// `https://localhost:PORT`.
    pub origin: String,
    /// The authority's certificate (PEM), for `SSL_CERT_FILE`.
    pub ca_file: PathBuf,
    child: Child,
}

/// One answer of the host: `body` with `{origin}` filled in, served with
/// `status` and `headers`.
pub fn answer(status: u16, headers: Value, body: &str) -> Value {
    json!({"status": status, "headers": headers, "body": body})
}

/// A JSON document answer (200, `application/json`).
pub fn document(body: &Value) -> Value {
    answer(
        200,
        json!({"content-type": "application/json"}),
        &body.to_string(),
    )
}

impl DocumentHost {
    /// Serves `routes` (path -> [`answer`]) until dropped. Panics with the
    /// reason if `openssl` or the host cannot run: these tests fail, never
    /// skip, without their peers.
    pub fn start(routes: &Value) -> Self {
        let dir = super::fresh_dir("documents");
        let ca_file = dir.join("ca.pem");
        make_certificates(&dir);
        let routes_file = dir.join("routes.json");
        std::fs::write(&routes_file, routes.to_string()).expect("write the routes");
        let arg = |p: &Path| p.to_str().expect("UTF-8 path").to_owned();
        let (cert, key, routes) = (
            arg(&dir.join("leaf.pem")),
            arg(&dir.join("leaf.key")),
            arg(&routes_file),
        );
        let (child, line) =
            super::start_node_peer("documents.mjs", &[&cert, &key, &routes], "document host");
        let info: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the document host printed invalid JSON ({e}): {line}"));
        let port = info["port"]
            .as_u64()
            .unwrap_or_else(|| panic!("the document host printed no port: {line}"));
        Self {
            origin: format!("https://localhost:{port}"),
            ca_file,
            child,
        }
    }

    /// The URL of `path` on this host.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// `SSL_CERT_FILE` for a server that must trust this host.
    pub fn trust(&self) -> (&'static str, &str) {
        ("SSL_CERT_FILE", self.ca_file.to_str().expect("UTF-8 path"))
    }
}

impl Drop for DocumentHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An authority (`ca.pem`) and a certificate for `localhost` and
/// `127.0.0.1` it signed (`leaf.pem`, `leaf.key`), in `dir`: webpki takes
/// no self-signed authority as a server's own certificate.
fn make_certificates(dir: &Path) {
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("write the extensions");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let steps: [Vec<&str>; 3] = [
        [
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "2",
                "-subj",
                "/CN=mcp test authority",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
        [
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
            ],
        ]
        .concat(),
        vec![
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    ];
    for args in steps {
        let output = Command::new("openssl")
            .args(&args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl ({e}); install it (Debian: openssl)"));
        assert!(
            output.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
