//! Authorization server metadata (RFC 8414) served at this server's origin:
//! the provider's own document in direct mode, fetched once and cached, for
//! clients that look for it next to the resource.

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use std::time::Duration;
use tokio::sync::Mutex;

/// Paths the authorization server metadata is served at.
pub const AUTHORIZATION_SERVER_METADATA_PATHS: [&str; 2] = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
];

/// Largest metadata document accepted from a provider.
const MAX_METADATA_BYTES: usize = 256 * 1024;

/// Where the metadata document comes from.
pub(crate) enum AuthorizationServerMetadata {
    /// The provider's, fetched on first use and kept.
    Upstream {
        url: String,
        http: reqwest::Client,
        cached: ArcSwapOption<Bytes>,
        fetching: Mutex<()>,
    },
    /// This server's own (proxy mode).
    Own(Bytes),
}

impl AuthorizationServerMetadata {
    pub(crate) fn upstream(url: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(super::same_origin_redirects())
            .build()
            .unwrap_or_default();
        Self::Upstream {
            url,
            http,
            cached: ArcSwapOption::empty(),
            fetching: Mutex::new(()),
        }
    }

    /// The document, or why it is unavailable.
    pub(crate) async fn document(&self) -> Result<Bytes, String> {
        let (url, http, cached, fetching) = match self {
            Self::Own(document) => return Ok(document.clone()),
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
        let _one_fetch = fetching.lock().await;
        if let Some(document) = cached.load_full() {
            return Ok((*document).clone());
        }
        let response = http
            .get(url)
            .header("accept", "application/json")
            .send()
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
        cached.store(Some(std::sync::Arc::new(body.clone())));
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endless metadata body is cut off at the limit while it is read,
    /// not buffered whole first.
    #[tokio::test]
    async fn an_endless_metadata_document_is_cut_off() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                        transfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = format!("{:x}\r\n{}\r\n", 1024, " ".repeat(1024));
            while socket.write_all(chunk.as_bytes()).await.is_ok() {}
        });
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
