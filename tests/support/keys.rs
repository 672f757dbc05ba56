//! Key pairs made in this process: a private key as PKCS#8 PEM, which
//! `jsonwebtoken` signs with, and its public JWK, as a provider publishes it.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;

/// A private key and its public JWK (`kty` and the key material only: the
/// publisher adds `kid`, `alg` and `use`).
pub struct KeyPair {
    /// PKCS#8 PEM.
    pub pem: String,
    /// The public JWK.
    pub jwk: Value,
}

impl KeyPair {
    /// A new 2048-bit RSA key.
    pub fn rsa() -> Self {
        let pair = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).expect("an RSA key");
        let der = AsDer::<Pkcs8V1Der>::as_der(&pair).expect("the RSA key as PKCS#8");
        Self::from_pkcs8(der.as_ref(), Algorithm::RS256)
    }

    /// A new P-256 key.
    pub fn p256() -> Self {
        let der =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .expect("a P-256 key");
        Self::from_pkcs8(der.as_ref(), Algorithm::ES256)
    }

    fn from_pkcs8(der: &[u8], alg: Algorithm) -> Self {
        let base64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = base64
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        let key = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .expect("the generated key parses");
        let mut jwk = Jwk::from_encoding_key(&key, alg).expect("the public JWK");
        jwk.common.key_algorithm = None;
        Self {
            pem,
            jwk: serde_json::to_value(jwk).expect("a JWK serializes"),
        }
    }
}
