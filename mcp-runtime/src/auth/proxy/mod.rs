//! Proxy mode: this server is the authorization server MCP clients see.
//!
//! Providers that cannot register MCP clients dynamically get one
//! pre-registered confidential client; the proxy lends its id to every MCP
//! client and keeps its secret to itself:
//!
//! - `POST /register` (RFC 7591) remembers the client's redirect URIs and
//!   answers with the configured client id, never a secret;
//! - `GET /authorize` checks the client id, the redirect URI (registered here,
//!   or on the server's allow-list) and PKCE (S256 only), then forwards to the
//!   provider with this server's callback as redirect URI, the client's own
//!   PKCE challenge, and a signed, expiring `state` carrying the client's
//!   redirect URI and state;
//! - but first, for a redirect URI that came from registration, it asks the
//!   user (a consent page posting to `POST /authorize/consent`), unless this
//!   browser already approved that redirect URI: every client shares one
//!   client id at the provider, which may approve a returning user without
//!   asking, so without this step anyone could register their own redirect
//!   URI and receive that user's code (the "confused deputy" of the MCP
//!   security best practices);
//! - `GET /oauth/callback` verifies that state (signature, expiry, single use)
//!   and sends the provider's code (or error) on to the client;
//! - `POST /token` forwards the client's code exchange or refresh with the
//!   server's client credentials, and passes the provider's answer back.
//!
//! PKCE runs end to end: the provider checks the client's verifier against
//! the client's challenge, so a code is useless to anyone but the client that
//! started the flow.
//!
//! Any replica may answer any step of a sign-in: registrations are records of
//! the shared state (`proxy:client:{redirect URI}`), a used state or consent
//! token is a single-use marker there (`proxy:nonce:{jti}`), and the key that
//! signs states, consent tokens and remembered-consent cookies is derived
//! from the shared secret (`MCP_STATE_SECRET`). Without a secret the key is
//! drawn at start: right for one process, and a restart invalidates sign-ins
//! in progress and remembered approvals. When the shared state cannot be
//! reached, the step is refused with 503 and `Retry-After`, never answered
//! from a guess.

mod authorize;
mod consent;
mod page;
mod register;
mod respond;
mod signed;
mod token;

pub(crate) use register::check_allowed_redirect_uri;

use super::provider::{Provider, Secret};
use super::{DEV_JWKS_PATH, DevIssuer};
use crate::random::random_bytes;
use crate::state::SharedState;
use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use bytes::Bytes;
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
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            redirect_uris: Vec::new(),
            consent: true,
        }
    }
}

/// A checked authorization request: everything needed to forward it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct AuthorizeRequest {
    /// Dev mode: the registered client the code is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    /// Registered (or allow-listed) when checked.
    redirect_uri: String,
    /// The client's own `state`, returned to it unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_state: Option<String>,
    /// The client's PKCE S256 challenge, checked by the provider.
    code_challenge: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// This server's MCP endpoint, if the client named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
}

/// A registered redirect URI, as kept in the shared records (JSON) until
/// it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Registration {
    /// The `client_name` it was registered with, shown on the consent page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_name: Option<String>,
    /// Dev mode: the client id issued with it (the only client it serves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
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
    authorization_endpoint: Url,
    token_endpoint: String,
    authorize_params: Vec<(String, String)>,
    /// Redirect URIs accepted without registration, and without consent.
    allowed_redirect_uris: Vec<String>,
    /// Whether a registered client's request needs the user's consent.
    consent: bool,
    /// Registrations (records) and used nonces (markers), shared by every
    /// replica.
    state: SharedState,
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    http: reqwest::Client,
    /// Our RFC 8414 metadata, rendered once.
    metadata: Bytes,
    /// `oauth = dev`: codes and tokens are issued here, not by a provider.
    dev: Option<Arc<DevIssuer>>,
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
        let endpoint = |value: Option<&String>, what: &str| -> Result<Url, String> {
            let value =
                value.ok_or_else(|| format!("proxy mode: the `{name}` provider has no {what}"))?;
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
        };
        let authorization_endpoint = endpoint(
            provider.authorization_endpoint.as_ref(),
            "authorization endpoint",
        )?;
        let token_endpoint =
            endpoint(provider.token_endpoint.as_ref(), "token endpoint")?.to_string();
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
        Ok(Self {
            callback_url: format!("{issuer}{PROXY_CALLBACK_PATH}"),
            issuer,
            resource: resource.to_owned(),
            resource_name: resource_name.to_owned(),
            upstream_issuer: provider.issuer.clone(),
            client_id,
            client_secret: provider.client_secret.clone(),
            authorization_endpoint,
            token_endpoint,
            authorize_params: provider.authorize_params.clone(),
            allowed_redirect_uris: settings.redirect_uris.clone(),
            consent: settings.consent,
            state: context.state.clone(),
            encoding_key: EncodingKey::from_secret(&key),
            decoding_key: DecodingKey::from_secret(&key),
            http,
            metadata: Bytes::from(metadata.to_string()),
            dev: None,
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
        Ok(Self {
            callback_url: own(PROXY_CALLBACK_PATH),
            issuer: issuer.clone(),
            resource: resource.to_owned(),
            resource_name: resource_name.to_owned(),
            upstream_issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            authorization_endpoint,
            token_endpoint: own(PROXY_TOKEN_PATH),
            authorize_params: Vec::new(),
            allowed_redirect_uris: Vec::new(),
            consent: dev.consent(),
            state: context.state.clone(),
            encoding_key: EncodingKey::from_secret(&key),
            decoding_key: DecodingKey::from_secret(&key),
            http: reqwest::Client::new(),
            metadata: Bytes::from(metadata.to_string()),
            dev: Some(dev),
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
pub(crate) fn configure(cfg: &mut web::ServiceConfig, proxy: &Arc<OAuthProxy>) {
    let p = Arc::clone(proxy);
    cfg.service(web::resource(PROXY_REGISTER_PATH).to(
        move |req: HttpRequest, payload: web::Payload| {
            let p = Arc::clone(&p);
            async move {
                match *req.method() {
                    Method::POST => with_cors(p.register(req, payload).await),
                    Method::OPTIONS => preflight(),
                    _ => method_not_allowed("POST, OPTIONS"),
                }
            }
        },
    ));
    let p = Arc::clone(proxy);
    cfg.service(
        web::resource(PROXY_AUTHORIZE_PATH).to(move |req: HttpRequest| {
            let p = Arc::clone(&p);
            async move {
                match *req.method() {
                    Method::GET => p.authorize(&req).await,
                    _ => method_not_allowed("GET"),
                }
            }
        }),
    );
    let p = Arc::clone(proxy);
    cfg.service(web::resource(PROXY_CONSENT_PATH).to(
        move |req: HttpRequest, payload: web::Payload| {
            let p = Arc::clone(&p);
            async move {
                match *req.method() {
                    Method::POST => p.consent(req, payload).await,
                    _ => method_not_allowed("POST"),
                }
            }
        },
    ));
    let p = Arc::clone(proxy);
    cfg.service(
        web::resource(PROXY_CALLBACK_PATH).to(move |req: HttpRequest| {
            let p = Arc::clone(&p);
            async move {
                match *req.method() {
                    Method::GET => p.callback(&req).await,
                    _ => method_not_allowed("GET"),
                }
            }
        }),
    );
    if let Some(dev) = &proxy.dev {
        let jwks = Bytes::from(dev.key.jwk_set().to_string());
        cfg.service(web::resource(DEV_JWKS_PATH).to(move |req: HttpRequest| {
            let jwks = jwks.clone();
            async move {
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
    cfg.service(web::resource(PROXY_TOKEN_PATH).to(
        move |req: HttpRequest, payload: web::Payload| {
            let p = Arc::clone(&p);
            async move {
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
    use serde_json::Value;

    /// A proxy over a state of its own, with a key of its own: one process.
    pub(in crate::auth::proxy) fn new_proxy() -> OAuthProxy {
        proxy_over(&SharedState::memory(Duration::from_secs(60), 10), None)
    }

    /// A proxy over `state`, signing with a key derived from `secret`: two
    /// over the same state and secret are two replicas of one server.
    fn proxy_over(state: &SharedState, secret: Option<&[u8]>) -> OAuthProxy {
        let provider = CustomProvider::new("https://id.example.com")
            .jwks_url("https://id.example.com/jwks")
            .authorization_endpoint("https://id.example.com/authorize")
            .token_endpoint("https://id.example.com/token")
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
                    consent: true,
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
}
