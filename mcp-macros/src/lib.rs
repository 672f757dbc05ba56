//! Attribute macros for `mcp-runtime`. Use them through `mcp_runtime`, which
//! re-exports them; generated code refers to `::mcp_runtime` by absolute path.
//!
//! One pipeline for every item kind, as in serde_derive and thiserror: `attr`
//! and `ast` parse a tool, resource, prompt or server into one typed model,
//! `valid` checks it, `expand` generates code (`#[main]`, a plain function,
//! goes through the same three steps). Every error carries a span; on
//! error the user's item is still emitted, with `fallback` stubs of what
//! would have been generated, so one mistake is reported once.

mod ast;
mod attr;
mod ctxt;
mod docs;
mod expand;
mod fallback;
mod valid;

use attr::Kind;
use proc_macro::TokenStream;

/// Turns an `async fn` into an MCP tool.
///
/// On a free function, the function becomes a value you register with
/// `McpServer::builder(..).tool(my_tool)`, and stays callable as
/// `my_tool::call(..)`. Inside an `#[mcp_server]` block, methods stay methods.
///
/// Keys: `name`, `title`, `description` (default: the doc comment), `scopes`
/// (all required), `any_scope` (one required), `roles`, `permissions`,
/// `client_capabilities`, the hints `read_only`, `destructive`, `idempotent`,
/// `open_world`, and `describe_access = false` to keep requirements out of the
/// description. See the `mcp_runtime` crate documentation for parameters.
#[proc_macro_attribute]
pub fn mcp_tool(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::free_item(Kind::Tool, args.into(), input.into()).into()
}

/// Makes an `impl` block an MCP server: every `#[mcp_tool]` method becomes a
/// tool, and the type gains `into_mcp_builder`, `into_mcp_server` and `listen`.
///
/// Keys: `name`, `version` (default: the crate's), `title`, `instructions`,
/// `oauth = auth0 | workos | supabase | keycloak | oidc | okta | entra | cognito | zitadel | clerk | descope | better_auth | scalekit | google | github | custom(<verifier>) | dev | none`.
#[proc_macro_attribute]
pub fn mcp_server(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::server(args.into(), input.into()).into()
}

/// Serves an `async fn` as an MCP resource (or resource template).
///
/// Inside an `#[mcp_server]` block, methods stay methods. On a free function,
/// the function becomes a unit struct of the same name that implements
/// `IntoResource` (fixed URI) or `IntoResourceTemplate` (URI with
/// `{variables}`), and stays callable as `my_fn::call(..)`.
///
/// Keys: `uri` (required; `{name}` variables make it a template, each one a
/// parameter of the function, parsed with `FromStr`; `#[arg(rename = "id")]`
/// on a parameter names the variable it takes), `name`, `title`,
/// `description` (default: the doc comment), `mime_type`, the access keys
/// `scopes`, `any_scope`, `roles`, `permissions`, and for templates
/// `complete(<variable> = <function>, ...)`, naming a
/// `fn(&CompletionRequest) -> Vec<String>` (a path such as `complete_id` or
/// `Self::complete_id`) that answers `completion/complete` for that variable.
///
/// The function may also take the caller, `&Auth` (required: a request
/// without one is refused before it runs) or `Option<&Auth>` (anonymous
/// allowed), and `&RequestContext`. It returns text, `Blob`,
/// `ResourceContents` or a `Result` of those with `ResourceError` (in the
/// prelude): `ResourceError::not_found(uri)` for a resource that does not
/// exist, and any other error through `?`, answered as an internal error
/// with its message. See the `mcp_runtime` crate documentation for an example.
#[proc_macro_attribute]
pub fn mcp_resource(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::free_item(Kind::Resource, args.into(), input.into()).into()
}

/// Serves an `async fn` as an MCP prompt.
///
/// Inside an `#[mcp_server]` block, methods stay methods. On a free function,
/// the function becomes a unit struct of the same name that implements
/// `IntoPrompt`, and stays callable as `my_fn::call(..)`.
///
/// Keys: `name` (default: the function's), `title`, `description` (default:
/// the doc comment), `scopes`, `any_scope`, `roles`, `permissions`, and
/// `complete(<argument> = <function>, ...)`, naming a
/// `fn(&CompletionRequest) -> Vec<String>` that answers
/// `completion/complete` for that argument. Each parameter is an argument
/// (`Option<T>` = optional; its doc comment or `#[arg(description = "...")]`
/// describes it, `#[arg(rename = "...")]` gives it another name), parsed with
/// `FromStr`, except the caller (`&Auth` or
/// `Option<&Auth>`, as on tools) and `&RequestContext`. It returns text,
/// messages, or a `Result` of those with `PromptError` (in the prelude; any
/// error converts into it through `?`, answered as an internal error).
#[proc_macro_attribute]
pub fn mcp_prompt(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::free_item(Kind::Prompt, args.into(), input.into()).into()
}

/// Runs an `async fn main` on the runtime the server is served on, so a
/// crate that only serves MCP depends on `mcp-runtime` alone: write
/// `#[mcp_runtime::main] async fn main() -> std::io::Result<()>` and, inside,
/// `MyServer.listen().await` (the `mcp_runtime` crate documentation has the
/// whole program).
///
/// The same as `#[actix_web::main]`, which still works where the crate
/// depends on actix-web itself. Takes no keys.
#[proc_macro_attribute]
pub fn main(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::main_fn(args.into(), input.into()).into()
}
