//! The signing keys of an identity provider, fetched from its JWK set and
//! cached. Readers never take a lock: the current key set sits behind an
//! `ArcSwap`, replaced whole when a fetch succeeds.

use super::jws::SignatureKey;
use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How a JWK set is fetched and kept.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// How long keys stay fresh when the response has no usable `Cache-Control: max-age`.
    pub default_ttl: Duration,
    /// Bounds on a `max-age` the provider sends.
    pub min_ttl: Duration,
    /// Upper bound on a `max-age` the provider sends.
    pub max_ttl: Duration,
    /// Least time between two fetches caused by unknown `kid`s, so a flood of
    /// made-up key ids costs the provider at most one request per interval.
    pub refetch_interval: Duration,
    /// Time allowed for one fetch.
    pub timeout: Duration,
    /// Largest JWK set accepted.
    pub max_bytes: usize,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(600),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
            refetch_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
            max_bytes: 512 * 1024,
        }
    }
}

/// One usable verification key.
pub(crate) struct VerificationKey {
    pub(crate) key: SignatureKey,
    /// The `alg` the JWK pins, if it names one.
    pub(crate) alg: Option<Algorithm>,
    /// The JWK's public parameters, to tell a key republished unchanged
    /// from another key under the same `kid`.
    material: String,
    /// The generation of the key set in which this key, as it is, was
    /// first published: a verdict made since then still stands.
    since: u64,
}

impl VerificationKey {
    /// Whether this key may check a signature made with `alg`: the key's
    /// family must match, and so must the JWK's own `alg` when it has one.
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        self.key.family() == alg.family() && self.alg.is_none_or(|pinned| pinned == alg)
    }
}

/// One fetched key set.
#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Arc<VerificationKey>>,
    /// Keys published without a `kid`, tried for tokens without one.
    unnamed: Vec<Arc<VerificationKey>>,
    /// When to fetch again; `None` before the first successful fetch.
    fresh_until: Option<Instant>,
    /// Counts successful fetches, so holders of a verdict can tell the set changed.
    generation: u64,
}

/// Why no key could be found for a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyError {
    /// The provider publishes no key with this id (after a refetch, if allowed).
    #[error("the token's signing key is not one of the identity provider's keys")]
    Unknown,
    /// No key set has ever been fetched.
    #[error("the identity provider's keys could not be fetched")]
    Unavailable,
}

/// A JWK set URL and its cached keys.
pub struct JwksCache {
    url: String,
    http: reqwest::Client,
    settings: JwksSettings,
    keys: ArcSwap<KeySet>,
    /// Held while fetching: one fetch in flight, and the time of the last attempt.
    fetch: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &super::loggable_url(&self.url))
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// A cache of the keys published at `url`, fetched on first use.
    pub fn new(url: impl Into<String>, settings: JwksSettings) -> Self {
        let http = super::document_client(settings.timeout);
        Self {
            url: url.into(),
            http,
            settings,
            keys: ArcSwap::from_pointee(KeySet::default()),
            fetch: Mutex::new(None),
        }
    }

    /// The JWK set URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which fetch the current keys came from; changes whenever they do.
    pub(crate) fn generation(&self) -> u64 {
        self.keys.load().generation
    }

    /// Whether the key named `kid` is still published exactly as it was in
    /// key-set generation `generation`, so a verdict made with it then stands.
    pub(crate) fn unchanged_since(&self, kid: &str, generation: u64) -> bool {
        self.keys
            .load()
            .by_kid
            .get(kid)
            .is_some_and(|key| key.since <= generation)
    }

    /// Whether keys were fetched at least once; if not, fetches them now,
    /// at most once every two seconds however often it is asked (a probe
    /// must not hammer a provider that is down).
    pub(crate) async fn ensure_fetched(&self) -> Result<(), String> {
        if self.keys.load().fresh_until.is_some() {
            return Ok(());
        }
        let mut last = self.fetch.lock().await;
        if self.keys.load().fresh_until.is_some() {
            return Ok(());
        }
        if last.is_some_and(|t| t.elapsed() < super::FIRST_FETCH_RETRY) {
            return Err("the identity provider's keys have not been fetched yet".to_owned());
        }
        self.fetch_locked(&mut last)
            .await
            .map_err(|why| format!("the identity provider's keys could not be fetched: {why}"))
    }

    /// Fetches the keys now (e.g. at start), so the first request does not wait.
    pub async fn prefetch(&self) -> Result<(), String> {
        let mut last = self.fetch.lock().await;
        self.fetch_locked(&mut last).await
    }

    /// The key for a token's `kid` and `alg`. Stale keys are refreshed; an
    /// unknown `kid` triggers one rate-limited refetch, shared by every
    /// request that is waiting for it.
    pub(crate) async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<VerificationKey>, KeyError> {
        let current = self.keys.load_full();
        let fresh = current.fresh_until.is_some_and(|t| Instant::now() < t);
        let found = find(&current, kid, alg);
        if fresh && let Some(key) = found {
            return Ok(key);
        }
        // A stale key at hand beats waiting for a fetch another request is making.
        let mut last = match (found, self.fetch.try_lock()) {
            (Some(key), Err(_)) => return Ok(key),
            (_, Ok(guard)) => guard,
            (None, Err(_)) => self.fetch.lock().await,
        };
        // Another request may have fetched while this one waited.
        let latest = self.keys.load_full();
        if !Arc::ptr_eq(&latest, &current)
            && let Some(key) = find(&latest, kid, alg)
        {
            return Ok(key);
        }
        // Retry soon while no key set was ever fetched; otherwise at most once
        // per interval, so stale keys or made-up kids cannot hammer the provider.
        let interval = if latest.fresh_until.is_none() {
            self.settings.refetch_interval.min(Duration::from_secs(2))
        } else {
            self.settings.refetch_interval
        };
        if last.is_none_or(|t| t.elapsed() >= interval)
            && let Err(why) = self.fetch_locked(&mut last).await
        {
            tracing::warn!(url = %super::loggable_url(&self.url), "fetching the JWK set failed: {why}");
        }
        drop(last);
        let keys = self.keys.load_full();
        if keys.fresh_until.is_none() {
            return Err(KeyError::Unavailable);
        }
        find(&keys, kid, alg).ok_or(KeyError::Unknown)
    }

    /// Fetches and installs the key set (on failure the previous keys
    /// stay); `last` becomes the time it ended, so requests that waited
    /// behind a fetch that failed (after its timeout, a provider that
    /// hangs) do not each start another.
    async fn fetch_locked(&self, last: &mut Option<Instant>) -> Result<(), String> {
        let span = tracing::debug_span!(
            "jwks.fetch",
            otel.kind = "client",
            url.full = %super::loggable_url(&self.url)
        );
        let fetched = tracing::Instrument::instrument(self.fetch_now(), span).await;
        *last = Some(Instant::now());
        crate::operations::metrics::jwks_fetch(fetched.is_ok());
        fetched
    }

    async fn fetch_now(&self) -> Result<(), String> {
        let response = self
            .http
            .get(&self.url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("request failed: {}", without_url(&e)))?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let ttl = super::cache_max_age(response.headers())
            .map(|age| age.clamp(self.settings.min_ttl, self.settings.max_ttl))
            .unwrap_or(self.settings.default_ttl);
        let body = super::read_bounded(response, self.settings.max_bytes)
            .await
            .map_err(|e| match e {
                super::ReadError::TooLarge => "JWK set too large".to_owned(),
                super::ReadError::Failed(why) => format!("reading the body failed: {why}"),
            })?;
        let previous = self.keys.load_full();
        let generation = previous.generation.wrapping_add(1);
        let mut set = parse_key_set(&body, generation)?;
        tracing::debug!(url = %super::loggable_url(&self.url), keys = set.by_kid.len() + set.unnamed.len(), "fetched JWK set");
        // A key republished as it was keeps its identity, and with it the
        // verdicts made with it; one replaced under the same kid does not.
        for (kid, key) in set.by_kid.iter_mut() {
            if let Some(old) = previous.by_kid.get(kid)
                && old.material == key.material
                && old.alg == key.alg
            {
                *key = Arc::clone(old);
            }
        }
        self.keys.store(Arc::new(KeySet {
            fresh_until: Some(Instant::now() + ttl),
            generation,
            ..set
        }));
        Ok(())
    }
}

/// A fixed JWK set known in advance (keys this process made, or pinned keys):
/// no fetching, no expiry.
pub struct StaticKeys {
    keys: KeySet,
}

impl StaticKeys {
    /// The signing keys of a JWK set document (`{"keys": [...]}`).
    pub fn from_jwk_set(document: &serde_json::Value) -> Result<Self, String> {
        let keys = parse_key_set(document.to_string().as_bytes(), 0)?;
        if keys.by_kid.is_empty() && keys.unnamed.is_empty() {
            return Err("the JWK set holds no usable signing key".into());
        }
        Ok(Self { keys })
    }

    pub(crate) fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Option<Arc<VerificationKey>> {
        find(&self.keys, kid, alg)
    }
}

impl std::fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKeys")
            .field("kids", &self.keys.by_kid.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn find(set: &KeySet, kid: Option<&str>, alg: Algorithm) -> Option<Arc<VerificationKey>> {
    match kid {
        Some(kid) => set.by_kid.get(kid).filter(|k| k.accepts(alg)).cloned(),
        // Without a kid, only a set of exactly one key will do (OpenID
        // Connect Core §10.1): beside others, a key that alone fits the
        // token's `alg` is still a guess the issuer did not make.
        None => {
            let mut keys = set.unnamed.iter().chain(set.by_kid.values());
            let only = keys.next()?;
            (keys.next().is_none() && only.accepts(alg)).then(|| Arc::clone(only))
        }
    }
}

/// Reads the signing keys of a JWK set published in key-set generation
/// `generation`, skipping keys it cannot use (encryption keys, unknown
/// types, private or malformed members).
fn parse_key_set(body: &[u8], generation: u64) -> Result<KeySet, String> {
    #[derive(serde::Deserialize)]
    struct RawSet {
        keys: Vec<Value>,
    }
    let raw: RawSet =
        serde_json::from_slice(body).map_err(|_| "the response is not a JWK set".to_owned())?;
    let mut set = KeySet::default();
    for value in raw.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if matches!(
            jwk.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        ) {
            continue;
        }
        // `key_ops` without `verify` names a key for something else.
        if jwk
            .common
            .key_operations
            .as_ref()
            .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
        {
            continue;
        }
        let alg = match &jwk.common.key_algorithm {
            None => None,
            Some(named) => match named.to_string().parse::<Algorithm>() {
                Ok(alg) => Some(alg),
                // An encryption algorithm (`RSA-OAEP`, ...) or an unknown
                // one: the key must not check signatures at all, rather
                // than check them with any algorithm.
                Err(_) => continue,
            },
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let key = Arc::new(VerificationKey {
            key: SignatureKey::new(key),
            alg,
            material: serde_json::to_string(&jwk.algorithm).unwrap_or_default(),
            since: generation,
        });
        match jwk.common.key_id {
            Some(kid) => {
                set.by_kid.insert(kid, key);
            }
            None => set.unnamed.push(key),
        }
    }
    Ok(set)
}

/// A reqwest error described without its URL (which may carry credentials).
pub(super) fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_redirect() {
        "too many redirects"
    } else {
        "transport error"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_sets_skip_what_they_cannot_use() {
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "r1", "use": "sig", "alg": "RS256",
             "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
             "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "odd", "alg": "XS999", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "wrap", "key_ops": ["wrapKey"], "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "v", "key_ops": ["verify"], "n": "AQAB", "e": "AQAB"},
            {"kty": "weird", "kid": "w"},
            {"kty": "EC", "kid": "e1", "crv": "P-256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
        ]});
        let set = parse_key_set(body.to_string().as_bytes(), 0).expect("a key set");
        let mut kids: Vec<&str> = set.by_kid.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["e1", "r1", "v"]);
        let rsa = &set.by_kid["r1"];
        assert!(rsa.accepts(Algorithm::RS256));
        assert!(!rsa.accepts(Algorithm::RS512), "the JWK pins RS256");
        assert!(
            !rsa.accepts(Algorithm::HS256),
            "an RSA key never checks an HMAC"
        );
        assert!(set.by_kid["e1"].accepts(Algorithm::ES256));
        assert!(parse_key_set(b"[]", 0).is_err());
    }

    #[test]
    fn a_token_without_kid_matches_only_a_set_of_one_key() {
        let rsa = serde_json::json!({"kty": "RSA", "kid": "r1", "alg": "RS256",
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
            "e": "AQAB"});
        let ec = serde_json::json!({"kty": "EC", "kid": "e1", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let set_of = |keys: Vec<serde_json::Value>| {
            parse_key_set(
                serde_json::json!({ "keys": keys }).to_string().as_bytes(),
                0,
            )
            .expect("a key set")
        };
        let one = set_of(vec![rsa.clone()]);
        assert!(find(&one, None, Algorithm::RS256).is_some(), "one key: it");
        assert!(
            find(&one, None, Algorithm::ES256).is_none(),
            "not for another alg"
        );
        let two = set_of(vec![rsa, ec]);
        assert!(
            find(&two, None, Algorithm::RS256).is_none(),
            "the only RS256 key beside an ES256 key is still a guess"
        );
        assert!(find(&two, Some("r1"), Algorithm::RS256).is_some());
    }

    #[test]
    fn cache_control_sets_the_lifetime() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("cache-control", "public, max-age=3600".parse().unwrap());
        assert_eq!(
            super::super::cache_max_age(&headers),
            Some(Duration::from_secs(3600))
        );
        headers.insert("cache-control", "no-store".parse().unwrap());
        assert_eq!(super::super::cache_max_age(&headers), Some(Duration::ZERO));
        headers.insert("cache-control", "public".parse().unwrap());
        assert_eq!(super::super::cache_max_age(&headers), None);
        // Wherever it stands, no-store wins over a max-age.
        headers.insert("cache-control", "max-age=600, no-store".parse().unwrap());
        assert_eq!(super::super::cache_max_age(&headers), Some(Duration::ZERO));
    }

    /// A chunked body (no Content-Length) that never ends is cut off at
    /// `max_bytes`, not read until the timeout.
    #[tokio::test]
    async fn an_endless_key_set_is_cut_off_at_its_limit() {
        let port = super::super::test_http::endless_body().await;
        let cache = JwksCache::new(
            format!("http://127.0.0.1:{port}/jwks"),
            JwksSettings {
                timeout: Duration::from_secs(5),
                max_bytes: 64 * 1024,
                ..JwksSettings::default()
            },
        );
        let started = Instant::now();
        assert_eq!(cache.prefetch().await, Err("JWK set too large".to_owned()));
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    /// Redirects are followed within the origin asked for only: never to
    /// another host or port, never from https down to http.
    #[tokio::test]
    async fn key_fetches_follow_redirects_within_their_origin_only() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let jwks = r#"{"keys":[{"kty":"EC","kid":"e1","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
        let ok = move |_: &str| {
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{jwks}",
                jwks.len()
            )
        };
        let elsewhere_hits = Arc::new(AtomicUsize::new(0));
        let elsewhere = super::super::test_http::serve(ok, Arc::clone(&elsewhere_hits)).await;
        let redirect = |to: String| {
            format!(
                "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
        };
        let origin_hits = Arc::new(AtomicUsize::new(0));
        let origin = super::super::test_http::serve(
            move |path| match path {
                "/moved" => redirect("/jwks".to_owned()),
                "/away" => redirect(format!("http://127.0.0.1:{elsewhere}/jwks")),
                _ => ok(path),
            },
            Arc::clone(&origin_hits),
        )
        .await;
        let cache = |path: &str| {
            JwksCache::new(
                format!("http://127.0.0.1:{origin}{path}"),
                JwksSettings::default(),
            )
        };
        assert_eq!(
            cache("/moved").prefetch().await,
            Ok(()),
            "same origin: followed"
        );
        assert!(
            cache("/away").prefetch().await.is_err(),
            "another origin: not followed"
        );
        assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);
    }

    /// A verdict stands while its key is published as it was: across
    /// refetches of the same key, but not once another key takes its `kid`.
    #[tokio::test]
    async fn a_key_replaced_under_its_kid_is_a_new_key() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let ec = |x: &str, y: &str| {
            format!(r#"{{"keys":[{{"kty":"EC","kid":"k1","crv":"P-256","x":"{x}","y":"{y}"}}]}}"#)
        };
        let first = ec(
            "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        );
        // Another P-256 public key (RFC 7517 appendix A.1).
        let second = ec(
            "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        )
        .replace(
            "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
        )
        .replace(
            "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
        );
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let port = super::super::test_http::serve(
            move |_| {
                // The first two fetches publish the first key, then another.
                let body = if counter.load(Ordering::SeqCst) <= 2 { &first } else { &second };
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            },
            Arc::clone(&hits),
        )
        .await;
        let cache = JwksCache::new(
            format!("http://127.0.0.1:{port}/jwks"),
            JwksSettings::default(),
        );
        cache.prefetch().await.expect("first fetch");
        let verdict_made_at = cache.generation();
        assert!(cache.unchanged_since("k1", verdict_made_at));
        cache.prefetch().await.expect("the same key again");
        assert!(cache.generation() > verdict_made_at);
        assert!(
            cache.unchanged_since("k1", verdict_made_at),
            "republished as it was"
        );
        cache.prefetch().await.expect("another key under k1");
        assert!(
            !cache.unchanged_since("k1", verdict_made_at),
            "replaced: the verdict goes"
        );
        assert!(cache.unchanged_since("k1", cache.generation()));
        assert!(!cache.unchanged_since("other", cache.generation()));
    }

    #[test]
    fn logged_urls_carry_no_credentials() {
        assert_eq!(
            super::super::loggable_url("https://user:pw@id.example/jwks?key=secret#x"),
            "https://id.example/jwks"
        );
        assert_eq!(super::super::loggable_url("not a url"), "<not a URL>");
    }

    #[tokio::test]
    async fn an_unreachable_provider_yields_no_key_and_is_not_hammered() {
        let cache = JwksCache::new(
            "http://127.0.0.1:9/jwks",
            JwksSettings {
                timeout: Duration::from_millis(500),
                ..JwksSettings::default()
            },
        );
        assert_eq!(
            cache.key_for(Some("k"), Algorithm::RS256).await.err(),
            Some(KeyError::Unavailable)
        );
        let first = cache.fetch.lock().await.expect("one attempt");
        assert_eq!(
            cache.key_for(Some("other"), Algorithm::RS256).await.err(),
            Some(KeyError::Unavailable)
        );
        // The second request came within the retry delay: no second attempt.
        assert_eq!(*cache.fetch.lock().await, Some(first));
    }
}
