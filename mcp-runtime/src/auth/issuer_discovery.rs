//! An OpenID provider found from its issuer alone: its discovery document
//! (`{issuer}/.well-known/openid-configuration`, else the RFC 8414
//! `/.well-known/oauth-authorization-server` form) names where its keys
//! are, which algorithms it signs with, and its endpoints.
//!
//! The document is fetched on first use and kept. It is fetched again when
//! the keys it pointed at cannot be had (the provider may have moved
//! them), at most once every [`REFETCH_INTERVAL`], and never more than one
//! fetch at a time. A document whose `issuer` is not exactly the one
//! configured is refused (RFC 8414 §3.3, OpenID Connect Discovery §4.3):
//! the keys it names would be another issuer's.

use super::jwks::{JwksCache, JwksSettings};
use super::{Algorithm, ReadError};
use arc_swap::ArcSwapOption;
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Least time between two fetches of the document.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// Largest discovery document accepted.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// The algorithms a discovered provider's tokens may use: asymmetric ones
/// only (a shared secret is never published, and `none` is never a
/// signature), those its document names.
pub(crate) const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What this server uses of a discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredIssuer {
    /// Where the keys are.
    pub jwks_uri: String,
    /// The algorithms tokens may be signed with.
    pub algorithms: Vec<Algorithm>,
    /// The authorization endpoint, if published.
    pub authorization_endpoint: Option<String>,
    /// The token endpoint, if published.
    pub token_endpoint: Option<String>,
    /// Grant types, if published.
    pub grant_types_supported: Vec<String>,
}

/// The document's fields, as published.
#[derive(Deserialize)]
struct Document {
    issuer: String,
    jwks_uri: Option<String>,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    #[serde(default)]
    grant_types_supported: Vec<String>,
}

/// What a document says, and the keys it points at.
struct Found {
    issuer: DiscoveredIssuer,
    /// The document as published, served again at this server's origin in
    /// direct mode.
    document: bytes::Bytes,
    keys: Arc<JwksCache>,
    /// Counts changes of `jwks_uri`, so a verdict made with an earlier key
    /// set is not taken for one made with this.
    epoch: u64,
}

/// An issuer whose document is fetched when needed; see the module docs.
pub struct IssuerDiscovery {
    issuer: String,
    /// The document's URLs, tried in order.
    urls: [String; 2],
    http: reqwest::Client,
    jwks_settings: JwksSettings,
    found: ArcSwapOption<Found>,
    /// Held while fetching: one fetch at a time, and when the last ended
    /// (so requests that waited behind a failing fetch do not each start
    /// another).
    fetch: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for IssuerDiscovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerDiscovery")
            .field("issuer", &super::loggable_url(&self.issuer))
            .finish_non_exhaustive()
    }
}

impl IssuerDiscovery {
    /// The issuer `issuer` (an https URL, or http on loopback), found on
    /// first use; its keys fetched and kept with `jwks_settings`.
    pub fn new(issuer: impl Into<String>, jwks_settings: JwksSettings) -> Self {
        let issuer = issuer.into();
        let http = super::document_client(jwks_settings.timeout);
        Self {
            urls: document_urls(&issuer),
            issuer,
            http,
            jwks_settings,
            found: ArcSwapOption::empty(),
            fetch: Mutex::new(None),
        }
    }

    /// The issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// What the document says, fetching it if it never was (or waiting for
    /// the fetch under way); the error says why it could not be had.
    pub async fn discovered(&self) -> Result<DiscoveredIssuer, String> {
        self.found().await.map(|found| found.issuer.clone())
    }

    /// The document as the provider published it (once checked).
    pub(crate) async fn document(&self) -> Result<bytes::Bytes, String> {
        self.found().await.map(|found| found.document.clone())
    }

    /// The keys the document points at, and the epoch of that pointer.
    pub(crate) async fn keys(&self) -> Result<(Arc<JwksCache>, u64), String> {
        self.found()
            .await
            .map(|found| (Arc::clone(&found.keys), found.epoch))
    }

    /// The algorithms tokens may be signed with, once the document is known.
    pub(crate) fn algorithms(&self) -> Option<Vec<Algorithm>> {
        self.found
            .load()
            .as_ref()
            .map(|found| found.issuer.algorithms.clone())
    }

    /// The current keys and their epoch, if the document was fetched.
    pub(crate) fn current_keys(&self) -> Option<(Arc<JwksCache>, u64)> {
        self.found
            .load()
            .as_ref()
            .map(|found| (Arc::clone(&found.keys), found.epoch))
    }

    async fn found(&self) -> Result<Arc<Found>, String> {
        if let Some(found) = self.found.load_full() {
            return Ok(found);
        }
        let mut last = self.fetch.lock().await;
        if let Some(found) = self.found.load_full() {
            return Ok(found);
        }
        // Until it is found once, retry soon, but never hammer a provider
        // that is down: every request would ask.
        if last.is_some_and(|t| t.elapsed() < super::FIRST_FETCH_RETRY) {
            return Err(format!(
                "the discovery document of {} could not be fetched; retrying shortly",
                super::loggable_url(&self.issuer)
            ));
        }
        self.fetch_locked(&mut last).await
    }

    /// Fetches the document again if the last fetch is older than
    /// [`REFETCH_INTERVAL`]: its keys could not be had, or did not hold
    /// the token's key, and the provider may have moved them.
    pub(crate) async fn refresh(&self) {
        let Ok(mut last) = self.fetch.try_lock() else {
            // A fetch is under way.
            return;
        };
        if last.is_some_and(|t| t.elapsed() < REFETCH_INTERVAL) {
            return;
        }
        if let Err(why) = self.fetch_locked(&mut last).await {
            tracing::warn!("{why}");
        }
    }

    async fn fetch_locked(&self, last: &mut Option<Instant>) -> Result<Arc<Found>, String> {
        let span = tracing::debug_span!(
            "oauth.metadata.fetch",
            otel.kind = "client",
            url.full = %super::loggable_url(&self.urls[0])
        );
        let fetched = tracing::Instrument::instrument(self.fetch_now(), span).await;
        *last = Some(Instant::now());
        let (issuer, document) = fetched.map_err(|why| {
            format!(
                "the discovery document of {} could not be used: {why}",
                super::loggable_url(&self.issuer)
            )
        })?;
        let previous = self.found.load_full();
        let (keys, epoch) = match &previous {
            Some(found) if found.issuer.jwks_uri == issuer.jwks_uri => {
                (Arc::clone(&found.keys), found.epoch)
            }
            Some(found) => (self.cache_for(&issuer.jwks_uri), found.epoch + 1),
            None => (self.cache_for(&issuer.jwks_uri), 0),
        };
        let found = Arc::new(Found {
            issuer,
            document,
            keys,
            epoch,
        });
        self.found.store(Some(Arc::clone(&found)));
        Ok(found)
    }

    fn cache_for(&self, jwks_uri: &str) -> Arc<JwksCache> {
        Arc::new(JwksCache::new(jwks_uri, self.jwks_settings.clone()))
    }

    /// The first of the document's URLs that answers with a document,
    /// checked, and the document as published.
    async fn fetch_now(&self) -> Result<(DiscoveredIssuer, bytes::Bytes), String> {
        let mut failures = Vec::new();
        for url in &self.urls {
            match self.fetch_one(url).await {
                Ok((document, body)) => return Ok((check(&self.issuer, document)?, body)),
                Err(why) => failures.push(format!("{}: {why}", super::loggable_url(url))),
            }
        }
        Err(failures.join("; "))
    }

    async fn fetch_one(&self, url: &str) -> Result<(Document, bytes::Bytes), String> {
        let response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("request failed: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let body = super::read_bounded(response, MAX_DOCUMENT_BYTES)
            .await
            .map_err(|e| match e {
                ReadError::TooLarge => "the document is too large".to_owned(),
                ReadError::Failed(why) => format!("reading it failed: {why}"),
            })?;
        let document = serde_json::from_slice(&body)
            .map_err(|e| format!("it is not a discovery document: {e}"))?;
        Ok((document, body))
    }
}

/// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery),
/// then `{origin}/.well-known/oauth-authorization-server{path}` (RFC 8414).
fn document_urls(issuer: &str) -> [String; 2] {
    let issuer = issuer.trim_end_matches('/');
    let rfc8414 = match url::Url::parse(issuer) {
        Ok(url) => format!(
            "{}/.well-known/oauth-authorization-server{}",
            url.origin().ascii_serialization(),
            url.path().trim_end_matches('/')
        ),
        Err(_) => format!("{issuer}/.well-known/oauth-authorization-server"),
    };
    [
        format!("{issuer}/.well-known/openid-configuration"),
        rfc8414,
    ]
}

/// What `document` says, if it is `issuer`'s and usable.
fn check(issuer: &str, document: Document) -> Result<DiscoveredIssuer, String> {
    if document.issuer != issuer {
        return Err(format!(
            "it names the issuer `{}`, not `{issuer}`: its keys would be another issuer's",
            super::loggable_url(&document.issuer)
        ));
    }
    let jwks_uri = document
        .jwks_uri
        .ok_or("it names no `jwks_uri`: this provider's tokens cannot be checked")?;
    let keys = url::Url::parse(&jwks_uri).map_err(|_| "its `jwks_uri` is not a URL".to_owned())?;
    if !super::is_secure_url(&keys) {
        return Err("its `jwks_uri` is not an https URL".to_owned());
    }
    let named: Vec<Algorithm> = document
        .id_token_signing_alg_values_supported
        .iter()
        .filter_map(|name| name.parse::<Algorithm>().ok())
        .filter(|alg| ASYMMETRIC.contains(alg))
        .collect();
    let algorithms = if document.id_token_signing_alg_values_supported.is_empty() {
        // Not said (RFC 8414 documents have no such field, and it speaks of
        // ID tokens anyway): any asymmetric algorithm, the key's own type
        // (and its JWK's `alg`) deciding which one a key checks.
        ASYMMETRIC.to_vec()
    } else if named.is_empty() {
        return Err(format!(
            "it signs with {:?} only, none of which this server accepts (asymmetric algorithms only)",
            document.id_token_signing_alg_values_supported
        ));
    } else {
        named
    };
    Ok(DiscoveredIssuer {
        jwks_uri,
        algorithms,
        authorization_endpoint: document.authorization_endpoint,
        token_endpoint: document.token_endpoint,
        grant_types_supported: document.grant_types_supported,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(value: serde_json::Value) -> Document {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn both_document_urls_are_tried_in_order() {
        assert_eq!(
            document_urls("https://id.example.com/tenant/"),
            [
                "https://id.example.com/tenant/.well-known/openid-configuration".to_owned(),
                "https://id.example.com/.well-known/oauth-authorization-server/tenant".to_owned(),
            ]
        );
    }

    #[test]
    fn a_document_is_checked_before_it_is_believed() {
        let issuer = "https://id.example.com";
        let good = json_document(issuer, &["RS256", "ES256", "HS256", "none"]);
        let found = check(issuer, document(good.clone())).unwrap();
        assert_eq!(found.algorithms, [Algorithm::RS256, Algorithm::ES256]);
        assert_eq!(found.jwks_uri, "https://id.example.com/keys");

        let mut other = good.clone();
        other["issuer"] = "https://evil.example.com".into();
        assert!(
            check(issuer, document(other))
                .unwrap_err()
                .contains("not `https://id.example.com`")
        );
        let mut slash = good.clone();
        slash["issuer"] = "https://id.example.com/".into();
        assert!(
            check(issuer, document(slash)).is_err(),
            "exactly the issuer"
        );
        let symmetric = json_document(issuer, &["HS256", "none"]);
        assert!(check(issuer, document(symmetric)).is_err());
        let mut plain = good.clone();
        plain["jwks_uri"] = "http://id.example.com/keys".into();
        assert!(check(issuer, document(plain)).is_err());
        let mut unsaid = good;
        unsaid
            .as_object_mut()
            .unwrap()
            .remove("id_token_signing_alg_values_supported");
        assert_eq!(
            check(issuer, document(unsaid)).unwrap().algorithms,
            ASYMMETRIC
        );
    }

    #[tokio::test]
    async fn requests_waiting_behind_a_failed_fetch_do_not_each_fetch_again() {
        // A provider that accepts connections and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(stream);
            }
        });
        let settings = JwksSettings {
            // Two document URLs: one fetch outlasts the 2 s retry pause.
            timeout: Duration::from_millis(1100),
            ..JwksSettings::default()
        };
        let discovery = IssuerDiscovery::new(&issuer, settings);
        let asks = (0..6).map(|_| discovery.discovered());
        let answers = futures_util::future::join_all(asks).await;
        assert!(answers.iter().all(Result::is_err));
        assert_eq!(
            accepted.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "one fetch (its two document URLs) for six requests"
        );
    }

    fn json_document(issuer: &str, algorithms: &[&str]) -> serde_json::Value {
        serde_json::json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/keys"),
            "id_token_signing_alg_values_supported": algorithms,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
        })
    }
}
