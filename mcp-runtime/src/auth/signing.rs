//! A signing key this process holds: made fresh (ES256, P-256) or kept in a
//! PEM file so tokens survive restarts. The development authorization server
//! and the testing kit sign with it; its public half is a JWK set the shared
//! verifier reads like any provider's.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::path::Path;

/// An ES256 signing key. `Debug` shows only its key id.
pub struct SigningKey {
    encoding: EncodingKey,
    pkcs8_der: Vec<u8>,
    public_jwk: Value,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

const PEM_LABEL: &str = "PRIVATE KEY";

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<Self, String> {
        let document =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| "could not generate a signing key".to_owned())?;
        Self::from_pkcs8_der(document.as_ref())
    }

    /// The key in `path` (PKCS#8 PEM), or a new one written there (mode 0600)
    /// if the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_pem(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate()?;
                write_private(path, &key.to_pem()).map_err(|e| {
                    format!("cannot write the signing key to {}: {e}", path.display())
                })?;
                Ok(key)
            }
            Err(e) => Err(format!(
                "cannot read the signing key {}: {e}",
                path.display()
            )),
        }
    }

    /// A key from PKCS#8 PEM text.
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("");
        if !text.contains(&format!("BEGIN {PEM_LABEL}")) {
            return Err("not a PKCS#8 private key (expected `-----BEGIN PRIVATE KEY-----`)".into());
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| "the PEM body is not base64".to_owned())?;
        Self::from_pkcs8_der(&der)
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self, String> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|_| "not a P-256 (ES256) private key".to_owned())?;
        // An uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err("unexpected public key encoding".into());
        }
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let (x, y) = (b64(&point[1..33]), b64(&point[33..65]));
        // RFC 7638 thumbprint: the required members, in lexicographic order.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = b64(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref(),
        );
        let public_jwk = json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": kid, "use": "sig", "alg": "ES256",
        });
        Ok(Self {
            encoding: EncodingKey::from_ec_der(der),
            pkcs8_der: der.to_vec(),
            public_jwk,
            kid,
        })
    }

    /// The key id (the RFC 7638 thumbprint of the public key).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK set document.
    pub fn jwk_set(&self) -> Value {
        json!({ "keys": [self.public_jwk] })
    }

    /// Signs `claims` as an ES256 JWT of type `typ` (e.g. `at+jwt`).
    pub fn sign(&self, typ: &str, claims: &Value) -> Result<String, String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|_| "signing failed".to_owned())
    }

    /// The private key as PKCS#8 PEM.
    fn to_pem(&self) -> String {
        let body = base64::engine::general_purpose::STANDARD.encode(&self.pkcs8_der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect();
        format!(
            "-----BEGIN {PEM_LABEL}-----\n{}\n-----END {PEM_LABEL}-----\n",
            lines.join("\n")
        )
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{JwtVerifier, KeySource, StaticKeys};
    use std::sync::Arc;

    #[tokio::test]
    async fn tokens_it_signs_pass_the_shared_verifier() {
        let key = SigningKey::generate().unwrap();
        let keys = StaticKeys::from_jwk_set(&key.jwk_set()).unwrap();
        let verifier = JwtVerifier::new("http://127.0.0.1:1", KeySource::Static(Arc::new(keys)))
            .audiences(["http://127.0.0.1:1/mcp"]);
        let now = jsonwebtoken::get_current_timestamp();
        let token = key
            .sign("at+jwt", &json!({"iss": "http://127.0.0.1:1", "aud": "http://127.0.0.1:1/mcp", "sub": "u", "exp": now + 60}))
            .unwrap();
        assert_eq!(
            verifier.verify_token(&token).await.unwrap().user.user_id,
            "u"
        );
        let other = SigningKey::generate().unwrap();
        let forged = other
            .sign("at+jwt", &json!({"iss": "http://127.0.0.1:1", "aud": "http://127.0.0.1:1/mcp", "sub": "u", "exp": now + 60}))
            .unwrap();
        assert!(verifier.verify_token(&forged).await.is_err());
    }

    #[test]
    fn a_key_file_survives_restarts() {
        let dir = std::env::temp_dir().join(format!("mcp-key-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let first = SigningKey::load_or_create(&dir).unwrap();
        let second = SigningKey::load_or_create(&dir).unwrap();
        assert_eq!(first.kid(), second.kid());
        assert!(!format!("{first:?}").contains("BEGIN"));
        let _ = std::fs::remove_file(&dir);
        assert!(SigningKey::from_pem("nonsense").is_err());
    }
}
