//! The one JWT verifier every provider uses. A provider only says where the
//! keys live, which algorithms it signs with, who issues and who the audience
//! is, and how claims map to the caller (RFC 8725 throughout).

use super::issuer_discovery::IssuerDiscovery;
use super::jwks::{JwksCache, JwksSettings, KeyError, StaticKeys};
use super::jws::{CompactJws, Malformed};
use super::{Auth, AuthError, TokenVerifier, VerifyFuture};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use std::sync::Arc;
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
    /// The keys and algorithms an OpenID provider's discovery document
    /// names, found from its issuer.
    Discovered(Arc<IssuerDiscovery>),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Jwks(cache) => f.debug_tuple("Jwks").field(&cache.url()).finish(),
            Self::SharedSecret(_) => f.write_str("SharedSecret(<redacted>)"),
            Self::Static(keys) => f.debug_tuple("Static").field(keys).finish(),
            Self::Discovered(discovery) => f.debug_tuple("Discovered").field(discovery).finish(),
        }
    }
}

impl KeySource {
    /// Keys from the JWK set at `url`, with default cache settings.
    pub fn jwks(url: impl Into<String>) -> Self {
        Self::Jwks(Arc::new(JwksCache::new(url, JwksSettings::default())))
    }

    /// The keys `issuer`'s discovery document names, with default cache
    /// settings.
    pub fn discover(issuer: impl Into<String>) -> Self {
        Self::Discovered(Arc::new(IssuerDiscovery::new(
            issuer,
            JwksSettings::default(),
        )))
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
    /// The payload `typ` claim an access token must carry, for providers that
    /// sign ID tokens with the same key and audience (Keycloak's `Bearer`).
    payload_type: Option<String>,
    /// The claim naming whom the token is for: `aud`, or a provider's own
    /// (Cognito's access tokens carry `client_id` instead).
    audience_claim: &'static str,
    /// Claims that must hold exactly these strings (Cognito's
    /// `token_use` = `access`).
    required_claims: Vec<(&'static str, String)>,
    /// Sets of claims of which each token must carry at least one (Entra's
    /// `scp` or `roles`).
    required_any: Vec<&'static [&'static str]>,
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
            // Narrowed to what the document names once it is fetched.
            KeySource::Discovered(_) => super::issuer_discovery::ASYMMETRIC.to_vec(),
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
            payload_type: None,
            audience_claim: "aud",
            required_claims: Vec::new(),
            required_any: Vec::new(),
        }
    }

    /// Refuses tokens that carry none of `claims` (Microsoft Entra's access
    /// tokens carry `scp` for a user, `roles` for an application; a token
    /// with neither grants nothing, and an ID token has neither).
    pub fn require_any_claim(mut self, claims: &'static [&'static str]) -> Self {
        self.required_any.push(claims);
        self
    }

    /// Reads whom the token is for from `claim` instead of `aud`, for
    /// providers whose access tokens name the client there (Cognito's
    /// `client_id`); the [`audiences`](Self::audiences) are matched
    /// against it.
    pub fn audience_claim(mut self, claim: &'static str) -> Self {
        self.audience_claim = claim;
        self
    }

    /// Refuses tokens whose `claim` is not the string `value` (Cognito's
    /// `token_use` = `access`, which tells its access tokens from its ID
    /// tokens).
    pub fn require_claim(mut self, claim: &'static str, value: impl Into<String>) -> Self {
        self.required_claims.push((claim, value.into()));
        self
    }

    /// Refuses tokens whose payload `typ` claim is not `typ`: for providers
    /// whose ID tokens share the access tokens' key, issuer and audience
    /// and differ only there (Keycloak marks access tokens `Bearer`, ID
    /// tokens `ID`).
    pub fn payload_type(mut self, typ: impl Into<String>) -> Self {
        self.payload_type = Some(typ.into());
        self
    }

    /// Accepts tokens whose `aud` holds one of these (RFC 8707: the MCP
    /// server's own URL, or the API identifier the provider issues for).
    pub fn audiences<S: Into<String>>(mut self, audiences: impl IntoIterator<Item = S>) -> Self {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// Also accepts these audiences, keeping the default one (the server's URL).
    pub fn extra_audiences<S: Into<String>>(
        mut self,
        audiences: impl IntoIterator<Item = S>,
    ) -> Self {
        self.extra_audiences = audiences.into_iter().map(Into::into).collect();
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
        self.algorithms = algorithms
            .into_iter()
            .filter(|a| (a.family() == jsonwebtoken::AlgorithmFamily::Hmac) == hmac)
            .collect();
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
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
            KeySource::Discovered(discovery) => {
                discovery.current_keys().map_or(0, |(cache, epoch)| {
                    discovered_generation(epoch, cache.generation())
                })
            }
        }
    }

    /// Whether a verdict made with key set `generation`, on a token signed
    /// by the key `kid`, still stands: the keys are the same, or they changed
    /// and still include that very key, not merely one under its `kid`.
    pub(crate) fn still_trusts(&self, kid: Option<&str>, generation: u64) -> bool {
        match &self.keys {
            KeySource::Jwks(cache) => {
                cache.generation() == generation
                    || kid.is_some_and(|kid| cache.unchanged_since(kid, generation))
            }
            KeySource::SharedSecret(_) | KeySource::Static(_) => true,
            KeySource::Discovered(discovery) => {
                discovery.current_keys().is_some_and(|(cache, epoch)| {
                    let (then_epoch, then) = split_generation(generation);
                    epoch == then_epoch
                        && (cache.generation() == then
                            || kid.is_some_and(|kid| cache.unchanged_since(kid, then)))
                })
            }
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
        let jws = CompactJws::parse(token).map_err(|malformed| match malformed {
            Malformed::Shape => invalid("the token is not a signed JWT"),
            Malformed::Header => {
                invalid("the token's header is malformed or names an unsupported algorithm")
            }
        })?;
        let alg = jws.header.alg;
        if jws.header.crit {
            return Err(invalid(
                "the token requires extensions this server does not support",
            ));
        }
        if !self.algorithms.contains(&alg) {
            return Err(invalid(
                "the token is signed with an algorithm this server does not accept",
            ));
        }
        if jws
            .header
            .typ
            .as_deref()
            .is_some_and(|typ| !is_access_token_type(typ))
        {
            return Err(invalid(
                "the token is not an access token (its `typ` is not `at+jwt` or `JWT`)",
            ));
        }
        if !self.check_signature {
            let claims = jws
                .claims()
                .ok_or_else(|| invalid("the token's claims are malformed"))?;
            self.check_expiry(&claims)?;
            return Ok((claims, None));
        }
        let kid = jws.header.kid.as_deref();
        let signed = match &self.keys {
            KeySource::SharedSecret(secret) => jws.signed_with(secret),
            KeySource::Static(keys) => match keys.key_for(kid, alg) {
                Some(key) => jws.signed_by(&key.key),
                None => {
                    return Err(invalid(
                        "the token is not signed by a key of the trusted issuer",
                    ));
                }
            },
            KeySource::Jwks(cache) => jws.signed_by(&key_from(cache.key_for(kid, alg).await)?.key),
            KeySource::Discovered(discovery) => {
                let (cache, epoch) = discovery.keys().await.map_err(|why| {
                    tracing::warn!("{why}");
                    AuthError::Unavailable(
                        "the identity provider's keys are unavailable; try again shortly".into(),
                    )
                })?;
                let named = |discovery: &IssuerDiscovery| {
                    discovery
                        .algorithms()
                        .is_none_or(|algorithms| algorithms.contains(&alg))
                };
                if !named(discovery) {
                    return Err(invalid(
                        "the token is signed with an algorithm its issuer does not use",
                    ));
                }
                let mut found = cache.key_for(kid, alg).await;
                if found.is_err() {
                    // The provider may have moved its keys: look again,
                    // at most once per interval.
                    discovery.refresh().await;
                    if let Some((moved, now)) = discovery.current_keys()
                        && now != epoch
                    {
                        if !named(discovery) {
                            return Err(invalid(
                                "the token is signed with an algorithm its issuer does not use",
                            ));
                        }
                        found = moved.key_for(kid, alg).await;
                    }
                }
                jws.signed_by(&key_from(found)?.key)
            }
        };
        if self.audiences.is_empty() {
            // Without an audience the token could be meant for any service:
            // refuse rather than accept tokens for someone else.
            return Err(invalid("the server has no audience configured"));
        }
        if !signed {
            return Err(invalid("the token's signature is invalid"));
        }
        let claims = jws
            .claims()
            .ok_or_else(|| invalid("the token's claims are malformed"))?;
        self.check_claims(&claims)?;
        Ok((claims, jws.header.kid))
    }

    /// `exp`, `nbf`, `iat`, `iss` and `aud` (RFC 7519 §4.1, RFC 8725 §3.8,
    /// §3.9): the token is current, from the trusted issuer, and for us.
    fn check_claims(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        let leeway = self.leeway.as_secs();
        self.check_expiry(claims)?;
        if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(invalid("the token is not valid yet (`nbf`)"));
        }
        if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now.saturating_add(leeway)) {
            return Err(invalid("the token was issued in the future"));
        }
        // The caller's identity, and the owner of every session it opens:
        // tokens without one would all be the same user (RFC 9068 §2.2).
        match claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => {}
            _ => return Err(invalid("the token has no `sub` claim naming its subject")),
        }
        match claims.get("iss") {
            None => return Err(invalid("the token has no `iss` claim")),
            Some(Value::String(iss)) if *iss == self.issuer => {}
            Some(_) => return Err(invalid("the token was issued by an untrusted issuer")),
        }
        let ours = |aud: &str| {
            self.audiences
                .iter()
                .chain(&self.extra_audiences)
                .any(|accepted| accepted == aud)
        };
        let claim = self.audience_claim;
        let malformed = || {
            invalid(&format!(
                "the token's `{claim}` claim is not a string or a list of strings"
            ))
        };
        let for_us = match claims.get(claim) {
            None => return Err(invalid(&format!("the token has no `{claim}` claim"))),
            Some(Value::String(aud)) => ours(aud),
            Some(Value::Array(auds)) => {
                let mut names = Vec::with_capacity(auds.len());
                for aud in auds {
                    names.push(aud.as_str().ok_or_else(malformed)?);
                }
                names.into_iter().any(ours)
            }
            Some(_) => return Err(malformed()),
        };
        if !for_us {
            return Err(invalid(&format!(
                "the token was not issued for this server (`{claim}` does not name it)"
            )));
        }
        for claims_set in &self.required_any {
            if !claims_set.iter().any(|name| claims.contains_key(*name)) {
                return Err(invalid(&format!(
                    "the token is not an access token for this server (it carries none of `{}`)",
                    claims_set.join("`, `")
                )));
            }
        }
        for (name, value) in &self.required_claims {
            if claims.get(*name).and_then(Value::as_str) != Some(value.as_str()) {
                return Err(invalid(&format!(
                    "the token is not an access token for this server (its `{name}` is not `{value}`)"
                )));
            }
        }
        if let Some(expected) = &self.payload_type
            && claims.get("typ").and_then(Value::as_str) != Some(expected.as_str())
        {
            return Err(invalid(
                "the token is not an access token (its `typ` claim is not the provider's)",
            ));
        }
        Ok(())
    }

    /// `exp` is required, and not passed by more than the leeway.
    fn check_expiry(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        match numeric_date(claims, "exp")? {
            Some(exp) if exp.saturating_add(self.leeway.as_secs()) >= now => Ok(()),
            Some(_) => Err(invalid("the token has expired")),
            None => Err(invalid("the token has no `exp` claim")),
        }
    }
}

/// A NumericDate claim (RFC 7519 §2): seconds since the epoch, whole or
/// not (rounded, as jsonwebtoken does); `None` when absent, an error when
/// anything but a number a `u64` holds.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, AuthError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    // `u64::MAX as f64` is 2^64: anything from there on would saturate,
    // turning an absurd `exp` into "never expires".
    const BEYOND_U64: f64 = u64::MAX as f64;
    let seconds = match value.as_u64() {
        Some(seconds) => Some(seconds),
        None => value
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < BEYOND_U64)
            .map(|s| s.round() as u64),
    };
    seconds
        .map(Some)
        .ok_or_else(|| AuthError::InvalidToken(format!("the token's `{name}` claim is not a date")))
}

impl TokenVerifier for JwtVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(self.verify_token(token))
    }

    fn ready(&self) -> super::ReadyFuture<'_> {
        Box::pin(async move {
            match &self.keys {
                KeySource::Jwks(cache) => cache.ensure_fetched().await,
                KeySource::SharedSecret(_) | KeySource::Static(_) => Ok(()),
                KeySource::Discovered(discovery) => {
                    discovery.keys().await?.0.ensure_fetched().await
                }
            }
        })
    }
}

/// The key a JWK set lookup found, or the refusal for its absence.
fn key_from(
    found: Result<Arc<super::jwks::VerificationKey>, KeyError>,
) -> Result<Arc<super::jwks::VerificationKey>, AuthError> {
    found.map_err(|error| match error {
        KeyError::Unknown => invalid("the token is not signed by a key of the trusted issuer"),
        KeyError::Unavailable => AuthError::Unavailable(
            "the identity provider's keys are unavailable; try again shortly".into(),
        ),
    })
}

/// Key-set generations of a discovered issuer: which `jwks_uri` (its
/// epoch) in the high bits, that key set's own generation in the low.
const EPOCH_SHIFT: u32 = 40;

fn discovered_generation(epoch: u64, generation: u64) -> u64 {
    (epoch << EPOCH_SHIFT) | (generation & ((1 << EPOCH_SHIFT) - 1))
}

fn split_generation(generation: u64) -> (u64, u64) {
    (
        generation >> EPOCH_SHIFT,
        generation & ((1 << EPOCH_SHIFT) - 1),
    )
}

fn invalid(message: &str) -> AuthError {
    AuthError::InvalidToken(message.to_owned())
}

/// Whether a JOSE `typ` names an access token, or a JWT that does not say
/// which kind (RFC 9068 §2.1, RFC 8725 §3.11): `at+jwt` or `JWT`, with or
/// without the `application/` prefix, in any case (RFC 7515 §4.1.9). An ID
/// token or a logout token names another type.
fn is_access_token_type(typ: &str) -> bool {
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    bare.eq_ignore_ascii_case("at+jwt") || bare.eq_ignore_ascii_case("jwt")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://issuer";
    const AUDIENCE: &str = "https://mcp.example/mcp";

    fn hs256(claims: &Value) -> String {
        let header = jsonwebtoken::Header::new(Algorithm::HS256);
        let key = jsonwebtoken::EncodingKey::from_secret(b"s3cret");
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    fn verifier() -> JwtVerifier {
        JwtVerifier::new(ISSUER, KeySource::shared_secret("s3cret"))
            .audiences([AUDIENCE])
            .extra_audiences(["https://other.example"])
    }

    fn hs256_typed(typ: Option<&str>, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.typ = typ.map(str::to_owned);
        let key = jsonwebtoken::EncodingKey::from_secret(b"s3cret");
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    /// An ID token (or any JWT that says it is something else) never passes
    /// as an access token, whatever its audience (RFC 9068 §2.1, RFC 8725
    /// §3.11); a provider that marks the difference in the payload has it
    /// checked there too.
    #[tokio::test]
    async fn only_access_tokens_pass() {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": now + 60, "typ": "ID",
        });
        let verifier = verifier();
        for typ in [
            None,
            Some("JWT"),
            Some("jwt"),
            Some("at+jwt"),
            Some("application/at+JWT"),
        ] {
            let token = hs256_typed(typ, &claims);
            assert!(verifier.verify_token(&token).await.is_ok(), "{typ:?}");
        }
        for typ in [
            "id_token+jwt",
            "logout+jwt",
            "JOSE",
            "dpop+jwt",
            "application/",
            "",
        ] {
            let token = hs256_typed(Some(typ), &claims);
            let refused = verifier.verify_token(&token).await.unwrap_err();
            assert!(
                refused.to_string().contains("not an access token"),
                "{typ}: {refused}"
            );
        }
        let keycloak_like = verifier.payload_type("Bearer");
        let id_token = hs256_typed(Some("JWT"), &claims);
        assert!(keycloak_like.verify_token(&id_token).await.is_err());
        let mut untyped = claims.clone();
        untyped.as_object_mut().map(|c| c.remove("typ"));
        assert!(
            keycloak_like
                .verify_token(&hs256_typed(None, &untyped))
                .await
                .is_err()
        );
        let mut access = claims;
        access["typ"] = "Bearer".into();
        assert!(
            keycloak_like
                .verify_token(&hs256_typed(Some("JWT"), &access))
                .await
                .is_ok()
        );
    }

    /// Each claim rule, on tokens whose signature holds.
    #[tokio::test]
    async fn claims_are_checked_after_the_signature() {
        let now = jsonwebtoken::get_current_timestamp();
        let good = serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": now + 60, "iat": now,
        });
        let with = |patch: Value| {
            let mut claims = good.clone();
            for (name, value) in patch.as_object().cloned().unwrap_or_default() {
                match value {
                    Value::Null => {
                        claims.as_object_mut().map(|c| c.remove(&name));
                    }
                    value => claims[name] = value,
                }
            }
            claims
        };
        let verifier = verifier();
        let accepted = [
            with(serde_json::json!({})),
            with(serde_json::json!({"aud": ["https://x.example", AUDIENCE]})),
            with(serde_json::json!({"aud": "https://other.example"})),
            with(serde_json::json!({"exp": (now + 60) as f64 + 0.5})),
            with(serde_json::json!({"exp": now - 10, "nbf": now + 10})),
            with(serde_json::json!({"iat": null})),
        ];
        for claims in accepted {
            let auth = verifier.verify_token(&hs256(&claims)).await;
            assert!(auth.is_ok(), "{claims}: {:?}", auth.err());
        }
        let refused = [
            (serde_json::json!({"exp": now - 31}), "has expired"),
            (serde_json::json!({"exp": null}), "no `exp` claim"),
            (
                serde_json::json!({"exp": "tomorrow"}),
                "`exp` claim is not a date",
            ),
            (serde_json::json!({"exp": -5}), "`exp` claim is not a date"),
            (
                serde_json::json!({"exp": 1e300}),
                "`exp` claim is not a date",
            ),
            (
                serde_json::json!({"exp": 18446744073709551616.0}),
                "`exp` claim is not a date",
            ),
            (
                serde_json::json!({"exp": (now - 31) as f64 + 0.4}),
                "has expired",
            ),
            (serde_json::json!({"nbf": now + 31}), "not valid yet"),
            (
                serde_json::json!({"nbf": "soon"}),
                "`nbf` claim is not a date",
            ),
            (serde_json::json!({"iat": now + 31}), "issued in the future"),
            (serde_json::json!({"sub": null}), "no `sub` claim"),
            (serde_json::json!({"sub": ""}), "no `sub` claim"),
            (serde_json::json!({"sub": 42}), "no `sub` claim"),
            (serde_json::json!({"iat": [1]}), "`iat` claim is not a date"),
            (
                serde_json::json!({"iss": "https://evil.example"}),
                "untrusted issuer",
            ),
            (serde_json::json!({"iss": [ISSUER]}), "untrusted issuer"),
            (serde_json::json!({"iss": null}), "no `iss` claim"),
            (
                serde_json::json!({"aud": "https://evil.example"}),
                "not issued for this server",
            ),
            (serde_json::json!({"aud": []}), "not issued for this server"),
            (
                serde_json::json!({"aud": [AUDIENCE, 7]}),
                "not a string or a list",
            ),
            (
                serde_json::json!({"aud": {"a": AUDIENCE}}),
                "not a string or a list",
            ),
            (serde_json::json!({"aud": null}), "no `aud` claim"),
        ];
        for (patch, why) in refused {
            let claims = with(patch);
            match verifier.verify_token(&hs256(&claims)).await {
                Err(AuthError::InvalidToken(message)) => {
                    assert!(message.contains(why), "{claims}: {message}")
                }
                other => panic!("{claims} gave {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn tokens_are_refused_before_their_claims_are_read() {
        use base64::Engine as _;
        let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let now = jsonwebtoken::get_current_timestamp();
        let claims = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now + 60});
        let good = hs256(&claims);
        let (_, signature) = good.rsplit_once('.').expect("segments");
        let payload = encode(&claims.to_string());
        let cases = [
            (
                format!(
                    "{}.{payload}.{signature}",
                    encode(r#"{"alg":"HS256","crit":["exp"]}"#)
                ),
                "requires extensions",
            ),
            (
                format!("{}.{payload}.{signature}", encode(r#"{"alg":"HS384"}"#)),
                "does not accept",
            ),
            (
                format!("{}.{payload}.{signature}", encode(r#"{"alg":"none"}"#)),
                "unsupported algorithm",
            ),
            (
                format!("{}.{payload}.", encode(r#"{"alg":"HS256"}"#)),
                "not a signed JWT",
            ),
            (
                format!(
                    "{}.{payload}.{signature}",
                    encode(r#"{"alg":"HS256","typ":"JWT","x":1}"#)
                ),
                "signature is invalid",
            ),
            (format!("{good}x"), "signature is invalid"),
        ];
        let verifier = verifier();
        for (token, why) in cases {
            match verifier.verify_token(&token).await {
                Err(AuthError::InvalidToken(message)) => {
                    assert!(message.contains(why), "{why}: {message}")
                }
                other => panic!("{why}: {other:?}"),
            }
        }
        let unconfigured = JwtVerifier::new(ISSUER, KeySource::shared_secret("s3cret"));
        match unconfigured.verify_token(&good).await {
            Err(AuthError::InvalidToken(message)) => assert!(message.contains("no audience")),
            other => panic!("no audience: {other:?}"),
        }
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
        let huge = serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "u",
            "exp": u64::MAX, "nbf": u64::MAX, "iat": u64::MAX,
        });
        let lenient = verifier().leeway(Duration::MAX);
        assert!(lenient.verify_token(&hs256(&huge)).await.is_ok());
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

    /// Whatever a client sends as a token, the verifier answers with a
    /// verdict: a caller, or an `InvalidToken` refusal, never a panic, and
    /// never a caller for a token that is not exactly the one signed.
    mod properties {
        use super::*;
        use futures_util::FutureExt as _;
        use proptest::collection::vec;
        use proptest::prelude::*;

        fn verdict(verifier: &JwtVerifier, token: &str) -> Result<Auth, AuthError> {
            verifier
                .verify_token(token)
                .now_or_never()
                .expect("a shared secret needs no fetch")
        }

        fn refused_cleanly(result: Result<Auth, AuthError>) -> Result<(), TestCaseError> {
            match result {
                Err(AuthError::InvalidToken(message)) => {
                    prop_assert!(!message.is_empty());
                    Ok(())
                }
                Ok(_) => Err(TestCaseError::fail("accepted")),
                Err(other) => Err(TestCaseError::fail(format!("refused as {other:?}"))),
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn random_text_is_refused_cleanly(bytes in vec(any::<u8>(), 0..600)) {
                let token = String::from_utf8_lossy(&bytes);
                refused_cleanly(verdict(&verifier(), &token))?;
            }

            /// Signed tokens with random claims: any verdict, cleanly.
            #[test]
            fn random_claims_get_a_clean_verdict(
                claims in proptest::collection::btree_map(
                    prop::sample::select(vec!["iss", "aud", "sub", "exp", "nbf", "iat", "typ", "x"]),
                    prop_oneof![
                        Just(Value::Null),
                        any::<bool>().prop_map(Value::from),
                        any::<i64>().prop_map(Value::from),
                        any::<u64>().prop_map(Value::from),
                        any::<f64>().prop_map(Value::from),
                        any::<String>().prop_map(Value::from),
                        Just(Value::from(ISSUER)),
                        Just(Value::from(AUDIENCE)),
                        Just(serde_json::json!([AUDIENCE, 1])),
                    ],
                    0..8,
                ),
            ) {
                let claims = Value::Object(claims.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
                match verdict(&verifier(), &hs256(&claims)) {
                    Ok(auth) => prop_assert_eq!(auth.payload.get("sub"), claims.get("sub")),
                    Err(AuthError::InvalidToken(_)) => {}
                    Err(other) => prop_assert!(false, "refused as {:?}", other),
                }
            }

            #[test]
            fn a_mutated_token_is_refused_cleanly(
                edits in vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
            ) {
                let now = jsonwebtoken::get_current_timestamp();
                let good = hs256(&serde_json::json!({
                    "iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": now + 600,
                }));
                prop_assert!(verdict(&verifier(), &good).is_ok());
                let mutated = crate::auth::jws::mutate(&good, &edits);
                if mutated != good {
                    refused_cleanly(verdict(&verifier(), &mutated))?;
                }
            }
        }
    }

    /// Our verifier against `jsonwebtoken::decode` with the same rules
    /// (algorithm, issuer, audience, `exp` and `nbf` with the same leeway,
    /// `sub` required), on valid tokens of every algorithm we support and
    /// on mutations of their header, payload and signature: whatever ours
    /// accepts, jsonwebtoken accepts too. Where ours alone refuses is
    /// listed, by class, so a new difference fails the test.
    mod differential {
        use super::*;
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
            Ed25519KeyPair, KeyPair as _,
        };
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        use futures_util::FutureExt as _;
        use jsonwebtoken::jwk::Jwk;
        use jsonwebtoken::{EncodingKey, Validation};
        use rand::{Rng as _, SeedableRng as _};
        use std::collections::BTreeSet;

        const SECRET: &[u8] = b"a shared secret of thirty-two bytes!";

        /// The classes of token that ours refuses and jsonwebtoken
        /// accepts, each a rule ours adds (RFC 8725, RFC 9068, RFC 7515).
        /// (A claim named twice and an `aud` list holding a non-string are
        /// refused by both.)
        const ONLY_OURS_REFUSES: [&str; 7] = [
            // RFC 7515 §4.1.11: no extension is understood here.
            "header: crit",
            // jsonwebtoken is handed the key; ours looks it up by `kid`.
            "header: kid of no published key",
            // RFC 9068 §2.1, RFC 8725 §3.11.
            "header: typ of an ID token",
            // RFC 7519 §4.1.6: jsonwebtoken does not read `iat`.
            "payload: iat in the future",
            "payload: iat not a number",
            // RFC 9068 §2.2: the subject owns the caller's sessions.
            "payload: sub empty",
            // `DEFAULT_MAX_TOKEN_BYTES`: refused unread.
            "token: longer than 8 KiB",
        ];

        struct Case {
            alg: Algorithm,
            signing: EncodingKey,
            ours: JwtVerifier,
            theirs: DecodingKey,
            kid: Option<&'static str>,
        }

        fn static_keys(jwk: Value) -> KeySource {
            let keys = super::super::super::jwks::StaticKeys::from_jwk_set(
                &serde_json::json!({ "keys": [jwk] }),
            )
            .expect("a key set");
            KeySource::Static(Arc::new(keys))
        }

        fn cases() -> Vec<Case> {
            let rng = SystemRandom::new();
            let rsa_pem = {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .expect("an RSA key");
                let der =
                    aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
                        .expect("PKCS#8");
                format!(
                    "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                    STANDARD.encode(der.as_ref())
                )
            };
            let p256 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("a P-256 key");
            let p384 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng)
                .expect("a P-384 key");
            let ed = Ed25519KeyPair::generate_pkcs8(&rng).expect("an Ed25519 key");
            let ed_jwk = serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "kid": "k1",
                "x": URL_SAFE_NO_PAD.encode(
                    Ed25519KeyPair::from_pkcs8(ed.as_ref()).expect("the pair").public_key().as_ref()
                ),
            });
            let mut cases = Vec::new();
            for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                cases.push(Case {
                    alg,
                    signing: EncodingKey::from_secret(SECRET),
                    ours: JwtVerifier::new(ISSUER, KeySource::shared_secret(SECRET))
                        .algorithms([alg])
                        .audiences([AUDIENCE]),
                    theirs: DecodingKey::from_secret(SECRET),
                    kid: None,
                });
            }
            let asymmetric = [
                (
                    Algorithm::RS256,
                    EncodingKey::from_rsa_pem(rsa_pem.as_bytes()),
                ),
                (
                    Algorithm::RS384,
                    EncodingKey::from_rsa_pem(rsa_pem.as_bytes()),
                ),
                (
                    Algorithm::RS512,
                    EncodingKey::from_rsa_pem(rsa_pem.as_bytes()),
                ),
                (
                    Algorithm::PS256,
                    EncodingKey::from_rsa_pem(rsa_pem.as_bytes()),
                ),
                (
                    Algorithm::PS384,
                    EncodingKey::from_rsa_pem(rsa_pem.as_bytes()),
                ),
                (
                    Algorithm::PS512,
                    EncodingKey::from_rsa_pem(rsa_pem.as_bytes()),
                ),
                (
                    Algorithm::ES256,
                    Ok(EncodingKey::from_ec_der(p256.as_ref())),
                ),
                (
                    Algorithm::ES384,
                    Ok(EncodingKey::from_ec_der(p384.as_ref())),
                ),
            ];
            for (alg, signing) in asymmetric {
                let signing = signing.expect("a signing key");
                let mut jwk = Jwk::from_encoding_key(&signing, alg).expect("a JWK");
                jwk.common.key_id = Some("k1".into());
                cases.push(Case {
                    alg,
                    ours: JwtVerifier::new(
                        ISSUER,
                        static_keys(serde_json::to_value(&jwk).expect("JSON")),
                    )
                    .algorithms([alg])
                    .audiences([AUDIENCE]),
                    theirs: DecodingKey::from_jwk(&jwk).expect("a decoding key"),
                    signing,
                    kid: Some("k1"),
                });
            }
            cases.push(Case {
                alg: Algorithm::EdDSA,
                signing: EncodingKey::from_ed_der(ed.as_ref()),
                ours: JwtVerifier::new(ISSUER, static_keys(ed_jwk.clone()))
                    .algorithms([Algorithm::EdDSA])
                    .audiences([AUDIENCE]),
                theirs: DecodingKey::from_jwk(&serde_json::from_value(ed_jwk).expect("a JWK"))
                    .expect("a decoding key"),
                kid: Some("k1"),
            });
            cases
        }

        fn validation(alg: Algorithm) -> Validation {
            let mut validation = Validation::new(alg);
            validation.set_issuer(&[ISSUER]);
            validation.set_audience(&[AUDIENCE]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.leeway = 30;
            validation.validate_exp = true;
            validation.validate_nbf = true;
            validation
        }

        fn b64(text: &str) -> String {
            URL_SAFE_NO_PAD.encode(text)
        }

        /// `header.payload`, signed with the case's key.
        fn signed(case: &Case, header: &str, payload: &str) -> String {
            let input = format!("{}.{}", b64(header), b64(payload));
            let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &case.signing, case.alg)
                .expect("sign");
            format!("{input}.{signature}")
        }

        /// Every token of the corpus for `case`, by class.
        fn corpus(case: &Case, seed: u64) -> Vec<(String, String)> {
            let now = jsonwebtoken::get_current_timestamp();
            let alg = serde_json::to_value(case.alg).expect("alg");
            let alg = alg.as_str().expect("a name");
            let kid = case
                .kid
                .map(|k| format!(r#","kid":"{k}""#))
                .unwrap_or_default();
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"{kid}}}"#);
            let claims = |extra: &str| {
                format!(
                    r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"u","exp":{}{extra}}}"#,
                    now + 600
                )
            };
            let payload = claims("");
            let good = signed(case, &header, &payload);
            let mut corpus: Vec<(String, String)> = vec![("valid".into(), good.clone())];
            let mut add = |class: &str, token: String| corpus.push((class.to_owned(), token));

            let headers = [
                ("header: no typ", format!(r#"{{"alg":"{alg}"{kid}}}"#)),
                (
                    "header: typ at+jwt",
                    format!(r#"{{"alg":"{alg}","typ":"at+jwt"{kid}}}"#),
                ),
                (
                    "header: typ of an ID token",
                    format!(r#"{{"alg":"{alg}","typ":"id_token+jwt"{kid}}}"#),
                ),
                (
                    "header: crit",
                    format!(r#"{{"alg":"{alg}","crit":["exp"]{kid}}}"#),
                ),
                (
                    "header: unknown members",
                    format!(
                        r#"{{"alg":"{alg}","x":[1,{{}}],"jku":"https://evil.example/jwks"{kid}}}"#
                    ),
                ),
                (
                    "header: alg named twice",
                    format!(r#"{{"alg":"{alg}","alg":"{alg}"{kid}}}"#),
                ),
                ("header: alg none", format!(r#"{{"alg":"none"{kid}}}"#)),
                (
                    "header: alg lowercase",
                    format!(r#"{{"alg":"{}"{kid}}}"#, alg.to_lowercase()),
                ),
                (
                    "header: kid of no published key",
                    format!(r#"{{"alg":"{alg}","kid":"k2"}}"#),
                ),
                (
                    "header: kid not a string",
                    format!(r#"{{"alg":"{alg}","kid":7}}"#),
                ),
                ("header: an array", format!(r#"["{alg}"]"#)),
                ("header: not JSON", format!("alg={alg}")),
            ];
            for (class, header) in headers {
                add(class, signed(case, &header, &payload));
            }
            let payloads = [
                (
                    "payload: expired",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"u","exp":{}}}"#,
                        now - 60
                    ),
                ),
                (
                    "payload: expired within the leeway",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"u","exp":{}}}"#,
                        now - 10
                    ),
                ),
                (
                    "payload: exp fractional",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"u","exp":{}.5}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: exp a string",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"u","exp":"{}"}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: exp negative",
                    format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"u","exp":-1}}"#),
                ),
                (
                    "payload: exp beyond u64",
                    format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"u","exp":1e300}}"#),
                ),
                (
                    "payload: no exp",
                    format!(r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"u"}}"#),
                ),
                (
                    "payload: nbf in the future",
                    claims(&format!(r#","nbf":{}"#, now + 600)),
                ),
                (
                    "payload: nbf within the leeway",
                    claims(&format!(r#","nbf":{}"#, now + 10)),
                ),
                (
                    "payload: iat in the future",
                    claims(&format!(r#","iat":{}"#, now + 600)),
                ),
                ("payload: iat not a number", claims(r#","iat":"yesterday""#)),
                (
                    "payload: no sub",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{}}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: sub empty",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"","exp":{}}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: sub a number",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":7,"exp":{}}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: another issuer",
                    format!(
                        r#"{{"iss":"https://evil.example","aud":"{AUDIENCE}","sub":"u","exp":{}}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: no iss",
                    format!(r#"{{"aud":"{AUDIENCE}","sub":"u","exp":{}}}"#, now + 600),
                ),
                (
                    "payload: aud list naming us",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":["https://x.example","{AUDIENCE}"],"sub":"u","exp":{}}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: aud list holding a non-string",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":["{AUDIENCE}",7],"sub":"u","exp":{}}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: another audience",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":"https://evil.example","sub":"u","exp":{}}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: aud empty list",
                    format!(
                        r#"{{"iss":"{ISSUER}","aud":[],"sub":"u","exp":{}}}"#,
                        now + 600
                    ),
                ),
                (
                    "payload: no aud",
                    format!(r#"{{"iss":"{ISSUER}","sub":"u","exp":{}}}"#, now + 600),
                ),
                ("payload: claim named twice", claims(r#","sub":"admin""#)),
                ("payload: an array", format!(r#"["{ISSUER}"]"#)),
                ("payload: not JSON", "sub=u".to_owned()),
                (
                    "payload: unknown claims",
                    claims(r#","scope":"a b","x":{"y":[null]}"#),
                ),
            ];
            for (class, payload) in payloads {
                add(class, signed(case, &header, &payload));
            }
            let big = claims(&format!(r#","pad":"{}""#, "x".repeat(8 * 1024)));
            add("token: longer than 8 KiB", signed(case, &header, &big));

            // Changed after signing.
            let (input, signature) = good.rsplit_once('.').expect("segments");
            let (header_part, payload_part) = input.split_once('.').expect("segments");
            let forged_payload = b64(&claims(r#","scope":"admin""#));
            add(
                "unsigned: payload changed",
                format!("{header_part}.{forged_payload}.{signature}"),
            );
            for other in ["HS256", "RS256", "PS256", "ES256", "EdDSA", "none"] {
                let relabelled = b64(&format!(r#"{{"alg":"{other}","typ":"JWT"{kid}}}"#));
                add(
                    "unsigned: alg relabelled",
                    format!("{relabelled}.{payload_part}.{signature}"),
                );
            }
            add("unsigned: no signature", format!("{input}."));
            add(
                "unsigned: signature truncated",
                format!("{input}.{}", &signature[..signature.len() / 2]),
            );
            add("unsigned: signature padded", format!("{good}="));
            add(
                "unsigned: standard base64",
                good.replace('-', "+").replace('_', "/"),
            );
            add("unsigned: four segments", format!("{good}.{signature}"));
            add("unsigned: whitespace around", format!(" {good}\n"));
            add(
                "unsigned: another signature",
                format!("{input}.{}", b64("x".repeat(signature.len()).as_str())),
            );
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            for _ in 0..40 {
                let edits: Vec<(usize, u8, u8)> = (0..rng.random_range(1..4))
                    .map(|_| (rng.random::<u32>() as usize, rng.random(), rng.random()))
                    .collect();
                let mutated = crate::auth::jws::mutate(&good, &edits);
                if mutated != good {
                    add("unsigned: random byte edits", mutated);
                }
            }
            corpus
        }

        #[test]
        fn ours_accepts_only_what_jsonwebtoken_accepts() {
            let mut only_ours_refuses = BTreeSet::new();
            for case in cases() {
                for (class, token) in corpus(&case, case.alg as u64) {
                    let ours = case
                        .ours
                        .verify_token(&token)
                        .now_or_never()
                        .expect("no fetch");
                    let theirs =
                        jsonwebtoken::decode::<Value>(&token, &case.theirs, &validation(case.alg));
                    match (&ours, &theirs) {
                        (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
                        (Ok(_), Err(e)) => panic!(
                            "{:?}, {class}: ours accepts what jsonwebtoken refuses ({e})",
                            case.alg
                        ),
                        (Err(_), Ok(_)) => {
                            only_ours_refuses.insert(class.clone());
                        }
                    }
                    if let Err(refusal) = &ours {
                        assert!(
                            matches!(refusal, AuthError::InvalidToken(_)),
                            "{:?}, {class}: refused as {refusal:?}",
                            case.alg
                        );
                    }
                    if class == "valid" {
                        assert!(ours.is_ok(), "{:?}: {ours:?}", case.alg);
                    }
                }
            }
            let expected: BTreeSet<String> =
                ONLY_OURS_REFUSES.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(only_ours_refuses, expected);
        }
    }
}
