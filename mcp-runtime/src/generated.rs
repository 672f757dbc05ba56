//! What generated code calls: checks placed at the user's spans, with hints,
//! and small adapters. Reached only through `__private`.

use crate::auth::{AccessDenied, IntoOAuth, OAuth};
use crate::completion::CompletionRequest;
use crate::server::{BuildError, McpServer};
use crate::tools::CallToolResult;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use std::future::Future;

/// A future a tool may return: it must be `Send`, as tools run on a
/// multi-threaded runtime.
#[diagnostic::on_unimplemented(
    message = "the future returned by this MCP tool is not `Send`",
    label = "this tool's future cannot move between threads",
    note = "tools run on a multi-threaded runtime: do not hold an `Rc`, a `RefCell` borrow or a `std::sync::MutexGuard` across an `.await` (use `Arc` or `tokio::sync::Mutex`)"
)]
pub trait SendFuture: Future + Send {}
impl<F: Future + Send> SendFuture for F {}

/// Checks, at the return type's span, that a tool's future is `Send`.
pub fn assert_send<F: SendFuture>(future: F) -> F {
    future
}

/// A type that can be one argument of a tool.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an MCP tool argument",
    label = "arguments must implement `serde::Deserialize` and `schemars::JsonSchema`",
    note = "derive them: `#[derive(serde::Deserialize, schemars::JsonSchema)]` (the type must also be `Send + 'static`)",
    note = "mcp-runtime uses schemars 1 and serde 1: a `JsonSchema` derived with schemars 0.8 is another trait and does not count (`cargo tree -i schemars` shows which versions you have)"
)]
pub trait ToolArgument: DeserializeOwned + JsonSchema + Send + 'static {}
// Not recommended, so that a type missing a derive is reported with the
// message above instead of the list of every type that has one.
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + JsonSchema + Send + 'static> ToolArgument for T {}

/// Checks one argument's type at its span.
pub fn assert_argument<T: ToolArgument>() {}

/// A type that can be a tool's whole arguments object (`#[args]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the arguments object of an MCP tool",
    label = "`#[args]` needs a struct implementing `serde::Deserialize` and `schemars::JsonSchema`",
    note = "derive them: `#[derive(serde::Deserialize, schemars::JsonSchema)]` on a struct with named fields",
    note = "mcp-runtime uses schemars 1 and serde 1: a `JsonSchema` derived with schemars 0.8 is another trait and does not count (`cargo tree -i schemars` shows which versions you have)"
)]
pub trait ToolArguments: DeserializeOwned + JsonSchema + Send + 'static {}
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + JsonSchema + Send + 'static> ToolArguments for T {}

/// Checks a `#[args]` parameter's type at its span.
pub fn assert_arguments_object<T: ToolArguments>() {}

/// A type whose `impl` block is an `#[mcp_server]`: shared by every request.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an MCP server: it must be `Send + Sync + 'static`",
    label = "every request shares this value across threads",
    note = "keep shared state in `Arc`, `Mutex` or atomics; no `Rc`, `RefCell` or borrowed fields"
)]
pub trait ServerState: Send + Sync + 'static {}
impl<T: Send + Sync + 'static> ServerState for T {}

/// Checks the server type at its span.
pub fn assert_server_state<T: ServerState>() {}

/// The result of a tool that needs a caller, reached without one. The
/// endpoint refuses such calls first; this keeps the tool closed regardless.
pub fn unauthenticated() -> CallToolResult {
    CallToolResult::error(AccessDenied::Unauthenticated.to_string())
}

/// The error of a resource that needs a caller, read without one. The
/// endpoint refuses such reads first; this keeps the resource closed regardless.
pub fn resource_unauthenticated() -> crate::resources::ResourceError {
    crate::resources::ResourceError::with_code(
        crate::protocol::jsonrpc::INVALID_REQUEST,
        AccessDenied::Unauthenticated.to_string(),
    )
}

/// The error of a prompt that needs a caller, asked for without one (see
/// [`resource_unauthenticated`]).
pub fn prompt_unauthenticated() -> crate::prompts::PromptError {
    crate::prompts::PromptError::with_code(
        crate::protocol::jsonrpc::INVALID_REQUEST,
        AccessDenied::Unauthenticated.to_string(),
    )
}

/// A function named in `complete(<argument> = <function>)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot complete an MCP argument",
    label = "expected a function `fn(&CompletionRequest) -> Vec<String>`",
    note = "write `fn complete_it(request: &CompletionRequest) -> Vec<String>`; `mcp_runtime::completion::prefix_matches(candidates, request)` keeps the candidates that start with what the user typed"
)]
pub trait CompletionFn: Fn(&CompletionRequest) -> Vec<String> + Send + Sync + 'static {}
impl<F: Fn(&CompletionRequest) -> Vec<String> + Send + Sync + 'static> CompletionFn for F {}

/// Checks, at its path's span, that a completion function has the right
/// shape. The return type names no `F`, so a wrong one is reported once.
pub fn completion_fn<F: CompletionFn>(function: F) -> BoxedCompletionFn {
    Box::new(function)
}

/// A completion function, boxed by [`completion_fn`].
pub type BoxedCompletionFn = Box<dyn Fn(&CompletionRequest) -> Vec<String> + Send + Sync>;

/// `oauth = custom(<expr>)`.
pub fn oauth_custom(value: impl IntoOAuth) -> OAuth {
    value.into_oauth()
}

/// The generated `listen()`: a build error becomes an I/O error that names it.
pub async fn listen(server: Result<McpServer, BuildError>) -> std::io::Result<()> {
    match server {
        Ok(server) => server.listen().await,
        Err(error) => Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, error)),
    }
}

/// A required prompt argument, parsed with `FromStr`.
pub fn prompt_required<T: std::str::FromStr>(
    request: &crate::prompts::PromptRequest,
    name: &str,
) -> Result<T, crate::prompts::PromptError>
where
    T::Err: std::fmt::Display,
{
    prompt_optional(request, name)?.ok_or_else(|| {
        crate::prompts::PromptError::invalid(format!("missing prompt argument `{name}`"))
    })
}

/// An optional prompt argument, parsed with `FromStr`.
pub fn prompt_optional<T: std::str::FromStr>(
    request: &crate::prompts::PromptRequest,
    name: &str,
) -> Result<Option<T>, crate::prompts::PromptError>
where
    T::Err: std::fmt::Display,
{
    request
        .arg(name)
        .map(|raw| {
            raw.parse().map_err(|e| {
                crate::prompts::PromptError::invalid(format!("prompt argument `{name}`: {e}"))
            })
        })
        .transpose()
}
