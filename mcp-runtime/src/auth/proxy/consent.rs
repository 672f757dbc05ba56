//! The consent step (MCP security best practices, "Confused Deputy
//! Problem"). Every registered client shares this server's client id at the
//! provider, and the provider may approve a returning user without asking;
//! so before a dynamically registered client's request goes to the provider,
//! the user approves that client here:
//!
//! - `GET /authorize` answers a checked request with a consent page whose
//!   form carries a signed, expiring (10 min), single-use consent token
//!   binding every checked parameter, and sets a random, `HttpOnly`,
//!   `SameSite=Strict` cookie the token is bound to (by keyed digest);
//! - `POST /authorize/consent` refuses a cross-origin post, a token that is
//!   not ours, altered, expired or used, and a post without the token's
//!   cookie; then Deny sends `access_denied` to the client, and Approve
//!   forwards the request to the provider and remembers the approval;
//! - the approval is remembered per browser and redirect URI in a signed cookie
//!   (`SameSite=Lax`, `HttpOnly`, `Path=/authorize`, 30 days) listing keyed
//!   digests of the approved redirect URIs; another URI asks again.
//!
//! Allow-listed redirect URIs are the operator's and never need consent.
//! Cookies are not `__Host-` (the server may run on http loopback) and are
//! `Secure` when the issuer is https. The signing key comes from the shared
//! secret when one is configured, so every replica honours an approval (and
//! a restart keeps them); else it is drawn at start, and a restart forgets
//! every approval.

use super::client_document::is_document_id;
use super::page::{ConsentView, consent_page};
use super::register::{Client, Unknown};
use super::respond::{
    bad_request, has_content_type, is_base64url, oauth_error, query_params, state_unavailable,
    untrusted_error,
};
use super::signed::{Purpose, Refusal};
use super::{AuthorizeRequest, OAuthProxy, PROXY_AUTHORIZE_PATH, PROXY_CONSENT_PATH};
use crate::random::random_token;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use url::Url;

/// How long the user has to answer the consent page.
const CONSENT_TTL: Duration = Duration::from_secs(600);
/// How long a browser remembers an approval.
const REMEMBER_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Approved redirect URIs remembered per browser; the oldest go first.
const MAX_REMEMBERED: usize = 20;
/// The cookie the consent token is bound to.
const CSRF_COOKIE: &str = "mcp_consent_csrf";
/// The cookie remembering approvals.
const REMEMBER_COOKIE: &str = "mcp_consent";
/// The cookie binding a sign-in's state to the browser it started in.
const STATE_COOKIE: &str = "mcp_oauth_browser";
/// The cookie holding this browser's own secret, which remembered approvals
/// are bound to: an approval cookie planted in another browser names
/// another secret, and counts for nothing there.
const BROWSER_COOKIE: &str = "mcp_browser";
/// How long the state cookie lasts (the state's own lifetime).
const STATE_COOKIE_TTL: Duration = Duration::from_secs(600);
/// Longest consent token accepted (the client's state, scope and redirect
/// URI are in it, JSON-escaped).
const MAX_CONSENT_TOKEN_BYTES: usize = 32 * 1024;
/// Largest consent form.
const MAX_FORM_BYTES: usize = MAX_CONSENT_TOKEN_BYTES + 1024;
/// Longest remembered-approvals cookie accepted.
const MAX_REMEMBER_BYTES: usize = 4096;
/// Digest labels: one use each.
const CSRF_LABEL: &str = "consent-csrf";
const REMEMBER_LABEL: &str = "consent-remember";
const STATE_LABEL: &str = "state-browser";
const BROWSER_LABEL: &str = "remember-browser";

/// What the consent token carries: the checked request, and the digest of
/// the cookie it was issued with.
#[derive(Debug, Serialize, Deserialize)]
struct ConsentClaims {
    #[serde(flatten)]
    request: AuthorizeRequest,
    csrf: String,
}

/// What the remembered-approvals cookie carries.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    /// The digest of the browser secret the approvals were given in.
    #[serde(default)]
    browser: String,
    /// Digests of approved redirect URIs, oldest first.
    uris: Vec<String>,
}

/// What an approval is remembered for: the redirect URI, where the code
/// goes; and for a client named by its metadata document, that client too,
/// since the page named it: an approval given to one document's client is
/// not another's that lists the same redirect URI (a loopback one, say).
/// Registered client ids are new at each registration, so for them the
/// redirect URI alone is what stays the same.
fn approval(client_id: &str, redirect_uri: &str) -> String {
    if is_document_id(client_id) {
        // A space is in neither URL.
        format!("{client_id} {redirect_uri}")
    } else {
        redirect_uri.to_owned()
    }
}

impl OAuthProxy {
    /// Whether the user must approve `client_id`'s request to
    /// `redirect_uri` first.
    pub(super) fn needs_consent(
        &self,
        req: &HttpRequest,
        client_id: &str,
        redirect_uri: &str,
    ) -> bool {
        if !self.consent || self.allow_listed(redirect_uri) {
            return false;
        }
        let Ok(digest) = self.digest(REMEMBER_LABEL, &approval(client_id, redirect_uri)) else {
            return true;
        };
        !self.remembered(req).uris.contains(&digest)
    }

    /// The consent page for a checked request from `client`.
    pub(super) async fn ask_consent(
        &self,
        req: &HttpRequest,
        request: &AuthorizeRequest,
        client: &Client,
    ) -> HttpResponse {
        let fail = || {
            self.redirect_error(
                &request.redirect_uri,
                "server_error",
                Some("the consent page could not be built"),
                request.client_state.as_deref(),
            )
        };
        let Ok(redirect_uri) = Url::parse(&request.redirect_uri) else {
            return untrusted_error("redirect_uri is not a URL");
        };
        // Reuse this browser's cookie so consent pages open in other tabs
        // stay valid; else draw one.
        let csrf = self
            .token_cookie(req, CSRF_COOKIE)
            .unwrap_or_else(random_token::<32>);
        let Ok(binding) = self.digest(CSRF_LABEL, &csrf) else {
            return fail();
        };
        let claims = ConsentClaims {
            request: request.clone(),
            csrf: binding,
        };
        let token = match self.sign_once(Purpose::Consent, CONSENT_TTL, &claims).await {
            Ok(token) => token,
            Err(Refusal::Unavailable) => {
                tracing::warn!("proxy: the shared state is unavailable; refused an authorization");
                return state_unavailable();
            }
            Err(_) => return fail(),
        };
        let provider = match self.provider_authorization_endpoint(request).await {
            Ok(endpoint) => endpoint,
            Err(refusal) => return refusal,
        };
        let vouched_by = client.vouched_by();
        let mut response = consent_page(&ConsentView {
            client_name: client.name(),
            vouched_by: vouched_by.as_deref(),
            redirect_uri: &redirect_uri,
            scope: request.scope.as_deref(),
            server_name: &self.resource_name,
            provider: &provider,
            token: &token,
        });
        let cookie = self.cookie(
            CSRF_COOKIE,
            csrf,
            PROXY_CONSENT_PATH,
            SameSite::Strict,
            CONSENT_TTL,
        );
        if response.add_cookie(&cookie).is_err() {
            return fail();
        }
        tracing::debug!("proxy: asked the user to approve a registered client");
        response
    }

    /// `POST /authorize/consent`: the user's answer.
    pub(super) async fn consent(&self, req: HttpRequest, payload: web::Payload) -> HttpResponse {
        if self.cross_origin(&req) {
            tracing::warn!("proxy: refused a cross-origin consent post");
            return forbidden("the consent form must be posted from this server's page");
        }
        if !has_content_type(&req, "application/x-www-form-urlencoded") {
            return bad_request("invalid_request", "a form post is expected");
        }
        let Ok(Ok(body)) = payload.to_bytes_limited(MAX_FORM_BYTES).await else {
            return bad_request("invalid_request", "the form could not be read");
        };
        let Some(form) = std::str::from_utf8(&body).ok().and_then(query_params) else {
            return bad_request("invalid_request", "a form without repeated fields");
        };
        let approve = match form.get("decision").map(String::as_str) {
            Some("approve") => true,
            Some("deny") => false,
            _ => return bad_request("invalid_request", "decision must be approve or deny"),
        };
        let Some(token) = form.get("consent_token") else {
            return bad_request("invalid_request", "consent_token is required");
        };
        let verified =
            match self.verify::<ConsentClaims>(Purpose::Consent, token, MAX_CONSENT_TOKEN_BYTES) {
                Ok(verified) => verified,
                Err(_) => {
                    tracing::debug!("proxy: refused an invalid or expired consent token");
                    return bad_request(
                        "invalid_request",
                        "the consent form is invalid or expired; sign in again",
                    );
                }
            };
        // Checked before the token is used up: a forged post must not spend
        // the user's own token.
        let bound = single_cookie(&req, &self.cookie_name(CSRF_COOKIE))
            .and_then(|cookie| self.digest(CSRF_LABEL, &cookie).ok())
            .is_some_and(|digest| digest == verified.claims.csrf);
        if !bound {
            tracing::warn!("proxy: refused a consent post without its cookie");
            return forbidden("the consent form was not posted by the browser it was shown to");
        }
        // The client id may have expired since the page was shown.
        let checked = &verified.claims.request;
        match self
            .client_for(Some(&checked.client_id), &checked.redirect_uri)
            .await
        {
            Ok(_) => {}
            Err(Unknown::Refused(why)) => return untrusted_error(&why),
            Err(Unknown::Busy) => return state_unavailable(),
        }
        let request = match self.use_up(verified).await {
            Ok(claims) => claims.request,
            Err(Refusal::Unavailable) => {
                tracing::warn!("proxy: the shared state is unavailable; refused a consent post");
                return state_unavailable();
            }
            Err(_) => {
                tracing::warn!("proxy: refused a replayed consent post");
                return bad_request("invalid_request", "this consent form was already used");
            }
        };
        let client_state = request.client_state.as_deref();
        crate::operations::audit::sign_in(
            if approve { "consented" } else { "denied" },
            Some(&request.client_id),
            None,
        );
        if !approve {
            tracing::debug!("proxy: the user denied a registered client");
            return self.redirect_error(
                &request.redirect_uri,
                "access_denied",
                Some("the user denied the request"),
                client_state,
            );
        }
        let mut response = self.forward(&req, &request).await;
        if let Some(cookies) =
            self.remember_approval(&req, &request.client_id, &request.redirect_uri)
        {
            // Best effort: without them the browser is asked again next time.
            for cookie in &cookies {
                let _ = response.add_cookie(cookie);
            }
        }
        tracing::debug!("proxy: the user approved a registered client");
        response
    }

    /// For a sign-in to a redirect URI that needs consent: the cookie
    /// binding its state to this browser (the browser's existing
    /// cookie is reused, so sign-ins in other tabs stay valid), and the
    /// digest the state carries. `None` when no binding is needed.
    pub(super) fn bind_browser(
        &self,
        req: &HttpRequest,
        redirect_uri: &str,
    ) -> Option<Result<(Cookie<'static>, String), ()>> {
        if !self.consent || self.allow_listed(redirect_uri) {
            return None;
        }
        let value = self
            .token_cookie(req, STATE_COOKIE)
            .unwrap_or_else(random_token::<32>);
        Some(self.digest(STATE_LABEL, &value).map(|digest| {
            let cookie = self.cookie(STATE_COOKIE, value, "/", SameSite::Lax, STATE_COOKIE_TTL);
            (cookie, digest)
        }))
    }

    /// Whether a callback comes from the browser its state is bound to
    /// (always, for a state bound to none).
    pub(super) fn same_browser(&self, req: &HttpRequest, binding: Option<&str>) -> bool {
        let Some(binding) = binding else {
            return true;
        };
        single_cookie(req, &self.cookie_name(STATE_COOKIE))
            .and_then(|cookie| self.digest(STATE_LABEL, &cookie).ok())
            .is_some_and(|digest| digest == binding)
    }

    /// The approvals this browser's cookie lists (none if it is absent,
    /// repeated, not ours or expired).
    /// The approvals this browser's cookie lists: none if it is absent,
    /// repeated, not ours, expired, or given in another browser.
    fn remembered(&self, req: &HttpRequest) -> Remembered {
        let Some(browser) = self.browser_secret(req) else {
            return Remembered::default();
        };
        let Ok(browser) = self.digest(BROWSER_LABEL, &browser) else {
            return Remembered::default();
        };
        single_cookie(req, &self.cookie_name(REMEMBER_COOKIE))
            .and_then(|cookie| {
                self.verify::<Remembered>(Purpose::Remember, &cookie, MAX_REMEMBER_BYTES)
                    .ok()
            })
            .map(|verified| verified.claims)
            .filter(|remembered| remembered.browser == browser)
            .unwrap_or_default()
    }

    /// This browser's secret, if it sent exactly one well-formed.
    fn browser_secret(&self, req: &HttpRequest) -> Option<String> {
        self.token_cookie(req, BROWSER_COOKIE)
    }

    /// The cookie `base` if the browser sent exactly one and it has the
    /// shape of a token this server draws (32 bytes, base64url): the CSRF,
    /// state and browser cookies are reused only then.
    fn token_cookie(&self, req: &HttpRequest, base: &'static str) -> Option<String> {
        single_cookie(req, &self.cookie_name(base))
            .filter(|value| value.len() == 43 && value.bytes().all(is_base64url))
    }

    /// The cookies remembering `redirect_uri` as approved in this browser:
    /// its secret (drawn now if it has none) and the approvals bound to it.
    fn remember_approval(
        &self,
        req: &HttpRequest,
        client_id: &str,
        redirect_uri: &str,
    ) -> Option<[Cookie<'static>; 2]> {
        let digest = self
            .digest(REMEMBER_LABEL, &approval(client_id, redirect_uri))
            .ok()?;
        let secret = self.browser_secret(req).unwrap_or_else(random_token::<32>);
        let mut remembered = self.remembered(req);
        remembered.browser = self.digest(BROWSER_LABEL, &secret).ok()?;
        remembered.uris.retain(|uri| *uri != digest);
        remembered.uris.push(digest);
        let excess = remembered.uris.len().saturating_sub(MAX_REMEMBERED);
        remembered.uris.drain(..excess);
        let value = self
            .sign(Purpose::Remember, REMEMBER_TTL, &remembered)
            .ok()?;
        Some([
            self.cookie(BROWSER_COOKIE, secret, "/", SameSite::Lax, REMEMBER_TTL),
            self.cookie(
                REMEMBER_COOKIE,
                value,
                PROXY_AUTHORIZE_PATH,
                SameSite::Lax,
                REMEMBER_TTL,
            ),
        ])
    }

    /// A cookie's name: on an https issuer with the `__Host-` prefix, which
    /// browsers accept only from this very host, over https, for the path
    /// `/`, so no sibling subdomain or plain-http page can plant it.
    fn cookie_name(&self, base: &'static str) -> std::borrow::Cow<'static, str> {
        if self.issuer.starts_with("https:") {
            format!("__Host-{base}").into()
        } else {
            base.into()
        }
    }

    /// A cookie to set: `HttpOnly`; on an https issuer `Secure`, with the
    /// `__Host-` prefix and so the path `/` the prefix requires.
    fn cookie(
        &self,
        name: &'static str,
        value: String,
        path: &'static str,
        same_site: SameSite,
        max_age: Duration,
    ) -> Cookie<'static> {
        let https = self.issuer.starts_with("https:");
        Cookie::build(self.cookie_name(name), value)
            .path(if https { "/" } else { path })
            .max_age(time::Duration::seconds(
                i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
            ))
            .http_only(true)
            .same_site(same_site)
            .secure(self.issuer.starts_with("https:"))
            .finish()
    }

    /// Whether the browser says the post came from another origin. Browsers
    /// send `Sec-Fetch-Site`; `Origin` may be `null` under the page's
    /// `no-referrer` policy.
    fn cross_origin(&self, req: &HttpRequest) -> bool {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or("(invalid)"))
        };
        if header("sec-fetch-site").is_some_and(|site| site != "same-origin") {
            return true;
        }
        header("origin").is_some_and(|origin| origin != "null" && origin != self.issuer)
    }
}

/// The value of the cookie `name`, if the request carries exactly one: a
/// second copy (say, one planted for a parent domain) makes it ambiguous.
/// Raw, since every value this server sets is base64url or a signed token.
fn single_cookie(req: &HttpRequest, name: &str) -> Option<String> {
    let cookies = req.cookies_raw().ok()?;
    let mut named = cookies.iter().filter(|cookie| cookie.name() == name);
    match (named.next(), named.next()) {
        (Some(cookie), None) => Some(cookie.value().to_owned()),
        _ => None,
    }
}

fn forbidden(description: &str) -> HttpResponse {
    oauth_error(StatusCode::FORBIDDEN, "access_denied", description)
}

#[cfg(test)]
mod tests {
    use super::super::configure;
    use super::super::tests::{new_proxy, registered};
    use super::*;
    use actix_web::http::header;
    use actix_web::test::{self, TestRequest};
    use std::sync::Arc;

    const REDIRECT: &str = "https://app.example/cb";

    fn request(proxy: &OAuthProxy, redirect_uri: &str) -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: registered(proxy, redirect_uri),
            redirect_uri: redirect_uri.to_owned(),
            client_state: Some("st".into()),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            scope: Some("tasks:read".into()),
            resource: None,
            prompt: None,
        }
    }

    /// A document client's approval is its own: another document listing
    /// the same redirect URI is asked again. Registered clients, whose ids
    /// are new at each registration, are remembered by redirect URI.
    #[test]
    fn a_document_clients_approval_is_not_another_documents() {
        let proxy = new_proxy();
        let redirect = "http://127.0.0.1:3000/callback";
        let req = TestRequest::default().to_http_request();
        let set = proxy
            .remember_approval(&req, "https://good.example/client.json", redirect)
            .unwrap();
        let cookie = format!("{}; {}", set[0].stripped(), set[1].stripped());
        let req = TestRequest::default()
            .insert_header(("cookie", cookie))
            .to_http_request();
        assert!(!proxy.needs_consent(&req, "https://good.example/client.json", redirect));
        assert!(proxy.needs_consent(&req, "https://evil.example/client.json", redirect));
        assert!(proxy.needs_consent(&req, "registered", redirect));
    }

    #[test]
    fn approvals_are_remembered_per_redirect_uri_and_bounded() {
        let proxy = new_proxy();
        let uri = |i: usize| format!("https://app{i}.example/cb");
        let mut cookie = String::new();
        for i in 0..MAX_REMEMBERED + 5 {
            let req = TestRequest::default()
                .insert_header(("cookie", cookie.clone()))
                .to_http_request();
            assert!(proxy.needs_consent(&req, "registered", &uri(i)));
            let set = proxy
                .remember_approval(&req, "registered", &uri(i))
                .unwrap();
            for (set, name) in set.iter().zip(["__Host-mcp_browser", "__Host-mcp_consent"]) {
                // An https issuer: `__Host-`, so `Secure` and the path `/`.
                assert_eq!(set.name(), name, "{set}");
                assert_eq!(set.path(), Some("/"), "{set}");
                assert_eq!(set.max_age(), Some(time::Duration::seconds(2_592_000)));
                assert_eq!(set.http_only(), Some(true), "{set}");
                assert_eq!(set.same_site(), Some(SameSite::Lax), "{set}");
                assert_eq!(set.secure(), Some(true), "{set}");
            }
            cookie = format!("{}; {}", set[0].stripped(), set[1].stripped());
            assert!(cookie.len() < 4100);
        }
        let req = TestRequest::default()
            .insert_header(("cookie", cookie.clone()))
            .to_http_request();
        for i in 0..5 {
            assert!(
                proxy.needs_consent(&req, "registered", &uri(i)),
                "the oldest are dropped"
            );
        }
        for i in 5..MAX_REMEMBERED + 5 {
            assert!(
                !proxy.needs_consent(&req, "registered", &uri(i)),
                "{i} is remembered"
            );
        }
        assert!(
            !proxy.needs_consent(&req, "registered", "com.example.app:/cb"),
            "allow-listed"
        );
        // Another key's cookie, or the cookie twice, counts for nothing.
        assert!(new_proxy().needs_consent(&req, "registered", &uri(10)));
        let twice = TestRequest::default()
            .insert_header(("cookie", format!("{cookie}; {cookie}")))
            .to_http_request();
        assert!(proxy.needs_consent(&twice, "registered", &uri(10)));
        // Nor does the approvals cookie in another browser: planted without
        // this browser's secret, or beside another one.
        let approvals = cookie.split("; ").nth(1).unwrap().to_owned();
        for planted in [
            approvals.clone(),
            format!("__Host-mcp_browser={}; {approvals}", "A".repeat(43)),
        ] {
            let elsewhere = TestRequest::default()
                .insert_header(("cookie", planted))
                .to_http_request();
            assert!(proxy.needs_consent(&elsewhere, "registered", &uri(10)));
        }
        // Nor one set without the prefix, as a sibling subdomain could.
        let unprefixed = TestRequest::default()
            .insert_header(("cookie", cookie.replace("__Host-", "")))
            .to_http_request();
        assert!(proxy.needs_consent(&unprefixed, "registered", &uri(10)));
    }

    #[test]
    fn cross_origin_posts_are_recognised() {
        let proxy = new_proxy();
        let post = |headers: &[(&str, &str)]| {
            let mut req = TestRequest::post();
            for (name, value) in headers {
                req = req.insert_header((*name, *value));
            }
            proxy.cross_origin(&req.to_http_request())
        };
        assert!(!post(&[]));
        assert!(!post(&[("sec-fetch-site", "same-origin")]));
        assert!(!post(&[("origin", "https://mcp.example.com")]));
        assert!(!post(&[
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ]));
        assert!(post(&[("sec-fetch-site", "cross-site")]));
        assert!(post(&[("sec-fetch-site", "same-site")]));
        assert!(post(&[("origin", "https://evil.example")]));
        assert!(post(&[("origin", "http://mcp.example.com")]));
    }

    #[actix_web::test]
    async fn expired_consent_tokens_are_refused() {
        let proxy = Arc::new(new_proxy());
        let app = test::init_service(
            actix_web::App::new()
                .configure(|cfg| configure(cfg, &proxy, crate::auth::proxy::tests::admit_all())),
        )
        .await;
        let sign = async |ttl: Duration| {
            let claims = ConsentClaims {
                request: request(&proxy, REDIRECT),
                csrf: proxy.digest(CSRF_LABEL, "cookie-value").unwrap(),
            };
            proxy
                .sign_once(Purpose::Consent, ttl, &claims)
                .await
                .unwrap()
        };
        let post = |token: String| {
            TestRequest::post()
                .uri(PROXY_CONSENT_PATH)
                .insert_header((
                    "cookie",
                    format!("{}=cookie-value", proxy.cookie_name(CSRF_COOKIE)),
                ))
                .set_form([("consent_token", token.as_str()), ("decision", "approve")])
                .to_request()
        };
        let response = test::call_service(&app, post(sign(Duration::ZERO).await)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::LOCATION).is_none());
        // The same token, fresh, goes to the provider.
        let response = test::call_service(&app, post(sign(CONSENT_TTL).await)).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response
            .headers()
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(location.starts_with("https://id.example.com/authorize?"));
    }

    #[actix_web::test]
    async fn silent_requests_get_consent_required() {
        let proxy = Arc::new(new_proxy());
        let app = test::init_service(
            actix_web::App::new()
                .configure(|cfg| configure(cfg, &proxy, crate::auth::proxy::tests::admit_all())),
        )
        .await;
        let mut url = Url::parse("https://mcp.example.com/authorize").unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &registered(&proxy, REDIRECT))
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("state", "s1")
            .append_pair("code_challenge", &request(&proxy, REDIRECT).code_challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("prompt", "none");
        let uri = format!("{}?{}", url.path(), url.query().unwrap());
        let response = test::call_service(&app, TestRequest::get().uri(&uri).to_request()).await;
        // Shown here: a redirect to a URI the user has not approved would
        // make this server an open redirector (RFC 9700 4.11.2).
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::LOCATION).is_none());
        let body = test::read_body(response).await;
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("consent_required"), "{body}");
    }
}
