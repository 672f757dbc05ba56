//! Compile-time rules. One function per rule, each with the reason it exists.
//! The rules about functions serve tools, resources and prompts alike; a
//! rule that is one kind's own says so.

use crate::ast::{McpFn, ParamKind, Receiver, ServerImpl, is_named, option_inner, unraw};
use crate::attr::{Kind, OAuthChoice, StrList, listed};
use crate::ctxt::Ctxt;
use std::collections::HashMap;
use syn::{LitStr, Type};

/// Every rule about one marked function; `in_server` says whether it is a
/// method of an `#[mcp_server]` block.
pub(crate) fn check_fn(cx: &mut Ctxt, f: &McpFn, in_server: bool) {
    check_async(cx, f);
    check_unsafe(cx, f);
    check_generics(cx, f);
    check_receiver(cx, f, in_server);
    check_lists(cx, f);
    check_params(cx, f);
    if !in_server {
        check_shadowing(cx, f);
    }
    match f.kind {
        Kind::Tool => {
            check_output(cx, f);
            check_name(cx, f);
            check_flags(cx, f);
            check_task(cx, f);
            check_rate(cx, f);
            check_callers(cx, f);
        }
        Kind::Resource => {
            check_uri(cx, f);
            check_complete(cx, f);
        }
        Kind::Prompt => check_complete(cx, f),
    }
}

/// Every rule about `#[main]`'s function: it is the program's entry point,
/// which the runtime calls with nothing and never awaits.
pub(crate) fn check_main(cx: &mut Ctxt, func: &syn::ItemFn) {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(
            sig.fn_token,
            format!(
                "`#[mcp_runtime::main]` runs an `async fn`; write `async fn {}()`, or leave \
                 the attribute off a function that does not await",
                sig.ident
            ),
        );
    }
    if !sig.inputs.is_empty() {
        cx.error_spanned_by(
            &sig.inputs,
            "the entry point takes no parameters; read the command line with \
             `std::env::args()` inside it",
        );
    }
    let generic = "the entry point cannot be generic; use concrete types";
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, generic);
    } else if let Some(clause) = &sig.generics.where_clause {
        // `Generics` prints its parameters only, none here: point at the clause.
        cx.error_spanned_by(clause, generic);
    }
}

/// Every rule about a server block, its marked methods included.
pub(crate) fn check_server(cx: &mut Ctxt, server: &ServerImpl) {
    check_server_shape(cx, server);
    check_reserved_names(cx, server);
    for f in &server.items {
        check_fn(cx, f, true);
    }
    check_duplicate_names(cx, server);
    check_reachable(cx, server);
}

/// They are awaited by the runtime; a blocking body would stall a worker.
fn check_async(cx: &mut Ctxt, f: &McpFn) {
    if let Err(fn_span) = f.asyncness {
        cx.error_at(
            fn_span,
            format!(
                "an MCP {} must be an `async fn`; write `async fn {}(...)`",
                f.kind.noun(),
                f.ident
            ),
        );
    }
}

/// Generated code calls the function from safe code, with arguments a client chose.
fn check_unsafe(cx: &mut Ctxt, f: &McpFn) {
    if let Some(unsafety) = &f.unsafety {
        cx.error_spanned_by(
            unsafety,
            format!(
                "an MCP {} cannot be an `unsafe fn`: clients call it with arguments of their \
                 choosing; remove `unsafe` and put the unsafe code in an `unsafe {{ ... }}` \
                 block inside, where you can check its requirements",
                f.kind.noun()
            ),
        );
    }
}

/// The runtime names the return type to publish its output schema, and sends
/// the result after the call has ended, so it cannot borrow from the call.
fn check_output(cx: &mut Ctxt, tool: &McpFn) {
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

/// What a client sends is parsed into types fixed when the server is built,
/// so no type parameters.
fn check_generics(cx: &mut Ctxt, f: &McpFn) {
    if let Some(generics) = &f.generics {
        let fixed = match f.kind {
            Kind::Tool => "its JSON Schema is fixed",
            Kind::Resource => "the types its URI variables are parsed into are fixed",
            Kind::Prompt => "the types its arguments are parsed into are fixed",
        };
        cx.error_spanned_by(
            generics,
            format!(
                "an MCP {} cannot be generic: {fixed} when the server is built; use concrete \
                 types",
                f.kind.noun()
            ),
        );
    }
}

/// Calls run concurrently against one shared server value, and only a server
/// block has a value to call a method on.
fn check_receiver(cx: &mut Ctxt, f: &McpFn, in_server: bool) {
    match &f.receiver {
        Receiver::None => {}
        Receiver::Ref(receiver) | Receiver::Unsupported(receiver) if !in_server => cx
            .error_spanned_by(
                receiver,
                format!(
                    "`#[{}]` on a method needs `#[mcp_server]` on its `impl` block",
                    f.kind.attr()
                ),
            ),
        Receiver::Ref(_) => {}
        Receiver::Unsupported(receiver) => cx.error_spanned_by(
            receiver,
            format!(
                "{}s run concurrently on one shared server: take `&self` (keep mutable state \
                 behind a `Mutex` or an atomic)",
                f.kind.noun()
            ),
        ),
    }
}

/// MCP tool names are 1-128 characters of `A-Za-z0-9_.-`.
fn check_name(cx: &mut Ctxt, tool: &McpFn) {
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
fn check_lists(cx: &mut Ctxt, f: &McpFn) {
    let a = &f.attrs;
    let capabilities = ("client_capabilities", &a.client_capabilities);
    for (key, list) in a.access.slots().into_iter().chain([capabilities]) {
        if let Some(list) = list.get() {
            check_access_list(cx, key, list);
        }
    }
}

/// Tracks the parameters that may appear once: the caller and the request
/// context.
#[derive(Default)]
struct OnceEach {
    auth: bool,
    context: bool,
}

impl OnceEach {
    /// Reports a parameter of `kind` and type `ty` if it is a second
    /// caller or a second context.
    fn note(&mut self, cx: &mut Ctxt, kind: &ParamKind, ty: &Type) {
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
fn check_access_list(cx: &mut Ctxt, key: &str, list: &StrList) {
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
fn check_flags(cx: &mut Ctxt, tool: &McpFn) {
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

/// `callers` names a kind of caller.
fn check_callers(cx: &mut Ctxt, tool: &McpFn) {
    if let Some(value) = tool.attrs.callers.get()
        && !CALLERS.contains(&value.value().as_str())
    {
        cx.error_spanned_by(
            value,
            format!(
                "`callers = {:?}` names no kind of caller: write `callers = \"people\"` \
                 (people signed in only), `callers = \"machines\"` (machine clients' \
                 client-credentials tokens only) or `callers = \"any\"`",
                value.value()
            ),
        );
    }
}

/// What `callers` takes.
pub(crate) const CALLERS: [&str; 3] = ["people", "machines", "any"];

/// `rate` reads as a count per period (see [`rate_limit`]).
fn check_rate(cx: &mut Ctxt, tool: &McpFn) {
    if let Some(value) = tool.attrs.rate.get()
        && rate_limit(&value.value()).is_none()
    {
        cx.error_spanned_by(
            value,
            format!(
                "`rate = {:?}` is not a rate limit: write a count per period such as \
                 `rate = \"10/min\"` (periods: s, min, hour, day; count 1 to 1000000)",
                value.value()
            ),
        );
    }
}

/// `COUNT/UNIT` as a count and a period in seconds: the runtime's
/// `RateLimit` grammar (`s`, `sec`, `second`, `m`, `min`, `minute`, `h`,
/// `hour`, `d`, `day`), read here so a typo fails the build.
pub(crate) fn rate_limit(text: &str) -> Option<(u32, u64)> {
    let (count, unit) = text.split_once('/')?;
    let count: u32 = count.trim().parse().ok()?;
    let seconds = match unit.trim() {
        "s" | "sec" | "second" => 1,
        "m" | "min" | "minute" => 60,
        "h" | "hour" => 3600,
        "d" | "day" => 86_400,
        _ => return None,
    };
    (1..=1_000_000).contains(&count).then_some((count, seconds))
}

/// `task` names how calls may run as tasks: `"optional"` or `"required"`;
/// `deferred_task` needs one of them.
fn check_task(cx: &mut Ctxt, tool: &McpFn) {
    if tool.attrs.deferred_task.get() == Some(&true)
        && tool.attrs.task.get().is_none()
        && let Some(span) = tool.attrs.deferred_task.span()
    {
        cx.error_at(
            span,
            "`deferred_task` lets the handler start a task, but this tool never runs as one: add \
             `task = \"optional\"` or `task = \"required\"`",
        );
    }
    if let Some(value) = tool.attrs.task.get()
        && !matches!(value.value().as_str(), "optional" | "required")
    {
        cx.error_spanned_by(
            value,
            format!(
                "`task = {:?}` is not a task mode: write `task = \"optional\"` (a task when the \
                 client supports tasks) or `task = \"required\"` (only as a task), or leave `task` \
                 out for a tool that never runs as one",
                value.value()
            ),
        );
    }
}

/// Parameters are arguments (owned, named), the caller, or the context, each
/// once; `#[arg(...)]` describes an argument, and `#[args]` is a tool's.
fn check_params(cx: &mut Ctxt, f: &McpFn) {
    let mut once = OnceEach::default();
    let mut whole_args = None;
    let mut names: HashMap<String, ()> = HashMap::new();
    for param in &f.params {
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
            ParamKind::WholeArgs if f.kind != Kind::Tool => {
                let at = param.attrs.whole_args.as_ref();
                cx.error_spanned_by(
                    at,
                    format!(
                        "`#[args]` takes a tool's whole arguments object; each parameter of a \
                         {} is one {}, parsed from a string: remove `#[args]`",
                        f.kind.noun(),
                        argument_word(f.kind)
                    ),
                );
            }
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
                check_argument_type(cx, f.kind, &param.ty);
                let arg = &param.attrs.arg;
                if let Some(rename) = &arg.rename
                    && rename.value().trim().is_empty()
                {
                    cx.error_spanned_by(
                        rename,
                        format!(
                            "empty {} name; write the name clients send, such as \
                             `rename = \"userId\"`, or remove `rename`",
                            argument_word(f.kind)
                        ),
                    );
                }
                if f.kind == Kind::Resource
                    && let Some(description) = &arg.description
                {
                    cx.error_spanned_by(
                        description,
                        "a resource template's variables carry no description in MCP: remove \
                         `description` (a doc comment still documents the parameter in Rust)",
                    );
                }
                if param.ident().is_none() {
                    cx.error_spanned_by(
                        &param.pat,
                        format!(
                            "name this parameter (`name: Type`): its name becomes the {}'s \
                             name{}",
                            argument_word(f.kind),
                            if f.kind == Kind::Tool {
                                " in the schema"
                            } else {
                                ""
                            }
                        ),
                    );
                }
                if let Some(name) = param.property_name()
                    && names.insert(name.value(), ()).is_some()
                {
                    cx.error_spanned_by(
                        &param.pat,
                        format!(
                            "two {}s are called `{}`; rename one with \
                             `#[arg(rename = \"...\")]`",
                            argument_word(f.kind),
                            name.value()
                        ),
                    );
                }
            }
        }
    }
    if whole_args.is_some() {
        for param in f.arguments() {
            cx.error_spanned_by(
                &param.pat,
                "`#[args]` already takes the whole arguments object; move this argument \
                 into that struct as a field",
            );
        }
    }
}

/// What one ordinary parameter is to clients.
fn argument_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Tool | Kind::Prompt => "argument",
        Kind::Resource => "URI variable",
    }
}

/// Arguments are parsed (from JSON for a tool, from a string otherwise) into
/// owned values.
fn check_argument_type(cx: &mut Ctxt, kind: Kind, ty: &Type) {
    let parsed = match kind {
        Kind::Tool => "tool arguments are deserialized into owned values",
        Kind::Resource => "URI variables are parsed from strings into owned values",
        Kind::Prompt => "prompt arguments are parsed from strings into owned values",
    };
    match ty {
        Type::Reference(r) => {
            let message = if is_named(&r.elem, "str") {
                format!("{parsed}: write `String` instead of `&str`")
            } else if is_named(&r.elem, "Auth") || is_named(&r.elem, "RequestContext") {
                "take it by shared reference: remove `mut`".to_owned()
            } else {
                format!("{parsed}: drop the `&` and take the value")
            };
            cx.error_spanned_by(ty, message);
        }
        _ if contains_impl_trait(ty) => cx.error_spanned_by(
            ty,
            "`impl Trait` cannot be parsed into: name a concrete type",
        ),
        _ => {
            if let Some(message) = caller_or_context_misuse(ty) {
                cx.error_spanned_by(ty, message);
            }
        }
    }
}

/// A resource needs a URI, parsed here by the parser the runtime matches
/// with; each template variable names a parameter and each parameter
/// (besides the caller and the context) a variable.
fn check_uri(cx: &mut Ctxt, f: &McpFn) {
    let Some(uri) = f.attrs.uri.get() else {
        let message =
            "`#[mcp_resource]` needs a `uri`: `#[mcp_resource(uri = \"app://items/{id}\")]`";
        if f.attr.is_empty() {
            cx.error_at(proc_macro2::Span::call_site(), message);
        } else {
            cx.error_spanned_by(&f.attr, message);
        }
        return;
    };
    let parts = match mcp_uri_template::parse(&uri.value()) {
        Ok(parts) => parts,
        Err(why) => {
            cx.error_spanned_by(uri, format!("invalid URI template: {why}"));
            return;
        }
    };
    let variables: Vec<&str> = mcp_uri_template::variables(&parts).collect();
    // An `#[args]` parameter is refused on its own; counted here, it does not
    // also leave its variable unmatched.
    let parameters: Vec<String> = f
        .params
        .iter()
        .filter(|p| matches!(p.kind, ParamKind::Argument | ParamKind::WholeArgs))
        .filter_map(|p| p.property_name())
        .map(|name| name.value())
        .collect();
    for variable in &variables {
        if !parameters.iter().any(|p| p == variable) {
            cx.error_spanned_by(
                uri,
                format!(
                    "`{{{variable}}}` names no parameter of `{}`; add `{variable}: String` (or \
                     any `FromStr` type)",
                    f.ident
                ),
            );
        }
    }
    for param in f
        .arguments()
        .filter(|p| caller_or_context_misuse(&p.ty).is_none())
    {
        let Some(name) = param.property_name() else {
            continue;
        };
        if !variables.contains(&name.value().as_str()) {
            cx.error_at(
                name.span(),
                format!(
                    "`{}` is not a variable of the URI `{}`; a resource's parameters come from \
                     its URI template",
                    name.value(),
                    uri.value()
                ),
            );
        }
    }
}

/// A completion function completes one argument (or template variable) that
/// exists; a fixed URI has nothing to complete.
fn check_complete(cx: &mut Ctxt, f: &McpFn) {
    let Some(key) = &f.attrs.complete_key else {
        return;
    };
    if f.kind == Kind::Resource && f.attrs.uri.get().is_some() && !f.is_template() {
        cx.error_spanned_by(
            key,
            "a resource at a fixed URI has nothing to complete: completion suggests values of \
             a URI template's `{variables}`, like `uri = \"notes://{id}\"`; remove `complete`",
        );
        return;
    }
    let names: Vec<String> = f
        .arguments()
        .filter_map(|p| p.property_name())
        .map(|name| name.value())
        .collect();
    let listed = listed(&names.iter().map(String::as_str).collect::<Vec<_>>());
    for completion in &f.attrs.complete {
        let name = unraw(&completion.name);
        if names.contains(&name) {
            continue;
        }
        let message = match (f.kind, names.is_empty()) {
            (Kind::Resource, _) => {
                let uri = f.attrs.uri.get().map(LitStr::value).unwrap_or_default();
                format!(
                    "`{name}` is not a variable of the URI template `{uri}`; its variables are \
                     {listed}"
                )
            }
            (_, true) => format!(
                "`{name}` is not an argument of this prompt, which has none; add a parameter \
                 `{name}: String`, or remove `complete`"
            ),
            (_, false) => {
                format!("`{name}` is not an argument of this prompt; its arguments are {listed}")
            }
        };
        cx.error_spanned_by(&completion.name, message);
    }
}

/// A free function becomes a unit struct of its name, and a parameter of the
/// same name would then be a pattern matching that struct, not a binding.
fn check_shadowing(cx: &mut Ctxt, f: &McpFn) {
    for param in f.params.iter().filter(|p| p.ident() == Some(&f.ident)) {
        cx.error_spanned_by(
            &param.pat,
            format!(
                "this parameter has the function's name, which `#[{}]` gives to a unit struct \
                 (registered with `.{}({})`); rename the function, e.g. `fn read_{}`",
                f.kind.attr(),
                f.builder_method(),
                f.ident,
                unraw(&f.ident),
            ),
        );
    }
}

/// What is wrong with `ty` if it is a misspelt way to take the caller or the
/// request context (`Auth` by value, `Option<Auth>`, `Option<RequestContext>`).
fn caller_or_context_misuse(ty: &Type) -> Option<&'static str> {
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

/// Clients call tools and get prompts by name, and read resources by URI; two
/// with one name or URI would shadow each other.
fn check_duplicate_names(cx: &mut Ctxt, server: &ServerImpl) {
    let mut seen: HashMap<(Kind, String), &syn::Ident> = HashMap::new();
    for f in &server.items {
        let (key, span, what) = match f.kind {
            Kind::Resource => match f.attrs.uri.get() {
                Some(uri) => (uri.value(), uri.span(), "URI"),
                None => continue,
            },
            _ => (f.name().value(), f.name_span(), "name"),
        };
        if let Some(first) = seen.get(&(f.kind, key.clone())) {
            let fix = match f.kind {
                Kind::Resource => "another `uri = \"...\"`",
                _ => "another `name = \"...\"`",
            };
            cx.error_at(
                span,
                format!(
                    "duplicate {} {what} `{key}`: the {} `fn {first}` already has it; give one \
                     of them {fix}",
                    f.kind.noun(),
                    f.kind.noun()
                ),
            );
        } else {
            seen.insert((f.kind, key), &f.ident);
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
    let fix = "set a provider on the server, e.g. `#[mcp_server(oauth = auth0)]`";
    for f in &server.items {
        if let Some(span) = f.access_key_span() {
            cx.error_at(
                span,
                format!(
                    "this requirement can never be met: the server authenticates no one; {fix}"
                ),
            );
        }
        for ty in f.required_callers() {
            cx.error_spanned_by(
                ty,
                format!(
                    "this {} needs an authenticated caller but the server authenticates \
                     no one; {fix}, or take `Option<&Auth>`",
                    f.kind_name()
                ),
            );
        }
    }
}
