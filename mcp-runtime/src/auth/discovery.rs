//! Authorization server metadata (RFC 8414) served at this server's origin:
//! the provider's own document in direct mode, fetched once and cached, for
//! clients that look for it next to the resource.

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Paths the authorization server metadata is served at.
pub const AUTHORIZATION_SERVER_METADATA_PATHS: [&str; 2] = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
];

/// Largest metadata document accepted from a provider.
const MAX_METADATA_BYTES: usize = 256 * 1024;

/// How long a failed fetch answers for the provider: anyone can ask for the
/// metadata without a token, and each ask must not become a request to a
/// provider that is down.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// Where the metadata document comes from.
pub(crate) enum AuthorizationServerMetadata {
    /// The provider's, fetched on first use and kept.
    Upstream {
        url: String,
        http: reqwest::Client,
        cached: ArcSwapOption<Bytes>,
        /// Held while fetching; holds the last failure and when it came.
        fetching: Mutex<Option<(Instant, String)>>,
    },
    /// This server's own (proxy mode).
    Own(Bytes),
    /// The provider's, as its issuer discovery fetched and checked it.
    Discovered(std::sync::Arc<super::IssuerDiscovery>),
}

impl AuthorizationServerMetadata {
    pub(crate) fn upstream(url: String) -> Self {
        let http = super::document_client(Duration::from_secs(5));
        Self::Upstream {
            url,
            http,
            cached: ArcSwapOption::empty(),
            fetching: Mutex::new(None),
        }
    }

    /// The document, or why it is unavailable.
    pub(crate) async fn document(&self) -> Result<Bytes, String> {
        let (url, http, cached, fetching) = match self {
            Self::Own(document) => return Ok(document.clone()),
            Self::Discovered(discovery) => return discovery.document().await,
            Self::Upstream {
                url,
                http,
                cached,
                fetching,
            } => (url, http, cached, fetching),
        };
        if let Some(document) = cached.load_full() {
            return Ok((*document).clone());
        }
        let mut last_failure = fetching.lock().await;
        if let Some(document) = cached.load_full() {
            return Ok((*document).clone());
        }
        if let Some((at, why)) = last_failure.as_ref()
            && at.elapsed() < RETRY_AFTER_FAILURE
        {
            return Err(why.clone());
        }
        let fetched = fetch(http, url).await;
        let body = match fetched {
            Ok(body) => body,
            Err(why) => {
                *last_failure = Some((Instant::now(), why.clone()));
                return Err(why);
            }
        };
        *last_failure = None;
        cached.store(Some(std::sync::Arc::new(body.clone())));
        Ok(body)
    }
}

/// One fetch of the provider's metadata: a JSON object of at most
/// [`MAX_METADATA_BYTES`].
async fn fetch(http: &reqwest::Client, url: &str) -> Result<Bytes, String> {
    let span = tracing::debug_span!(
        "oauth.metadata.fetch",
        otel.kind = "client",
        url.full = %super::loggable_url(url)
    );
    let sent = http.get(url).header("accept", "application/json").send();
    let response = tracing::Instrument::instrument(sent, span)
        .await
        .map_err(|_| "the identity provider's metadata could not be fetched".to_owned())?;
    if !response.status().is_success() {
        return Err(format!(
            "the identity provider answered {} for its metadata",
            response.status()
        ));
    }
    // Bounded while it is read: a provider (or whatever answers in its
    // place) cannot make every unauthenticated request buffer an endless body.
    let body = super::read_bounded(response, MAX_METADATA_BYTES)
        .await
        .map_err(|e| match e {
            super::ReadError::TooLarge => {
                "the identity provider's metadata is too large".to_owned()
            }
            super::ReadError::Failed(_) => {
                "the identity provider's metadata could not be read".to_owned()
            }
        })?;
    if serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body).is_err() {
        return Err("the identity provider's metadata is not a JSON object".into());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider that fails is asked again only after a pause, however
    /// many requests ask for its metadata meanwhile.
    #[tokio::test]
    async fn a_failed_fetch_is_remembered_for_a_while() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let asked = std::sync::Arc::new(AtomicUsize::new(0));
        let port = super::super::test_http::serve(
            |_| {
                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned()
            },
            std::sync::Arc::clone(&asked),
        )
        .await;
        let metadata = AuthorizationServerMetadata::upstream(format!(
            "http://127.0.0.1:{port}/.well-known/oauth-authorization-server"
        ));
        for _ in 0..5 {
            let refused = metadata.document().await.unwrap_err();
            assert!(refused.contains("503"), "{refused}");
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1, "one fetch for five asks");
    }

    /// An endless metadata body is cut off at the limit while it is read,
    /// not buffered whole first.
    #[tokio::test]
    async fn an_endless_metadata_document_is_cut_off() {
        let port = super::super::test_http::endless_body().await;
        let metadata = AuthorizationServerMetadata::upstream(format!(
            "http://127.0.0.1:{port}/.well-known/oauth-authorization-server"
        ));
        let started = std::time::Instant::now();
        assert_eq!(
            metadata.document().await,
            Err("the identity provider's metadata is too large".to_owned())
        );
        assert!(started.elapsed() < Duration::from_secs(4));
    }
}
