//! Answers resources, prompts and completion requests, and agrees the
//! terms of `subscriptions/listen` streams.

use super::ServerCore;
use super::dispatch::{Invocation, RequestOrigin, parse_params, to_raw};
use super::session::{MAX_SUBSCRIBED_URI_BYTES, store_unavailable};
use crate::access::AccessRule;
use crate::completion::{CompletionRequest, MAX_COMPLETION_VALUES};
use crate::context::RequestContext;
use crate::paging::ListParams;
use crate::prompts::PromptRegistry;
use crate::protocol::REQUEST_CANCELLED;
use crate::protocol::jsonrpc::MISSING_CLIENT_CAPABILITY;
use crate::protocol::jsonrpc::Request;
use crate::protocol::messages::{ListenParams, RequestMeta, SubscriptionFilter};
use crate::protocol::tasks::{declares_tasks, tasks_capability_required};
use crate::protocol::{ErrorObject, HandlerError};
use crate::resources::{ResourceRegistry, ResourceRequest};
use crate::state::{MAX_SUBSCRIPTIONS_PER_SESSION, MAX_TASKS_PER_OWNER};
use futures_util::FutureExt as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

type Answer = Result<Box<RawValue>, ErrorObject>;

#[derive(Deserialize)]
struct UriParams {
    uri: String,
}

#[derive(Deserialize)]
struct ReadParams {
    uri: String,
    #[serde(rename = "_meta", default)]
    meta: Option<RequestMeta>,
    #[serde(rename = "inputResponses", default)]
    input_responses: Option<Value>,
    #[serde(rename = "requestState", default)]
    request_state: Option<String>,
}

#[derive(Deserialize)]
struct GetPromptParams {
    name: String,
    #[serde(default)]
    arguments: Option<HashMap<String, String>>,
    #[serde(rename = "_meta", default)]
    meta: Option<RequestMeta>,
    #[serde(rename = "inputResponses", default)]
    input_responses: Option<Value>,
    #[serde(rename = "requestState", default)]
    request_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum CompletionRef {
    #[serde(rename = "ref/prompt")]
    Prompt { name: String },
    #[serde(rename = "ref/resource")]
    Resource { uri: String },
}

#[derive(Deserialize)]
struct CompletionArgument {
    name: String,
    value: String,
}

#[derive(Deserialize, Default)]
struct CompletionContext {
    #[serde(default)]
    arguments: HashMap<String, String>,
}

#[derive(Deserialize)]
struct CompleteParams {
    #[serde(rename = "ref")]
    reference: CompletionRef,
    argument: CompletionArgument,
    #[serde(default)]
    context: Option<CompletionContext>,
}

/// The dispatcher's own check (the endpoint refuses with 401/403 first):
/// catches any path that reaches a handler without that check, failing closed.
fn guard(rule: &AccessRule, origin: &RequestOrigin, what: &str) -> Result<(), ErrorObject> {
    rule.check(origin.caller.as_deref())
        .map_err(|denied| ErrorObject::invalid_request(format!("{what} refused: {denied}")))
}

impl ServerCore {
    /// Whether the caller of `origin` may follow `uri`: its resource's
    /// access rule allows them (a URI no resource serves yet has none).
    pub(crate) fn may_follow_resource(&self, uri: &str, origin: &RequestOrigin) -> bool {
        self.resources
            .load()
            .access_for(uri)
            .is_none_or(|rule| guard(rule, origin, "").is_ok())
    }

    /// Answers the resources, prompts and completion methods; `None` for other methods.
    pub(crate) async fn answer_feature(
        &self,
        request: Request,
        origin: RequestOrigin,
    ) -> Option<Answer> {
        let params = request.params.as_deref();
        let keep = |rule: &AccessRule| {
            !origin.hide_forbidden_tools || rule.check(origin.caller.as_deref()).is_ok()
        };
        // Snapshots: a resource or prompt added meanwhile is seen by the next request.
        let resources = self.resources.load_full();
        let prompts = self.prompts.load_full();
        let no_resources = resources.is_empty();
        let no_prompts = prompts.is_empty();
        let method = request.method.as_str();
        Some(match method {
            m if m.starts_with("resources/") && no_resources => {
                Err(ErrorObject::method_not_found(m))
            }
            m if m.starts_with("prompts/") && no_prompts => Err(ErrorObject::method_not_found(m)),
            "completion/complete" if no_prompts && resources.templates.is_empty() => {
                Err(ErrorObject::method_not_found(method))
            }
            "resources/list" => parse_params::<ListParams>(params).and_then(|p| {
                let page = resources.list_page(p.cursor.as_deref(), self.page_size, keep)?;
                to_raw(&page)
            }),
            "resources/templates/list" => parse_params::<ListParams>(params).and_then(|p| {
                let page = resources.template_page(p.cursor.as_deref(), self.page_size, keep)?;
                to_raw(&page)
            }),
            "resources/read" => self.read_resource(&resources, &request, origin).await,
            "resources/subscribe" | "resources/unsubscribe" => {
                self.subscribe(&resources, params, method == "resources/subscribe", &origin)
                    .await
            }
            "prompts/list" => parse_params::<ListParams>(params).and_then(|p| {
                let page = prompts.list_page(p.cursor.as_deref(), self.page_size, keep)?;
                to_raw(&page)
            }),
            "prompts/get" => self.get_prompt(&prompts, &request, origin).await,
            "completion/complete" => {
                parse_params(params).and_then(|p| complete(&resources, &prompts, p, &origin, &keep))
            }
            _ => return None,
        })
    }

    /// `resources/subscribe` (or, with `on` false, `unsubscribe`), recorded
    /// in the session's shared state.
    async fn subscribe(
        &self,
        resources: &ResourceRegistry,
        params: Option<&RawValue>,
        on: bool,
        origin: &RequestOrigin,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let UriParams { uri } = parse_params::<UriParams>(params)?;
        if let Some(rule) = resources.access_for(&uri) {
            guard(rule, origin, &format!("resource `{uri}`"))?;
        }
        if on && uri.len() > MAX_SUBSCRIBED_URI_BYTES {
            return Err(ErrorObject::invalid_params(format!(
                "a subscribed URI is at most {MAX_SUBSCRIBED_URI_BYTES} bytes"
            )));
        }
        if let Some(session) = &origin.session {
            match session.subscribe(&uri, on).await {
                Ok(Ok(())) => {}
                Ok(Err(most)) => {
                    return Err(ErrorObject::invalid_request(format!(
                        "this session already follows {most} resources, the most it \
                         may; unsubscribe from one first"
                    )));
                }
                Err(_) => return Err(store_unavailable()),
            }
        }
        to_raw(&json!({}))
    }

    async fn read_resource(
        &self,
        resources: &ResourceRegistry,
        request: &Request,
        origin: RequestOrigin,
    ) -> Answer {
        let params: ReadParams = parse_params(request.params.as_deref())?;
        let Some(found) = resources.find(&params.uri) else {
            return Err(
                ErrorObject::invalid_params(format!("resource not found: {}", params.uri))
                    .with_data(json!({ "uri": params.uri })),
            );
        };
        guard(
            &found.common.access,
            &origin,
            &format!("resource `{}`", params.uri),
        )?;
        let invocation = Invocation {
            id: &request.id,
            method: "resources/read",
            target: &params.uri,
            progress_token: params.meta.and_then(|m| m.progress_token),
            input_responses: params.input_responses,
            request_state: params.request_state.as_deref(),
        };
        let prepared = self.prepare(invocation, origin)?;
        let ctx = prepared.ctx.clone();
        let handler = Arc::clone(&found.common.handler);
        let req = ResourceRequest {
            uri: params.uri.clone(),
            mime_type: found.common.mime_type.as_deref().map(str::to_owned),
            params: found.params,
            context: ctx.clone(),
        };
        let outcome = run(&ctx, &params.uri, async move { handler(req).await }).await?;
        if let Some(concluded) = self.conclude(&prepared) {
            return concluded;
        }
        let contents = outcome.map_err(HandlerError::into_error_object)?;
        to_raw(&json!({ "contents": contents }))
    }

    async fn get_prompt(
        &self,
        prompts: &PromptRegistry,
        request: &Request,
        origin: RequestOrigin,
    ) -> Answer {
        let params: GetPromptParams = parse_params(request.params.as_deref())?;
        let Some(prompt) = prompts.get(&params.name) else {
            return Err(ErrorObject::invalid_params(format!(
                "unknown prompt: {}",
                params.name
            )));
        };
        guard(
            &prompt.access,
            &origin,
            &format!("prompt `{}`", params.name),
        )?;
        let arguments = params.arguments.unwrap_or_default();
        let missing: Vec<&str> = prompt
            .arguments
            .iter()
            .filter(|a| a.required && !arguments.contains_key(&a.name))
            .map(|a| a.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(ErrorObject::invalid_params(format!(
                "prompt `{}` needs the arguments: {}",
                params.name,
                missing.join(", ")
            )));
        }
        let invocation = Invocation {
            id: &request.id,
            method: "prompts/get",
            target: &params.name,
            progress_token: params.meta.and_then(|m| m.progress_token),
            input_responses: params.input_responses,
            request_state: params.request_state.as_deref(),
        };
        let prepared = self.prepare(invocation, origin)?;
        let ctx = prepared.ctx.clone();
        let handler = Arc::clone(&prompt.handler);
        let req = crate::prompts::PromptRequest {
            arguments,
            context: ctx.clone(),
        };
        let outcome = run(&ctx, &params.name, async move { handler(req).await }).await?;
        if let Some(concluded) = self.conclude(&prepared) {
            return concluded;
        }
        let result = outcome.map_err(HandlerError::into_error_object)?;
        to_raw(&result)
    }
}

/// Answers `completion/complete` from the completer the prompt or template names.
/// Answers `completion/complete` under the access rule of the prompt or
/// resource template it completes: an item the caller may not see is
/// unknown, one it may see but not use is refused, as `prompts/get` is.
fn complete(
    resources: &ResourceRegistry,
    prompts: &PromptRegistry,
    params: CompleteParams,
    origin: &RequestOrigin,
    keep: &dyn Fn(&AccessRule) -> bool,
) -> Answer {
    let (what, unknown, found) = match &params.reference {
        CompletionRef::Prompt { name } => (
            format!("prompt `{name}`"),
            format!("unknown prompt: {name}"),
            prompts.get(name).map(|p| (p.access(), &p.completers)),
        ),
        CompletionRef::Resource { uri } => (
            format!("resource template `{uri}`"),
            format!("unknown resource template: {uri}"),
            resources.template(uri).map(|t| (t.access(), &t.completers)),
        ),
    };
    // A hidden item is as unknown as a missing one.
    let Some((access, completers)) = found.filter(|(access, _)| keep(access)) else {
        return Err(ErrorObject::invalid_params(unknown));
    };
    guard(access, origin, &what)?;
    let completer = completers.get(&params.argument.name);
    let request = CompletionRequest {
        argument: params.argument.name,
        value: params.argument.value,
        context: params.context.unwrap_or_default().arguments,
    };
    let mut values = completer.map(|c| c(&request)).unwrap_or_default();
    let total = values.len();
    values.truncate(MAX_COMPLETION_VALUES);
    to_raw(&json!({
        "completion": {
            "values": values,
            "total": total,
            "hasMore": total > MAX_COMPLETION_VALUES,
        }
    }))
}

/// Runs a handler, answering a panic as an internal error and a
/// cancellation as [`REQUEST_CANCELLED`].
async fn run<T>(
    ctx: &RequestContext,
    what: &str,
    fut: impl Future<Output = T> + Send,
) -> Result<T, ErrorObject> {
    // Cancellation first: see `call_tool`.
    tokio::select! {
        biased;
        () = ctx.cancellation().cancelled() => {
            Err(ErrorObject::new(REQUEST_CANCELLED, "request cancelled"))
        }
        outcome = AssertUnwindSafe(fut).catch_unwind() => outcome.map_err(|_| {
            tracing::error!(%what, "handler panicked");
            ErrorObject::internal(format!("`{what}` failed with an internal error"))
        }),
    }
}

impl ServerCore {
    /// What a `subscriptions/listen` with `params` from `origin` gets: the
    /// notifications this server sends, of those asked for, to this caller.
    /// Resources they may not read and tasks that are not theirs are left
    /// out, as unknown ones are; too long a list is refused.
    pub(crate) async fn agree_listen(
        &self,
        params: Option<&serde_json::value::RawValue>,
        origin: &RequestOrigin,
    ) -> Result<SubscriptionFilter, ErrorObject> {
        let ListenParams {
            notifications: asked,
        } = parse_params(params)?;
        if asked.resource_subscriptions.len() > MAX_SUBSCRIPTIONS_PER_SESSION {
            return Err(ErrorObject::invalid_params(format!(
                "a stream follows at most {MAX_SUBSCRIPTIONS_PER_SESSION} resources"
            )));
        }
        if asked
            .resource_subscriptions
            .iter()
            .any(|uri| uri.len() > MAX_SUBSCRIBED_URI_BYTES)
        {
            return Err(ErrorObject::invalid_params(format!(
                "a subscribed URI is at most {MAX_SUBSCRIBED_URI_BYTES} bytes"
            )));
        }
        if asked.task_ids.len() > MAX_TASKS_PER_OWNER {
            return Err(ErrorObject::invalid_params(format!(
                "a stream follows at most {MAX_TASKS_PER_OWNER} tasks, as many as a caller holds"
            )));
        }
        if !asked.task_ids.is_empty() && !declares_tasks(&origin.client_capabilities) {
            return Err(ErrorObject::new(
                MISSING_CLIENT_CAPABILITY,
                "task notifications need the io.modelcontextprotocol/tasks extension in the \
                 client's capabilities",
            )
            .with_data(tasks_capability_required()));
        }
        let resources = self.capabilities.resources.is_some();
        let tasks = self.followable_tasks(&asked.task_ids, origin).await?;
        let mut seen = std::collections::HashSet::new();
        let mut uris: Vec<String> = Vec::new();
        for uri in asked.resource_subscriptions {
            if resources && !seen.contains(&uri) && self.may_follow_resource(&uri, origin) {
                seen.insert(uri.clone());
                uris.push(uri);
            }
        }
        Ok(SubscriptionFilter {
            tools_list_changed: asked.tools_list_changed,
            prompts_list_changed: asked.prompts_list_changed && self.capabilities.prompts.is_some(),
            resources_list_changed: asked.resources_list_changed && resources,
            resource_subscriptions: uris,
            task_ids: tasks,
        })
    }
}
