//! Compact JWS (RFC 7515) as bearer tokens carry them: the three segments,
//! the few protected-header members this server reads, and the signature
//! check. A published key is parsed once per algorithm and kept, where
//! `jsonwebtoken::decode` rebuilds it on every check; the claims are read
//! once, by the verifier, after the signature holds.

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaParameters, VerificationAlgorithm};
use aws_lc_rs::{hmac, rsa};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// A token split into `header.payload.signature`, its header decoded.
pub(crate) struct CompactJws<'a> {
    /// `header.payload`: the bytes the signature covers.
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
    pub(crate) header: ProtectedHeader,
}

/// The protected-header members this server acts on. `jku`, `x5u`, `jwk`
/// and `x5c` would let the token choose its own key: they are never read.
#[derive(Deserialize)]
pub(crate) struct ProtectedHeader {
    /// Unknown names, `none` among them, fail to parse.
    pub(crate) alg: Algorithm,
    #[serde(default)]
    pub(crate) kid: Option<String>,
    /// The media type of the whole token, if it says (RFC 7515 §4.1.9).
    #[serde(default)]
    pub(crate) typ: Option<String>,
    /// Whether the token names extensions that must be understood. None
    /// are, so any `crit` at all refuses the token (RFC 7515 §4.1.11).
    #[serde(default, deserialize_with = "present")]
    pub(crate) crit: bool,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Why a token could not be read as a JWS.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Not three base64url segments with a header and a signature.
    Shape,
    /// The header is not base64url JSON naming a supported algorithm.
    Header,
}

impl<'a> CompactJws<'a> {
    /// Splits `token` and decodes its header; nothing else is read yet.
    pub(crate) fn parse(token: &'a str) -> Result<Self, Malformed> {
        let (signing_input, signature) = token.rsplit_once('.').ok_or(Malformed::Shape)?;
        let (header, payload) = signing_input.split_once('.').ok_or(Malformed::Shape)?;
        if header.is_empty() || signature.is_empty() || payload.contains('.') {
            return Err(Malformed::Shape);
        }
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| Malformed::Header)?;
        // A JSON object (RFC 7515 §4): serde would read a struct from an array too.
        if header.trim_ascii_start().first() != Some(&b'{') {
            return Err(Malformed::Header);
        }
        let header = serde_json::from_slice(&header).map_err(|_| Malformed::Header)?;
        Ok(Self {
            signing_input,
            payload,
            signature,
            header,
        })
    }

    /// Whether the signature is `key`'s, made with the header's algorithm.
    pub(crate) fn signed_by(&self, key: &SignatureKey) -> bool {
        self.with_signature(|input, signature| key.verifies(self.header.alg, input, signature))
    }

    /// Whether the signature is `secret`'s, for a key kept outside a key
    /// set (a shared HMAC secret): parsed for this one check.
    pub(crate) fn signed_with(&self, secret: &DecodingKey) -> bool {
        let alg = self.header.alg;
        self.with_signature(|input, signature| {
            alg.family() == secret.family()
                && parse(secret, alg).is_some_and(|key| key.verifies(input, signature))
        })
    }

    fn with_signature(&self, check: impl FnOnce(&[u8], &[u8]) -> bool) -> bool {
        match URL_SAFE_NO_PAD.decode(self.signature) {
            Ok(signature) => check(self.signing_input.as_bytes(), &signature),
            Err(_) => false,
        }
    }

    /// The claims: a JSON object, base64url-encoded, naming each claim once.
    pub(crate) fn claims(&self) -> Option<Map<String, Value>> {
        let json = URL_SAFE_NO_PAD.decode(self.payload).ok()?;
        serde_json::from_slice::<Claims>(&json).ok().map(|c| c.0)
    }
}

/// A claims object that repeats no name. RFC 7519 §4 allows refusing such
/// a token or keeping the last value; a repeated `exp` or `sub` could be
/// read one way here and another by the next reader of the same token, so
/// it is refused.
struct Claims(Map<String, Value>);

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> serde::de::Visitor<'de> for Names {
            type Value = Claims;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object naming each claim once")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Claims, A::Error> {
                let mut claims = Map::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    match claims.entry(name) {
                        serde_json::map::Entry::Vacant(entry) => {
                            entry.insert(value);
                        }
                        serde_json::map::Entry::Occupied(_) => {
                            return Err(serde::de::Error::custom("a claim is named twice"));
                        }
                    }
                }
                Ok(Claims(claims))
            }
        }
        deserializer.deserialize_map(Names)
    }
}

/// A verification key and its parsed forms, one per algorithm, each made
/// at its first use.
pub(crate) struct SignatureKey {
    key: DecodingKey,
    parsed: [OnceLock<Option<ParsedKey>>; ALGORITHMS],
}

impl SignatureKey {
    pub(crate) fn new(key: DecodingKey) -> Self {
        Self {
            key,
            parsed: Default::default(),
        }
    }

    pub(crate) fn family(&self) -> AlgorithmFamily {
        self.key.family()
    }

    /// Whether `signature` over `message` is this key's, made with `alg`.
    /// A key the algorithm cannot use verifies nothing.
    pub(crate) fn verifies(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        if alg.family() != self.key.family() {
            return false;
        }
        let Some(slot) = slot(alg).and_then(|slot| self.parsed.get(slot)) else {
            return false;
        };
        slot.get_or_init(|| parse(&self.key, alg))
            .as_ref()
            .is_some_and(|key| key.verifies(message, signature))
    }
}

enum ParsedKey {
    Public(ParsedPublicKey),
    /// Boxed: an HMAC key holds both padded hash states.
    Hmac(Box<hmac::Key>),
}

impl ParsedKey {
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Public(key) => key.verify_sig(message, signature).is_ok(),
            // Constant time: the comparison leaks nothing of the expected tag.
            Self::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
        }
    }
}

const ALGORITHMS: usize = 12;

/// Where `alg`'s parsed key is kept; `None` for an algorithm added to
/// jsonwebtoken after this code, which then verifies nothing.
fn slot(alg: Algorithm) -> Option<usize> {
    Some(match alg {
        Algorithm::HS256 => 0,
        Algorithm::HS384 => 1,
        Algorithm::HS512 => 2,
        Algorithm::ES256 => 3,
        Algorithm::ES384 => 4,
        Algorithm::RS256 => 5,
        Algorithm::RS384 => 6,
        Algorithm::RS512 => 7,
        Algorithm::PS256 => 8,
        Algorithm::PS384 => 9,
        Algorithm::PS512 => 10,
        Algorithm::EdDSA => 11,
        _ => return None,
    })
}

/// `key` made ready for `alg`, with the same aws-lc-rs algorithms
/// jsonwebtoken checks with; `None` when the key cannot serve it.
fn parse(key: &DecodingKey, alg: Algorithm) -> Option<ParsedKey> {
    let rsa = |params: &'static RsaParameters| match key.kind() {
        DecodingKeyKind::RsaModulusExponent { n, e } => rsa::PublicKeyComponents { n, e }
            .to_parsed_public_key(params)
            .ok(),
        DecodingKeyKind::SecretOrDer(der) => ParsedPublicKey::new(params, der).ok(),
    };
    let other = |params: &'static dyn VerificationAlgorithm| {
        ParsedPublicKey::new(params, key.try_get_as_bytes().ok()?).ok()
    };
    let hmac = |params: hmac::Algorithm| {
        let secret = key.try_get_as_bytes().ok()?;
        Some(ParsedKey::Hmac(Box::new(hmac::Key::new(params, secret))))
    };
    let public = match alg {
        Algorithm::HS256 => return hmac(hmac::HMAC_SHA256),
        Algorithm::HS384 => return hmac(hmac::HMAC_SHA384),
        Algorithm::HS512 => return hmac(hmac::HMAC_SHA512),
        Algorithm::RS256 => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => rsa(&signature::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => rsa(&signature::RSA_PSS_2048_8192_SHA512),
        Algorithm::ES256 => other(&signature::ECDSA_P256_SHA256_FIXED),
        Algorithm::ES384 => other(&signature::ECDSA_P384_SHA384_FIXED),
        Algorithm::EdDSA => other(&signature::ED25519),
        _ => None,
    };
    public.map(ParsedKey::Public)
}

/// `text` with `edits` applied to its bytes, each `(at, op, byte)`:
/// replace, insert, remove, or flip one bit, at `at` modulo the length.
/// The random mutations of the property and differential tests.
#[cfg(test)]
pub(crate) fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(at, op, byte) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match op % 4 {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            2 => {
                bytes.remove(at);
            }
            _ => bytes[at] ^= 1 << (byte % 8),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    fn encode(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn the_compact_form_is_checked_before_anything_is_read() {
        let header = encode(r#"{"alg":"HS256"}"#);
        assert!(CompactJws::parse(&format!("{header}.e30.c2ln")).is_ok());
        for (token, why) in [
            (format!("{header}.e30."), "stripped signature"),
            (format!("{header}.e30.c2ln.x"), "four segments"),
            (".e30.c2ln".to_owned(), "no header"),
            (format!("{header}e30c2ln"), "one segment"),
        ] {
            assert_eq!(
                CompactJws::parse(&token).err(),
                Some(Malformed::Shape),
                "{why}"
            );
        }
        for header in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"rs256"}"#,
            r#"{"typ":"JWT"}"#,
            r#"{"alg":"HS256","kid":7}"#,
            r#"{"alg":"HS256","alg":"RS256"}"#,
            "[]",
            r#"["HS256"]"#,
            r#" ["HS256","k1"]"#,
        ] {
            let token = format!("{}.e30.c2ln", encode(header));
            assert_eq!(
                CompactJws::parse(&token).err(),
                Some(Malformed::Header),
                "{header}"
            );
        }
        let padded = format!("{}=.e30.c2ln", encode(r#"{"alg":"HS256"}"#));
        assert!(CompactJws::parse(&padded).is_err(), "base64 padding");
        let standard = format!("{}.e30.c2ln", encode(r#"{"alg":"HS256","kid":"??>"}"#))
            .replace('_', "/")
            .replace('-', "+");
        assert!(CompactJws::parse(&standard).is_err(), "standard base64");
    }

    #[test]
    fn crit_is_seen_whatever_its_value() {
        for header in [
            r#"{"alg":"HS256","crit":["b64"]}"#,
            r#"{"alg":"HS256","crit":null}"#,
        ] {
            let token = format!("{}.e30.c2ln", encode(header));
            assert!(
                CompactJws::parse(&token).expect("parses").header.crit,
                "{header}"
            );
        }
    }

    #[test]
    fn signatures_are_checked_with_the_header_algorithm_and_the_right_key() {
        let secret = DecodingKey::from_secret(b"s3cret");
        let signed = |alg: Algorithm, key: &[u8]| {
            jsonwebtoken::encode(
                &Header::new(alg),
                &serde_json::json!({"sub": "u"}),
                &EncodingKey::from_secret(key),
            )
            .expect("sign")
        };
        let good = signed(Algorithm::HS256, b"s3cret");
        let jws = CompactJws::parse(&good).expect("parses");
        assert!(jws.signed_with(&secret));
        let kept = SignatureKey::new(DecodingKey::from_secret(b"s3cret"));
        assert!(jws.signed_by(&kept));
        assert!(
            jws.signed_by(&kept),
            "the parsed key is kept and still right"
        );
        assert_eq!(jws.claims().expect("claims")["sub"], "u");

        let other_key = signed(Algorithm::HS256, b"other");
        assert!(
            !CompactJws::parse(&other_key)
                .expect("parses")
                .signed_by(&kept)
        );
        let hs512 = signed(Algorithm::HS512, b"s3cret");
        assert!(CompactJws::parse(&hs512).expect("parses").signed_by(&kept));

        // The payload changed after signing.
        let (_, rest) = good.split_once('.').expect("segments");
        let (_, signature) = rest.split_once('.').expect("segments");
        let tampered = format!(
            "{}.{}.{signature}",
            encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            encode(r#"{"sub":"admin"}"#)
        );
        assert!(
            !CompactJws::parse(&tampered)
                .expect("parses")
                .signed_by(&kept)
        );

        // An HMAC secret never checks an RSA-named token, nor an RSA key an HMAC one.
        let rs = format!("{}.e30.c2ln", encode(r#"{"alg":"RS256"}"#));
        assert!(!CompactJws::parse(&rs).expect("parses").signed_by(&kept));
        let rsa_key = SignatureKey::new(
            DecodingKey::from_rsa_components("AQAB", "AQAB").expect("components"),
        );
        assert!(!jws.signed_by(&rsa_key));
    }

    /// Keys as a provider publishes them (JWKs made from real key pairs),
    /// each checking tokens of its own algorithms and only its own.
    #[test]
    fn published_keys_check_tokens_of_their_algorithms() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
        use base64::engine::general_purpose::STANDARD;
        use jsonwebtoken::jwk::Jwk;

        let rng = SystemRandom::new();
        let rsa = {
            let pair = rsa::KeyPair::generate(rsa::KeySize::Rsa2048).expect("an RSA key");
            let der = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
                .expect("PKCS#8");
            let pem = format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                STANDARD.encode(der.as_ref())
            );
            EncodingKey::from_rsa_pem(pem.as_bytes()).expect("an RSA signing key")
        };
        let ec = EncodingKey::from_ec_der(
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("a P-256 key")
                .as_ref(),
        );
        let other_ec = EncodingKey::from_ec_der(
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("a P-256 key")
                .as_ref(),
        );
        let ed_pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("an Ed25519 key");
        let ed = EncodingKey::from_ed_der(ed_pkcs8.as_ref());
        let ed_public = {
            use aws_lc_rs::signature::KeyPair as _;
            let pair = Ed25519KeyPair::from_pkcs8(ed_pkcs8.as_ref()).expect("the key pair");
            DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()))
                .expect("an Ed25519 JWK")
        };
        let claims = serde_json::json!({"sub": "u"});
        let token = |alg: Algorithm, key: &EncodingKey| {
            jsonwebtoken::encode(&Header::new(alg), &claims, key).expect("sign")
        };
        let published = |key: &EncodingKey, alg: Algorithm| {
            let jwk = Jwk::from_encoding_key(key, alg).expect("a JWK");
            SignatureKey::new(DecodingKey::from_jwk(&jwk).expect("a decoding key"))
        };
        let rsa_algorithms = vec![
            Algorithm::RS256,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
        ];
        let cases = [
            (&rsa, published(&rsa, Algorithm::RS256), rsa_algorithms),
            (
                &ec,
                published(&ec, Algorithm::ES256),
                vec![Algorithm::ES256],
            ),
            (&ed, SignatureKey::new(ed_public), vec![Algorithm::EdDSA]),
        ];
        for (key, public, algorithms) in cases {
            for alg in algorithms {
                let good = token(alg, key);
                let jws = CompactJws::parse(&good).expect("parses");
                assert!(jws.signed_by(&public), "{alg:?}");
                assert!(jws.signed_by(&public), "{alg:?}, the kept parsed key");
                let (input, signature) = good.rsplit_once('.').expect("segments");
                let (header, _) = input.split_once('.').expect("segments");
                let forged = format!("{header}.{}.{signature}", encode(r#"{"sub":"admin"}"#));
                let forged = CompactJws::parse(&forged).expect("parses");
                assert!(!forged.signed_by(&public), "{alg:?}: a changed payload");
            }
        }
        let stranger = token(Algorithm::ES256, &other_ec);
        let stranger = CompactJws::parse(&stranger).expect("parses");
        assert!(
            !stranger.signed_by(&published(&ec, Algorithm::ES256)),
            "another key"
        );
        // An RS256 signature relabelled PS256 (or the reverse) does not verify.
        let rs = token(Algorithm::RS256, &rsa);
        let (_, rest) = rs.split_once('.').expect("segments");
        let relabelled = format!("{}.{rest}", encode(r#"{"alg":"PS256","typ":"JWT"}"#));
        let relabelled = CompactJws::parse(&relabelled).expect("parses");
        assert!(!relabelled.signed_by(&published(&rsa, Algorithm::RS256)));
    }

    #[test]
    fn claims_must_be_a_json_object() {
        for payload in [
            encode("[1]"),
            encode(r#"["u", 1]"#),
            encode("not json"),
            encode(r#"{"sub":"u","exp":1,"sub":"admin"}"#),
            encode(r#"{"exp":1,"exp":99999999999}"#),
            "e30=".into(),
            "%%".into(),
        ] {
            let token = format!("{}.{payload}.c2ln", encode(r#"{"alg":"HS256"}"#));
            let jws = CompactJws::parse(&token).expect("parses");
            assert!(jws.claims().is_none(), "{payload}");
        }
    }

    /// Whatever the bytes, reading a token ends in a value or a clean
    /// refusal, never a panic; and only the exact signed token verifies.
    mod properties {
        use super::*;
        use proptest::collection::vec;
        use proptest::prelude::*;

        fn signed_hs256() -> String {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &serde_json::json!({"sub": "u", "exp": 1}),
                &EncodingKey::from_secret(b"s3cret"),
            )
            .expect("sign")
        }

        fn read_all(token: &str) -> Option<bool> {
            let jws = CompactJws::parse(token).ok()?;
            let _ = jws.claims();
            let kept = SignatureKey::new(DecodingKey::from_secret(b"s3cret"));
            let with = jws.signed_with(&DecodingKey::from_secret(b"s3cret"));
            let by = jws.signed_by(&kept);
            assert_eq!(with, by, "a kept key and a one-off key agree");
            Some(by)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn random_bytes_are_read_or_refused(bytes in vec(any::<u8>(), 0..512)) {
                let text = String::from_utf8_lossy(&bytes);
                prop_assert_ne!(read_all(&text), Some(true));
            }

            /// Three base64url segments of random bytes: the JSON readers
            /// see arbitrary input, not only the base64 decoder.
            #[test]
            fn random_segments_are_read_or_refused(
                header in vec(any::<u8>(), 0..128),
                payload in vec(any::<u8>(), 0..128),
                signature in vec(any::<u8>(), 0..64),
                alg in prop::sample::select(vec!["HS256", "RS256", "ES256", "EdDSA", "none", "PS512"]),
            ) {
                let mut json_header = format!(r#"{{"alg":"{alg}","#).into_bytes();
                json_header.extend(&header);
                for header in [header, json_header] {
                    let token = format!(
                        "{}.{}.{}",
                        URL_SAFE_NO_PAD.encode(&header),
                        URL_SAFE_NO_PAD.encode(&payload),
                        URL_SAFE_NO_PAD.encode(&signature),
                    );
                    prop_assert_ne!(read_all(&token), Some(true));
                }
            }

            #[test]
            fn a_mutated_token_never_verifies(
                edits in vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
            ) {
                let good = signed_hs256();
                prop_assert_eq!(read_all(&good), Some(true));
                let mutated = mutate(&good, &edits);
                if mutated != good {
                    prop_assert_ne!(read_all(&mutated), Some(true), "{}", mutated);
                }
            }
        }
    }
}
