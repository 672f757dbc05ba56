//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
//! the registration MCP 2025-11-25 prefers): a client whose `client_id` is
//! an https URL is described by the JSON document at that URL, fetched when
//! the client first comes, so it needs no registration here.
//!
//! The URL is the client's choice, so the fetch is fenced in:
//!
//! - https only (plain http to loopback with the development server alone),
//!   in the URL's normal form, with a path, without user, password or
//!   fragment;
//! - public addresses only, unless the operator allows a block (see
//!   `address_policy.rs`), checked on every address the name resolves to;
//!   no proxy from the environment, which would resolve the name itself;
//! - no redirect followed, 5 s at most, 5 KiB at most (the draft's
//!   suggestion), 200 with a JSON content type, else refused;
//! - at most [`MAX_FETCHES`] at once, beyond which 503 with `Retry-After`,
//!   and [`MAX_FETCHES_PER_HOST`] to one host, so a slow host holds few;
//!   a refusal is kept [`REFUSAL_KEPT_FOR`], so asking again costs nothing;
//! - what went wrong before a document arrived (the name's addresses, a
//!   connection refused, a timeout) is logged, and the client told only
//!   that it could not be fetched: the answer must not map the network.
//!
//! The document must name itself (`client_id` equal to the URL, character
//! for character), be a public client (no secret, `token_endpoint_auth_method`
//! `none`), and list the redirect URI a request asks for. It is kept as long
//! as its `Cache-Control` says (five minutes without one, a day at most, not
//! at all with `no-store`), per process: it is public, and each replica
//! fetching it once costs less than sharing it.

use super::page::shown_host;
use crate::auth::address_policy::{AddressPolicy, ForbiddenAddress};
use crate::auth::{ReadError, cache_max_age, is_loopback_url, read_bounded};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use url::{Host, Url};

/// Largest document read.
const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long a fetch may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest `client_id` URL accepted: it travels in `/authorize` URLs and
/// inside this server's states and codes.
const MAX_URL_BYTES: usize = 2048;
/// How long a document without `Cache-Control` is kept.
const KEPT_BY_DEFAULT: Duration = Duration::from_secs(300);
/// Longest a document is kept, whatever it says.
const MAX_KEPT_FOR: Duration = Duration::from_secs(24 * 3600);
/// Documents kept at once; past it, expired ones go, then any.
const MAX_KEPT: usize = 1024;
/// Fetches at once: anyone can start one.
pub(super) const MAX_FETCHES: usize = 64;
/// Fetches at once from one host.
pub(super) const MAX_FETCHES_PER_HOST: usize = 4;
/// How long a refusal is kept.
pub(super) const REFUSAL_KEPT_FOR: Duration = Duration::from_secs(10);
/// Longest `client_name` kept.
const MAX_CLIENT_NAME_BYTES: usize = 1024;

/// A client described by its metadata document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DocumentClient {
    /// The document's URL, which is the client id.
    pub(super) client_id: String,
    /// Where its codes may go, exactly.
    pub(super) redirect_uris: Vec<String>,
    /// The `client_name` it gives, shown on the consent page.
    pub(super) client_name: Option<String>,
}

impl DocumentClient {
    /// `host[:port]` of the document: who vouches for the client.
    pub(super) fn host(&self) -> String {
        Url::parse(&self.client_id).map_or_else(|_| String::new(), |url| shown_host(&url))
    }
}

/// Why a metadata-document client is not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DocumentError {
    /// The URL or its document is not acceptable; says why, for the client
    /// and the user (never anything of this server's).
    Refused(String),
    /// Too many documents are being fetched at once: try again shortly.
    Busy,
}

/// What was fetched (a client, or why it was refused), and until when it
/// stands.
struct Kept {
    client: Result<Arc<DocumentClient>, String>,
    until: Instant,
}

/// Resolves metadata-document client ids, and keeps what it fetched.
pub(super) struct ClientDocuments {
    http: reqwest::Client,
    policy: AddressPolicy,
    /// The development server: plain http to loopback is allowed.
    dev: bool,
    kept: Mutex<HashMap<String, Kept>>,
    fetches: Semaphore,
    /// Fetches in flight per host.
    per_host: Mutex<HashMap<String, usize>>,
}

/// One fetch counted against its host while it lives.
struct HostSlot<'a> {
    per_host: &'a Mutex<HashMap<String, usize>>,
    host: String,
}

impl Drop for HostSlot<'_> {
    fn drop(&mut self) {
        let mut per_host = self.per_host.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_host.get_mut(&self.host) {
            *n -= 1;
            if *n == 0 {
                per_host.remove(&self.host);
            }
        }
    }
}

/// Whether `client_id` claims to be a metadata document's URL: any http(s)
/// URL does, and is then served as one or refused saying why.
pub(super) fn is_document_id(client_id: &str) -> bool {
    let scheme = |s: &str| {
        client_id
            .get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    };
    scheme("https://") || scheme("http://")
}

impl ClientDocuments {
    /// Fetching only where `policy` permits; `dev` also allows plain http
    /// to loopback.
    pub(super) fn new(policy: AddressPolicy, dev: bool) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(policy.resolver())
            .build()
            .map_err(|_| "client metadata documents: the HTTP client could not be built")?;
        Ok(Self {
            http,
            policy,
            dev,
            kept: Mutex::new(HashMap::new()),
            fetches: Semaphore::new(MAX_FETCHES),
            per_host: Mutex::new(HashMap::new()),
        })
    }

    /// The client `client_id` (a document URL) describes, fetched or kept.
    pub(super) async fn resolve(
        &self,
        client_id: &str,
    ) -> Result<Arc<DocumentClient>, DocumentError> {
        if let Some(kept) = self.kept(client_id) {
            return kept.map_err(DocumentError::Refused);
        }
        let url = self.check_url(client_id).map_err(DocumentError::Refused)?;
        let Ok(_permit) = self.fetches.try_acquire() else {
            tracing::warn!("client metadata documents: too many fetches at once; refused one");
            return Err(DocumentError::Busy);
        };
        let Some(_slot) = self.host_slot(&url) else {
            tracing::warn!(
                host = %shown_host(&url),
                "client metadata documents: too many fetches from one host at once; refused one"
            );
            return Err(DocumentError::Busy);
        };
        match self.fetch(&url).await {
            Ok((client, keep_for)) => {
                let client = Arc::new(client);
                if !keep_for.is_zero() {
                    self.keep(client_id, Ok(Arc::clone(&client)), keep_for);
                }
                Ok(client)
            }
            Err(why) => {
                tracing::debug!(
                    url = %crate::auth::loggable_url(client_id),
                    "client metadata documents: refused a client: {why}"
                );
                self.keep(client_id, Err(why.clone()), REFUSAL_KEPT_FOR);
                Err(DocumentError::Refused(why))
            }
        }
    }

    /// A fetch counted against `url`'s host, unless it has too many.
    fn host_slot(&self, url: &Url) -> Option<HostSlot<'_>> {
        let host = url.host_str().unwrap_or_default().to_owned();
        let mut per_host = self.per_host.lock().unwrap_or_else(|e| e.into_inner());
        let n = per_host.entry(host.clone()).or_insert(0);
        if *n >= MAX_FETCHES_PER_HOST {
            return None;
        }
        *n += 1;
        Some(HostSlot {
            per_host: &self.per_host,
            host,
        })
    }

    fn kept(&self, client_id: &str) -> Option<Result<Arc<DocumentClient>, String>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(client_id)
            .filter(|k| k.until > Instant::now())
            .map(|k| k.client.clone())
    }

    fn keep(
        &self,
        client_id: &str,
        client: Result<Arc<DocumentClient>, String>,
        keep_for: Duration,
    ) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= MAX_KEPT && !kept.contains_key(client_id) {
            let now = Instant::now();
            kept.retain(|_, k| k.until > now);
            if kept.len() >= MAX_KEPT
                && let Some(any) = kept.keys().next().cloned()
            {
                kept.remove(&any);
            }
        }
        kept.insert(
            client_id.to_owned(),
            Kept {
                client,
                until: Instant::now() + keep_for,
            },
        );
    }

    /// `client_id` as the URL to fetch, or why it cannot be one
    /// (draft-ietf-oauth-client-id-metadata-document §3).
    fn check_url(&self, client_id: &str) -> Result<Url, String> {
        if client_id.len() > MAX_URL_BYTES {
            return Err(format!(
                "a client_id URL must be at most {MAX_URL_BYTES} bytes"
            ));
        }
        let url = Url::parse(client_id).map_err(|_| "client_id is not a URL".to_owned())?;
        let secure = url.scheme() == "https"
            || (self.dev && url.scheme() == "http" && is_loopback_url(&url));
        if !secure {
            return Err(if self.dev {
                "a client metadata document must be served over https (plain http only on loopback)"
            } else {
                "a client metadata document must be served over https"
            }
            .to_owned());
        }
        if url.path() == "/" {
            return Err("a client_id URL must have a path, such as /client.json".to_owned());
        }
        if url.as_str() != client_id {
            return Err(format!(
                "client_id must be a URL in its normal form, as `{url}` is: lower-case scheme \
                 and host, no default port, no `.` or `..` segments"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("a client_id URL must not carry a user name or password".to_owned());
        }
        if url.fragment().is_some() {
            return Err("a client_id URL must not have a fragment".to_owned());
        }
        let named = match url.host() {
            Some(Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = named
            && !self.policy.permits(ip)
        {
            return Err(format!(
                "the client's metadata document is at {ip}, which is not a public address"
            ));
        }
        Ok(url)
    }

    /// The document at `url` as a client, and how long it may be kept.
    async fn fetch(&self, url: &Url) -> Result<(DocumentClient, Duration), String> {
        let host = shown_host(url);
        let response = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| {
                // The reason is this server's to know: told to the client,
                // which addresses a name has, or which ports answer, would
                // map the network behind it.
                if let Some(forbidden) = ForbiddenAddress::cause_of(&error) {
                    tracing::debug!(%host, "client metadata documents: the host {forbidden}");
                } else {
                    tracing::debug!(
                        %host,
                        timed_out = error.is_timeout(),
                        "client metadata documents: a fetch failed: {}",
                        crate::auth::jwks::without_url(&error)
                    );
                }
                format!(
                    "the client's metadata document at {host} could not be fetched from a \
                     public address within {} s",
                    FETCH_TIMEOUT.as_secs()
                )
            })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(format!(
                "the client's metadata document at {host} answered with a redirect, which is \
                 not followed: its client_id must be the document's own URL"
            ));
        }
        if status != reqwest::StatusCode::OK {
            return Err(format!(
                "the client's metadata document at {host} answered HTTP {}",
                status.as_u16()
            ));
        }
        if !is_json(response.headers()) {
            return Err(format!(
                "the client's metadata document at {host} is not served as application/json"
            ));
        }
        let keep_for = cache_max_age(response.headers())
            .unwrap_or(KEPT_BY_DEFAULT)
            .min(MAX_KEPT_FOR);
        let body =
            read_bounded(response, MAX_DOCUMENT_BYTES)
                .await
                .map_err(|error| match error {
                    ReadError::TooLarge => format!(
                        "the client's metadata document at {host} is larger than {} KiB",
                        MAX_DOCUMENT_BYTES / 1024
                    ),
                    ReadError::Failed(_) => {
                        format!("the client's metadata document at {host} could not be read")
                    }
                })?;
        let client = read_document(url.as_str(), &body)?;
        Ok((client, keep_for))
    }
}

/// `application/json` or `application/<something>+json`.
fn is_json(headers: &reqwest::header::HeaderMap) -> bool {
    let Some(value) = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json") && sub.len() > "+json".len())
}

/// The client the document at `client_id` describes, or why it is refused
/// (draft-ietf-oauth-client-id-metadata-document §4).
fn read_document(client_id: &str, body: &[u8]) -> Result<DocumentClient, String> {
    let Ok(Value::Object(document)) = serde_json::from_slice::<Value>(body) else {
        return Err("the client's metadata document is not a JSON object".to_owned());
    };
    if document.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err(
            "the client's metadata document names another client_id: it must be the \
             document's own URL, character for character"
                .to_owned(),
        );
    }
    if document.contains_key("client_secret") || document.contains_key("client_secret_expires_at") {
        return Err("a client metadata document must not carry a client_secret".to_owned());
    }
    match document.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => {}
        Some(Value::String(method)) if method == "none" => {}
        Some(_) => {
            return Err("this server takes public clients only: the document's \
                 token_endpoint_auth_method must be `none` (PKCE protects the code)"
                .to_owned());
        }
    }
    if !lists(document.get("grant_types"), "authorization_code") {
        return Err(
            "the client's metadata document lists grant_types without authorization_code"
                .to_owned(),
        );
    }
    if !lists(document.get("response_types"), "code") {
        return Err("the client's metadata document lists response_types without code".to_owned());
    }
    let redirect_uris: Vec<String> = match document.get("redirect_uris") {
        Some(Value::Array(uris)) if !uris.is_empty() => uris
            .iter()
            .map(|uri| uri.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("the document's redirect_uris must be strings")?,
        _ => {
            return Err("the client's metadata document must list its redirect_uris".to_owned());
        }
    };
    let client_name = match document.get("client_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) if name.len() <= MAX_CLIENT_NAME_BYTES => {
            Some(name.clone()).filter(|name| !name.trim().is_empty())
        }
        Some(_) => {
            return Err(format!(
                "the document's client_name must be a string of at most {MAX_CLIENT_NAME_BYTES} bytes"
            ));
        }
    };
    Ok(DocumentClient {
        client_id: client_id.to_owned(),
        redirect_uris,
        client_name,
    })
}

/// Whether an optional list of strings, when present, holds `wanted`.
fn lists(value: Option<&Value>, wanted: &str) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(wanted)),
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::test_http::serve;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn document(client_id: &str, extra: &str) -> String {
        format!(
            r#"{{"client_id":"{client_id}","client_name":"Example Agent","redirect_uris":["http://127.0.0.1:9999/callback"]{extra}}}"#
        )
    }

    fn answer(status: &str, headers: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
            body.len()
        )
    }

    /// A loopback server answering each path as `route` says, with the
    /// development server's rules (loopback allowed).
    async fn documents(
        route: impl Fn(&str, &str) -> String + Send + Sync + 'static,
    ) -> (ClientDocuments, String, Arc<AtomicUsize>) {
        let count = Arc::new(AtomicUsize::new(0));
        let origin = Arc::new(Mutex::new(String::new()));
        let seen = Arc::clone(&origin);
        let port = serve(
            move |path| route(&seen.lock().unwrap(), path),
            Arc::clone(&count),
        )
        .await;
        let base = format!("http://127.0.0.1:{port}");
        *origin.lock().unwrap() = base.clone();
        let policy = AddressPolicy::new::<&str>([], true).unwrap();
        (ClientDocuments::new(policy, true).unwrap(), base, count)
    }

    fn json(headers: &str, body: &str) -> String {
        answer(
            "200 OK",
            &format!("content-type: application/json\r\n{headers}"),
            body,
        )
    }

    #[tokio::test]
    async fn a_document_naming_itself_describes_its_client() {
        let (documents, base, _) =
            documents(|base, path| json("", &document(&format!("{base}{path}"), ""))).await;
        let id = format!("{base}/client.json");
        let client = documents.resolve(&id).await.unwrap();
        assert_eq!(client.client_id, id);
        assert_eq!(client.client_name.as_deref(), Some("Example Agent"));
        assert_eq!(client.redirect_uris, ["http://127.0.0.1:9999/callback"]);
        assert!(client.host().starts_with("127.0.0.1:"));
    }

    #[tokio::test]
    async fn refusals_say_what_is_wrong() {
        let (documents, base, _) = documents(|base, path| {
            let own = format!("{base}{path}");
            match path {
                "/other.json" => json("", &document("https://other.example/client.json", "")),
                "/secret.json" => json("", &document(&own, r#","client_secret":"s""#)),
                "/basic.json" => json(
                    "",
                    &document(
                        &own,
                        r#","token_endpoint_auth_method":"client_secret_basic""#,
                    ),
                ),
                "/big.json" => json(
                    "",
                    &document(&own, &format!(r#","logo":"{}""#, "x".repeat(6 * 1024))),
                ),
                "/moved.json" => answer("302 Found", &format!("location: {base}/a.json\r\n"), ""),
                "/html.json" => answer("200 OK", "content-type: text/html\r\n", "<p>hi</p>"),
                "/gone.json" => answer("404 Not Found", "", ""),
                "/implicit.json" => json("", &document(&own, r#","response_types":["token"]"#)),
                _ => json("", r#"["not an object"]"#),
            }
        })
        .await;
        for (path, because) in [
            ("/other.json", "names another client_id"),
            ("/secret.json", "must not carry a client_secret"),
            ("/basic.json", "must be `none`"),
            ("/big.json", "larger than 5 KiB"),
            ("/moved.json", "redirect, which is not followed"),
            ("/html.json", "not served as application/json"),
            ("/gone.json", "answered HTTP 404"),
            ("/implicit.json", "response_types without code"),
            ("/array.json", "not a JSON object"),
        ] {
            match documents.resolve(&format!("{base}{path}")).await {
                Err(DocumentError::Refused(why)) => assert!(why.contains(because), "{path}: {why}"),
                other => panic!("{path}: {other:?}"),
            }
        }
        for (id, because) in [
            ("https://example.com", "must have a path"),
            ("https://example.com/", "must have a path"),
            ("https://example.com/a/../client.json", "normal form"),
            ("https://EXAMPLE.com/client.json", "normal form"),
            (
                "https://user:pw@example.com/client.json",
                "user name or password",
            ),
            ("https://example.com/client.json#x", "fragment"),
            ("http://example.com/client.json", "over https"),
            (
                "https://169.254.169.254/latest.json",
                "not a public address",
            ),
            ("https://[fd00::1]/client.json", "not a public address"),
        ] {
            match documents.resolve(id).await {
                Err(DocumentError::Refused(why)) => assert!(why.contains(because), "{id}: {why}"),
                other => panic!("{id}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn outside_development_loopback_is_refused_by_name_and_by_address() {
        let strict =
            ClientDocuments::new(AddressPolicy::new::<&str>([], false).unwrap(), false).unwrap();
        for id in [
            "https://localhost:1/client.json",
            "https://127.0.0.1:1/client.json",
        ] {
            match strict.resolve(id).await {
                Err(DocumentError::Refused(why)) => {
                    assert!(
                        why.contains("not a public address")
                            || why.contains("could not be fetched from a public address"),
                        "{id}: {why}"
                    );
                    assert!(
                        !why.contains("127.0.0.1") || id.contains("127.0.0.1"),
                        "{why}"
                    );
                }
                other => panic!("{id}: {other:?}"),
            }
        }
        match strict.resolve("http://localhost:1/client.json").await {
            Err(DocumentError::Refused(why)) => assert!(why.contains("over https"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn documents_are_kept_as_their_cache_control_says() {
        let (documents, base, count) = documents(|base, path| {
            let own = format!("{base}{path}");
            match path {
                "/kept.json" => json("cache-control: max-age=600\r\n", &document(&own, "")),
                _ => json("cache-control: no-store\r\n", &document(&own, "")),
            }
        })
        .await;
        for _ in 0..3 {
            documents
                .resolve(&format!("{base}/kept.json"))
                .await
                .unwrap();
        }
        assert_eq!(count.load(Ordering::SeqCst), 1, "fetched once, then kept");
        for _ in 0..3 {
            documents
                .resolve(&format!("{base}/fresh.json"))
                .await
                .unwrap();
        }
        assert_eq!(
            count.load(Ordering::SeqCst),
            4,
            "no-store: fetched each time"
        );
    }

    #[tokio::test]
    async fn a_refusal_is_kept_for_a_moment_so_asking_again_costs_nothing() {
        let (documents, base, count) =
            documents(|_, _| json("", &document("https://other.example/c.json", ""))).await;
        for _ in 0..3 {
            assert!(documents.resolve(&format!("{base}/c.json")).await.is_err());
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn one_host_holds_few_fetches_at_once() {
        let documents =
            ClientDocuments::new(AddressPolicy::new::<&str>([], true).unwrap(), true).unwrap();
        let url = Url::parse("http://127.0.0.1:1/a.json").unwrap();
        let slots: Vec<_> = (0..MAX_FETCHES_PER_HOST)
            .map(|_| documents.host_slot(&url).expect("a slot"))
            .collect();
        assert!(documents.host_slot(&url).is_none(), "the host is full");
        let other = Url::parse("http://localhost:1/a.json").unwrap();
        assert!(documents.host_slot(&other).is_some(), "another host is not");
        drop(slots);
        assert!(documents.host_slot(&url).is_some(), "slots come back");
    }

    #[test]
    fn json_content_types() {
        let with = |value: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("content-type", value.parse().unwrap());
            is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=utf-8"));
        assert!(with("application/client-metadata+json"));
        assert!(!with("application/+json"));
        assert!(!with("text/json"));
        assert!(!with("text/html"));
        assert!(is_document_id("https://example.com/c.json"));
        assert!(is_document_id("HTTP://example.com/c.json"));
        assert!(!is_document_id("eyJhbGciOi.x.y"));
    }
}
