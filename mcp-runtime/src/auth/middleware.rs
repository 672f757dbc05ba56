//! Bearer authentication for your own actix-web routes: the same verifier,
//! header rules and RFC 6750 refusals as the MCP endpoint.
//!
//! [`BearerMiddleware`] wraps an `App`, a `web::scope` or a resource: it verifies
//! the `Authorization: Bearer` token of every request (never one in the URL),
//! answers refusals exactly as the MCP endpoint does (401 with a
//! `WWW-Authenticate` challenge, 403 `insufficient_scope`, 503 when the
//! provider cannot be reached), and hands the caller to handlers through the
//! [`Authenticated`] extractor.

// Refusals are ready responses on cold paths; boxing them buys nothing.
#![allow(clippy::result_large_err)]

use super::bearer::{authenticate_with, caller_of};
use super::provider::{Provider, Verification};
use super::{Auth, ChallengeContext, Refusal, RequiredNames, ScopeHierarchy, TokenVerifier};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::{LocalBoxFuture, Ready, ready};
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

/// Actix-web middleware that requires a valid bearer token on every request
/// it wraps, and stores the caller for [`Authenticated`].
///
/// Refusals are the MCP endpoint's: no `Authorization` header is 401 with a
/// bare `Bearer` challenge; a malformed header or a token in the query string
/// is 401 `invalid_request`; a token the verifier refuses is 401
/// `invalid_token`; a caller without the [`require_scopes`](Self::require_scopes)
/// is 403 `insufficient_scope` naming them; an unreachable provider is 503.
/// Every challenge carries the [`resource_metadata`](Self::resource_metadata)
/// and [`scope`](Self::scope) set here.
///
/// ```no_run
/// use actix_web::{App, HttpServer, web};
/// use mcp_runtime::auth::{
///     Auth, AuthError, Authenticated, BearerMiddleware, TokenVerifier, VerifyFuture,
/// };
///
/// /// Your verifier, or a provider's with `BearerMiddleware::from_provider`.
/// struct MyVerifier;
///
/// impl TokenVerifier for MyVerifier {
///     fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
///         Box::pin(async move {
///             match token {
///                 "let-me-in" => {
///                     let claims = serde_json::json!({ "sub": "alice", "scope": "reports:read" });
///                     Ok(Auth::from_claims(token, claims.as_object().cloned().unwrap_or_default()))
///                 }
///                 _ => Err(AuthError::InvalidToken("unknown token".into())),
///             }
///         })
///     }
/// }
///
/// async fn handler(user: Authenticated) -> String {
///     format!("hello, {}", user.user.user_id)
/// }
///
/// #[mcp_runtime::main]
/// async fn main() -> std::io::Result<()> {
///     let auth = BearerMiddleware::new(MyVerifier)
///         .resource_metadata("https://api.example.com/.well-known/oauth-protected-resource/mcp")
///         .require_scopes(["reports:read"]);
///     HttpServer::new(move || {
///         App::new().service(
///             web::scope("/api")
///                 .wrap(auth.clone())
///                 .route("/me", web::get().to(handler)),
///         )
///     })
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await
/// }
/// ```
///
/// `HttpServer::new` builds the app once per worker: build the middleware
/// outside the closure and clone it in to share one verifier (and its key
/// cache) across workers. Wrap CORS around it (register `Cors` after
/// `BearerMiddleware`) so browser preflights, which carry no token, are answered first.
#[derive(Clone)]
#[must_use]
pub struct BearerMiddleware {
    settings: Arc<Settings>,
}

#[derive(Clone)]
struct Settings {
    verifier: Arc<dyn TokenVerifier>,
    challenge: Arc<ChallengeContext>,
    required_scopes: Vec<String>,
    hierarchy: Arc<ScopeHierarchy>,
    optional: bool,
    /// A provider that checks no signatures: only requests that arrived on
    /// a loopback address are let through, whatever their headers say.
    loopback_only: bool,
}

impl std::fmt::Debug for BearerMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerMiddleware")
            .field("challenge", &self.settings.challenge)
            .field("required_scopes", &self.settings.required_scopes)
            .field("optional", &self.settings.optional)
            .finish_non_exhaustive()
    }
}

impl BearerMiddleware {
    /// Checks tokens with `verifier`.
    pub fn new(verifier: impl TokenVerifier) -> Self {
        Self::from_verifier(Arc::new(verifier))
    }

    /// Checks tokens with a shared verifier (the one an MCP server uses, say).
    pub fn from_verifier(verifier: Arc<dyn TokenVerifier>) -> Self {
        Self {
            settings: Arc::new(Settings {
                verifier,
                challenge: Arc::new(ChallengeContext::default()),
                required_scopes: Vec::new(),
                hierarchy: Arc::new(ScopeHierarchy::default()),
                optional: false,
                loopback_only: false,
            }),
        }
    }

    /// Checks tokens as `provider` says. A JWT provider without a configured
    /// audience accepts tokens whose `aud` names `resource` (RFC 8707), just
    /// as an MCP server uses its own URL: pass the canonical URL of the API
    /// these routes belong to (`https://api.example.com`, or the MCP
    /// endpoint's URL to accept the very tokens MCP clients get).
    pub fn from_provider(provider: &Provider, resource: impl Into<String>) -> Self {
        if !provider.checks_signatures() {
            tracing::warn!(
                provider = provider.name(),
                "BearerMiddleware accepts tokens WITHOUT checking their signature: development \
                 only, and only for requests to a loopback address"
            );
        }
        let verifier: Arc<dyn TokenVerifier> = match &provider.verification {
            Verification::Jwt(jwt) if !jwt.has_audience() => {
                Arc::new(jwt.clone().audiences([resource.into()]))
            }
            Verification::Jwt(jwt) => Arc::new(jwt.clone()),
            Verification::Hook(hook) => Arc::clone(hook),
        };
        let mut middleware = Self::from_verifier(verifier);
        middleware.settings_mut().loopback_only = !provider.checks_signatures();
        middleware
    }

    fn settings_mut(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.settings)
    }

    /// The URL of the protected resource metadata (RFC 9728), sent in every
    /// challenge so clients can find the authorization server.
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.settings_mut().challenge).resource_metadata = Some(url.into());
        self
    }

    /// Scopes to suggest in the challenge of a missing or invalid token,
    /// e.g. `.scope(["reports:read"])`.
    pub fn scope<S: AsRef<str>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        let joined = scopes
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(" ");
        Arc::make_mut(&mut self.settings_mut().challenge).scope =
            (!joined.trim().is_empty()).then_some(joined);
        self
    }

    /// Requires every one of `scopes` on every request wrapped (directly or
    /// through the [`scope_hierarchy`](Self::scope_hierarchy)); a caller
    /// without them gets 403 `insufficient_scope` naming them.
    pub fn require_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.settings_mut()
            .required_scopes
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Scopes that imply others, for [`require_scopes`](Self::require_scopes)
    /// and for [`Auth::has_scope`] in handlers.
    pub fn scope_hierarchy(mut self, hierarchy: ScopeHierarchy) -> Self {
        self.settings_mut().hierarchy = Arc::new(hierarchy);
        self
    }

    /// Lets requests without an `Authorization` header through anonymously:
    /// handlers take `Option<Authenticated>`, and an [`Authenticated`] one
    /// refuses them with this middleware's challenge. A token that is sent
    /// must still be valid. With [`require_scopes`](Self::require_scopes),
    /// anonymous requests are refused.
    pub fn optional(mut self) -> Self {
        self.settings_mut().optional = true;
        self
    }
}

impl Settings {
    /// Authenticates `req`, leaving the caller (if any) in its extensions.
    async fn admit(&self, req: &HttpRequest) -> Result<(), Refusal> {
        req.extensions_mut()
            .insert(RouteChallenge(Arc::clone(&self.challenge)));
        if self.loopback_only && !super::arrived_on_loopback(req) {
            return Err(Refusal::InvalidToken(
                "this server checks no token signatures: it answers only requests to a \
                 loopback address"
                    .into(),
            ));
        }
        let auth = match authenticate_with(req, self.verifier.as_ref(), &self.hierarchy).await {
            Ok(auth) => auth,
            Err(Refusal::MissingToken) if self.optional && self.required_scopes.is_empty() => {
                return Ok(());
            }
            Err(refusal) => return Err(refusal),
        };
        auth.require_scope(self.required_scopes.as_slice())
            .map_err(|denied| Refusal::InsufficientScope {
                scopes: self.required_scopes.clone(),
                message: denied.to_string(),
            })
    }
}

/// The challenge of the middleware that admitted a request, for extractors.
#[derive(Clone)]
struct RouteChallenge(Arc<ChallengeContext>);

impl<S, B> Transform<S, ServiceRequest> for BearerMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = BearerMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(BearerMiddlewareService {
            service: Rc::new(service),
            settings: Arc::clone(&self.settings),
        }))
    }
}

/// The service [`BearerMiddleware`] wraps around a route.
pub struct BearerMiddlewareService<S> {
    service: Rc<S>,
    settings: Arc<Settings>,
}

impl<S, B> Service<ServiceRequest> for BearerMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let settings = Arc::clone(&self.settings);
        Box::pin(async move {
            match settings.admit(req.request()).await {
                Ok(()) => service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body),
                Err(refusal) => {
                    let response = refusal.response(&settings.challenge);
                    Ok(req.into_response(response).map_into_right_body())
                }
            }
        })
    }
}

/// The authenticated caller [`BearerMiddleware`] admitted, as a handler argument.
///
/// Without a caller (the route is not wrapped, or the middleware is
/// [`optional`](BearerMiddleware::optional) and no token came) the request is
/// refused with 401 and a `Bearer` challenge; take `Option<Authenticated>`
/// to serve anonymous requests too.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Auth>);

impl Authenticated {
    /// Requires one scope, or all of several, in a handler: the error
    /// answers 403 `insufficient_scope` naming them, with the challenge of
    /// the middleware that admitted `req` (unlike [`Auth::require_scope`],
    /// whose error is for tools).
    pub fn refuse_without_scope<'a>(
        &self,
        req: &HttpRequest,
        scopes: impl RequiredNames<'a>,
    ) -> Result<(), Refused> {
        let names = scopes.names();
        self.0.require_scope(names.as_slice()).map_err(|denied| {
            Refused::new(
                Refusal::InsufficientScope {
                    scopes: names.iter().map(|s| (*s).to_owned()).collect(),
                    message: denied.to_string(),
                },
                challenge_of(req),
            )
        })
    }
}

impl Deref for Authenticated {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl FromRequest for Authenticated {
    type Error = Refused;
    type Future = Ready<Result<Self, Refused>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            caller_of(req)
                .map(Authenticated)
                .ok_or_else(|| Refused::new(Refusal::MissingToken, challenge_of(req))),
        )
    }
}

fn challenge_of(req: &HttpRequest) -> ChallengeContext {
    req.extensions()
        .get::<RouteChallenge>()
        .map(|c| ChallengeContext::clone(&c.0))
        .unwrap_or_default()
}

/// A refusal as an actix-web error: answers with [`Refusal::response`], so a
/// handler's own checks get the same 401/403 shapes as the middleware.
#[derive(Debug, Clone)]
pub struct Refused {
    refusal: Refusal,
    context: ChallengeContext,
}

impl Refused {
    /// `refusal`, challenged with `context`.
    pub fn new(refusal: Refusal, context: ChallengeContext) -> Self {
        Self { refusal, context }
    }

    /// Why the request was refused.
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.refusal {
            Refusal::MissingToken => f.write_str("authentication required"),
            Refusal::InvalidRequest(d) | Refusal::InvalidToken(d) | Refusal::Unavailable(d) => {
                f.write_str(d)
            }
            Refusal::InsufficientScope { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for Refused {}

impl ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        self.refusal.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.refusal.response(&self.context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthError, VerifyFuture};
    use actix_web::http::header;
    use actix_web::{App, test, web};
    use serde_json::json;

    /// Accepts `good` (scope `reports:read`) and `admin` (`reports:read admin`).
    struct Fake;

    impl TokenVerifier for Fake {
        fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
            Box::pin(async move {
                let scope = match token {
                    "good" => "reports:read",
                    "admin" => "reports:read admin",
                    _ => return Err(AuthError::InvalidToken("unknown token".into())),
                };
                let claims = json!({ "sub": "alice", "scope": scope, "client_id": "app" });
                Ok(Auth::from_claims(
                    token,
                    claims.as_object().cloned().unwrap_or_default(),
                ))
            })
        }
    }

    const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource";

    async fn me(user: Authenticated) -> String {
        format!(
            "{} via {}",
            user.user.user_id,
            user.client_id.as_deref().unwrap_or("-")
        )
    }

    async fn maybe(user: Option<Authenticated>) -> String {
        user.map_or_else(|| "anonymous".to_owned(), |u| u.user.user_id.clone())
    }

    async fn strict(user: Authenticated) -> String {
        user.user.user_id.clone()
    }

    async fn step_up(req: HttpRequest, user: Authenticated) -> Result<String, Refused> {
        user.refuse_without_scope(&req, "reports:write")?;
        Ok("written".into())
    }

    fn auth() -> BearerMiddleware {
        BearerMiddleware::new(Fake)
            .resource_metadata(METADATA)
            .scope(["reports:read"])
    }

    macro_rules! app {
        () => {
            test::init_service(
                App::new()
                    .service(
                        web::scope("/api")
                            .wrap(auth())
                            .route("/me", web::get().to(me))
                            .route("/write", web::post().to(step_up)),
                    )
                    .service(
                        web::scope("/admin")
                            .wrap(auth().require_scopes(["admin"]))
                            .route("/me", web::get().to(me)),
                    )
                    .service(
                        web::scope("/public")
                            .wrap(auth().optional())
                            .route("/maybe", web::get().to(maybe))
                            .route("/strict", web::get().to(strict)),
                    )
                    .route("/unwrapped", web::get().to(me)),
            )
            .await
        };
    }

    fn challenge(response: &ServiceResponse<impl MessageBody>) -> String {
        response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .expect("a WWW-Authenticate challenge")
            .to_str()
            .expect("ASCII")
            .to_owned()
    }

    fn get(path: &str, token: Option<&str>) -> actix_web::test::TestRequest {
        let request = test::TestRequest::get().uri(path);
        match token {
            Some(token) => {
                request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
            }
            None => request,
        }
    }

    #[actix_web::test]
    async fn no_header_is_a_bare_bearer_challenge() {
        let app = app!();
        let response = test::call_service(&app, get("/api/me", None).to_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = challenge(&response);
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(!challenge.contains("error="), "{challenge}");
        assert!(
            challenge.contains(&format!("resource_metadata=\"{METADATA}\"")),
            "{challenge}"
        );
        assert!(challenge.contains("scope=\"reports:read\""), "{challenge}");
    }

    #[actix_web::test]
    async fn a_bad_token_is_invalid_token() {
        let app = app!();
        let response = test::call_service(&app, get("/api/me", Some("forged")).to_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = challenge(&response);
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{challenge}"
        );
        let body: serde_json::Value = test::read_body_json(response).await;
        assert_eq!(body["error"], "invalid_token");
    }

    #[actix_web::test]
    async fn malformed_headers_and_tokens_in_the_url_are_invalid_requests() {
        let app = app!();
        for request in [
            get("/api/me?access_token=good", None),
            get("/api/me?x=1&access_token=good", Some("good")),
            test::TestRequest::get()
                .uri("/api/me")
                .insert_header((header::AUTHORIZATION, "Basic Z29vZDo=")),
            test::TestRequest::get()
                .uri("/api/me")
                .insert_header((header::AUTHORIZATION, "Bearer two words")),
        ]
        .into_iter()
        .chain(
            [
                &b"Bearer good "[..],
                b"Bearer go\tod",
                b"Bearer ",
                b"Bearer",
                b"Bearergood",
                b"Bearer g\xc3\xb6od",
            ]
            .map(|value| {
                let value = header::HeaderValue::from_bytes(value).expect("a header value");
                test::TestRequest::get()
                    .uri("/api/me")
                    .insert_header((header::AUTHORIZATION, value))
            }),
        ) {
            let response = test::call_service(&app, request.to_request()).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            let challenge = challenge(&response);
            assert!(
                challenge.starts_with("Bearer error=\"invalid_request\""),
                "{challenge}"
            );
        }
    }

    #[actix_web::test]
    async fn a_good_token_reaches_the_handler_with_its_caller() {
        let app = app!();
        let request = test::TestRequest::get()
            .uri("/api/me")
            .insert_header((header::AUTHORIZATION, "bearer good"));
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(test::read_body(response).await, "alice via app");
        let request = test::TestRequest::get()
            .uri("/api/me")
            .insert_header((header::AUTHORIZATION, "BEARER   good"));
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "spaces before the token");
    }

    #[actix_web::test]
    async fn missing_required_scopes_are_403_insufficient_scope() {
        let app = app!();
        let response = test::call_service(&app, get("/admin/me", Some("good")).to_request()).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let challenge = challenge(&response);
        assert!(
            challenge.starts_with("Bearer error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(challenge.contains("scope=\"admin\""), "{challenge}");
        assert!(
            challenge.contains(&format!("resource_metadata=\"{METADATA}\"")),
            "{challenge}"
        );
        let response = test::call_service(&app, get("/admin/me", Some("admin")).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let response = test::call_service(&app, get("/admin/me", None).to_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    #[actix_web::test]
    async fn handlers_step_up_with_the_same_shape() {
        let app = app!();
        let request = test::TestRequest::post()
            .uri("/api/write")
            .insert_header((header::AUTHORIZATION, "Bearer good"));
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let challenge = challenge(&response);
        assert!(
            challenge.starts_with("Bearer error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(challenge.contains("scope=\"reports:write\""), "{challenge}");
        assert!(
            challenge.contains(&format!("resource_metadata=\"{METADATA}\"")),
            "{challenge}"
        );
    }

    #[actix_web::test]
    async fn optional_admits_anonymous_requests_but_not_bad_tokens() {
        let app = app!();
        let response = test::call_service(&app, get("/public/maybe", None).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(test::read_body(response).await, "anonymous");
        let response =
            test::call_service(&app, get("/public/maybe", Some("good")).to_request()).await;
        assert_eq!(test::read_body(response).await, "alice");
        let response =
            test::call_service(&app, get("/public/maybe", Some("forged")).to_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        // `Authenticated` refuses the anonymous caller with the middleware's challenge.
        let response = test::call_service(&app, get("/public/strict", None).to_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = challenge(&response);
        assert!(
            challenge.contains(&format!("resource_metadata=\"{METADATA}\"")),
            "{challenge}"
        );
    }

    #[actix_web::test]
    async fn the_extractor_refuses_unwrapped_routes() {
        let app = app!();
        let response = test::call_service(&app, get("/unwrapped", Some("good")).to_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(challenge(&response), "Bearer");
    }

    #[actix_web::test]
    async fn providers_verify_with_their_hook() {
        let provider = crate::auth::CustomProvider::new("https://id.example.com")
            .verify_with(Fake)
            .build()
            .expect("a provider");
        let app = test::init_service(
            App::new().service(
                web::scope("/api")
                    .wrap(BearerMiddleware::from_provider(
                        &provider,
                        "https://api.example.com",
                    ))
                    .route("/me", web::get().to(me)),
            ),
        )
        .await;
        let response = test::call_service(&app, get("/api/me", Some("good")).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let response = test::call_service(&app, get("/api/me", Some("bad")).to_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}
