//! The one JWT verifier every provider uses. A provider only says where the
//! keys live, which algorithms it signs with, who issues and who the audience
//! is, and how claims map to the caller (RFC 8725 throughout).

use super::jwks::{JwksCache, JwksSettings, KeyError, StaticKeys, VerificationKey};
use super::{Auth, AuthError, TokenVerifier, VerifyFuture};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Rewrites the caller after the default claim mapping: a provider's own
/// roles, permissions or profile claims.
pub type ClaimsHook = Arc<dyn Fn(&mut Auth) + Send + Sync>;

/// Where a verifier finds its keys.
#[derive(Clone)]
pub enum KeySource {
    /// A JWK set URL (asymmetric keys, refetched as the provider rotates them).
    Jwks(Arc<JwksCache>),
    /// A shared HMAC secret (HS256 only; e.g. Supabase's legacy JWT secret).
    SharedSecret(Arc<DecodingKey>),
    /// Keys known in advance (the development server's own, or pinned keys).
    Static(Arc<StaticKeys>),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Jwks(cache) => f.debug_tuple("Jwks").field(&cache.url()).finish(),
            Self::SharedSecret(_) => f.write_str("SharedSecret(<redacted>)"),
            Self::Static(keys) => f.debug_tuple("Static").field(keys).finish(),
        }
    }
}

impl KeySource {
    /// Keys from the JWK set at `url`, with default cache settings.
    pub fn jwks(url: impl Into<String>) -> Self {
        Self::Jwks(Arc::new(JwksCache::new(url, JwksSettings::default())))
    }

    /// An HMAC secret shared with the issuer.
    pub fn shared_secret(secret: impl AsRef<[u8]>) -> Self {
        Self::SharedSecret(Arc::new(DecodingKey::from_secret(secret.as_ref())))
    }
}

/// Checks bearer JWTs: signature with a key from the configured source and an
/// allowed algorithm, then `iss`, `aud`, `exp`, `nbf` and `iat`.
#[derive(Clone)]
pub struct JwtVerifier {
    issuer: String,
    audiences: Vec<String>,
    /// Accepted besides `audiences` (or the server's URL when those are unset).
    extra_audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    max_token_bytes: usize,
    keys: KeySource,
    claims_hook: Option<ClaimsHook>,
    check_signature: bool,
    /// The claim checks per accepted algorithm, built at the first check.
    validations: OnceLock<Arc<Vec<(Algorithm, Validation)>>>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("algorithms", &self.algorithms)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Longest token read by default: real access tokens are a few KiB at most.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

impl JwtVerifier {
    /// A verifier for tokens from `issuer`, with keys from `keys`. Algorithms
    /// default to RS256 and ES256 for a JWK set, HS256 for a shared secret.
    pub fn new(issuer: impl Into<String>, keys: KeySource) -> Self {
        let algorithms = match keys {
            KeySource::Jwks(_) | KeySource::Static(_) => vec![Algorithm::RS256, Algorithm::ES256],
            KeySource::SharedSecret(_) => vec![Algorithm::HS256],
        };
        Self {
            issuer: issuer.into(),
            audiences: Vec::new(),
            extra_audiences: Vec::new(),
            algorithms,
            leeway: Duration::from_secs(30),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            keys,
            claims_hook: None,
            check_signature: true,
            validations: OnceLock::new(),
        }
    }

    /// Accepts tokens whose `aud` holds one of these (RFC 8707: the MCP
    /// server's own URL, or the API identifier the provider issues for).
    pub fn audiences<S: Into<String>>(mut self, audiences: impl IntoIterator<Item = S>) -> Self {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self.validations = OnceLock::new();
        self
    }

    /// Also accepts these audiences, keeping the default one (the server's URL).
    pub fn extra_audiences<S: Into<String>>(
        mut self,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        self.extra_audiences = audiences.into_iter().map(Into::into).collect();
        self.validations = OnceLock::new();
        self
    }

    /// Whether an audience was configured.
    pub fn has_audience(&self) -> bool {
        !self.audiences.is_empty()
    }

    /// The accepted signing algorithms. HMAC algorithms are dropped unless the
    /// keys are a shared secret, and asymmetric ones when they are: a key
    /// never serves two families.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        let hmac = matches!(self.keys, KeySource::SharedSecret(_));
        self.validations = OnceLock::new();
        self.algorithms = algorithms
            .into_iter()
            .filter(|a| (a.family() == jsonwebtoken::AlgorithmFamily::Hmac) == hmac)
            .collect();
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self.validations = OnceLock::new();
        self
    }

    /// Longest token accepted (default 8 KiB); longer ones are refused unread.
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// Adjusts the caller after the default claim mapping.
    pub fn claims_hook(mut self, hook: impl Fn(&mut Auth) + Send + Sync + 'static) -> Self {
        self.claims_hook = Some(Arc::new(hook));
        self
    }

    /// Development only: accept tokens without checking their signature.
    /// The server refuses to start with this unless bound to loopback.
    pub fn skip_signature_check(mut self) -> Self {
        self.check_signature = false;
        self
    }

    /// Whether signatures are checked.
    pub fn checks_signatures(&self) -> bool {
        self.check_signature
    }

    /// The issuer tokens must name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key source.
    pub fn key_source(&self) -> &KeySource {
        &self.keys
    }

    /// Verifies `token` and maps its claims to the caller.
    pub async fn verify_token(&self, token: &str) -> Result<Auth, AuthError> {
        let (claims, key_id) = self.verified_claims(token).await?;
        let mut auth = Auth::from_claims(token, claims);
        auth.key_id = key_id;
        if let Some(hook) = &self.claims_hook {
            hook(&mut auth);
        }
        Ok(auth)
    }

    /// Which key set verdicts are made with now (see [`JwksCache`]); `0` for
    /// keys that never change.
    pub(crate) fn key_generation(&self) -> u64 {
        match &self.keys {
            KeySource::Jwks(cache) => cache.generation(),
            KeySource::SharedSecret(_) | KeySource::Static(_) => 0,
        }
    }

    /// Whether a verdict made with key set `generation`, on a token signed
    /// by the key `kid`, still stands: the keys are the same, or they changed
    /// and still include that key.
    pub(crate) fn still_trusts(&self, kid: Option<&str>, generation: u64) -> bool {
        match &self.keys {
            KeySource::Jwks(cache) => {
                cache.generation() == generation || kid.is_some_and(|kid| cache.publishes(kid))
            }
            KeySource::SharedSecret(_) | KeySource::Static(_) => true,
        }
    }

    /// The verified claims, and the `kid` of the key that signed them.
    async fn verified_claims(
        &self,
        token: &str,
    ) -> Result<(Map<String, Value>, Option<String>), AuthError> {
        if token.len() > self.max_token_bytes {
            return Err(invalid("the token is too large"));
        }
        if !is_compact_jws(token) {
            return Err(invalid("the token is not a signed JWT"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            invalid("the token's header is malformed or names an unsupported algorithm")
        })?;
        // `jku`, `x5u`, `jwk` and `x5c` would let the token choose its own key: never read.
        if header.crit.is_some() {
            return Err(invalid(
                "the token requires extensions this server does not support",
            ));
        }
        if !self.algorithms.contains(&header.alg) {
            return Err(invalid(
                "the token is signed with an algorithm this server does not accept",
            ));
        }
        if !self.check_signature {
            return Ok((self.unverified_claims(token)?, None));
        }
        let key = match &self.keys {
            KeySource::SharedSecret(secret) => Key::Secret(Arc::clone(secret)),
            KeySource::Static(keys) => match keys.key_for(header.kid.as_deref(), header.alg) {
                Some(key) => Key::Published(key),
                None => {
                    return Err(invalid(
                        "the token is not signed by a key of the trusted issuer",
                    ));
                }
            },
            KeySource::Jwks(cache) => {
                match cache.key_for(header.kid.as_deref(), header.alg).await {
                    Ok(key) => Key::Published(key),
                    Err(KeyError::Unknown) => {
                        return Err(invalid(
                            "the token is not signed by a key of the trusted issuer",
                        ));
                    }
                    Err(KeyError::Unavailable) => {
                        return Err(AuthError::Unavailable(
                            "the identity provider's keys are unavailable; try again shortly"
                                .into(),
                        ));
                    }
                }
            }
        };
        if self.audiences.is_empty() {
            // Without an audience the token could be meant for any service:
            // refuse rather than accept tokens for someone else.
            return Err(invalid("the server has no audience configured"));
        }
        let validation = self.validation(header.alg).ok_or_else(|| {
            invalid("the token is signed with an algorithm this server does not accept")
        })?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key.decoding(), validation)
            .map_err(|e| describe(&e))?;
        self.check_issued_at(&data.claims)?;
        Ok((data.claims, header.kid))
    }

    /// The claim checks for tokens signed with `alg`, built once per
    /// verifier (the builder methods that change them start afresh).
    fn validation(&self, alg: Algorithm) -> Option<&Validation> {
        let built = self.validations.get_or_init(|| {
            let accepted: Vec<&String> =
                self.audiences.iter().chain(&self.extra_audiences).collect();
            let validations = self.algorithms.iter().map(|&alg| {
                let mut validation = Validation::new(alg);
                validation.leeway = self.leeway.as_secs();
                validation.validate_nbf = true;
                validation.set_issuer(&[&self.issuer]);
                validation.set_audience(&accepted);
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
                (alg, validation)
            });
            Arc::new(validations.collect())
        });
        built.iter().find(|(a, _)| *a == alg).map(|(_, v)| v)
    }

    fn unverified_claims(&self, token: &str) -> Result<Map<String, Value>, AuthError> {
        let data = jsonwebtoken::dangerous::insecure_decode::<Map<String, Value>>(token)
            .map_err(|_| invalid("the token's claims are malformed"))?;
        let now = jsonwebtoken::get_current_timestamp();
        match data.claims.get("exp").and_then(Value::as_u64) {
            Some(exp) if exp.saturating_add(self.leeway.as_secs()) >= now => Ok(data.claims),
            Some(_) => Err(invalid("the token has expired")),
            None => Err(invalid("the token has no `exp` claim")),
        }
    }

    fn check_issued_at(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        match claims.get("iat") {
            None => Ok(()),
            Some(Value::Number(n)) => {
                let now = jsonwebtoken::get_current_timestamp();
                match n.as_u64() {
                    Some(iat) if iat <= now.saturating_add(self.leeway.as_secs()) => Ok(()),
                    _ => Err(invalid("the token was issued in the future")),
                }
            }
            Some(_) => Err(invalid("the token's `iat` claim is not a number")),
        }
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(self.verify_token(token))
    }
}

/// The key a signature is checked with, borrowed from where it lives.
enum Key {
    Secret(Arc<DecodingKey>),
    Published(Arc<VerificationKey>),
}

impl Key {
    fn decoding(&self) -> &DecodingKey {
        match self {
            Key::Secret(key) => key,
            Key::Published(key) => &key.key,
        }
    }
}

fn invalid(message: &str) -> AuthError {
    AuthError::InvalidToken(message.to_owned())
}

/// Three base64url segments, the signature not empty: anything else is not a JWS.
fn is_compact_jws(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let base64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    !header.is_empty()
        && !signature.is_empty()
        && base64url(header)
        && base64url(payload)
        && base64url(signature)
}

/// Words a client developer can act on; never the verifier's internals.
fn describe(error: &jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    let message = match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (`nbf`)".to_owned(),
        ErrorKind::InvalidIssuer => "the token was issued by an untrusted issuer".to_owned(),
        ErrorKind::InvalidAudience => {
            "the token was not issued for this server (`aud` does not name it)".to_owned()
        }
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no `{claim}` claim"),
        ErrorKind::InvalidSignature => "the token's signature is invalid".to_owned(),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            "the token's algorithm does not match its key".to_owned()
        }
        _ => "the token is malformed".to_owned(),
    };
    AuthError::InvalidToken(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_form_is_checked_before_parsing() {
        assert!(is_compact_jws("eyJh.eyJ.c2ln"));
        assert!(!is_compact_jws("eyJh.eyJ."), "stripped signature");
        assert!(!is_compact_jws("eyJh.eyJ.c2ln.x"));
        assert!(!is_compact_jws("eyJh.ey J.c2ln"));
        assert!(
            !is_compact_jws("eyJh.eyJ.c2l+"),
            "standard base64 is not base64url"
        );
    }

    #[tokio::test]
    async fn huge_expiry_claims_do_not_overflow() {
        use base64::Engine as _;
        let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!(
            "{}.{}.c2ln",
            encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            encode(&format!(r#"{{"exp":{},"sub":"u"}}"#, u64::MAX))
        );
        let unchecked = JwtVerifier::new("https://issuer", KeySource::jwks("https://issuer/jwks"))
            .skip_signature_check();
        assert!(unchecked.verify_token(&token).await.is_ok());
        let mut claims = Map::new();
        claims.insert("iat".into(), Value::from(u64::MAX));
        let verifier = JwtVerifier::new("https://issuer", KeySource::shared_secret("s3cret"))
            .leeway(Duration::MAX);
        assert!(verifier.check_issued_at(&claims).is_ok());
    }

    #[test]
    fn a_key_serves_one_family_of_algorithms() {
        let jwks = JwtVerifier::new("https://issuer", KeySource::jwks("https://issuer/jwks"))
            .algorithms([Algorithm::RS256, Algorithm::HS256]);
        assert_eq!(jwks.algorithms, [Algorithm::RS256]);
        let secret = JwtVerifier::new("https://issuer", KeySource::shared_secret("s3cret"))
            .algorithms([Algorithm::RS256, Algorithm::HS256]);
        assert_eq!(secret.algorithms, [Algorithm::HS256]);
        assert!(!format!("{:?}", secret.keys).contains("s3cret"));
    }
}
