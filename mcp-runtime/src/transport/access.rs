//! The endpoint's authentication mode, and the refusal of a tool call,
//! prompt or resource read the caller may not make, before any response or
//! SSE stream starts.

// Refusals are ready responses on cold paths; boxing them buys nothing.
#![allow(clippy::result_large_err)]

use crate::access::AccessRule;
use crate::auth::{AccessDenied, Auth, Refusal, ResourceServer};
use crate::protocol::jsonrpc::Request;
use crate::protocol::messages::CallToolParams;
use crate::server::ServerCore;
use crate::server::dispatch::parse_params;
use crate::tools::RegisteredTool;
use actix_web::HttpResponse;
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::Arc;

/// How the endpoint authenticates requests.
#[derive(Clone)]
pub(crate) enum AuthMode {
    /// Every request is anonymous.
    Open,
    /// Bearer tokens are required and verified.
    Protected(Arc<ResourceServer>),
    /// The OAuth configuration cannot be honoured: refuse everything.
    Broken,
}

/// What a denied call answers: 403 with the scopes the call needs (step-up),
/// or 401 when there is no caller at all.
pub(crate) fn refusal_for(denied: &AccessDenied, rule: &AccessRule) -> Refusal {
    let scopes = |extra: Option<&str>| {
        rule.scopes
            .iter()
            .map(|s| s.to_string())
            .chain(extra.map(str::to_owned))
            .collect::<Vec<_>>()
    };
    match denied {
        AccessDenied::Unauthenticated => Refusal::MissingToken,
        AccessDenied::MissingScopes(_) => Refusal::InsufficientScope {
            scopes: scopes(rule.any_scope.first().map(AsRef::as_ref)),
            message: denied.to_string(),
        },
        AccessDenied::NoneOfScopes(_) => Refusal::InsufficientScope {
            scopes: scopes(rule.any_scope.first().map(AsRef::as_ref)),
            message: denied.to_string(),
        },
        AccessDenied::MissingRoles(_)
        | AccessDenied::MissingPermissions(_)
        | AccessDenied::MachineCaller
        | AccessDenied::PersonCaller => Refusal::InsufficientScope {
            scopes: Vec::new(),
            message: denied.to_string(),
        },
    }
}

/// Refuses a `tools/call`, `prompts/get`, `resources/read`,
/// `resources/subscribe` or `completion/complete` the caller may not make,
/// before it runs: a completer answers under its prompt's or template's
/// access rule, as `prompts/get` and `resources/read` do. Where the server
/// hides what the caller may not use, a completion of a hidden item passes,
/// for the dispatcher to answer that it knows no such item. Other requests,
/// and unknown names or URIs (the dispatcher answers those), pass. A
/// `tools/call` passes with its params and the tool they name.
pub(crate) fn check_call(
    core: &ServerCore,
    request: &Request,
    caller: Option<&Auth>,
    hides_forbidden: bool,
) -> Result<Checked, Refusal> {
    #[derive(Deserialize)]
    struct Target<'a> {
        #[serde(borrow, default)]
        name: Option<Text<'a>>,
        #[serde(borrow, default)]
        uri: Option<Text<'a>>,
        /// `completion/complete`'s prompt or resource template.
        #[serde(borrow, default, rename = "ref")]
        reference: Option<CompletionTarget<'a>>,
    }
    /// Read as the dispatcher reads it, by its `type`, so the check and
    /// the completer always concern the same item.
    #[derive(Deserialize)]
    #[serde(tag = "type")]
    enum CompletionTarget<'a> {
        #[serde(rename = "ref/prompt")]
        Prompt {
            #[serde(borrow)]
            name: Cow<'a, str>,
        },
        #[serde(rename = "ref/resource")]
        Resource {
            #[serde(borrow)]
            uri: Cow<'a, str>,
        },
    }
    let check = |rule: &AccessRule| {
        rule.check(caller)
            .map_err(|denied| refusal_for(&denied, rule))
    };
    let method = request.method.as_str();
    if method == "tools/call" {
        // Read as the dispatcher reads them, and handed to it.
        let Ok(call) = parse_params::<CallToolParams>(request.params.as_deref()) else {
            return Ok(Checked::default());
        };
        let tool = core.tools.load().get(&call.name).cloned();
        if let Some(entry) = &tool {
            check(entry.tool.access())?;
        }
        return Ok(Checked {
            tool,
            call: Some(call),
        });
    }
    if !matches!(
        method,
        "prompts/get" | "resources/read" | "resources/subscribe" | "completion/complete"
    ) {
        return Ok(Checked::default());
    }
    let Some(target) = request
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str::<Target<'_>>(p.get()).ok())
    else {
        return Ok(Checked::default());
    };
    let (name, uri) = (target.name.map(|t| t.0), target.uri.map(|t| t.0));
    if method == "completion/complete" {
        let Some(reference) = target.reference else {
            return Ok(Checked::default());
        };
        if hides_forbidden {
            return Ok(Checked::default());
        }
        // Checked where the rule lives, as for the other methods below.
        let checked = match reference {
            CompletionTarget::Prompt { name } => core
                .prompts
                .load()
                .get(&name)
                .map_or(Ok(()), |p| check(p.access())),
            CompletionTarget::Resource { uri } => core
                .resources
                .load()
                .template(&uri)
                .map_or(Ok(()), |t| check(t.access())),
        };
        return checked.map(|()| Checked::default());
    }
    let checked = match (method, name, uri) {
        ("prompts/get", Some(name), _) => core
            .prompts
            .load()
            .get(&name)
            .map_or(Ok(()), |p| check(p.access())),
        (_, _, Some(uri)) if method.starts_with("resources/") => {
            core.resources.load().access_for(&uri).map_or(Ok(()), check)
        }
        _ => Ok(()),
    };
    checked.map(|()| Checked::default())
}

/// What passed [`check_call`]: for a `tools/call`, its params, and the
/// registered tool they name.
#[derive(Default)]
pub(crate) struct Checked {
    pub(crate) tool: Option<Arc<RegisteredTool>>,
    pub(crate) call: Option<CallToolParams>,
}

/// A string borrowed from the request where it has no escapes. Serde
/// borrows a `Cow<str>` field but not an `Option<Cow<str>>`, which it
/// always copies: an allocation per request for a name.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// A refusal as the endpoint answers it.
/// Counts a refusal made before a request ran, and writes its audit event
/// when no caller is known (a refused call's is [`decided`]'s). `tool` is a
/// registered tool's name, or empty.
pub(crate) fn count_refusal(refusal: &Refusal, tool: &str) {
    use crate::operations::{audit, metrics};
    let (status, reason, cause) = match refusal {
        Refusal::MissingToken => (401, "missing_token", ""),
        Refusal::InvalidRequest(_) => (401, "invalid_request", ""),
        Refusal::InvalidToken(why) => (401, "invalid_token", metrics::invalid_token_cause(why)),
        Refusal::InsufficientScope { .. } => (403, "insufficient_scope", ""),
        Refusal::Unavailable(_) => (503, "unavailable", ""),
    };
    metrics::refused(status, reason, cause, tool);
    if status != 403 {
        audit::authentication_refused(if cause.is_empty() { reason } else { cause }, status);
    }
}

/// The JSON-RPC code of a request refused for its caller's rate limit: the
/// protocol names none, so one of JSON-RPC's server-defined codes, with
/// HTTP 429 and `Retry-After` saying the rest.
pub(crate) const RATE_LIMITED: i64 = -32000;

/// Why a request is refused for its caller's rate limits.
pub(crate) enum LimitRefusal {
    /// Over a limit: the JSON-RPC error naming it, and when to retry.
    Limited {
        error: crate::protocol::ErrorObject,
        retry_after: u64,
    },
    /// The buckets cannot be reached: refused, never let through uncounted.
    Unavailable,
}

/// Refuses `request` if its caller is over the server's rate limit, or the
/// called tool's: 429 with `Retry-After` and a JSON-RPC error naming the
/// limit; 503 if the buckets cannot be reached. Counted and audited.
pub(crate) async fn over_limit(
    core: &ServerCore,
    req: &actix_web::HttpRequest,
    request: &Request,
    caller: Option<&Auth>,
) -> Option<HttpResponse> {
    match limit_refusal(core, req, request, caller).await? {
        LimitRefusal::Unavailable => Some(super::refusal::store_unavailable()),
        LimitRefusal::Limited { error, retry_after } => {
            let mut response = HttpResponse::TooManyRequests().json(
                crate::protocol::jsonrpc::Response::error(Some(request.id.clone()), error),
            );
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after),
            );
            Some(response)
        }
    }
}

/// Whether any rate limit is set: the server's, or a tool's.
pub(crate) fn limits_apply(core: &ServerCore) -> bool {
    core.limits.default.is_some() || core.tools.load().has_rate_limits()
}

/// Counts `request` against its caller's limits (the server's, and the
/// called tool's); why it is refused, if it is. Counted and audited.
pub(crate) async fn limit_refusal(
    core: &ServerCore,
    req: &actix_web::HttpRequest,
    request: &Request,
    caller: Option<&Auth>,
) -> Option<LimitRefusal> {
    use crate::server::limits::Verdict;
    if !limits_apply(core) {
        return None;
    }
    let registry = core.tools.load();
    let tool = (request.method == "tools/call")
        .then(|| named(request))
        .flatten()
        .and_then(|name| {
            let rate = registry.get(&name)?.tool.rate_limit()?;
            Some((name, rate))
        });
    let verdict = core
        .limits
        .check(
            req,
            caller,
            tool.as_ref().map(|(name, rate)| (name.as_str(), *rate)),
        )
        .await;
    let (limit, tool, retry_after) = match verdict {
        Verdict::Allowed => return None,
        Verdict::Unavailable => {
            crate::operations::metrics::refused(503, "rate_limit_unavailable", "", "");
            return Some(LimitRefusal::Unavailable);
        }
        Verdict::Limited {
            limit,
            tool,
            retry_after,
        } => (limit, tool, retry_after),
    };
    let seconds = (retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).max(1);
    let whose = tool
        .as_deref()
        .map_or_else(|| "this server".to_owned(), |tool| format!("tool `{tool}`"));
    crate::operations::metrics::refused(429, "rate_limited", "", tool.as_deref().unwrap_or(""));
    if tracing::enabled!(target: crate::operations::AUDIT_TARGET, tracing::Level::INFO) {
        crate::operations::audit::access(
            crate::operations::audit::Who {
                subject: caller.map(|c| c.user.user_id.as_str()),
                client_id: caller.and_then(|c| c.client_id.as_deref()),
            },
            &request.method,
            tool.as_deref().unwrap_or(""),
            "",
            "refused",
            Some("rate limited"),
        );
    }
    let error = crate::protocol::ErrorObject::new(
        RATE_LIMITED,
        format!(
            "rate limit exceeded: {whose} takes at most {limit} from one caller; retry in \
             {seconds} s"
        ),
    )
    .with_data(serde_json::json!({ "retryAfterSeconds": seconds, "limit": limit.to_string() }));
    Some(LimitRefusal::Limited {
        error,
        retry_after: seconds,
    })
}

/// A refusal in a word, for traces.
fn refusal_kind(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::MissingToken | Refusal::InvalidRequest(_) | Refusal::InvalidToken(_) => {
            "unauthorized"
        }
        Refusal::InsufficientScope { .. } => "insufficient_scope",
        Refusal::Unavailable(_) => "unavailable",
    }
}

/// The tool a `tools/call` names, read exactly as the dispatcher reads it
/// (an array of params included), so no shape of params reaches a tool
/// without its limit.
fn named(request: &Request) -> Option<String> {
    crate::server::dispatch::parse_params::<crate::protocol::messages::CallToolParams>(
        request.params.as_deref(),
    )
    .ok()
    .map(|params| params.name)
}

/// The methods whose calls are access decisions (each gets an audit event).
const DECIDED: [&str; 5] = [
    "tools/call",
    "prompts/get",
    "resources/read",
    "resources/subscribe",
    "completion/complete",
];

/// Longest target an audit event names (a client may send any name).
const MAX_AUDITED_TARGET: usize = 256;

/// Records the access decision on `request` by `caller`: allowed, refused
/// (and why), or a step-up asked (refused, naming scopes that would allow
/// it). An audit event when audit events are on; a refusal is also
/// counted, under its tool's name when the tool is registered.
pub(crate) fn decided(
    core: &ServerCore,
    request: &Request,
    caller: Option<&Auth>,
    refusal: Option<&Refusal>,
) {
    if DECIDED.contains(&request.method.as_str()) {
        let decision = match refusal {
            None => "allowed",
            Some(Refusal::InsufficientScope { scopes, .. }) if !scopes.is_empty() => "step_up",
            Some(_) => "refused",
        };
        if let Some(refusal) = refusal {
            tracing::Span::current().record("error.type", refusal_kind(refusal));
        }
        tracing::debug_span!("mcp.access", decision).in_scope(|| {});
    }
    let audited = tracing::enabled!(target: crate::operations::AUDIT_TARGET, tracing::Level::INFO);
    if (refusal.is_none() && !audited) || !DECIDED.contains(&request.method.as_str()) {
        return;
    }
    #[derive(Deserialize)]
    struct Named<'a> {
        #[serde(borrow, default)]
        name: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        uri: Option<Cow<'a, str>>,
    }
    let params = request.params.as_deref().map_or("{}", |p| p.get());
    let named: Named<'_> = serde_json::from_str(params).unwrap_or(Named {
        name: None,
        uri: None,
    });
    let target = named.name.or(named.uri).unwrap_or_default();
    if let Some(refusal) = refusal {
        let registered = request.method == "tools/call" && core.tools.load().get(&target).is_some();
        let tool = if registered { target.as_ref() } else { "" };
        count_refusal(refusal, tool);
    }
    if !audited {
        return;
    }
    let (decision, reason) = match refusal {
        None => ("allowed", None),
        Some(Refusal::InsufficientScope { scopes, message }) if !scopes.is_empty() => {
            ("step_up", Some(message.as_str()))
        }
        Some(Refusal::InsufficientScope { message, .. }) => ("refused", Some(message.as_str())),
        Some(Refusal::MissingToken) => ("refused", Some("no token")),
        Some(_) => ("refused", None),
    };
    let mut end = target.len().min(MAX_AUDITED_TARGET);
    while !target.is_char_boundary(end) {
        end -= 1;
    }
    let id = match &request.id {
        crate::protocol::RequestId::Number(n) => n.to_string(),
        crate::protocol::RequestId::String(s) => s.chars().take(MAX_AUDITED_TARGET).collect(),
    };
    crate::operations::audit::access(
        crate::operations::audit::Who {
            subject: caller.map(|c| c.user.user_id.as_str()),
            client_id: caller.and_then(|c| c.client_id.as_deref()),
        },
        &request.method,
        &target[..end],
        &id,
        decision,
        reason,
    );
}

pub(crate) fn refuse(refusal: &Refusal, mode: &AuthMode) -> HttpResponse {
    match mode {
        AuthMode::Protected(server) => refusal.response(&server.challenge),
        _ => refusal.response(&Default::default()),
    }
}
