//! Compile-time rules. One function per rule, each with the reason it exists.

use crate::ast::{ParamKind, Receiver, ServerImpl, ToolFn, is_named, option_inner};
use crate::attr::{OAuthChoice, StrList};
use crate::ctxt::Ctxt;
use std::collections::HashMap;
use syn::Type;

/// Every rule about one tool.
pub(crate) fn check_tool(cx: &mut Ctxt, tool: &ToolFn) {
    check_async(cx, tool);
    check_unsafe(cx, tool);
    check_output(cx, tool);
    check_generics(cx, tool);
    check_receiver(cx, tool);
    check_name(cx, tool);
    check_lists(cx, tool);
    check_flags(cx, tool);
    check_params(cx, tool);
}

/// Every rule about a server block, its tools included.
pub(crate) fn check_server(cx: &mut Ctxt, server: &ServerImpl) {
    check_server_shape(cx, server);
    check_reserved_names(cx, server);
    for tool in &server.tools {
        check_tool(cx, tool);
    }
    check_duplicate_names(cx, server);
    check_reachable(cx, server);
}

/// Tools are awaited by the runtime; a blocking body would stall a worker.
fn check_async(cx: &mut Ctxt, tool: &ToolFn) {
    if let Err(fn_span) = tool.asyncness {
        cx.error_at(
            fn_span,
            format!(
                "an MCP tool must be an `async fn`; write `async fn {}(...)`",
                tool.ident
            ),
        );
    }
}

/// Generated code calls the tool from safe code, with arguments a client chose.
fn check_unsafe(cx: &mut Ctxt, tool: &ToolFn) {
    if let Some(unsafety) = &tool.unsafety {
        cx.error_spanned_by(
            unsafety,
            "an MCP tool cannot be an `unsafe fn`: clients call it with arguments of their \
             choosing; remove `unsafe` and put the unsafe code in an `unsafe { ... }` block \
             inside, where you can check its requirements",
        );
    }
}

/// The runtime names the return type to publish its output schema, and sends
/// the result after the call has ended, so it cannot borrow from the call.
fn check_output(cx: &mut Ctxt, tool: &ToolFn) {
    let Some(output) = &tool.output else { return };
    if contains_impl_trait(output) {
        cx.error_spanned_by(
            output,
            "an MCP tool's return type must be named: write a concrete type such as `String` \
             or `Json<MyOutput>` instead of `impl Trait`",
        );
    } else if let Type::Reference(r) = output
        && r.lifetime.as_ref().is_none_or(|l| l.ident != "static")
    {
        let message = if is_named(&r.elem, "str") {
            "a tool's result outlives the call: return `String` instead of `&str` (or a \
             `&'static str`)"
        } else {
            "a tool's result outlives the call: return an owned value, without the `&`"
        };
        cx.error_spanned_by(output, message);
    }
}

/// Whether `impl Trait` appears anywhere in `ty`.
fn contains_impl_trait(ty: &Type) -> bool {
    fn scan(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|token| match token {
            proc_macro2::TokenTree::Ident(ident) => ident == "impl",
            proc_macro2::TokenTree::Group(group) => scan(group.stream()),
            _ => false,
        })
    }
    scan(quote::ToTokens::to_token_stream(ty))
}

/// The argument schema is fixed when the server is built, so no type parameters.
fn check_generics(cx: &mut Ctxt, tool: &ToolFn) {
    if let Some(generics) = &tool.generics {
        cx.error_spanned_by(
            generics,
            "an MCP tool cannot be generic: its JSON Schema is fixed when the server is built; \
             use concrete types",
        );
    }
}

/// Calls run concurrently against one shared server value.
fn check_receiver(cx: &mut Ctxt, tool: &ToolFn) {
    if let Receiver::Unsupported(receiver) = &tool.receiver {
        cx.error_spanned_by(
            receiver,
            "tools run concurrently on one shared server: take `&self` (keep mutable state \
             behind a `Mutex` or an atomic)",
        );
    }
}

/// MCP tool names are 1-128 characters of `A-Za-z0-9_.-`.
fn check_name(cx: &mut Ctxt, tool: &ToolFn) {
    let name = tool.name().value();
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        let shown: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .take(128)
            .collect();
        let hint = if name.is_empty() {
            "write a name such as `name = \"get-user\"`".to_owned()
        } else if name.chars().count() > 128 {
            format!(
                "this one is {} characters long; shorten it, for example to `name = \"{shown}\"`",
                name.chars().count()
            )
        } else {
            format!("for example `name = \"{shown}\"`")
        };
        let shown_name = if name.is_empty() {
            "(empty)".to_owned()
        } else {
            format!("`{name}`")
        };
        cx.error_at(
            tool.name_span(),
            format!(
                "invalid tool name {shown_name}: a tool name is 1 to 128 characters of \
                 `A-Z a-z 0-9 _ . -`; {hint}"
            ),
        );
    }
}

/// Scopes are RFC 6749 scope-tokens; every list names at least one entry, once.
fn check_lists(cx: &mut Ctxt, tool: &ToolFn) {
    let a = &tool.attrs;
    let capabilities = ("client_capabilities", &a.client_capabilities);
    for (key, list) in a.access.slots().into_iter().chain([capabilities]) {
        if let Some(list) = list.get() {
            check_access_list(cx, key, list);
        }
    }
}

/// Tracks the parameters that may appear once: the caller and the request
/// context, for tools, resources and prompts alike.
#[derive(Default)]
pub(crate) struct OnceEach {
    auth: bool,
    context: bool,
}

impl OnceEach {
    /// Reports a parameter of `kind` and type `ty` if it is a second
    /// caller or a second context.
    pub(crate) fn note(&mut self, cx: &mut Ctxt, kind: &ParamKind, ty: &Type) {
        let (seen, message) = match kind {
            ParamKind::Auth { .. } => (
                &mut self.auth,
                "the caller is already a parameter; take `&Auth` once",
            ),
            ParamKind::Context { .. } => (
                &mut self.context,
                "the request context is already a parameter; take it once",
            ),
            ParamKind::Argument | ParamKind::WholeArgs => return,
        };
        if std::mem::replace(seen, true) {
            cx.error_spanned_by(ty, message);
        }
    }
}

/// One list of an access key (`scopes`, `roles`, ...) of a tool, resource
/// or prompt: scopes are scope-tokens, other entries non-empty names.
pub(crate) fn check_access_list(cx: &mut Ctxt, key: &str, list: &StrList) {
    if matches!(key, "scopes" | "any_scope") {
        check_list(cx, key, list, check_scope_token);
    } else {
        check_list(cx, key, list, |value| {
            if value.trim().is_empty() {
                Some(format!("empty entry in `{key}`; write a name"))
            } else {
                None
            }
        });
    }
}

fn check_list(
    cx: &mut Ctxt,
    key: &str,
    list: &StrList,
    check_item: impl Fn(&str) -> Option<String>,
) {
    if list.items.is_empty() {
        cx.error_at(
            list.span,
            format!("`{key}` is empty; name at least one, or remove the key"),
        );
    }
    let mut seen = Vec::new();
    for item in &list.items {
        let value = item.value();
        if let Some(message) = check_item(&value) {
            cx.error_spanned_by(item, message);
        } else if seen.contains(&value) {
            cx.error_spanned_by(item, format!("`{value}` is listed twice in `{key}`"));
        }
        seen.push(value);
    }
}

/// RFC 6749 section 3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn check_scope_token(scope: &str) -> Option<String> {
    if scope.is_empty() {
        return Some("empty scope; write a scope name such as \"tasks:read\"".to_owned());
    }
    if scope.contains(' ') {
        let parts: Vec<String> = scope
            .split_whitespace()
            .map(|s| format!("\"{s}\""))
            .collect();
        return Some(format!(
            "a scope cannot contain spaces; to require several, list them: `[{}]`",
            parts.join(", ")
        ));
    }
    let bad = scope
        .chars()
        .find(|c| !matches!(*c as u32, 0x21 | 0x23..=0x5B | 0x5D..=0x7E));
    bad.map(|c| {
        format!(
            "invalid character {c:?} in scope `{scope}`: a scope is printable ASCII \
             without spaces, quotes or backslashes (RFC 6749)"
        )
    })
}

/// A read-only tool changes nothing, so it cannot also be destructive.
fn check_flags(cx: &mut Ctxt, tool: &ToolFn) {
    let a = &tool.attrs;
    if a.read_only.get() == Some(&true)
        && a.destructive.get() == Some(&true)
        && let Some(span) = a.destructive.span()
    {
        cx.error_at(
            span,
            "`destructive` contradicts `read_only`: a read-only tool changes nothing; remove one",
        );
    }
}

/// Parameters are arguments (owned, named), the caller, or the context, each once.
fn check_params(cx: &mut Ctxt, tool: &ToolFn) {
    let mut once = OnceEach::default();
    let mut whole_args = None;
    let mut properties: HashMap<String, ()> = HashMap::new();
    for param in &tool.params {
        if let Some(arg_attr) = &param.attrs.arg_attr {
            let message = match param.kind {
                ParamKind::Argument => None,
                ParamKind::WholeArgs => Some(
                    "`#[arg(...)]` describes one argument, but `#[args]` takes the whole \
                     arguments object: remove `#[arg(...)]`, and describe the fields with doc \
                     comments (or `#[serde(rename)]`) on the struct itself",
                ),
                ParamKind::Auth { .. } => Some(
                    "`#[arg(...)]` describes an argument the client sends, but the caller comes \
                     from the access token: remove `#[arg(...)]`",
                ),
                ParamKind::Context { .. } => Some(
                    "`#[arg(...)]` describes an argument the client sends, but the request \
                     context comes from the runtime: remove `#[arg(...)]`",
                ),
            };
            if let Some(message) = message {
                cx.error_spanned_by(arg_attr, message);
            }
        }
        once.note(cx, &param.kind, &param.ty);
        match param.kind {
            ParamKind::Auth { .. } | ParamKind::Context { .. } => {}
            ParamKind::WholeArgs => {
                if whole_args.replace(&param.pat).is_some() {
                    cx.error_spanned_by(
                        &param.pat,
                        "only one parameter can be `#[args]`: it is the whole arguments \
                         object; put every argument in that one struct",
                    );
                }
            }
            ParamKind::Argument => {
                check_argument_type(cx, &param.ty);
                if let Some(rename) = &param.attrs.arg.rename
                    && rename.value().trim().is_empty()
                {
                    cx.error_spanned_by(
                        rename,
                        "empty argument name; write the name clients send, such as \
                         `rename = \"userId\"`, or remove `rename`",
                    );
                }
                if param.ident().is_none() {
                    cx.error_spanned_by(
                        &param.pat,
                        "name this parameter (`name: Type`): its name becomes the argument's \
                         name in the schema",
                    );
                }
                if let Some(property) = param.property_name()
                    && properties.insert(property.value(), ()).is_some()
                {
                    cx.error_spanned_by(
                        &param.pat,
                        format!(
                            "two arguments are called `{}`; rename one with \
                             `#[arg(rename = \"...\")]`",
                            property.value()
                        ),
                    );
                }
            }
        }
    }
    if whole_args.is_some() {
        for param in &tool.params {
            if matches!(param.kind, ParamKind::Argument) {
                cx.error_spanned_by(
                    &param.pat,
                    "`#[args]` already takes the whole arguments object; move this argument \
                     into that struct as a field",
                );
            }
        }
    }
}

/// Arguments are deserialized from JSON into owned values.
fn check_argument_type(cx: &mut Ctxt, ty: &Type) {
    match ty {
        Type::Reference(r) => {
            let message = if is_named(&r.elem, "str") {
                "tool arguments are deserialized into owned values: write `String` instead of `&str`"
                    .to_owned()
            } else if is_named(&r.elem, "Auth") || is_named(&r.elem, "RequestContext") {
                "take it by shared reference: remove `mut`".to_owned()
            } else {
                "tool arguments are deserialized into owned values: drop the `&` and take the \
                 value"
                    .to_owned()
            };
            cx.error_spanned_by(ty, message);
        }
        _ if contains_impl_trait(ty) => cx.error_spanned_by(
            ty,
            "`impl Trait` cannot be deserialized: name a concrete type",
        ),
        _ => {
            if let Some(message) = caller_or_context_misuse(ty) {
                cx.error_spanned_by(ty, message);
            }
        }
    }
}

/// What is wrong with `ty` if it is a misspelt way to take the caller or the
/// request context (`Auth` by value, `Option<Auth>`, `Option<RequestContext>`).
pub(crate) fn caller_or_context_misuse(ty: &Type) -> Option<&'static str> {
    if let Type::Reference(r) = ty
        && r.mutability.is_some()
        && (is_named(&r.elem, "Auth") || is_named(&r.elem, "RequestContext"))
    {
        return Some("take it by shared reference: remove `mut`");
    }
    if is_named(ty, "Auth") {
        return Some("take the caller by reference: `auth: &Auth` (or `Option<&Auth>`)");
    }
    let inner = option_inner(ty).map(|inner| match inner {
        Type::Reference(r) => &*r.elem,
        other => other,
    });
    if inner.is_some_and(|t| is_named(t, "Auth")) {
        Some("take the optional caller by shared reference: `auth: Option<&Auth>`")
    } else if inner.is_some_and(|t| is_named(t, "RequestContext")) {
        Some(
            "the request context is always there: take `ctx: RequestContext` (or \
             `&RequestContext`), without `Option`",
        )
    } else {
        None
    }
}

/// Tools are built once per server type, from `&self` of one concrete value.
fn check_server_shape(cx: &mut Ctxt, server: &ServerImpl) {
    if let Some(generics) = &server.generics {
        cx.error_spanned_by(
            generics,
            "`#[mcp_server]` cannot be used on a generic `impl`: put it on an `impl` of a \
             concrete type",
        );
    }
    if let Some(path) = &server.trait_ {
        cx.error_spanned_by(
            path,
            "`#[mcp_server]` goes on an inherent `impl` block (`impl MyServer { ... }`), not \
             on a trait implementation",
        );
    }
}

/// The generated `into_mcp_builder`, `into_mcp_server` and `listen` would clash
/// with functions of the same name in the block.
fn check_reserved_names(cx: &mut Ctxt, server: &ServerImpl) {
    for ident in &server.fn_names {
        if RESERVED_METHODS.iter().any(|reserved| ident == reserved) {
            cx.error_spanned_by(
                ident,
                format!(
                    "`#[mcp_server]` adds a method `{ident}` to this type; rename this function \
                     (for a tool, keep its MCP name with `#[mcp_tool(name = \"{ident}\")]`)"
                ),
            );
        }
    }
}

/// The methods `#[mcp_server]` generates on the server type.
const RESERVED_METHODS: &[&str] = &["into_mcp_builder", "into_mcp_server", "listen"];

/// Clients call tools by name; two tools with one name would shadow each other.
fn check_duplicate_names(cx: &mut Ctxt, server: &ServerImpl) {
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for tool in &server.tools {
        let name = tool.name().value();
        if let Some(first) = seen.get(&name) {
            cx.error_at(
                tool.name_span(),
                format!(
                    "duplicate tool name `{name}`: the tool `fn {first}` already has it; give \
                     one of them another `name = \"...\"`"
                ),
            );
        } else {
            seen.insert(name, &tool.ident);
        }
    }
}

/// On a server that authenticates no one, a tool, resource or prompt that
/// needs a caller could never be used.
fn check_reachable(cx: &mut Ctxt, server: &ServerImpl) {
    let unauthenticated = matches!(server.attrs.oauth.get(), None | Some(OAuthChoice::None));
    if !unauthenticated {
        return;
    }
    let tools = server.tools.iter().map(|tool| {
        let callers = tool
            .params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Auth { optional: false }))
            .map(|p| &*p.ty);
        ("tool", tool.access_key_span(), callers.collect::<Vec<_>>())
    });
    let features = server
        .features
        .iter()
        .map(|f| (f.kind_name(), f.access_key_span(), f.required_callers()));
    let fix = "set a provider on the server, e.g. `#[mcp_server(oauth = auth0)]`";
    for (what, access_key, callers) in tools.chain(features) {
        if let Some(span) = access_key {
            cx.error_at(
                span,
                format!(
                    "this requirement can never be met: the server authenticates no one; {fix}"
                ),
            );
        }
        for ty in callers {
            cx.error_spanned_by(
                ty,
                format!(
                    "this {what} needs an authenticated caller but the server authenticates \
                     no one; {fix}, or take `Option<&Auth>`"
                ),
            );
        }
    }
}
