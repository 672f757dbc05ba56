//! `POST /register` (RFC 7591): every client gets the server's client id and
//! no secret; its redirect URIs (and its `client_name`, for the consent page)
//! are remembered for `/authorize`, as records of the shared state that
//! every replica reads.

use super::respond::{bad_request, has_content_type, no_store, now, state_unavailable};
use super::{OAuthProxy, Registration};
use crate::state::{StateResult, Unavailable};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use std::time::Duration;
use url::{Host, Url};

/// How long a registered redirect URI is remembered (re-registering renews it).
const REGISTRATION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Redirect URIs per registration.
const MAX_REDIRECT_URIS: usize = 10;
/// Longest redirect URI accepted.
const MAX_URI_BYTES: usize = 2048;
/// Longest `client_name` kept.
const MAX_CLIENT_NAME_BYTES: usize = 1024;
/// Largest registration request.
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Grant types a registered client may use.
pub(super) const GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

impl OAuthProxy {
    pub(super) async fn register(&self, req: HttpRequest, payload: web::Payload) -> HttpResponse {
        let invalid = |why: &str| bad_request("invalid_client_metadata", why);
        if !has_content_type(&req, "application/json") {
            return invalid("Content-Type must be application/json");
        }
        let Ok(Ok(body)) = payload.to_bytes_limited(MAX_REQUEST_BYTES).await else {
            return invalid("the registration request could not be read (at most 16 KiB)");
        };
        let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&body) else {
            return invalid("the registration request must be a JSON object");
        };
        let redirect_uris = match request.get("redirect_uris") {
            Some(Value::Array(uris)) if !uris.is_empty() && uris.len() <= MAX_REDIRECT_URIS => {
                let mut checked = Vec::with_capacity(uris.len());
                for uri in uris {
                    let Some(uri) = uri.as_str() else {
                        return bad_request(
                            "invalid_redirect_uri",
                            "redirect_uris must be strings",
                        );
                    };
                    if let Err(why) = check_registered_redirect_uri(uri) {
                        return bad_request("invalid_redirect_uri", why);
                    }
                    checked.push(uri.to_owned());
                }
                checked
            }
            _ => {
                return bad_request(
                    "invalid_redirect_uri",
                    format!("redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs"),
                );
            }
        };
        let Ok(grant_types) = string_list(request.get("grant_types"), &GRANT_TYPES) else {
            return invalid("grant_types may hold only authorization_code and refresh_token");
        };
        let Ok(response_types) = string_list(request.get("response_types"), &["code"]) else {
            return invalid("response_types may hold only code");
        };
        let client_name = match request.get("client_name") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) if name.len() <= MAX_CLIENT_NAME_BYTES => {
                Some(name.clone()).filter(|name| !name.trim().is_empty())
            }
            Some(_) => {
                return invalid("client_name must be a string of at most 1024 bytes");
            }
        };
        let now = now();
        // Dev mode: each registration is its own client. Proxy mode: every
        // client shares the server's client id at the provider.
        let client_id = match &self.dev {
            Some(_) => format!("dev-{}", crate::random::random_token::<32>()),
            None => self.client_id.clone(),
        };
        let own_id = self.dev.as_ref().map(|_| client_id.as_str());
        if self
            .remember(&redirect_uris, client_name.as_deref(), own_id)
            .await
            .is_err()
        {
            tracing::warn!("proxy: the shared state is unavailable; refused a registration");
            return state_unavailable();
        }
        // A public client: PKCE protects its codes, and the server's own
        // secret never leaves the server.
        let mut answer = json!({
            "client_id": client_id,
            "client_id_issued_at": now,
            "redirect_uris": redirect_uris,
            "token_endpoint_auth_method": "none",
            "grant_types": grant_types,
            "response_types": response_types,
        });
        if let Some(name) = &client_name {
            answer["client_name"] = json!(name);
        }
        if let Some(Value::String(scope)) = request.get("scope")
            && scope.len() <= 1024
        {
            answer["scope"] = json!(scope);
        }
        tracing::debug!(
            redirect_uris = redirect_uris.len(),
            "proxy: registered a client"
        );
        let mut response = HttpResponse::Created()
            .content_type("application/json")
            .body(answer.to_string());
        no_store(&mut response);
        response
    }

    /// Remembers registered redirect URIs and the client's name in the
    /// shared records, for [`REGISTRATION_TTL`]: the latest registration of a
    /// URI wins (in dev mode, it rebinds the URI to the newest client id, as
    /// it always has). The store bounds itself.
    pub(super) async fn remember(
        &self,
        uris: &[String],
        client_name: Option<&str>,
        client_id: Option<&str>,
    ) -> StateResult<()> {
        if let Some(id) = client_id {
            self.state
                .records
                .put(&dev_client_key(id), b"{}", REGISTRATION_TTL)
                .await?;
        }
        let registration = Registration {
            client_name: client_name.map(str::to_owned),
            client_id: client_id.map(str::to_owned),
        };
        let value = serde_json::to_vec(&registration).map_err(|_| Unavailable)?;
        for uri in uris {
            self.state
                .records
                .put(&registration_key(uri), &value, REGISTRATION_TTL)
                .await?;
        }
        Ok(())
    }

    /// Whether `uri` is on the operator's allow-list.
    pub(super) fn allow_listed(&self, uri: &str) -> bool {
        self.dev.is_none() && self.allowed_redirect_uris.iter().any(|u| u == uri)
    }

    /// `uri`'s registration, unless it expired. A record that does not
    /// parse counts as an unavailable store, never as a guess.
    pub(super) async fn registration(&self, uri: &str) -> StateResult<Option<Registration>> {
        if uri.len() > MAX_URI_BYTES {
            // Never registered: no need to ask the store.
            return Ok(None);
        }
        match self.state.records.get(&registration_key(uri)).await? {
            None => Ok(None),
            Some(value) => serde_json::from_slice(&value)
                .map(Some)
                .map_err(|_| Unavailable),
        }
    }

    /// Dev mode: whether `client_id` was issued by a registration that has
    /// not expired.
    pub(super) async fn dev_client_known(&self, client_id: &str) -> StateResult<bool> {
        // Ids issued here are `dev-` and 43 characters.
        if !client_id.starts_with("dev-") || client_id.len() > 64 {
            return Ok(false);
        }
        let key = dev_client_key(client_id);
        Ok(self.state.records.get(&key).await?.is_some())
    }

    /// Whether `uri` may receive codes: allowed, or registered and not expired.
    pub(super) async fn redirect_allowed(&self, uri: &str) -> StateResult<bool> {
        Ok(self.allow_listed(uri) || self.registration(uri).await?.is_some())
    }
}

/// The shared record of a registered redirect URI.
fn registration_key(uri: &str) -> String {
    format!("proxy:client:{uri}")
}

/// Dev mode: the shared record of an issued client id.
fn dev_client_key(client_id: &str) -> String {
    format!("proxy:dev-client:{client_id}")
}

/// An array of strings drawn from `allowed`; absent means all of `allowed`.
fn string_list(value: Option<&Value>, allowed: &[&str]) -> Result<Vec<String>, ()> {
    match value {
        None | Some(Value::Null) => Ok(allowed.iter().map(|s| (*s).to_owned()).collect()),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| match item.as_str() {
                Some(s) if allowed.contains(&s) => Ok(s.to_owned()),
                _ => Err(()),
            })
            .collect(),
        Some(_) => Err(()),
    }
}

/// A redirect URI a client may register: `https`, or `http` on a loopback
/// host (RFC 8252 §7.3), absolute, without fragment or user info.
pub(crate) fn check_registered_redirect_uri(uri: &str) -> Result<(), String> {
    let url = parse_redirect_uri(uri)?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(format!(
            "redirect URI `{}` uses http on a non-loopback host; use https, or \
             http://127.0.0.1, http://[::1] or http://localhost",
            shown(uri)
        )),
        _ => Err(format!(
            "redirect URI `{}` must be https, or http on a loopback host",
            shown(uri)
        )),
    }
}

/// A redirect URI the operator may allow without registration: any absolute
/// URI without fragment or user info (private-use schemes such as
/// `com.example.app:/callback` included), but never plain http off loopback,
/// nor a script or local one.
pub(crate) fn check_allowed_redirect_uri(uri: &str) -> Result<(), String> {
    let url = parse_redirect_uri(uri)?;
    if matches!(
        url.scheme(),
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about"
    ) || (url.scheme() == "http" && !is_loopback(&url))
    {
        return Err(format!(
            "allowed redirect URI `{}` must be https, http on a loopback host, or an app's \
             private-use scheme",
            shown(uri)
        ));
    }
    Ok(())
}

fn parse_redirect_uri(uri: &str) -> Result<Url, String> {
    if uri.len() > MAX_URI_BYTES {
        return Err(format!("redirect URI is longer than {MAX_URI_BYTES} bytes"));
    }
    let shown = shown(uri);
    let url = Url::parse(uri)
        .map_err(|e| format!("redirect URI `{shown}` is not an absolute URI ({e})"))?;
    if uri.contains('#') || url.fragment().is_some() {
        return Err(format!("redirect URI `{shown}` must not have a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("redirect URI `{shown}` must not carry user info"));
    }
    if matches!(url.scheme(), "http" | "https") && url.host_str().is_none_or(str::is_empty) {
        return Err(format!("redirect URI `{shown}` has no host"));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A client-supplied URI for an error message: bounded, printable.
fn shown(uri: &str) -> String {
    uri.chars()
        .take(200)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::new_proxy;
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_without_fragments() {
        for ok in [
            "https://app.example/cb",
            "https://app.example/cb?x=1",
            "http://127.0.0.1:7777/callback",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
        ] {
            assert_eq!(check_registered_redirect_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://app.example/cb",
            "http://127.0.0.1.evil.example/cb",
            "https://app.example/cb#frag",
            "https://app.example/cb#",
            "https://user:pw@app.example/cb",
            "javascript:alert(1)",
            "com.example.app:/cb",
            "/relative",
            "",
        ] {
            assert!(check_registered_redirect_uri(bad).is_err(), "{bad}");
        }
        assert_eq!(check_allowed_redirect_uri("com.example.app:/cb"), Ok(()));
        assert!(check_allowed_redirect_uri("javascript:alert(1)").is_err());
        assert!(check_allowed_redirect_uri("http://app.example/cb").is_err());
    }

    #[actix_web::test]
    async fn registration_bodies_are_bounded() {
        use actix_web::test::{self, TestRequest};
        let proxy = std::sync::Arc::new(new_proxy());
        let app = test::init_service(actix_web::App::new().configure(|cfg| {
            super::super::configure(cfg, &proxy, crate::auth::proxy::tests::admit_all())
        }))
        .await;
        // A valid registration padded with spaces to `len` bytes.
        let body = |len: usize| {
            let json = r#"{"redirect_uris":["https://app.example/cb"]}"#;
            format!("{json}{}", " ".repeat(len - json.len()))
        };
        for (len, status) in [
            (MAX_REQUEST_BYTES, actix_web::http::StatusCode::CREATED),
            (
                MAX_REQUEST_BYTES + 1,
                actix_web::http::StatusCode::BAD_REQUEST,
            ),
        ] {
            let request = TestRequest::post()
                .uri(super::super::PROXY_REGISTER_PATH)
                .insert_header(("content-type", "application/json"))
                .set_payload(body(len))
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), status, "a body of {len} bytes");
        }
    }

    #[tokio::test]
    async fn registrations_are_shared_records_and_the_allow_list_needs_none() {
        let proxy = new_proxy();
        proxy
            .remember(&["https://named.example/cb".into()], Some("Named"), None)
            .await
            .unwrap();
        assert!(
            proxy
                .redirect_allowed("https://named.example/cb")
                .await
                .unwrap()
        );
        let registration = proxy
            .registration("https://named.example/cb")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(registration.client_name.as_deref(), Some("Named"));
        // Kept as JSON under the URI, with the registration's lifetime.
        let record = proxy
            .state
            .records
            .get("proxy:client:https://named.example/cb")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Registration>(&record).unwrap(),
            registration
        );
        // The latest registration of a URI wins.
        proxy
            .remember(&["https://named.example/cb".into()], None, None)
            .await
            .unwrap();
        let registration = proxy.registration("https://named.example/cb").await;
        assert_eq!(registration.unwrap().unwrap().client_name, None);
        assert!(proxy.redirect_allowed("com.example.app:/cb").await.unwrap());
        assert!(
            !proxy
                .redirect_allowed("https://never.example/cb")
                .await
                .unwrap()
        );
        // A record that does not parse is no registration to guess from.
        proxy
            .state
            .records
            .put(
                "proxy:client:https://garbled.example/cb",
                b"not json",
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        assert_eq!(
            proxy.redirect_allowed("https://garbled.example/cb").await,
            Err(Unavailable)
        );
    }
}
