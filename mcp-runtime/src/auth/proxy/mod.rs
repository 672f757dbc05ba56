//! Proxy mode: this server is the authorization server MCP clients see.
//!
//! Providers that cannot register MCP clients dynamically get one
//! pre-registered confidential client; the proxy lends its id to every MCP
//! client and keeps its secret to itself:
//!
//! - `POST /register` (RFC 7591) answers with a client id of this server's
//!   own, signed, carrying the client's redirect URIs (never a secret, and
//!   never the provider's client id); a client may instead name itself by
//!   the https URL of its client metadata document (`client_document.rs`),
//!   fetched when it comes, and needs no registration;
//! - `GET /authorize` checks the client id, the redirect URI (one the client
//!   registered, or the server's own client id at a URI on the operator's
//!   allow-list) and PKCE (S256 only), then forwards to the
//!   provider with this server's callback as redirect URI, the client's own
//!   PKCE challenge, and a signed, expiring `state` carrying the client's
//!   redirect URI, state and challenge;
//! - but first, for a redirect URI that came from registration, it asks the
//!   user (a consent page posting to `POST /authorize/consent`), unless this
//!   browser already approved that redirect URI: every client shares one
//!   client id at the provider, which may approve a returning user without
//!   asking, so without this step anyone could register their own redirect
//!   URI and receive that user's code (the "confused deputy" of the MCP
//!   security best practices);
//! - `GET /oauth/callback` verifies that state (signature, expiry, single use),
//!   wraps the provider's code in a signed, single-use code of its own bound
//!   to the client's challenge, redirect URI and client id, and sends that
//!   code (or the provider's error) on to the client;
//! - `POST /token` checks a code exchange against what the code is bound to
//!   (the verifier, S256, the redirect URI and the client id), then forwards
//!   the provider's code, or a refresh, with the server's client
//!   credentials, and passes the provider's answer back.
//!
//! PKCE is checked twice: here, before a code exchange is relayed, and by
//! the provider, which gets the client's challenge and verifier too. So even
//! behind a provider that ignores them, a code that leaks on its way to the
//! client (or from it) is useless to anyone but the client that started the
//! flow.
//!
//! Any replica may answer any step of a sign-in: client ids, states, consent
//! tokens and codes are signed with a key derived from the shared secret
//! (`MCP_STATE_SECRET`) and carry what they stand for; a single-use token's
//! serial is spent in the shared state (one bit, see `signed.rs`), and a
//! provider's code is bound once by a marker there (`proxy:bound:{digest}`).
//! Nothing else about a sign-in is stored, so no flood of requests fills
//! anything another user's sign-in needs. Without a secret the key is
//! drawn at start: right for one process, and a restart invalidates sign-ins
//! in progress, remembered approvals and registered client ids (clients
//! register again: RFC 7591 §3 lets a server forget them). When the shared state cannot be
//! reached, the step is refused with 503 and `Retry-After`, never answered
//! from a guess (a callback whose state is already spent sends the client
//! `temporarily_unavailable` instead, so it starts again).

mod authorize;
mod client_document;
mod code;
mod consent;
mod page;
mod register;
mod respond;
mod signed;
mod token;

#[cfg(feature = "fuzzing")]
pub(crate) use register::check_registered_redirect_uri;
#[cfg(feature = "fuzzing")]
pub(crate) use respond::query_params;
#[cfg(feature = "fuzzing")]
pub(crate) use token::basic_credentials;

pub(crate) use register::check_allowed_redirect_uri;

use super::address_policy::AddressPolicy;
use super::provider::{Provider, Secret};
use super::rate_limit::{RateLimiter, TrustedProxies, Verdict};
use super::{DEV_JWKS_PATH, DevIssuer, IssuerDiscovery};
use crate::random::random_bytes;
use crate::state::SharedState;
use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use bytes::Bytes;
use client_document::ClientDocuments;
use jsonwebtoken::{DecodingKey, EncodingKey};
use respond::{method_not_allowed, preflight, with_cors};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub(crate) use super::paths::{
    PROXY_AUTHORIZE_PATH, PROXY_CALLBACK_PATH, PROXY_CONSENT_PATH, PROXY_REGISTER_PATH,
    PROXY_TOKEN_PATH,
};

/// Deadline of a forwarded token request.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(15);

/// Proxy-mode settings from the server builder.
#[derive(Debug, Clone)]
pub(crate) struct ProxySettings {
    /// Redirect URIs accepted without registration, and without consent.
    pub(crate) redirect_uris: Vec<String>,
    /// Whether a registered client's request needs the user's consent.
    pub(crate) consent: bool,
    /// Requests per client address, per endpoint, per minute (`0`: off);
    /// `None` until settled from code or `MCP_OAUTH_RATE_LIMIT`.
    pub(crate) rate_limit: Option<u32>,
    /// Proxies whose forwarded header names the client; `None` until
    /// settled from code or `MCP_TRUSTED_PROXIES`.
    pub(crate) trusted_proxies: Option<Vec<String>>,
    /// The header they write (`x-forwarded-for` or `forwarded`); `None`
    /// until settled from code or `MCP_FORWARDED_HEADER`, then the first.
    pub(crate) forwarded_header: Option<String>,
    /// Whether clients may name themselves by the URL of a client metadata
    /// document; `None` until settled from code or
    /// `MCP_OAUTH_CLIENT_METADATA_DOCUMENTS`, then yes.
    pub(crate) client_metadata_documents: Option<bool>,
    /// Address blocks those documents may be fetched from although not
    /// public; `None` until settled from code or
    /// `MCP_OAUTH_CLIENT_METADATA_NETWORKS`, then none.
    pub(crate) client_metadata_networks: Option<Vec<String>>,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            redirect_uris: Vec::new(),
            consent: true,
            rate_limit: None,
            trusted_proxies: None,
            forwarded_header: None,
            client_metadata_documents: None,
            client_metadata_networks: None,
        }
    }
}

impl ProxySettings {
    /// The proxies in front of the server and the header they write; the
    /// error names a bad entry.
    pub(crate) fn trusted(&self) -> Result<TrustedProxies, String> {
        TrustedProxies::parse(
            self.trusted_proxies.iter().flatten(),
            self.forwarded_header.as_deref(),
        )
    }

    /// Which addresses client metadata documents may be fetched from: public
    /// ones, the allowed blocks, and loopback for the development server
    /// (`dev`); the error names a bad block.
    pub(crate) fn document_addresses(&self, dev: bool) -> Result<AddressPolicy, String> {
        AddressPolicy::new(self.client_metadata_networks.iter().flatten(), dev)
            .map_err(|e| format!("client metadata networks: {e}"))
    }

    /// The resolver of client metadata documents, unless they are off;
    /// `dev` for the development server, which also fetches from loopback
    /// unless it was let off loopback itself (then loopback is where
    /// anyone's fetch would reach what that machine keeps to itself).
    fn client_documents(&self, dev: Option<&DevIssuer>) -> Result<Option<ClientDocuments>, String> {
        if !self.client_metadata_documents.unwrap_or(true) {
            return Ok(None);
        }
        let loopback = dev.is_some_and(|dev| !dev.allows_non_loopback());
        ClientDocuments::new(self.document_addresses(loopback)?, dev.is_some()).map(Some)
    }

    /// The rate limiter these settings describe, counting in `state`.
    fn rate_limiter(&self, state: &SharedState) -> Result<RateLimiter, String> {
        Ok(RateLimiter::new(
            Arc::clone(&state.counters),
            self.rate_limit
                .unwrap_or(super::rate_limit::DEFAULT_PER_MINUTE),
            self.trusted()?,
        ))
    }
}

/// A checked authorization request: everything needed to forward it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct AuthorizeRequest {
    /// The client the code is for: registered here, or (proxy mode) the
    /// server's own at an allow-listed redirect URI.
    client_id: String,
    /// Registered (or allow-listed) when checked.
    redirect_uri: String,
    /// The client's own `state`, returned to it unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_state: Option<String>,
    /// The client's PKCE S256 challenge, checked here at `/token` and by the
    /// provider.
    code_challenge: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// This server's MCP endpoint, if the client named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
}

/// What a proxy is built with: its settings, and what every replica of the
/// server shares with it (where sign-ins in progress are kept, and the
/// secret their tokens are signed with).
#[derive(Clone, Copy)]
pub(crate) struct ProxyContext<'a> {
    pub(crate) settings: &'a ProxySettings,
    pub(crate) state: &'a SharedState,
    /// The shared secret (`MCP_STATE_SECRET`), if configured; else the
    /// signing key is drawn at start.
    pub(crate) secret: Option<&'a [u8]>,
}

/// What the signing key is derived for: the shared secret also signs the
/// 2026-07-28 request state, and is never used raw here.
const KEY_LABEL: &[u8] = b"mcp proxy state key";

/// The key signing states, consent tokens and remembered-consent cookies:
/// HMAC-SHA-256(secret, [`KEY_LABEL`]) with a shared secret, so every replica
/// holds the same; else random, for this process alone.
fn signing_key(secret: Option<&[u8]>) -> [u8; 32] {
    use aws_lc_rs::hmac;
    let Some(secret) = secret else {
        return random_bytes::<32>();
    };
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), KEY_LABEL);
    let mut key = [0u8; 32];
    key.copy_from_slice(tag.as_ref());
    key
}

/// The authorization server this server plays in proxy mode.
pub(crate) struct OAuthProxy {
    /// This server's origin: the issuer clients see.
    issuer: String,
    /// `{issuer}/oauth/callback`, the redirect URI registered at the provider.
    callback_url: String,
    /// The MCP endpoint URL: the only `resource` tokens are asked for.
    resource: String,
    /// This server's name, shown on the consent page.
    resource_name: String,
    /// The provider's issuer, to check RFC 9207 `iss` in its responses.
    upstream_issuer: String,
    client_id: String,
    client_secret: Option<Secret>,
    /// Where the provider's endpoints are.
    upstream: Upstream,
    authorize_params: Vec<(String, String)>,
    /// Redirect URIs accepted without registration, and without consent.
    allowed_redirect_uris: Vec<String>,
    /// Whether a registered client's request needs the user's consent.
    consent: bool,
    /// Spent serials and bound codes, shared by every replica.
    state: SharedState,
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    /// Seals the provider's code inside the code handed to the client.
    code_key: aws_lc_rs::aead::LessSafeKey,
    http: reqwest::Client,
    /// Our RFC 8414 metadata, rendered once.
    metadata: Bytes,
    /// `oauth = dev`: codes and tokens are issued here, not by a provider.
    dev: Option<Arc<DevIssuer>>,
    /// Hits per client address on the endpoints anyone can reach.
    limiter: RateLimiter,
    /// Clients named by their metadata document's URL, unless turned off.
    documents: Option<ClientDocuments>,
}

/// Where the provider's endpoints are.
enum Upstream {
    /// Configured.
    Fixed { authorization: Url, token: String },
    /// Named by the provider's discovery document, found when first needed
    /// (and checked as configured ones are).
    Discovered(Arc<IssuerDiscovery>),
}

impl Upstream {
    /// The provider's authorization endpoint, or why it is not known.
    async fn authorization_endpoint(&self) -> Result<Url, String> {
        match self {
            Self::Fixed { authorization, .. } => Ok(authorization.clone()),
            Self::Discovered(discovery) => {
                let found = discovery.discovered().await?;
                let value = found
                    .authorization_endpoint
                    .ok_or("the provider's discovery document names no authorization endpoint")?;
                discovered_endpoint(&value, "authorization endpoint")
            }
        }
    }

    /// The provider's token endpoint, or why it is not known.
    async fn token_endpoint(&self) -> Result<String, String> {
        match self {
            Self::Fixed { token, .. } => Ok(token.clone()),
            Self::Discovered(discovery) => {
                let found = discovery.discovered().await?;
                let value = found
                    .token_endpoint
                    .ok_or("the provider's discovery document names no token endpoint")?;
                discovered_endpoint(&value, "token endpoint").map(String::from)
            }
        }
    }
}

/// `value`, read from the provider's discovery document, as its `what`:
/// https (plain http only on loopback), since codes, verifiers, refresh
/// tokens and this server's client secret go there, and the document is
/// not this server's own configuration.
fn discovered_endpoint(value: &str, what: &str) -> Result<Url, String> {
    let url = upstream_endpoint(value, what)?;
    if !crate::auth::is_secure_url(&url) {
        return Err(format!(
            "the provider's discovery document names an {what} that is not https"
        ));
    }
    Ok(url)
}

/// `value` as the provider's `what`: an http(s) URL with a host and no
/// fragment.
fn upstream_endpoint(value: &str, what: &str) -> Result<Url, String> {
    let url = Url::parse(value)
        .map_err(|e| format!("proxy mode: the {what} `{value}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.fragment().is_some()
    {
        return Err(format!(
            "proxy mode: the {what} `{value}` must be an http(s) URL without fragment"
        ));
    }
    Ok(url)
}

impl OAuthProxy {
    /// The proxy of a server named `resource_name` whose MCP endpoint is
    /// `resource`, or what is missing from the provider's configuration.
    /// With `dev` (`oauth = dev`), this server issues codes and tokens itself.
    /// Sign-ins in progress live in `context.state`, so any replica may
    /// answer any step of one.
    pub(crate) fn new(
        provider: &Provider,
        dev: Option<&Arc<DevIssuer>>,
        resource: &str,
        resource_name: &str,
        scopes_supported: &[String],
        context: ProxyContext<'_>,
    ) -> Result<Self, String> {
        let settings = context.settings;
        let resource_url = Url::parse(resource)
            .map_err(|e| format!("proxy mode: the server URL `{resource}` is not a URL ({e})"))?;
        let issuer = resource_url.origin().ascii_serialization();
        let name = &provider.name;
        if let Some(dev) = dev {
            return Self::new_dev(
                Arc::clone(dev),
                resource,
                resource_name,
                scopes_supported,
                issuer,
                context,
            );
        }
        let client_id = provider
            .client_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| {
                format!(
                    "proxy mode: the `{name}` provider has no client id; configure the client \
                     registered for this server at the provider"
                )
            })?;
        let upstream = match (
            &provider.authorization_endpoint,
            &provider.token_endpoint,
            &provider.discovery,
        ) {
            (None, None, Some(discovery)) => Upstream::Discovered(Arc::clone(discovery)),
            (authorization, token, _) => {
                let endpoint = |value: &Option<String>, what: &str| {
                    let value = value.as_deref().ok_or_else(|| {
                        format!("proxy mode: the `{name}` provider has no {what}")
                    })?;
                    upstream_endpoint(value, what)
                };
                Upstream::Fixed {
                    authorization: endpoint(authorization, "authorization endpoint")?,
                    token: endpoint(token, "token endpoint")?.to_string(),
                }
            }
        };
        for uri in &settings.redirect_uris {
            check_allowed_redirect_uri(uri)?;
        }
        let key = signing_key(context.secret);
        let http = reqwest::Client::builder()
            .timeout(UPSTREAM_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| "proxy mode: the HTTP client could not be built".to_owned())?;
        let mut metadata = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}{PROXY_AUTHORIZE_PATH}"),
            "token_endpoint": format!("{issuer}{PROXY_TOKEN_PATH}"),
            "registration_endpoint": format!("{issuer}{PROXY_REGISTER_PATH}"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": register::GRANT_TYPES,
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "authorization_response_iss_parameter_supported": true,
        });
        if !scopes_supported.is_empty() {
            metadata["scopes_supported"] = json!(scopes_supported);
        }
        let documents = settings.client_documents(None)?;
        if documents.is_some() {
            metadata["client_id_metadata_document_supported"] = json!(true);
        }
        Ok(Self {
            callback_url: format!("{issuer}{PROXY_CALLBACK_PATH}"),
            issuer,
            resource: resource.to_owned(),
            resource_name: resource_name.to_owned(),
            upstream_issuer: provider.issuer.clone(),
            client_id,
            client_secret: provider.client_secret.clone(),
            upstream,
            authorize_params: provider.authorize_params.clone(),
            allowed_redirect_uris: settings.redirect_uris.clone(),
            consent: settings.consent,
            state: context.state.clone(),
            encoding_key: EncodingKey::from_secret(&key),
            decoding_key: DecodingKey::from_secret(&key),
            code_key: code::sealing_key(&key),
            http,
            metadata: Bytes::from(metadata.to_string()),
            dev: None,
            limiter: settings.rate_limiter(context.state)?,
            documents,
        })
    }

    /// The authorization server of `oauth = dev`: it registers clients with
    /// their own ids, and issues codes and tokens itself.
    fn new_dev(
        dev: Arc<DevIssuer>,
        resource: &str,
        resource_name: &str,
        scopes_supported: &[String],
        issuer: String,
        context: ProxyContext<'_>,
    ) -> Result<Self, String> {
        let own = |path: &str| format!("{issuer}{path}");
        let authorization_endpoint = Url::parse(&own(PROXY_AUTHORIZE_PATH))
            .map_err(|e| format!("dev server: `{issuer}` is not a URL ({e})"))?;
        let key = signing_key(context.secret);
        let mut metadata = json!({
            "issuer": issuer,
            "authorization_endpoint": own(PROXY_AUTHORIZE_PATH),
            "token_endpoint": own(PROXY_TOKEN_PATH),
            "registration_endpoint": own(PROXY_REGISTER_PATH),
            "jwks_uri": own(DEV_JWKS_PATH),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "authorization_response_iss_parameter_supported": true,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        });
        if !scopes_supported.is_empty() {
            metadata["scopes_supported"] = json!(scopes_supported);
        }
        let documents = context.settings.client_documents(Some(&dev))?;
        if documents.is_some() {
            metadata["client_id_metadata_document_supported"] = json!(true);
        }
        Ok(Self {
            callback_url: own(PROXY_CALLBACK_PATH),
            issuer: issuer.clone(),
            resource: resource.to_owned(),
            resource_name: resource_name.to_owned(),
            upstream_issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            upstream: Upstream::Fixed {
                authorization: authorization_endpoint,
                token: own(PROXY_TOKEN_PATH),
            },
            authorize_params: Vec::new(),
            allowed_redirect_uris: Vec::new(),
            consent: dev.consent(),
            state: context.state.clone(),
            encoding_key: EncodingKey::from_secret(&key),
            decoding_key: DecodingKey::from_secret(&key),
            code_key: code::sealing_key(&key),
            http: reqwest::Client::new(),
            metadata: Bytes::from(metadata.to_string()),
            dev: Some(dev),
            limiter: context.settings.rate_limiter(context.state)?,
            documents,
        })
    }

    /// The issuer clients see: this server's origin.
    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Our RFC 8414 metadata document.
    pub(crate) fn metadata(&self) -> Bytes {
        self.metadata.clone()
    }
}

/// Registers the proxy's routes.
/// The answer to a request the rate limiter stops, if it does.
fn limited(verdict: Verdict) -> Option<actix_web::HttpResponse> {
    match verdict {
        Verdict::Allowed => None,
        Verdict::Limited { retry_after } => Some(respond::too_many_requests(retry_after)),
        Verdict::Unavailable => Some(respond::state_unavailable()),
    }
}

/// What a route checks before anything else (`Host`, `Origin`, where the
/// request arrived): a refusal, or `None` to go on. The transport supplies
/// it, so these routes make the same checks as the MCP endpoint.
pub(crate) type Admission =
    Arc<dyn Fn(&HttpRequest) -> Option<actix_web::HttpResponse> + Send + Sync>;

pub(crate) fn configure(cfg: &mut web::ServiceConfig, proxy: &Arc<OAuthProxy>, admit: Admission) {
    let p = Arc::clone(proxy);
    let route_admit = Arc::clone(&admit);
    cfg.service(web::resource(PROXY_REGISTER_PATH).to(
        move |req: HttpRequest, payload: web::Payload| {
            let p = Arc::clone(&p);
            let admit = Arc::clone(&route_admit);
            async move {
                if let Some(refusal) = admit(&req) {
                    return with_cors(refusal);
                }
                if let Some(refusal) = limited(p.limiter.check(&req, "register").await) {
                    return with_cors(refusal);
                }
                match *req.method() {
                    Method::POST => with_cors(p.register(req, payload).await),
                    Method::OPTIONS => preflight(),
                    _ => method_not_allowed("POST, OPTIONS"),
                }
            }
        },
    ));
    let p = Arc::clone(proxy);
    let route_admit = Arc::clone(&admit);
    cfg.service(
        web::resource(PROXY_AUTHORIZE_PATH).to(move |req: HttpRequest| {
            let p = Arc::clone(&p);
            let admit = Arc::clone(&route_admit);
            async move {
                if let Some(refusal) = admit(&req) {
                    return with_cors(refusal);
                }
                if let Some(refusal) = limited(p.limiter.check(&req, "authorize").await) {
                    return with_cors(refusal);
                }
                match *req.method() {
                    Method::GET => p.authorize(&req).await,
                    _ => method_not_allowed("GET"),
                }
            }
        }),
    );
    let p = Arc::clone(proxy);
    let route_admit = Arc::clone(&admit);
    cfg.service(web::resource(PROXY_CONSENT_PATH).to(
        move |req: HttpRequest, payload: web::Payload| {
            let p = Arc::clone(&p);
            let admit = Arc::clone(&route_admit);
            async move {
                if let Some(refusal) = admit(&req) {
                    return with_cors(refusal);
                }
                if let Some(refusal) = limited(p.limiter.check(&req, "consent").await) {
                    return with_cors(refusal);
                }
                match *req.method() {
                    Method::POST => p.consent(req, payload).await,
                    _ => method_not_allowed("POST"),
                }
            }
        },
    ));
    let p = Arc::clone(proxy);
    let route_admit = Arc::clone(&admit);
    cfg.service(
        web::resource(PROXY_CALLBACK_PATH).to(move |req: HttpRequest| {
            let p = Arc::clone(&p);
            let admit = Arc::clone(&route_admit);
            async move {
                if let Some(refusal) = admit(&req) {
                    return with_cors(refusal);
                }
                if let Some(refusal) = limited(p.limiter.check(&req, "callback").await) {
                    return with_cors(refusal);
                }
                match *req.method() {
                    Method::GET => p.callback(&req).await,
                    _ => method_not_allowed("GET"),
                }
            }
        }),
    );
    if let Some(dev) = &proxy.dev {
        let jwks = Bytes::from(dev.key.jwk_set().to_string());
        let route_admit = Arc::clone(&admit);
        cfg.service(web::resource(DEV_JWKS_PATH).to(move |req: HttpRequest| {
            let jwks = jwks.clone();
            let admit = Arc::clone(&route_admit);
            async move {
                if let Some(refusal) = admit(&req) {
                    return with_cors(refusal);
                }
                match *req.method() {
                    Method::GET | Method::HEAD => with_cors(
                        actix_web::HttpResponse::Ok()
                            .content_type("application/json")
                            .insert_header(("cache-control", "max-age=300"))
                            .body(jwks),
                    ),
                    _ => method_not_allowed("GET"),
                }
            }
        }));
    }
    let p = Arc::clone(proxy);
    let route_admit = Arc::clone(&admit);
    cfg.service(web::resource(PROXY_TOKEN_PATH).to(
        move |req: HttpRequest, payload: web::Payload| {
            let p = Arc::clone(&p);
            let admit = Arc::clone(&route_admit);
            async move {
                if let Some(refusal) = admit(&req) {
                    return with_cors(refusal);
                }
                if let Some(refusal) = limited(p.limiter.check(&req, "token").await) {
                    return with_cors(refusal);
                }
                match *req.method() {
                    Method::POST => with_cors(p.token(req, payload).await),
                    Method::OPTIONS => preflight(),
                    _ => method_not_allowed("POST, OPTIONS"),
                }
            }
        },
    ));
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::auth::CustomProvider;
    use crate::state::{Markers, Serial, Serials, StateFuture, Unavailable};
    use actix_web::http::{StatusCode, header};
    use actix_web::test::{self, TestRequest};
    use futures_util::FutureExt as _;
    use serde_json::Value;

    /// A proxy over a state of its own, with a key of its own: one process.
    /// Lets every request through: these tests are about the routes, not
    /// the transport's Host and Origin checks.
    pub(crate) fn admit_all() -> Admission {
        Arc::new(|_: &HttpRequest| None)
    }

    pub(in crate::auth::proxy) fn new_proxy() -> OAuthProxy {
        proxy_over(&SharedState::memory(Duration::from_secs(60), 10), None)
    }

    /// A proxy over `state`, signing with a key derived from `secret`: two
    /// over the same state and secret are two replicas of one server.
    pub(super) fn proxy_over(state: &SharedState, secret: Option<&[u8]>) -> OAuthProxy {
        proxy_relaying_to(state, secret, "https://id.example.com/token")
    }

    /// A proxy over `state` whose provider's token endpoint is `token_endpoint`.
    fn proxy_relaying_to(
        state: &SharedState,
        secret: Option<&[u8]>,
        token_endpoint: &str,
    ) -> OAuthProxy {
        let provider = CustomProvider::new("https://id.example.com")
            .jwks_url("https://id.example.com/jwks")
            .authorization_endpoint("https://id.example.com/authorize")
            .token_endpoint(token_endpoint)
            .client("mcp", "s3cret")
            .build()
            .expect("a proxy-mode provider");
        OAuthProxy::new(
            &provider,
            None,
            "https://mcp.example.com/mcp",
            "tasks",
            &["tasks:read".to_owned()],
            ProxyContext {
                settings: &ProxySettings {
                    redirect_uris: vec!["com.example.app:/cb".to_owned()],
                    ..ProxySettings::default()
                },
                state,
                secret,
            },
        )
        .expect("a proxy")
    }

    #[test]
    fn metadata_names_this_server_and_never_the_secret() {
        let proxy = new_proxy();
        let document: Value = serde_json::from_slice(&proxy.metadata()).unwrap();
        assert_eq!(document["issuer"], "https://mcp.example.com");
        assert_eq!(
            document["authorization_endpoint"],
            "https://mcp.example.com/authorize"
        );
        assert_eq!(document["token_endpoint"], "https://mcp.example.com/token");
        assert_eq!(
            document["registration_endpoint"],
            "https://mcp.example.com/register"
        );
        assert_eq!(
            document["code_challenge_methods_supported"],
            json!(["S256"])
        );
        assert_eq!(document["scopes_supported"], json!(["tasks:read"]));
        assert!(!document.to_string().contains("s3cret"));
        assert_eq!(proxy.callback_url, "https://mcp.example.com/oauth/callback");
    }

    #[test]
    fn a_proxy_needs_the_providers_client_and_endpoints() {
        let mut provider = CustomProvider::new("https://id.example.com")
            .jwks_url("https://id.example.com/jwks")
            .build()
            .unwrap();
        let settings = ProxySettings::default();
        let state = SharedState::memory(Duration::from_secs(60), 10);
        let context = ProxyContext {
            settings: &settings,
            state: &state,
            secret: None,
        };
        let new = |p: &Provider| {
            OAuthProxy::new(p, None, "https://mcp.example.com/mcp", "t", &[], context)
        };
        assert!(new(&provider).err().unwrap().contains("client id"));
        provider.client_id = Some("mcp".into());
        assert!(
            new(&provider)
                .err()
                .unwrap()
                .contains("authorization endpoint")
        );
        provider.authorization_endpoint = Some("ftp://id.example.com/authorize".into());
        assert!(new(&provider).err().unwrap().contains("http(s)"));
        provider.authorization_endpoint = Some("https://id.example.com/authorize".into());
        assert!(new(&provider).err().unwrap().contains("token endpoint"));
        provider.token_endpoint = Some("https://id.example.com/token".into());
        assert!(new(&provider).is_ok());
    }

    const REDIRECT: &str = "https://app.example/cb";
    /// RFC 7636 Appendix B: the challenge is BASE64URL(SHA-256(verifier)).
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    pub(super) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    /// The id of a client registered with `proxy` for `redirect_uri`.
    pub(super) fn registered(proxy: &OAuthProxy, redirect_uri: &str) -> String {
        let claims = register::ClientClaims {
            redirect_uris: vec![redirect_uri.to_owned()],
            client_name: Some("Shared app".to_owned()),
            registration: crate::random::random_token::<9>(),
        };
        proxy
            .sign(signed::Purpose::Client, Duration::from_secs(60), &claims)
            .unwrap()
    }

    /// A checked authorization request of client `client-1`.
    pub(super) fn checked_request(
        redirect_uri: &str,
        client_state: Option<&str>,
    ) -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "client-1".to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            client_state: client_state.map(str::to_owned),
            code_challenge: CHALLENGE.to_owned(),
            scope: None,
            resource: None,
            prompt: None,
        }
    }

    /// A backend that cannot be reached.
    struct Down;

    impl Markers for Down {
        fn claim<'a>(&'a self, _: &'a str, _: Duration) -> StateFuture<'a, bool> {
            futures_util::future::ready(Err(Unavailable)).boxed()
        }
    }

    impl Serials for Down {
        fn issue(&self) -> StateFuture<'_, Serial> {
            futures_util::future::ready(Err(Unavailable)).boxed()
        }

        fn spend(&self, _: Serial, _: Duration) -> StateFuture<'_, bool> {
            futures_util::future::ready(Err(Unavailable)).boxed()
        }
    }

    fn register_request() -> TestRequest {
        TestRequest::post()
            .uri(PROXY_REGISTER_PATH)
            .insert_header(("content-type", "application/json"))
            .set_payload(format!(
                r#"{{"redirect_uris":["{REDIRECT}"],"client_name":"Shared app"}}"#
            ))
    }

    fn authorize_request(client_id: &str, cookies: &str) -> TestRequest {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("state", "st")
            .append_pair("code_challenge", CHALLENGE)
            .append_pair("code_challenge_method", "S256")
            .finish();
        TestRequest::get()
            .uri(&format!("{PROXY_AUTHORIZE_PATH}?{query}"))
            .insert_header(("cookie", cookies))
    }

    fn consent_request(token: &str, cookies: &str) -> TestRequest {
        TestRequest::post()
            .uri(PROXY_CONSENT_PATH)
            .insert_header(("cookie", cookies))
            .insert_header(("sec-fetch-site", "same-origin"))
            .set_form([("consent_token", token), ("decision", "approve")])
    }

    fn callback_request(state: &str, cookies: &str) -> TestRequest {
        callback_with_code("the-code", state, cookies)
    }

    fn callback_with_code(code: &str, state: &str, cookies: &str) -> TestRequest {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", code)
            .append_pair("state", state)
            .append_pair("iss", "https://id.example.com")
            .finish();
        TestRequest::get()
            .uri(&format!("{PROXY_CALLBACK_PATH}?{query}"))
            .insert_header(("cookie", cookies))
    }

    /// The cookies a response sets, as a `Cookie` header would send them.
    fn cookies_set<B>(response: &actix_web::dev::ServiceResponse<B>) -> Vec<String> {
        response
            .response()
            .cookies()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect()
    }

    fn location<B>(response: &actix_web::dev::ServiceResponse<B>) -> Url {
        let location = response
            .headers()
            .get(header::LOCATION)
            .expect("a redirect");
        Url::parse(location.to_str().unwrap()).unwrap()
    }

    fn param(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The consent token of a consent page.
    fn consent_token(page: &[u8]) -> String {
        let page = String::from_utf8_lossy(page);
        let marker = r#"name="consent_token" value=""#;
        let start = page.find(marker).expect("a consent form") + marker.len();
        let end = start + page[start..].find('"').unwrap();
        page[start..end].to_owned()
    }

    /// Asserts a 503 with `Retry-After` and no redirect: refused, not guessed.
    async fn assert_unavailable<B: actix_web::body::MessageBody>(
        response: actix_web::dev::ServiceResponse<B>,
        step: &str,
    ) {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{step}");
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).unwrap(),
            &crate::state::RETRY_AFTER_SECS.to_string(),
            "{step}"
        );
        assert!(response.headers().get(header::LOCATION).is_none(), "{step}");
        let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable", "{step}");
    }

    #[test]
    fn the_signing_key_is_derived_from_the_shared_secret() {
        let secret = [7u8; 48];
        assert_eq!(signing_key(Some(&secret)), signing_key(Some(&secret)));
        assert_ne!(signing_key(Some(&secret))[..], secret[..32], "never raw");
        assert_ne!(signing_key(Some(&secret)), signing_key(Some(&[8u8; 48])));
        assert_ne!(signing_key(None), signing_key(None));
    }

    /// Anyone can loop `GET /authorize` then a denied consent: each loop
    /// spends a single-use token. Far more of them than the 100,000 markers
    /// that once filled the store (after which every consent and callback
    /// was refused) leave the next user's sign-in working, and every spent
    /// token spent.
    #[actix_web::test]
    async fn a_flood_of_spent_consent_tokens_leaves_every_other_sign_in_working() {
        let proxy = Arc::new(new_proxy());
        let app = test::init_service(
            actix_web::App::new()
                .configure(|cfg| configure(cfg, &proxy, crate::auth::proxy::tests::admit_all())),
        )
        .await;
        let client_id = registered(&proxy, REDIRECT);
        // The flood, as the consent post spends it (the HTTP round trip
        // adds nothing to the state, and would make this test minutes long).
        let mut request = checked_request(REDIRECT, None);
        request.client_id.clone_from(&client_id);
        let claims = json!({"request": request, "csrf": "the flooder's own cookie"});
        let mut first = None;
        for _ in 0..120_000 {
            let token = proxy
                .sign_once(signed::Purpose::Consent, Duration::from_secs(600), &claims)
                .await
                .unwrap();
            let verified = proxy
                .verify::<Value>(signed::Purpose::Consent, &token, 1 << 16)
                .unwrap();
            assert!(proxy.use_up(verified).await.is_ok());
            first.get_or_insert(token);
        }
        // The first of them is still spent.
        let first = proxy
            .verify::<Value>(signed::Purpose::Consent, &first.unwrap(), 1 << 16)
            .unwrap();
        assert_eq!(
            proxy.use_up(first).await.unwrap_err(),
            signed::Refusal::Replayed
        );
        // Another user signs in, through every step.
        let response =
            test::call_service(&app, authorize_request(&client_id, "").to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "the consent page");
        let csrf = cookies_set(&response).join("; ");
        let page = test::read_body(response).await;
        let response = test::call_service(
            &app,
            consent_request(&consent_token(&page), &csrf).to_request(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FOUND, "approved");
        let state_token = param(&location(&response), "state").unwrap();
        let browser = cookies_set(&response).join("; ");
        let response =
            test::call_service(&app, callback_request(&state_token, &browser).to_request()).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = location(&response);
        assert!(back.as_str().starts_with(REDIRECT), "{back}");
        assert!(param(&back, "code").is_some(), "{back}");
    }

    #[actix_web::test]
    async fn two_proxies_over_one_state_and_secret_are_replicas() {
        let state = SharedState::memory(Duration::from_secs(60), 10);
        let secret = [7u8; 32];
        let a = Arc::new(proxy_over(&state, Some(&secret)));
        let b = Arc::new(proxy_over(&state, Some(&secret)));
        let a_app = test::init_service(
            actix_web::App::new()
                .configure(|cfg| configure(cfg, &a, crate::auth::proxy::tests::admit_all())),
        )
        .await;
        let b_app = test::init_service(
            actix_web::App::new()
                .configure(|cfg| configure(cfg, &b, crate::auth::proxy::tests::admit_all())),
        )
        .await;

        // A client registered through A is known to B, name and all.
        let response = test::call_service(&a_app, register_request().to_request()).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let answer: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
        let client_id = answer["client_id"].as_str().unwrap().to_owned();
        let response =
            test::call_service(&b_app, authorize_request(&client_id, "").to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "B asks for consent");
        let csrf = cookies_set(&response).join("; ");
        let page = test::read_body(response).await;
        assert!(String::from_utf8_lossy(&page).contains("Shared app"));

        // B's consent form, posted to A, goes to the provider with A's state.
        let response = test::call_service(
            &a_app,
            consent_request(&consent_token(&page), &csrf).to_request(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let upstream = location(&response);
        assert!(
            upstream
                .as_str()
                .starts_with("https://id.example.com/authorize?")
        );
        let state_token = param(&upstream, "state").unwrap();
        let browser = cookies_set(&response).join("; ");

        // A state signed by A is accepted by B, then refused as replayed on
        // A: used once, on every replica.
        let response = test::call_service(
            &b_app,
            callback_request(&state_token, &browser).to_request(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = location(&response);
        assert!(back.as_str().starts_with(REDIRECT), "{back}");
        let code = param(&back, "code").expect("a code");
        assert_ne!(code, "the-code", "the provider's code, wrapped");
        assert_eq!(param(&back, "state").as_deref(), Some("st"));
        let response = test::call_service(
            &a_app,
            callback_request(&state_token, &browser).to_request(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::LOCATION).is_none());
        let body = test::read_body(response).await;
        assert!(String::from_utf8_lossy(&body).contains("already used"));

        // The approval remembered by A counts on B: no consent page again.
        let response =
            test::call_service(&b_app, authorize_request(&client_id, &browser).to_request()).await;
        assert_eq!(response.status(), StatusCode::FOUND, "approved on A");
        assert!(
            location(&response)
                .as_str()
                .starts_with("https://id.example.com/authorize?")
        );

        // The same, without HTTP: signed on one, used once on either.
        let request = checked_request(REDIRECT, None);
        let state_token = a.sign_state(&request, None).await.unwrap();
        assert!(b.redeem_state(&state_token).await.is_ok());
        assert_eq!(
            a.redeem_state(&state_token).await.unwrap_err(),
            signed::Refusal::Replayed
        );
        // Another secret is another server: its states are refused.
        let other = proxy_over(&state, Some(&[8u8; 32]));
        let state_token = other.sign_state(&request, None).await.unwrap();
        assert_eq!(
            a.redeem_state(&state_token).await.unwrap_err(),
            signed::Refusal::Invalid
        );
    }

    #[actix_web::test]
    async fn an_unreachable_state_is_a_503_never_a_success() {
        // Serials down: no single-use token can be drawn or spent, so no
        // consent page, callback or code exchange goes on; registration
        // stores nothing, and still works.
        let upstream = CarelessUpstream::start();
        let secret = [7u8; 32];
        let healthy = proxy_relaying_to(
            &SharedState::memory(Duration::from_secs(60), 10),
            Some(&secret),
            &upstream.url,
        );
        let mut state = SharedState::memory(Duration::from_secs(60), 10);
        state.serials = Arc::new(Down);
        let proxy = Arc::new(proxy_relaying_to(&state, Some(&secret), &upstream.url));
        let app = test::init_service(
            actix_web::App::new()
                .configure(|cfg| configure(cfg, &proxy, crate::auth::proxy::tests::admit_all())),
        )
        .await;
        let response = test::call_service(&app, register_request().to_request()).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let client_id = registered(&proxy, REDIRECT);
        let response =
            test::call_service(&app, authorize_request(&client_id, "").to_request()).await;
        assert_unavailable(response, "authorization").await;
        let mut request = checked_request(REDIRECT, Some("st"));
        request.client_id.clone_from(&client_id);
        let state_token = healthy.sign_state(&request, None).await.unwrap();
        let response =
            test::call_service(&app, callback_request(&state_token, "").to_request()).await;
        assert_unavailable(response, "callback").await;
        let code = healthy
            .wrap_code(&code::CodeClaims {
                code: "the-code".into(),
                code_challenge: CHALLENGE.into(),
                redirect_uri: REDIRECT.into(),
                client: code::s256(&client_id),
            })
            .await
            .unwrap()
            .unwrap();
        let form = exchange(&code, Some(VERIFIER), Some(REDIRECT), &client_id);
        let response = test::call_service(&app, token_request(&form).to_request()).await;
        assert_unavailable(response, "code exchange").await;
        assert!(upstream.forms().is_empty(), "never relayed");

        // Markers down, serials up: the callback spends its state, cannot
        // bind the provider's code, and tells the client to start again; no
        // code is sent on.
        let mut state = SharedState::memory(Duration::from_secs(60), 10);
        state.markers = Arc::new(Down);
        let proxy = Arc::new(proxy_relaying_to(&state, Some(&secret), &upstream.url));
        let app = test::init_service(
            actix_web::App::new()
                .configure(|cfg| configure(cfg, &proxy, crate::auth::proxy::tests::admit_all())),
        )
        .await;
        let state_token = proxy.sign_state(&request, None).await.unwrap();
        let response =
            test::call_service(&app, callback_request(&state_token, "").to_request()).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = location(&response);
        assert!(back.as_str().starts_with(REDIRECT), "{back}");
        assert_eq!(
            param(&back, "error").as_deref(),
            Some("temporarily_unavailable")
        );
        assert_eq!(param(&back, "state").as_deref(), Some("st"));
        assert_eq!(param(&back, "code"), None);
        assert!(upstream.forms().is_empty(), "never relayed");
    }

    /// A provider's token endpoint that ignores PKCE: it issues a token for
    /// any code, and keeps every form it was sent.
    struct CarelessUpstream {
        url: String,
        forms: Arc<std::sync::Mutex<Vec<Form>>>,
    }

    /// A form's fields, in order.
    type Form = Vec<(String, String)>;

    impl CarelessUpstream {
        fn start() -> Self {
            use std::io::{BufRead as _, Read as _, Write as _};
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}/token", listener.local_addr().unwrap());
            let forms = Arc::new(std::sync::Mutex::new(Vec::new()));
            let seen = Arc::clone(&forms);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        let line = line.to_ascii_lowercase();
                        if let Some(value) = line.strip_prefix("content-length:") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        continue;
                    }
                    let form = url::form_urlencoded::parse(&body).into_owned().collect();
                    seen.lock().unwrap().push(form);
                    let answer = r#"{"access_token":"issued-without-pkce","token_type":"Bearer"}"#;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                }
            });
            Self { url, forms }
        }

        fn forms(&self) -> Vec<Form> {
            self.forms.lock().unwrap().clone()
        }
    }

    fn token_request(form: &[(&str, &str)]) -> TestRequest {
        TestRequest::post().uri(PROXY_TOKEN_PATH).set_form(form)
    }

    fn exchange<'a>(
        code: &'a str,
        verifier: Option<&'a str>,
        redirect_uri: Option<&'a str>,
        client_id: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
        ];
        form.extend(verifier.map(|v| ("code_verifier", v)));
        form.extend(redirect_uri.map(|r| ("redirect_uri", r)));
        form
    }

    #[actix_web::test]
    async fn codes_are_bound_at_the_callback_and_checked_before_any_is_relayed() {
        let upstream = CarelessUpstream::start();
        let state = SharedState::memory(Duration::from_secs(60), 10);
        let secret = [7u8; 32];
        let a = Arc::new(proxy_relaying_to(&state, Some(&secret), &upstream.url));
        let b = Arc::new(proxy_relaying_to(&state, Some(&secret), &upstream.url));
        let a_app = test::init_service(
            actix_web::App::new()
                .configure(|cfg| configure(cfg, &a, crate::auth::proxy::tests::admit_all())),
        )
        .await;
        let b_app = test::init_service(
            actix_web::App::new()
                .configure(|cfg| configure(cfg, &b, crate::auth::proxy::tests::admit_all())),
        )
        .await;

        // The provider's code comes back through A: wrapped in a code of
        // ours bound to the client's challenge, redirect URI and id.
        let client_id = registered(&a, REDIRECT);
        let mut request = checked_request(REDIRECT, Some("st"));
        request.client_id.clone_from(&client_id);
        let state_token = a.sign_state(&request, None).await.unwrap();
        let response =
            test::call_service(&a_app, callback_request(&state_token, "").to_request()).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = location(&response);
        assert!(back.as_str().starts_with(REDIRECT), "{back}");
        let ours = param(&back, "code").expect("a code");
        assert!(
            !ours.contains("the-code"),
            "the provider's code, signed and encoded"
        );

        // The same code brought back with another sign-in's state (and its
        // challenge, whose verifier the bringer holds): refused, on any
        // replica.
        let attackers_verifier = "a".repeat(43);
        let mut other = checked_request("com.example.app:/cb", None);
        other.code_challenge = code::s256(&attackers_verifier);
        other.client_id = "mcp".into();
        let other_state = b.sign_state(&other, None).await.unwrap();
        let response =
            test::call_service(&b_app, callback_request(&other_state, "").to_request()).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = location(&response);
        assert!(back.as_str().starts_with("com.example.app:/cb"), "{back}");
        assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
        assert_eq!(param(&back, "code"), None);

        // Exchanges the code refuses, on either replica: `invalid_grant`
        // (RFC 6749 §5.2), and the provider never hears of them.
        let malformed = "short";
        let wrong = "x".repeat(43);
        let id = client_id.as_str();
        let another_client = registered(&a, REDIRECT);
        for (on_b, form, error, why) in [
            (
                false,
                exchange(&ours, Some(attackers_verifier.as_str()), Some(REDIRECT), id),
                "invalid_grant",
                "another verifier",
            ),
            (
                true,
                exchange(
                    &ours,
                    Some(attackers_verifier.as_str()),
                    Some("com.example.app:/cb"),
                    "mcp",
                ),
                "invalid_grant",
                "the other sign-in's verifier, redirect URI and client",
            ),
            (
                false,
                exchange(&ours, Some(wrong.as_str()), Some(REDIRECT), id),
                "invalid_grant",
                "a wrong verifier",
            ),
            (
                true,
                exchange(&ours, None, Some(REDIRECT), id),
                "invalid_grant",
                "no verifier",
            ),
            (
                false,
                exchange(&ours, Some(CHALLENGE), Some(REDIRECT), id),
                "invalid_grant",
                "the challenge as its own verifier (plain)",
            ),
            (
                true,
                exchange(&ours, Some(VERIFIER), Some("https://app.example/other"), id),
                "invalid_grant",
                "another redirect URI",
            ),
            (
                false,
                exchange(&ours, Some(VERIFIER), None, id),
                "invalid_grant",
                "no redirect URI",
            ),
            (
                true,
                exchange(&ours, Some(VERIFIER), Some(REDIRECT), &another_client),
                "invalid_grant",
                "another registered client",
            ),
            (
                false,
                exchange("the-code", Some(VERIFIER), Some(REDIRECT), id),
                "invalid_grant",
                "the provider's own code, unwrapped",
            ),
            (
                true,
                exchange(&ours, Some(VERIFIER), Some(REDIRECT), "nobody"),
                "invalid_client",
                "a client this server never registered",
            ),
            (
                false,
                exchange(&ours, Some(malformed), Some(REDIRECT), id),
                "invalid_request",
                "a malformed verifier",
            ),
        ] {
            let request = token_request(&form).to_request();
            let response = if on_b {
                test::call_service(&b_app, request).await
            } else {
                test::call_service(&a_app, request).await
            };
            let status = if error == "invalid_client" {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            assert_eq!(response.status(), status, "{why}");
            assert_eq!(
                response.headers().get(header::CACHE_CONTROL).unwrap(),
                "no-store"
            );
            let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
            assert_eq!(body["error"], error, "{why}: {body}");
            assert!(upstream.forms().is_empty(), "{why}: relayed");
        }

        // The right verifier, redirect URI and client, on the other replica:
        // the provider's code is relayed, verifier included (a provider that
        // checks PKCE keeps checking).
        let form = exchange(&ours, Some(VERIFIER), Some(REDIRECT), id);
        let response = test::call_service(&b_app, token_request(&form).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
        assert_eq!(body["access_token"], "issued-without-pkce");
        let forms = upstream.forms();
        assert_eq!(forms.len(), 1);
        let sent: std::collections::HashMap<_, _> = forms[0].iter().cloned().collect();
        assert_eq!(sent["grant_type"], "authorization_code");
        assert_eq!(sent["code"], "the-code");
        assert_eq!(sent["code_verifier"], VERIFIER);
        assert_eq!(
            sent["redirect_uri"],
            "https://mcp.example.com/oauth/callback"
        );
        // Once: the same exchange again, on either replica, is refused.
        let response = test::call_service(&a_app, token_request(&form).to_request()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
        assert_eq!(body["error_description"], "the code was already used");
        assert_eq!(upstream.forms().len(), 1);

        // Refreshes need no binding.
        let form = [("grant_type", "refresh_token"), ("refresh_token", "r")];
        let response = test::call_service(&a_app, token_request(&form).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(upstream.forms().len(), 2);
    }
}
