//! Keys and tokens for the load benchmark (`bench/load.sh`): a fresh RSA
//! 2048 signing key, its JWK set, and RS256 access tokens.
//!
//! ```text
//! cargo run --release --example bench_kit -- OUT_DIR ISSUER AUDIENCE
//! ```
//!
//! Writes into `OUT_DIR`:
//! - `jwks/jwks.json`: the public key (`kid` `bench-1`), to serve over HTTP;
//! - `good.jwt`: scope `bench:write`, valid for 4 hours;
//! - `noscope.jwt`: the same without scopes (403 on the scoped tool);
//! - `bad.jwt`: `kid` `bench-1` but signed by another key (401);
//! - `unknown_kid.jwt`: signed by another key named `bench-2`, which the
//!   JWK set does not publish (401, or 503 while the JWK set is unreachable).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use std::path::Path;

type Error = Box<dyn std::error::Error>;

/// A new RSA 2048 key, as jsonwebtoken signs with it.
fn rsa_key() -> Result<EncodingKey, Error> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
    let der = pair.as_der().map_err(|_| "RSA key export failed")?;
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    Ok(EncodingKey::from_rsa_pem(pem.as_bytes())?)
}

fn sign(key: &EncodingKey, kid: &str, claims: &serde_json::Value) -> Result<String, Error> {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    Ok(jsonwebtoken::encode(&header, claims, key)?)
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, issuer, audience] = args.as_slice() else {
        return Err("usage: bench_kit OUT_DIR ISSUER AUDIENCE".into());
    };
    let out = Path::new(out);
    std::fs::create_dir_all(out.join("jwks"))?;
    let key = rsa_key()?;
    let other = rsa_key()?;

    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256)?;
    jwk.common.key_id = Some("bench-1".into());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
    let set = JwkSet { keys: vec![jwk] };
    std::fs::write(out.join("jwks/jwks.json"), serde_json::to_vec_pretty(&set)?)?;

    let now = jsonwebtoken::get_current_timestamp();
    let claims = |scope: Option<&str>| {
        let mut claims = json!({
            "iss": issuer,
            "aud": audience,
            "sub": "bench-user",
            "iat": now,
            "exp": now + 4 * 3600,
        });
        if let Some(scope) = scope {
            claims["scope"] = json!(scope);
        }
        claims
    };
    let write = |name: &str, token: String| std::fs::write(out.join(name), token);
    write(
        "good.jwt",
        sign(&key, "bench-1", &claims(Some("bench:write")))?,
    )?;
    write("noscope.jwt", sign(&key, "bench-1", &claims(None))?)?;
    write(
        "bad.jwt",
        sign(&other, "bench-1", &claims(Some("bench:write")))?,
    )?;
    write(
        "unknown_kid.jwt",
        sign(&other, "bench-2", &claims(Some("bench:write")))?,
    )?;
    println!("wrote keys and tokens to {}", out.display());
    Ok(())
}
