//! `POST /register` (RFC 7591): every client gets a client id of its own and
//! no secret. The id is the registration: signed by this server, it carries
//! the client's redirect URIs and `client_name` (for the consent page), so
//! nothing is stored. A flood of registrations fills nothing and evicts
//! nobody; a client registering someone else's redirect URI gets an id of
//! its own, and takes nothing from the first; every replica that shares the
//! secret knows every client.
//!
//! In proxy mode, every client still shares the server's own client id at
//! the provider: the ids given here are this server's alone.

use super::OAuthProxy;
use super::client_document::{DocumentClient, DocumentError, is_document_id};
use super::respond::{bad_request, has_content_type, no_store, now};
use super::signed::Purpose;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How long a client id is good: as long as clients keep a registration
/// (they cache it, and most never register again on their own), so ten
/// years; changing the shared secret ends every id at once.
const REGISTRATION_TTL: Duration = Duration::from_secs(3650 * 24 * 3600);
/// Longest client id issued or accepted: it carries the redirect URIs, and
/// travels in `/authorize` URLs (proxies' line limits are 8 KiB) and forms.
pub(super) const MAX_CLIENT_ID_BYTES: usize = 4 * 1024;
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

/// What a registered client's id carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ClientClaims {
    /// Where its codes may go, exactly.
    #[serde(rename = "uris")]
    pub(super) redirect_uris: Vec<String>,
    /// The `client_name` it registered, shown on the consent page.
    #[serde(default, rename = "name", skip_serializing_if = "Option::is_none")]
    pub(super) client_name: Option<String>,
    /// Random: two registrations alike are still two clients, each with an
    /// id of its own in logs and tokens.
    #[serde(default, rename = "rid")]
    pub(super) registration: String,
}

/// Who asks for codes at a redirect URI.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Client {
    /// A client registered here, with what its id carries.
    Registered(ClientClaims),
    /// A client whose id is the URL of its metadata document.
    Document(Arc<DocumentClient>),
    /// Proxy mode: the server's own client id, at a redirect URI on the
    /// operator's allow-list.
    Operator,
}

impl Client {
    /// The `client_name` to show on the consent page.
    pub(super) fn name(&self) -> Option<&str> {
        match self {
            Self::Registered(claims) => claims.client_name.as_deref(),
            Self::Document(client) => client.client_name.as_deref(),
            Self::Operator => None,
        }
    }

    /// The host vouching for the client, its metadata document's: shown on
    /// the consent page, since the name is the client's own claim.
    pub(super) fn vouched_by(&self) -> Option<String> {
        match self {
            Self::Document(client) => Some(client.host()),
            Self::Registered(_) | Self::Operator => None,
        }
    }
}

/// Why no client may receive codes at a redirect URI.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unknown {
    /// Not a client, or not at that redirect URI: says why.
    Refused(String),
    /// Its metadata document cannot be fetched now: too many are.
    Busy,
}

impl From<&'static str> for Unknown {
    fn from(why: &'static str) -> Self {
        Self::Refused(why.to_owned())
    }
}

impl From<DocumentError> for Unknown {
    fn from(error: DocumentError) -> Self {
        match error {
            DocumentError::Refused(why) => Self::Refused(why),
            DocumentError::Busy => Self::Busy,
        }
    }
}

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
        let claims = ClientClaims {
            redirect_uris,
            client_name,
            registration: crate::random::random_token::<9>(),
        };
        let Ok(client_id) = self.sign(Purpose::Client, REGISTRATION_TTL, &claims) else {
            return invalid("the registration could not be signed");
        };
        if client_id.len() > MAX_CLIENT_ID_BYTES {
            return invalid(&format!(
                "the redirect URIs and client_name together are too long: the client id \
                 carrying them would exceed {MAX_CLIENT_ID_BYTES} bytes"
            ));
        }
        let ClientClaims {
            redirect_uris,
            client_name,
            ..
        } = claims;
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
        crate::operations::audit::sign_in("registered", Some(&client_id), None);
        let mut response = HttpResponse::Created()
            .content_type("application/json")
            .body(answer.to_string());
        no_store(&mut response);
        response
    }

    /// Whether `uri` is on the operator's allow-list.
    pub(super) fn allow_listed(&self, uri: &str) -> bool {
        self.dev.is_none() && self.allowed_redirect_uris.iter().any(|u| u == uri)
    }

    /// What a client id registered here carries, unless it is not ours,
    /// altered or expired.
    pub(super) fn registered_client(&self, client_id: &str) -> Option<ClientClaims> {
        self.verify::<ClientClaims>(Purpose::Client, client_id, MAX_CLIENT_ID_BYTES)
            .ok()
            .map(|verified| verified.claims)
    }

    /// Whether `client_id` is the provider's client id this proxy lends
    /// (proxy mode only: the dev server has none).
    fn is_operator_id(&self, client_id: &str) -> bool {
        self.dev.is_none() && client_id == self.client_id
    }

    /// Whether `client_id` is a client of this server, at all: the
    /// operator's, one registered here, or one whose metadata document
    /// (fetched, or kept from before) describes it.
    pub(super) async fn client_known(&self, client_id: &str) -> Result<(), Unknown> {
        if self.is_operator_id(client_id) || self.registered_client(client_id).is_some() {
            return Ok(());
        }
        if is_document_id(client_id) {
            return self.document_client(client_id).await.map(drop);
        }
        Err("unknown client".into())
    }

    /// The client `client_id`'s metadata document describes.
    async fn document_client(&self, client_id: &str) -> Result<Arc<DocumentClient>, Unknown> {
        let Some(documents) = &self.documents else {
            return Err(
                "this server does not take client metadata documents: register at \
                 the registration endpoint"
                    .into(),
            );
        };
        Ok(documents.resolve(client_id).await?)
    }

    /// The client that may receive codes at `redirect_uri` as `client_id`,
    /// or why none may (a description for the page shown to the user: an
    /// unverified redirect URI is never sent anything).
    pub(super) async fn client_for(
        &self,
        client_id: Option<&str>,
        redirect_uri: &str,
    ) -> Result<Client, Unknown> {
        let Some(client_id) = client_id else {
            return Err("client_id is required".into());
        };
        if self.is_operator_id(client_id) {
            return if self.allow_listed(redirect_uri) {
                Ok(Client::Operator)
            } else {
                Err(
                    "redirect_uri is not allowed for this client_id; register the client \
                     at the registration endpoint and use the client_id it returns"
                        .into(),
                )
            };
        }
        if is_document_id(client_id) {
            let client = self.document_client(client_id).await?;
            if !client.redirect_uris.iter().any(|uri| uri == redirect_uri) {
                return Err("redirect_uri is not one the client's metadata document lists".into());
            }
            // The document is the client's word; the rules are this
            // server's, as for a registration.
            check_registered_redirect_uri(redirect_uri).map_err(Unknown::Refused)?;
            return Ok(Client::Document(client));
        }
        let Some(claims) = self.registered_client(client_id) else {
            return Err("unknown client_id; register at the registration endpoint".into());
        };
        if !claims.redirect_uris.iter().any(|uri| uri == redirect_uri) {
            return Err("redirect_uri is not one this client registered".into());
        }
        Ok(Client::Registered(claims))
    }
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
        "http" if crate::auth::is_loopback_url(&url) => Ok(()),
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
    ) || (url.scheme() == "http" && !crate::auth::is_loopback_url(&url))
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
    if !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "redirect URI `{shown}` must be printable ASCII without spaces; \
             percent-encode anything else"
        ));
    }
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
            "https://app.example/c b",
            "https://app.example/cb\u{7}",
            "https://app.example/caf\u{e9}",
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

    /// A registration of `redirect_uris` as `name`.
    fn registration(redirect_uris: &[&str], name: &str) -> actix_web::test::TestRequest {
        let body = json!({"redirect_uris": redirect_uris, "client_name": name});
        actix_web::test::TestRequest::post()
            .uri(super::super::PROXY_REGISTER_PATH)
            .insert_header(("content-type", "application/json"))
            .set_payload(body.to_string())
    }

    /// The client id a registration answered with.
    async fn client_id_of(response: actix_web::dev::ServiceResponse) -> String {
        assert_eq!(response.status(), actix_web::http::StatusCode::CREATED);
        let body = actix_web::test::read_body(response).await;
        let answer: Value = serde_json::from_slice(&body).unwrap();
        answer["client_id"].as_str().unwrap().to_owned()
    }

    #[actix_web::test]
    async fn client_ids_carry_their_registration_so_nothing_can_be_flooded_or_stolen() {
        use super::super::tests::proxy_over;
        use crate::state::SharedState;
        let state = SharedState::memory(Duration::from_secs(60), 10);
        let secret = [7u8; 32];
        let proxy = std::sync::Arc::new(proxy_over(&state, Some(&secret)));
        let app = actix_web::test::init_service(actix_web::App::new().configure(|cfg| {
            super::super::configure(cfg, &proxy, crate::auth::proxy::tests::admit_all())
        }))
        .await;
        let call = |request: actix_web::test::TestRequest| {
            actix_web::test::call_service(&app, request.to_request())
        };
        let victim =
            client_id_of(call(registration(&["https://victim.example/cb"], "Victim")).await).await;
        assert_ne!(victim, proxy.client_id, "its own id, never the provider's");
        // More registrations than any store once held (20,000 records,
        // oldest evicted first): each is an id, and nothing is stored.
        for i in 0..25_000 {
            let uri = format!("https://flood.example/{i}");
            let response = call(registration(&[&uri], "Flood")).await;
            assert_eq!(response.status(), actix_web::http::StatusCode::CREATED);
        }
        // Someone registers the victim's redirect URI: they get an id of
        // their own, and the victim's keeps its name and URI.
        let thief =
            client_id_of(call(registration(&["https://victim.example/cb"], "Thief")).await).await;
        assert_ne!(thief, victim);
        let client = proxy
            .client_for(Some(&victim), "https://victim.example/cb")
            .await;
        assert_eq!(
            client.map(|c| c.name().map(str::to_owned)),
            Ok(Some("Victim".into()))
        );
        let client = proxy
            .client_for(Some(&thief), "https://victim.example/cb")
            .await;
        assert_eq!(
            client.map(|c| c.name().map(str::to_owned)),
            Ok(Some("Thief".into()))
        );
        // A client gets codes only at the URIs it registered.
        assert!(
            proxy
                .client_for(Some(&victim), "https://flood.example/1")
                .await
                .is_err()
        );
        // Every replica sharing the secret knows it; another server does not,
        // nor does an altered id.
        let replica = proxy_over(
            &SharedState::memory(Duration::from_secs(60), 10),
            Some(&secret),
        );
        assert!(
            replica
                .client_for(Some(&victim), "https://victim.example/cb")
                .await
                .is_ok()
        );
        let other = proxy_over(&state, Some(&[8u8; 32]));
        assert!(
            other
                .client_for(Some(&victim), "https://victim.example/cb")
                .await
                .is_err()
        );
        let mut altered = victim.clone().into_bytes();
        let middle = altered.len() / 2;
        altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(
            proxy
                .client_for(Some(&altered), "https://victim.example/cb")
                .await
                .is_err()
        );
        // The server's own id serves the operator's allow-list, nothing else.
        assert_eq!(
            proxy
                .client_for(Some(&proxy.client_id), "com.example.app:/cb")
                .await,
            Ok(Client::Operator)
        );
        assert!(
            proxy
                .client_for(Some(&proxy.client_id), "https://victim.example/cb")
                .await
                .is_err()
        );
        assert!(proxy.client_for(None, "com.example.app:/cb").await.is_err());
    }

    #[actix_web::test]
    async fn a_client_id_that_would_be_too_long_is_refused_at_registration() {
        use actix_web::test::{self, TestRequest};
        let proxy = std::sync::Arc::new(new_proxy());
        let app = test::init_service(actix_web::App::new().configure(|cfg| {
            super::super::configure(cfg, &proxy, crate::auth::proxy::tests::admit_all())
        }))
        .await;
        let uris: Vec<String> = (0..2)
            .map(|i| format!("https://app.example/{i}/{}", "x".repeat(2000)))
            .collect();
        let request = TestRequest::post()
            .uri(super::super::PROXY_REGISTER_PATH)
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"redirect_uris": uris}).to_string())
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), actix_web::http::StatusCode::BAD_REQUEST);
        let answer: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
        assert_eq!(answer["error"], "invalid_client_metadata");
        assert!(
            answer["error_description"]
                .as_str()
                .unwrap()
                .contains("4096 bytes")
        );
    }
}
