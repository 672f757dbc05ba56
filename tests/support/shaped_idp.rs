//! A loopback identity provider shaped like a real one: its JWK set and
//! metadata document at the provider's paths, and tokens signed with keys
//! made for the test run.

use super::keys::KeyPair;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The keys of one test run.
struct Keys {
    rsa: KeyPair,
    ec: KeyPair,
    /// An RSA key no identity provider publishes.
    stranger: KeyPair,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: KeyPair::rsa(),
        ec: KeyPair::p256(),
        stranger: KeyPair::rsa(),
    })
}

/// How a token is signed.
#[derive(Debug, Clone, Copy)]
pub enum Signer {
    /// RS256 with the published RSA key.
    Rs256,
    /// ES256 with the published P-256 key.
    Es256,
    /// RS256 with a key nobody publishes, under the published RSA key's `kid`.
    Stranger,
    /// HS256 with this shared secret.
    Hs256(&'static str),
}

/// The `kid` of the published RSA key.
pub const RSA_KID: &str = "rsa-key-1";
/// The `kid` of the published P-256 key.
pub const EC_KID: &str = "ec-key-1";

/// `claims` as a compact JWS signed by `signer`.
pub fn sign(signer: Signer, claims: &Value) -> String {
    let keys = keys();
    let (alg, kid, key) = match signer {
        Signer::Rs256 => (
            Algorithm::RS256,
            Some(RSA_KID),
            EncodingKey::from_rsa_pem(keys.rsa.pem.as_bytes()),
        ),
        Signer::Es256 => (
            Algorithm::ES256,
            Some(EC_KID),
            EncodingKey::from_ec_pem(keys.ec.pem.as_bytes()),
        ),
        Signer::Stranger => (
            Algorithm::RS256,
            Some(RSA_KID),
            EncodingKey::from_rsa_pem(keys.stranger.pem.as_bytes()),
        ),
        Signer::Hs256(secret) => (
            Algorithm::HS256,
            None,
            Ok(EncodingKey::from_secret(secret.as_bytes())),
        ),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key.expect("a signing key")).expect("signing works")
}

/// The public JWK of `signer`'s key, as a provider publishes it.
pub fn public_jwk(signer: Signer) -> Value {
    let (pair, kid, alg) = match signer {
        Signer::Rs256 => (&keys().rsa, RSA_KID, "RS256"),
        Signer::Es256 => (&keys().ec, EC_KID, "ES256"),
        other => panic!("{other:?} is never published"),
    };
    let mut jwk = pair.jwk.clone();
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(alg);
    jwk["use"] = json!("sig");
    jwk
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// `claims` with the fields of `patch` replaced (`null` removes one).
pub fn patch(claims: &Value, patch: Value) -> Value {
    let mut claims = claims.clone();
    for (key, value) in patch.as_object().cloned().unwrap_or_default() {
        match (value.is_null(), claims.as_object_mut()) {
            (true, Some(map)) => {
                map.remove(&key);
            }
            _ => claims[key] = value,
        }
    }
    claims
}

/// Where a provider publishes things, relative to its base URL.
pub struct Layout {
    /// The issuer is `{base}{issuer_path}`.
    pub issuer_path: &'static str,
    pub jwks_path: &'static str,
    /// Paths serving the metadata document.
    pub metadata_paths: &'static [&'static str],
    /// `(metadata field, path)` of the provider's endpoints.
    pub endpoints: &'static [(&'static str, &'static str)],
    /// Keys in the JWK set.
    pub keys: &'static [Signer],
}

/// A loopback identity provider serving a JWK set and a metadata document
/// at a provider's real paths. Stopped on drop.
pub struct ShapedIdp {
    /// `http://127.0.0.1:PORT`: what the provider is configured with.
    pub base: String,
    /// What its tokens name in `iss`.
    pub issuer: String,
    /// Its metadata document.
    pub metadata: Value,
    handle: actix_web::dev::ServerHandle,
}

impl ShapedIdp {
    /// Serves `layout` on a free loopback port.
    pub fn start(layout: &Layout) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let issuer = format!("{base}{}", layout.issuer_path);
        let mut metadata = json!({
            "issuer": issuer,
            "jwks_uri": format!("{base}{}", layout.jwks_path),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": layout.keys.iter().map(|signer| match signer {
                Signer::Rs256 | Signer::Stranger => "RS256",
                Signer::Es256 => "ES256",
                Signer::Hs256(_) => "HS256",
            }).collect::<Vec<_>>(),
        });
        for (field, path) in layout.endpoints {
            metadata[*field] = json!(format!("{base}{path}"));
        }
        let jwks = json!({"keys": layout.keys.iter().map(|s| public_jwk(*s)).collect::<Vec<_>>()});
        let mut documents = HashMap::new();
        documents.insert(layout.jwks_path.to_owned(), jwks.to_string());
        for path in layout.metadata_paths {
            documents.insert((*path).to_owned(), metadata.to_string());
        }
        let documents = Arc::new(documents);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = actix_web::HttpServer::new(move || {
                    let documents = Arc::clone(&documents);
                    actix_web::App::new().default_service(actix_web::web::to(
                        move |req: actix_web::HttpRequest| {
                            let found = documents.get(req.path()).cloned();
                            async move {
                                match found {
                                    Some(body) => actix_web::HttpResponse::Ok()
                                        .content_type("application/json")
                                        .body(body),
                                    None => actix_web::HttpResponse::NotFound().finish(),
                                }
                            }
                        },
                    ))
                })
                .workers(1)
                .listen(listener)
                .expect("listen")
                .run();
                tx.send(server.handle()).expect("report the handle");
                server.await
            })
        });
        let handle = rx.recv().expect("identity provider thread started");
        Self {
            base,
            issuer,
            metadata,
            handle,
        }
    }

    /// `claims` as this provider issues them: `iss`, `iat` and `exp` added.
    pub fn claims(&self, claims: Value) -> Value {
        patch(
            &json!({"iss": self.issuer, "iat": now(), "exp": now() + 300}),
            claims,
        )
    }
}

impl Drop for ShapedIdp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false)));
    }
}
