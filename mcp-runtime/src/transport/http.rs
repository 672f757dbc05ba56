//! The MCP endpoint: one path answering POST, GET, DELETE and OPTIONS.

// Refusals are returned as ready responses on cold paths; boxing them buys nothing.
#![allow(clippy::result_large_err)]

use super::accept::Accepts;
use super::access::{self, AuthMode};
use super::discovery;
use super::headers::names;
use super::origin;
use super::refusal::{method_not_allowed, refuse, retry_later, store_unavailable};
use super::sse::{self, drain_notifications, request_stream, sse_response};
use super::stateless::{
    check_request_routing, check_routing_headers, message_id, message_params, stateless_meta,
    stateless_status,
};
use crate::auth::bearer;
use crate::protocol::ProtocolVersion;
use crate::protocol::jsonrpc::{
    self, ErrorObject, IncomingMessage, Message, Notification, OutgoingMessage, Request, Response,
    describe_json_error,
};
use crate::protocol::messages::{CallToolParams, CancelledParams};
use crate::protocol::{LoggingLevel, RequestId};
use crate::server::ServerCore;
use crate::server::dispatch::{RequestOrigin, parse_params};
use crate::server::listen::{ListenFull, tagged};
use crate::server::session::{Session, SessionStore};
use crate::server::{HttpConfig, SessionMode};
use crate::state::CreateError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt as _, stream};
use serde_json::json;
use serde_json::value::RawValue;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Messages per 2025-03-26 batch: enough for any real client, and a bound on
/// the work and memory one request can demand.
const MAX_BATCH_ITEMS: usize = 64;

/// Longest a `subscriptions/listen` stream lives (then it ends gracefully
/// and its client opens another), whatever its token's expiry.
const MAX_LISTEN_SECS: u64 = 24 * 3600;

/// Largest client capabilities declaration a session keeps.
const MAX_CAPABILITIES_BYTES: usize = 64 * 1024;

/// Everything the endpoint's handler needs; cheap to clone into each worker.
#[derive(Clone)]
pub(crate) struct Endpoint {
    core: Arc<ServerCore>,
    sessions: Arc<SessionStore>,
    config: Arc<HttpConfig>,
    auth: AuthMode,
}

impl Endpoint {
    /// An endpoint over the server's one session store, shared by every
    /// worker and every mount.
    pub(crate) fn new(
        core: Arc<ServerCore>,
        sessions: Arc<SessionStore>,
        config: HttpConfig,
        auth: AuthMode,
    ) -> Self {
        Self {
            sessions,
            core,
            config: Arc::new(config),
            auth,
        }
    }
}

/// Registers the endpoint's route.
pub(crate) fn configure(endpoint: Endpoint) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        let endpoint = endpoint.clone();
        let path = endpoint.config.path.clone();
        if let AuthMode::Protected(server) = &endpoint.auth {
            discovery::configure(cfg, server, &path, &endpoint.config);
        }
        super::health::configure(cfg, Arc::clone(&endpoint.sessions), endpoint.auth.clone());
        cfg.service(
            web::resource(path).to(move |req: HttpRequest, payload: web::Payload| {
                let endpoint = endpoint.clone();
                async move { endpoint.handle(req, payload).await }
            }),
        );
    }
}

fn json_response(body: &impl serde::Serialize) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => HttpResponse::Ok()
            // A static value: a `&str` is copied into a new one each time.
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ))
            .body(bytes),
        Err(_) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            jsonrpc::INTERNAL_ERROR,
            "response not serializable",
        ),
    }
}

/// One response: JSON, or a one-event SSE stream for clients that take only streams.
fn single_reply(response: &Response, accepts: Accepts) -> HttpResponse {
    if accepts.json {
        json_response(response)
    } else {
        let event = sse::event(response);
        sse_response(stream::once(std::future::ready(Ok(event))))
    }
}

fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// What the `MCP-Protocol-Version` header says.
enum VersionHeader {
    Absent,
    Known(ProtocolVersion),
    Unsupported(String),
}

fn version_header(req: &HttpRequest) -> VersionHeader {
    match req.headers().get(names::PROTOCOL_VERSION) {
        None => VersionHeader::Absent,
        Some(value) => {
            let text = value.to_str().unwrap_or("").trim();
            match ProtocolVersion::parse(text) {
                Some(version) => VersionHeader::Known(version),
                None => VersionHeader::Unsupported(text.chars().take(64).collect()),
            }
        }
    }
}

/// 400 `UnsupportedProtocolVersion`, listing what is spoken.
fn unsupported_version(id: Option<RequestId>, requested: &str) -> HttpResponse {
    let error = ErrorObject::new(
        jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
        format!("unsupported protocol version `{requested}`"),
    )
    .with_data(
        json!({ "supported": ProtocolVersion::supported_strings(), "requested": requested }),
    );
    HttpResponse::BadRequest().json(Response::error(id, error))
}

/// How a non-initialize message is routed: its revision and session.
#[derive(Clone)]
struct Route {
    version: ProtocolVersion,
    caller: Option<Arc<crate::auth::Auth>>,
    session: Option<Arc<Session>>,
    log_level: Option<LoggingLevel>,
    client_capabilities: Arc<serde_json::Value>,
}

type BoxedResponseFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

impl Endpoint {
    /// Answers one HTTP request inside its `mcp.request` span, continuing
    /// the caller's trace from its `traceparent` header, or from its body's
    /// `_meta` (read once the token is verified).
    async fn handle(self, req: HttpRequest, payload: web::Payload) -> HttpResponse {
        use crate::operations::telemetry::{self, EarlyVerify};
        use tracing::Instrument as _;
        let span = telemetry::request_span();
        let traceparent = header_str(&req, names::TRACEPARENT);
        if let Some(parent) = traceparent {
            let state = header_str(&req, names::TRACESTATE);
            telemetry::continue_trace(&span, parent, state);
        }
        // Without the header, a POST's trace may be named in its body: a
        // child span made before the body is read would fix the request's
        // trace too early. Its token is verified outside the request's
        // span, and the verification joins the trace once it is known.
        // (Unless no subscriber records spans: then there is no trace.)
        if let AuthMode::Protected(server) = &self.auth
            && traceparent.is_none()
            && !span.is_disabled()
            && req.method() == Method::POST
            && origin::refusal(&req, &self.config, server.loopback_only).is_none()
        {
            let mut early = EarlyVerify::begin();
            let verdict = bearer::authenticate(&req, server, Some(&mut early)).await;
            early.finish();
            let response = self
                .handle_in_span(req, payload, Some(verdict.err()))
                .instrument(span.clone())
                .await;
            early.add_to(&span);
            return response;
        }
        self.handle_in_span(req, payload, None)
            .instrument(span)
            .await
    }

    /// Answers `req`; `verified` is its token's refusal (or `None`), when
    /// its origin was checked and its token verified already.
    async fn handle_in_span(
        self,
        req: HttpRequest,
        payload: web::Payload,
        verified: Option<Option<crate::auth::Refusal>>,
    ) -> HttpResponse {
        let loopback_only =
            matches!(&self.auth, AuthMode::Protected(server) if server.loopback_only);
        if verified.is_none()
            && let Some(why) = origin::refusal(&req, &self.config, loopback_only)
        {
            return refuse(StatusCode::FORBIDDEN, jsonrpc::INVALID_REQUEST, why);
        }
        if req.method() != Method::OPTIONS {
            let refusal = match (&self.auth, verified) {
                (_, Some(verified)) => verified,
                (AuthMode::Open, None) => None,
                (AuthMode::Protected(server), None) => {
                    bearer::authenticate(&req, server, None).await.err()
                }
                (AuthMode::Broken, None) => {
                    return refuse(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        jsonrpc::INTERNAL_ERROR,
                        "the server's OAuth configuration is invalid; see its log",
                    );
                }
            };
            if let Some(caller) = bearer::caller_of(&req) {
                let span = tracing::Span::current();
                span.record("enduser.id", caller.user.user_id.as_str());
                if let Some(client) = &caller.client_id {
                    span.record("oauth.client_id", client.as_str());
                }
            }
            if let Some(refusal) = refusal {
                tracing::Span::current().record("error.type", "unauthorized");
                access::count_refusal(&refusal, "");
                let mut response = access::refuse(&refusal, &self.auth);
                origin::add_cors_headers(&req, response.headers_mut());
                return response;
            }
        }
        let mut response = match *req.method() {
            Method::POST => self.post(&req, payload).await,
            Method::GET => self.get(&req).await,
            Method::DELETE => self.delete(&req).await,
            Method::OPTIONS => {
                let mut response = HttpResponse::NoContent().finish();
                origin::add_preflight_headers(response.headers_mut());
                response
            }
            _ => method_not_allowed("GET, POST, DELETE, OPTIONS"),
        };
        origin::add_cors_headers(&req, response.headers_mut());
        response
    }

    async fn post(&self, req: &HttpRequest, payload: web::Payload) -> HttpResponse {
        let accepts = Accepts::of(req.headers());
        if !accepts.json && !accepts.sse {
            return refuse(
                StatusCode::NOT_ACCEPTABLE,
                jsonrpc::INVALID_REQUEST,
                "Accept must include application/json and text/event-stream",
            );
        }
        if !req.content_type().eq_ignore_ascii_case("application/json") {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                jsonrpc::INVALID_REQUEST,
                "Content-Type must be application/json",
            );
        }
        let body = match read_body(req, payload, self.config.max_body_bytes).await {
            Ok(body) => body,
            Err(response) => return response,
        };
        let header = version_header(req);
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return match header {
                VersionHeader::Unsupported(requested) => unsupported_version(None, &requested),
                VersionHeader::Known(v) if v.is_stateless() => refuse(
                    StatusCode::BAD_REQUEST,
                    jsonrpc::INVALID_REQUEST,
                    "JSON-RPC batches are not part of protocol revision 2026-07-28",
                ),
                // Rare branches are boxed here and below: inline, each would
                // make every request's future as large as the largest of them.
                VersionHeader::Known(v) => Box::pin(self.post_batch(req, &body, Some(v))).await,
                VersionHeader::Absent => Box::pin(self.post_batch(req, &body, None)).await,
            };
        }
        let message = match parse_message(&body) {
            Ok(message) => message,
            Err((id, error)) => return HttpResponse::BadRequest().json(Response::error(id, error)),
        };
        if !req.headers().contains_key(names::TRACEPARENT) {
            continue_trace_from_meta(message_params(&message));
        }
        let header_version = match header {
            VersionHeader::Unsupported(requested) => {
                return unsupported_version(message_id(&message), &requested);
            }
            VersionHeader::Known(version) if version.is_stateless() => {
                return self.post_stateless(req, message, version, accepts).await;
            }
            VersionHeader::Known(version) => Some(version),
            VersionHeader::Absent => {
                if stateless_meta(message_params(&message))
                    .is_ok_and(|m| m.is_some_and(|m| m.protocol_version.is_some()))
                {
                    return HttpResponse::BadRequest().json(Response::error(
                        message_id(&message),
                        ErrorObject::new(
                            jsonrpc::HEADER_MISMATCH,
                            "MCP-Protocol-Version header is required",
                        ),
                    ));
                }
                None
            }
        };
        let message = match message {
            Message::Request(request) if request.method == "initialize" => {
                return Box::pin(self.initialize(req, request, accepts)).await;
            }
            other => other,
        };
        if let Err(response) = check_routing_headers(req, &message, false) {
            return response;
        }
        let route = match self.route(req, header_version).await {
            Ok(route) => route,
            Err(response) => return response,
        };
        match message {
            Message::Request(request) => self.respond(req, request, route, accepts, false).await,
            Message::Notification(notification) => {
                if self.on_notification(notification, &route).await.is_err() {
                    return store_unavailable();
                }
                HttpResponse::Accepted().finish()
            }
            Message::Response { id, outcome } => {
                if self.on_client_answer(&id, outcome, &route).await.is_err() {
                    return store_unavailable();
                }
                HttpResponse::Accepted().finish()
            }
        }
    }

    /// Hands a client's answer to the handler waiting for it. An answer
    /// nobody waits for (late, unknown, or from another caller) is dropped.
    async fn on_client_answer(
        &self,
        id: &RequestId,
        outcome: crate::input::pending::ClientOutcome,
        route: &Route,
    ) -> crate::state::StateResult<()> {
        let from = crate::input::pending::Addressee {
            owner: route.caller.as_ref().map(|c| c.owner_key().into()),
            session: route.session.as_ref().map(|s| Arc::clone(&s.id)),
        };
        // Stream answers come back in a new POST, which a load balancer may
        // send to any replica: the store forwards it to the one that asked.
        self.sessions
            .answer(&self.core.input.pending, id, from, outcome)
            .await
    }

    /// A 2026-07-28 message: no session; `_meta` and routing headers checked.
    async fn post_stateless(
        &self,
        req: &HttpRequest,
        message: Message,
        version: ProtocolVersion,
        accepts: Accepts,
    ) -> HttpResponse {
        let request = match message {
            Message::Request(request) => request,
            Message::Notification(_) | Message::Response { .. } => {
                return match check_routing_headers(req, &message, false) {
                    Ok(()) => HttpResponse::Accepted().finish(),
                    Err(response) => response,
                };
            }
        };
        let reject = |code: i64, text: &str| {
            HttpResponse::BadRequest().json(Response::error(
                Some(request.id.clone()),
                ErrorObject::new(code, text),
            ))
        };
        let meta = match stateless_meta(request.params.as_deref()) {
            Ok(Some(meta)) => meta,
            Ok(None) => {
                return reject(
                    jsonrpc::INVALID_PARAMS,
                    "params._meta is required in protocol revision 2026-07-28",
                );
            }
            Err(why) => return reject(jsonrpc::INVALID_PARAMS, &why),
        };
        let Some(meta_version) = meta.protocol_version.as_deref() else {
            return reject(
                jsonrpc::INVALID_PARAMS,
                "_meta is missing io.modelcontextprotocol/protocolVersion",
            );
        };
        if meta.client_capabilities.is_none() {
            return reject(
                jsonrpc::INVALID_PARAMS,
                "_meta is missing io.modelcontextprotocol/clientCapabilities",
            );
        }
        if meta_version != version.as_str() {
            return reject(
                jsonrpc::HEADER_MISMATCH,
                "MCP-Protocol-Version header does not match _meta protocolVersion",
            );
        }
        if let Err(response) = check_request_routing(req, &request, true) {
            return response;
        }
        if let Err(response) = super::param_headers::check(req, &request, &self.core) {
            return response;
        }
        let route = Route {
            version,
            caller: bearer::caller_of(req),
            session: None,
            log_level: meta.log_level,
            client_capabilities: Arc::new(meta.client_capabilities.unwrap_or_default()),
        };
        if request.method == "subscriptions/listen" {
            return Box::pin(self.listen(req, request, route, accepts)).await;
        }
        self.respond(req, request, route, accepts, true).await
    }

    /// `subscriptions/listen`: a stream that opens with its acknowledgement
    /// (then the state now of each task it follows) and carries the
    /// notifications agreed, each tagged with the request's id, until the
    /// client closes it.
    async fn listen(
        &self,
        req: &HttpRequest,
        request: Request,
        route: Route,
        accepts: Accepts,
    ) -> HttpResponse {
        let id = request.id.clone();
        let fail = |error: ErrorObject| {
            let response = Response::error(Some(id.clone()), error);
            let mut http = single_reply(&response, accepts);
            if accepts.json {
                *http.status_mut() = stateless_status(&response);
            }
            http
        };
        if !accepts.sse {
            return refuse(
                StatusCode::NOT_ACCEPTABLE,
                jsonrpc::INVALID_REQUEST,
                "subscriptions/listen answers with a stream: Accept must include text/event-stream",
            );
        }
        if let Some(limited) =
            access::over_limit(&self.core, req, &request, route.caller.as_deref()).await
        {
            return limited;
        }
        let owner = route.caller.as_ref().map(|c| c.owner_key().into());
        let origin = self.origin(route, None);
        let agreed = match self
            .core
            .agree_listen(request.params.as_deref(), &origin)
            .await
        {
            Ok(agreed) => agreed,
            Err(error) => return fail(error),
        };
        let (guard, rx) = match self.sessions.listeners.open(id.clone(), owner, &agreed) {
            Ok(opened) => opened,
            Err(ListenFull) => {
                return retry_later(
                    StatusCode::SERVICE_UNAVAILABLE,
                    jsonrpc::INVALID_REQUEST,
                    "too many open streams; try again later",
                );
            }
        };
        let acknowledged = OutgoingMessage::notification(
            "notifications/subscriptions/acknowledged",
            tagged(json!({ "notifications": &agreed }), &id),
        );
        // Then each task's state now, read when the stream gets to it (one
        // result in memory at a time, however many tasks and results) and
        // once the stream is registered: a change since is either in this
        // state or on the stream after it, never lost between.
        let core = Arc::clone(&self.core);
        let caller = origin.caller.clone();
        let tagged_as = id.clone();
        let now = stream::iter(agreed.task_ids.clone()).filter_map(move |task| {
            let (core, caller, id) = (Arc::clone(&core), caller.clone(), tagged_as.clone());
            async move {
                let state = core.task_state(&task, caller.as_deref()).await?;
                Some(sse::event(&OutgoingMessage::notification(
                    crate::protocol::tasks::STATUS_NOTIFICATION,
                    tagged(state, &id),
                )))
            }
        });
        let opening = stream::once(std::future::ready(sse::event(&acknowledged))).chain(now);
        // The token that opened the stream is its authority: when it
        // expires, the subscription ends (gracefully, with its response),
        // and the client opens another with a fresh token. No stream lives
        // longer than a day.
        let unix_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let lifetime = origin
            .caller
            .as_ref()
            .and_then(|caller| caller.expires_at)
            .map_or(MAX_LISTEN_SECS, |expiry| {
                expiry.saturating_sub(unix_now).min(MAX_LISTEN_SECS)
            });
        let closing = sse::event(&Response::success_value(
            id.clone(),
            &tagged(json!({ "resultType": "complete" }), &id),
        ));
        sse_response(sse::listen_stream(
            opening,
            rx,
            self.config.sse_keep_alive,
            std::time::Duration::from_secs(lifetime),
            self.sessions.listeners.closing(),
            closing,
            guard,
        ))
    }

    async fn initialize(
        &self,
        req: &HttpRequest,
        request: Request,
        accepts: Accepts,
    ) -> HttpResponse {
        crate::operations::telemetry::name_request(&tracing::Span::current(), "initialize", None);
        if let Some(limited) =
            access::over_limit(&self.core, req, &request, bearer::caller_of(req).as_deref()).await
        {
            return limited;
        }
        let params = match parse_params::<crate::protocol::messages::InitializeParams>(
            request.params.as_deref(),
        ) {
            Ok(params) => params,
            Err(error) => return single_reply(&Response::error(Some(request.id), error), accepts),
        };
        // The declaration is kept for the session's life (and read on every
        // request when it is shared): a real one is a few hundred bytes.
        if serde_json::to_string(&params.capabilities)
            .map_or(true, |c| c.len() > MAX_CAPABILITIES_BYTES)
        {
            return single_reply(
                &Response::error(
                    Some(request.id),
                    ErrorObject::invalid_params(format!(
                        "capabilities are at most {MAX_CAPABILITIES_BYTES} bytes of JSON"
                    )),
                ),
                accepts,
            );
        }
        let version = self.core.negotiate(&params.protocol_version);
        let body = Response::success_value(request.id, &self.core.initialize_body(version));
        let mut response = single_reply(&body, accepts);
        if self.config.session_mode == SessionMode::Stateful {
            let owner = bearer::caller_of(req).map(|caller| caller.owner_key().into());
            let created = self
                .sessions
                .create(version, Arc::new(params.capabilities), owner)
                .await;
            let session = match created {
                Ok(session) => session,
                Err(CreateError::Full) => {
                    tracing::warn!("refused initialize: too many live sessions");
                    return refuse(
                        StatusCode::SERVICE_UNAVAILABLE,
                        jsonrpc::INTERNAL_ERROR,
                        "too many sessions; try again later",
                    );
                }
                Err(CreateError::OwnerFull) => {
                    return retry_later(
                        StatusCode::TOO_MANY_REQUESTS,
                        jsonrpc::INVALID_REQUEST,
                        format!(
                            "you already hold {} open sessions, the most one user may; end one \
                             (DELETE) or let one expire first",
                            crate::state::MAX_SESSIONS_PER_OWNER
                        ),
                    );
                }
                Err(CreateError::Unavailable) => return store_unavailable(),
            };
            if let Ok(value) = HeaderValue::from_str(&session.id) {
                response.headers_mut().insert(names::SESSION, value);
            }
        }
        response
    }

    /// Finds the revision and session of a non-initialize message.
    async fn route(
        &self,
        req: &HttpRequest,
        header_version: Option<ProtocolVersion>,
    ) -> Result<Route, HttpResponse> {
        if self.config.session_mode == SessionMode::Stateless {
            // No session, so no capabilities declared: one shared `null`
            // rather than an allocation per request.
            static NONE_DECLARED: std::sync::LazyLock<Arc<serde_json::Value>> =
                std::sync::LazyLock::new(|| Arc::new(serde_json::Value::Null));
            return Ok(Route {
                version: header_version.unwrap_or(ProtocolVersion::ASSUMED_WITHOUT_HEADER),
                caller: bearer::caller_of(req),
                session: None,
                log_level: Some(LoggingLevel::Debug),
                client_capabilities: Arc::clone(&NONE_DECLARED),
            });
        }
        if header_version.is_none() && req.headers().get(names::SESSION).is_none() {
            // Neither a session nor a revision: a client that skipped the
            // handshake, told both ways in.
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                jsonrpc::INVALID_REQUEST,
                "no session and no MCP-Protocol-Version header: send `initialize` first, then \
                 its Mcp-Session-Id header (protocol revision 2025-11-25), or send this request \
                 with the 2026-07-28 headers (MCP-Protocol-Version: 2026-07-28, Mcp-Method) and \
                 params._meta (io.modelcontextprotocol/protocolVersion, clientCapabilities), \
                 which need no session",
            ));
        }
        let session = self.session_of(req).await?;
        let caller = bearer::caller_of(req);
        // The negotiated revision governs the session; a different (but spoken)
        // header value is tolerated, as deployed clients send one.
        if header_version.is_some_and(|v| v != session.version) {
            tracing::debug!(
                "MCP-Protocol-Version header differs from the session's negotiated revision"
            );
        }
        Ok(Route {
            version: session.version,
            caller,
            log_level: Some(session.log_level()),
            client_capabilities: Arc::clone(&session.client_capabilities),
            session: Some(session),
        })
    }

    async fn session_of(&self, req: &HttpRequest) -> Result<Arc<Session>, HttpResponse> {
        let Some(id) = req.headers().get(names::SESSION) else {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                jsonrpc::INVALID_REQUEST,
                "Mcp-Session-Id header is required",
            ));
        };
        let not_found = || {
            refuse(
                StatusCode::NOT_FOUND,
                jsonrpc::INVALID_REQUEST,
                "session not found",
            )
        };
        let Ok(id) = id.to_str() else {
            return Err(not_found());
        };
        let session = match self.sessions.get(id).await {
            Ok(Some(session)) => session,
            Ok(None) => return Err(not_found()),
            Err(_) => return Err(store_unavailable()),
        };
        // A session is its opener's: another user's token does not unlock it.
        let same_owner = match (session.owner.as_deref(), bearer::caller_of(req)) {
            (Some(owner), Some(caller)) => caller.is_owner(owner),
            (None, None) => true,
            _ => false,
        };
        if !same_owner {
            tracing::warn!("refused a request on a session opened by another user");
            return Err(refuse(
                StatusCode::FORBIDDEN,
                jsonrpc::INVALID_REQUEST,
                "this session was opened by another user; initialize a new one",
            ));
        }
        Ok(session)
    }

    /// Acts on a client's notification; `Err` if the shared state it must
    /// change cannot be reached.
    async fn on_notification(
        &self,
        notification: Notification,
        route: &Route,
    ) -> crate::state::StateResult<()> {
        match notification.method.as_str() {
            "notifications/initialized" => {
                if let Some(session) = &route.session
                    && !session.is_initialized()
                {
                    session.mark_initialized().await?;
                }
            }
            "notifications/cancelled" => {
                if let (Some(session), Ok(params)) = (
                    &route.session,
                    parse_params::<CancelledParams>(notification.params.as_deref()),
                ) {
                    self.sessions.cancel(session, &params.request_id).await?;
                }
            }
            other => tracing::trace!(method = other, "notification ignored"),
        }
        Ok(())
    }

    /// `call`: a `tools/call`'s params, read already to check it.
    fn dispatch(
        &self,
        request: Request,
        route: Route,
        notifier: Option<mpsc::Sender<OutgoingMessage>>,
        call: Option<CallToolParams>,
    ) -> BoxedResponseFuture {
        let core = Arc::clone(&self.core);
        let mut origin = self.origin(route, notifier);
        origin.call = call;
        Box::pin(async move { core.handle_request(request, origin).await })
    }

    /// What the server sees of where a request came from.
    fn origin(
        &self,
        route: Route,
        notifier: Option<mpsc::Sender<OutgoingMessage>>,
    ) -> RequestOrigin {
        RequestOrigin {
            version: route.version,
            session: route.session,
            notifier,
            log_level: route.log_level,
            client_capabilities: route.client_capabilities,
            caller: route.caller,
            hide_forbidden_tools: self.hides_forbidden(),
            call: None,
        }
    }

    /// Whether tools the caller may not use are left out of its lists.
    fn hides_forbidden(&self) -> bool {
        matches!(&self.auth, AuthMode::Protected(server) if server.hide_forbidden_tools)
    }

    /// The access decision on `request` by `caller`, audited and counted
    /// (see [`access::decided`]). A `tools/call` passes with its params and
    /// the tool they name.
    fn decide(
        &self,
        request: &Request,
        caller: Option<&crate::auth::Auth>,
    ) -> Result<access::Checked, crate::auth::Refusal> {
        let decision = access::check_call(&self.core, request, caller, self.hides_forbidden());
        access::decided(&self.core, request, caller, decision.as_ref().err());
        decision
    }

    /// Answers with JSON, switching to an SSE stream if the handler sends a
    /// notification before it finishes and the client takes streams.
    async fn respond(
        &self,
        req: &HttpRequest,
        request: Request,
        route: Route,
        accepts: Accepts,
        stateless: bool,
    ) -> HttpResponse {
        let answer = |response: Response| {
            let mut http = single_reply(&response, accepts);
            if stateless && accepts.json {
                *http.status_mut() = stateless_status(&response);
            }
            http
        };
        let checked = match self.decide(&request, route.caller.as_deref()) {
            Ok(checked) => checked,
            Err(refusal) => return access::refuse(&refusal, &self.auth),
        };
        if access::limits_apply(&self.core)
            && let Some(limited) = Box::pin(access::over_limit(
                &self.core,
                req,
                &request,
                route.caller.as_deref(),
            ))
            .await
        {
            return limited;
        }
        // A tool that sends nothing while it runs is answered without the
        // channel a stream would be fed from.
        let call = checked.call;
        if !accepts.sse || checked.tool.is_some_and(|entry| !entry.tool.notifies()) {
            return answer(self.dispatch(request, route, None, call).await);
        }
        let (tx, mut rx) = mpsc::channel::<OutgoingMessage>(32);
        let mut running = self.dispatch(request, route, Some(tx), call);
        tokio::select! {
            biased;
            response = &mut running => {
                let mut pending = drain_notifications(&mut rx);
                if pending.is_empty() {
                    return answer(response);
                }
                pending.extend_from_slice(&sse::event(&response));
                sse_response(stream::once(std::future::ready(Ok(pending.freeze()))))
            }
            Some(first) = rx.recv() => {
                let first = stream::once(std::future::ready(Ok(sse::event(&first))));
                sse_response(first.chain(request_stream(running, rx)))
            }
        }
    }

    async fn post_batch(
        &self,
        req: &HttpRequest,
        body: &[u8],
        header_version: Option<ProtocolVersion>,
    ) -> HttpResponse {
        let items: Vec<Box<RawValue>> = match serde_json::from_slice(body) {
            Ok(items) => items,
            Err(e) => {
                return HttpResponse::BadRequest().json(Response::error(
                    None,
                    ErrorObject::parse_error(format!("invalid JSON: {e}")),
                ));
            }
        };
        let route = match self.route(req, header_version).await {
            Ok(route) => route,
            Err(response) => return response,
        };
        if items.len() > MAX_BATCH_ITEMS {
            return refuse(
                StatusCode::BAD_REQUEST,
                jsonrpc::INVALID_REQUEST,
                format!("a batch holds at most {MAX_BATCH_ITEMS} messages"),
            );
        }
        if route.version != ProtocolVersion::V2025_03_26 || items.is_empty() {
            return refuse(
                StatusCode::BAD_REQUEST,
                jsonrpc::INVALID_REQUEST,
                "JSON-RPC batches are only accepted in protocol revision 2025-03-26, and must not be empty",
            );
        }
        let mut responses = Vec::new();
        for item in items {
            match parse_message(item.get().as_bytes()) {
                Ok(Message::Request(request)) if request.method == "initialize" => {
                    responses.push(Response::error(
                        Some(request.id),
                        ErrorObject::invalid_request("initialize must not be part of a batch"),
                    ))
                }
                Ok(Message::Request(request)) => {
                    // Each call of a batch is decided, audited and counted
                    // against its caller's limits like a call on its own
                    // (the dispatcher refuses what access refuses).
                    let caller = route.caller.as_deref();
                    let call = self.decide(&request, caller).ok().and_then(|c| c.call);
                    match access::limit_refusal(&self.core, req, &request, caller).await {
                        None => {
                            responses.push(self.dispatch(request, route.clone(), None, call).await);
                        }
                        Some(access::LimitRefusal::Limited { error, .. }) => {
                            responses.push(Response::error(Some(request.id), error));
                        }
                        // Calls before it may have run: this one is refused
                        // alone, never the whole answer.
                        Some(access::LimitRefusal::Unavailable) => {
                            responses.push(Response::error(
                                Some(request.id),
                                ErrorObject::internal(
                                    "the rate-limit store is unavailable; retry shortly",
                                ),
                            ));
                        }
                    }
                }
                Ok(Message::Notification(notification)) => {
                    if self.on_notification(notification, &route).await.is_err() {
                        return store_unavailable();
                    }
                }
                Ok(Message::Response { id, outcome }) => {
                    if self.on_client_answer(&id, outcome, &route).await.is_err() {
                        return store_unavailable();
                    }
                }
                Err((id, error)) => responses.push(Response::error(id, error)),
            }
        }
        if responses.is_empty() {
            HttpResponse::Accepted().finish()
        } else {
            json_response(&responses)
        }
    }

    /// GET and DELETE exist only for sessions: 405 for a stateless server or
    /// request, 400 for an unsupported version.
    fn refuse_sessionless(&self, req: &HttpRequest) -> Option<HttpResponse> {
        let header = version_header(req);
        if self.config.session_mode == SessionMode::Stateless
            || matches!(header, VersionHeader::Known(v) if v.is_stateless())
        {
            return Some(method_not_allowed("POST"));
        }
        match header {
            VersionHeader::Unsupported(requested) => Some(unsupported_version(None, &requested)),
            _ => None,
        }
    }

    async fn get(&self, req: &HttpRequest) -> HttpResponse {
        if let Some(refusal) = self.refuse_sessionless(req) {
            return refusal;
        }
        if !Accepts::of(req.headers()).sse {
            return refuse(
                StatusCode::NOT_ACCEPTABLE,
                jsonrpc::INVALID_REQUEST,
                "Accept must include text/event-stream",
            );
        }
        let session = match self.session_of(req).await {
            Ok(session) => session,
            Err(response) => return response,
        };
        let (tx, rx) = mpsc::channel::<OutgoingMessage>(64);
        {
            let Ok(mut slot) = session.standalone.lock() else {
                return refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    jsonrpc::INTERNAL_ERROR,
                    "session state unavailable",
                );
            };
            // A new stream replaces the old one: actix notices a vanished
            // client only on its next write, and a reconnecting client must
            // not wait for that. Dropping the old sender ends the old stream.
            *slot = Some(tx);
            if let Ok(mut opener) = session.stream_caller.lock() {
                *opener = bearer::caller_of(req);
            }
        }
        let keep_alive = self.config.sse_keep_alive;
        let sessions = Arc::clone(&self.sessions);
        let id = Arc::clone(&session.id);
        let stream = stream::unfold(
            (rx, tokio::time::interval(keep_alive)),
            move |(mut rx, mut tick)| {
                let sessions = Arc::clone(&sessions);
                let id = Arc::clone(&id);
                async move {
                    tokio::select! {
                        message = rx.recv() => message.map(|m| (Ok(sse::event(&m)), (rx, tick))),
                        _ = tick.tick() => {
                            // An open stream is use: it keeps the session
                            // alive. Once the session is gone (deleted or
                            // expired anywhere), or the store cannot say,
                            // the stream ends.
                            match sessions.touch(&id).await {
                                Ok(true) => Some((Ok(sse::keep_alive()), (rx, tick))),
                                Ok(false) | Err(_) => None,
                            }
                        }
                    }
                }
            },
        );
        sse_response(stream)
    }

    async fn delete(&self, req: &HttpRequest) -> HttpResponse {
        if let Some(refusal) = self.refuse_sessionless(req) {
            return refusal;
        }
        // Only the session's owner may end it; `session_of` checks that.
        let session = match self.session_of(req).await {
            Ok(session) => session,
            Err(response) => return response,
        };
        match self.sessions.remove(&session.id).await {
            Ok(true) => HttpResponse::NoContent().finish(),
            Ok(false) => refuse(
                StatusCode::NOT_FOUND,
                jsonrpc::INVALID_REQUEST,
                "session not found",
            ),
            Err(_) => store_unavailable(),
        }
    }
}

/// Continues the caller's trace from `_meta.traceparent` (the 2026-07-28
/// convention) when no header carried one. Spans already made for this
/// request (the token's verification) stay in the trace they began.
fn continue_trace_from_meta(params: Option<&RawValue>) {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, rename = "_meta")]
        meta: Option<Meta<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Meta<'a> {
        #[serde(borrow)]
        traceparent: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        tracestate: Option<std::borrow::Cow<'a, str>>,
    }
    let Some(params) = params else { return };
    if !params.get().contains("traceparent") {
        return;
    }
    if let Ok(Probe { meta: Some(meta) }) = serde_json::from_str::<Probe<'_>>(params.get())
        && let Some(parent) = meta.traceparent
    {
        crate::operations::telemetry::continue_trace(
            &tracing::Span::current(),
            &parent,
            meta.tracestate.as_deref(),
        );
    }
}

pub(crate) fn parse_message(
    body: &[u8],
) -> Result<Message, (Option<jsonrpc::RequestId>, ErrorObject)> {
    // UTF-8 checked once, in one pass: read from bytes, serde_json checks
    // each string, and the raw params again, as it goes.
    let Ok(body) = std::str::from_utf8(body) else {
        return Err((None, ErrorObject::parse_error("invalid JSON")));
    };
    match serde_json::from_str::<IncomingMessage>(body) {
        Ok(message) => message.classify(),
        Err(e) if e.is_syntax() || e.is_eof() => {
            Err((None, ErrorObject::parse_error("invalid JSON")))
        }
        Err(e) => Err((
            None,
            ErrorObject::invalid_request(format!(
                "not a JSON-RPC message: {}",
                describe_json_error(&e)
            )),
        )),
    }
}

async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Bytes, HttpResponse> {
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            jsonrpc::INVALID_REQUEST,
            format!("request body exceeds {limit} bytes"),
        )
    };
    // A declared size over the limit is refused before a byte is read.
    let declared = header_str(req, header::CONTENT_LENGTH).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let unreadable = || {
        refuse(
            StatusCode::BAD_REQUEST,
            jsonrpc::PARSE_ERROR,
            "could not read the request body",
        )
    };
    // Not `to_bytes_limited`: for a streamed body it reserves 32 KiB before
    // reading a byte, a large allocation per request. A body that arrives
    // in one chunk, as a small JSON-RPC message does, is kept as it came;
    // a longer one is gathered into a buffer of its declared size.
    let mut payload = payload.into_inner();
    let first = match payload.next().await {
        None => return Ok(Bytes::new()),
        Some(Err(_)) => return Err(unreadable()),
        Some(Ok(chunk)) if chunk.len() > limit => return Err(too_large()),
        Some(Ok(chunk)) => chunk,
    };
    let Some(second) = payload.next().await else {
        return Ok(first);
    };
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).max(first.len() * 2).min(limit));
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        let chunk = chunk.map_err(|_| unreadable())?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
        next = payload.next().await;
    }
    Ok(body.freeze())
}

/// Whatever a client posts, `parse_message` classifies it or refuses it
/// with a JSON-RPC parse or invalid-request error, never a panic.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::collection::{btree_map, vec};
    use proptest::prelude::*;
    use serde_json::Value;

    fn check(body: &[u8]) -> Result<(), TestCaseError> {
        match parse_message(body) {
            Ok(Message::Request(_) | Message::Notification(_) | Message::Response { .. }) => {}
            Err((_, error)) => {
                prop_assert!(
                    [jsonrpc::PARSE_ERROR, jsonrpc::INVALID_REQUEST].contains(&error.code),
                    "{error:?}"
                );
                prop_assert!(!error.message.is_empty());
                // The refusal itself is always sendable.
                prop_assert!(serde_json::to_vec(&error).is_ok());
            }
        }
        Ok(())
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            Just(Value::from("2.0")),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(Value::from),
                btree_map(any::<String>(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_are_classified_or_refused(body in vec(any::<u8>(), 0..512)) {
            check(&body)?;
        }

        /// Envelopes with the JSON-RPC members present or not, of any type.
        #[test]
        fn random_envelopes_are_classified_or_refused(
            members in btree_map(
                prop::sample::select(vec!["jsonrpc", "id", "method", "params", "result", "error", "x"]),
                json_value(),
                0..7,
            ),
            as_batch in any::<bool>(),
        ) {
            let message = Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
            let id_is_null = message.get("id") == Some(&Value::Null);
            let body = if as_batch { Value::from(vec![message]) } else { message };
            let bytes = serde_json::to_vec(&body).expect("JSON");
            check(&bytes)?;
            if id_is_null {
                prop_assert!(parse_message(&bytes).is_err(), "a null id is refused");
            }
        }
    }
}
