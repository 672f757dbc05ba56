//! Attribute arguments, parsed into typed slots that catch duplicate keys:
//! one reader for `#[mcp_tool(...)]`, `#[mcp_resource(...)]` and
//! `#[mcp_prompt(...)]` (a key of another kind is refused by name), one for
//! `#[mcp_server(...)]`, and one for the parameter attributes `#[arg(...)]`
//! and `#[args]`.

use crate::ctxt::Ctxt;
use crate::docs::{join_docs, text_line};
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser as _;
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitBool, LitStr};

/// One key's value, remembering where it was written.
pub(crate) struct Slot<T> {
    key: &'static str,
    pub(crate) value: Option<(Span, T)>,
}

impl<T> Slot<T> {
    pub(crate) fn new(key: &'static str) -> Self {
        Self { key, value: None }
    }

    pub(crate) fn set(&mut self, cx: &mut Ctxt, at: &syn::Path, value: T) {
        if self.value.is_some() {
            cx.error_spanned_by(at, format!("duplicate key `{}`; remove one", self.key));
        } else {
            self.value = Some((at.span(), value));
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(_, v)| v)
    }

    pub(crate) fn span(&self) -> Option<Span> {
        self.value.as_ref().map(|(s, _)| *s)
    }
}

/// `scopes`, `any_scope`, `roles` and `permissions`: who may use a tool,
/// resource or prompt. The same four keys on every item that takes them.
pub(crate) struct AccessAttrs {
    scopes: Slot<StrList>,
    any_scope: Slot<StrList>,
    roles: Slot<StrList>,
    permissions: Slot<StrList>,
}

impl AccessAttrs {
    pub(crate) fn new() -> Self {
        Self {
            scopes: Slot::new("scopes"),
            any_scope: Slot::new("any_scope"),
            roles: Slot::new("roles"),
            permissions: Slot::new("permissions"),
        }
    }

    /// The slot `key` names, if it is one of the four.
    pub(crate) fn slot_mut(&mut self, key: &str) -> Option<&mut Slot<StrList>> {
        match key {
            "scopes" => Some(&mut self.scopes),
            "any_scope" => Some(&mut self.any_scope),
            "roles" => Some(&mut self.roles),
            "permissions" => Some(&mut self.permissions),
            _ => None,
        }
    }

    /// Each key with its slot; the keys are also the builder methods' names.
    pub(crate) fn slots(&self) -> [(&'static str, &Slot<StrList>); 4] {
        [
            ("scopes", &self.scopes),
            ("any_scope", &self.any_scope),
            ("roles", &self.roles),
            ("permissions", &self.permissions),
        ]
    }

    /// Where the first of the four keys was written.
    pub(crate) fn first_span(&self) -> Option<Span> {
        self.slots().into_iter().find_map(|(_, slot)| slot.span())
    }
}

/// A list of string literals, written `"a"` or `["a", "b"]`.
pub(crate) struct StrList {
    /// Where the whole value was written.
    pub(crate) span: Span,
    pub(crate) items: Vec<LitStr>,
}

/// Which attribute marks a function: what it becomes, and which keys it takes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Tool,
    Resource,
    Prompt,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Tool, Kind::Resource, Kind::Prompt];

    /// The attribute's name.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Kind::Tool => "mcp_tool",
            Kind::Resource => "mcp_resource",
            Kind::Prompt => "mcp_prompt",
        }
    }

    /// The kind an attribute path names, by its last segment.
    pub(crate) fn of_attr(attr: &Attribute) -> Option<Kind> {
        let last = attr.path().segments.last()?;
        Kind::ALL.into_iter().find(|k| last.ident == k.attr())
    }

    /// The keys its attribute takes.
    pub(crate) fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Tool => TOOL_KEYS,
            Kind::Resource => RESOURCE_KEYS,
            Kind::Prompt => PROMPT_KEYS,
        }
    }

    /// `tool`, `resource` or `prompt`, for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Tool => "tool",
            Kind::Resource => "resource",
            Kind::Prompt => "prompt",
        }
    }
}

const TOOL_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "scopes",
    "any_scope",
    "roles",
    "permissions",
    "client_capabilities",
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "describe_access",
    "task",
    "deferred_task",
    "rate",
    "callers",
];
const RESOURCE_KEYS: &[&str] = &[
    "uri",
    "name",
    "title",
    "description",
    "mime_type",
    "scopes",
    "any_scope",
    "roles",
    "permissions",
    "complete",
];
const PROMPT_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "scopes",
    "any_scope",
    "roles",
    "permissions",
    "complete",
];

/// `<argument> = <function>` inside `complete(...)`.
pub(crate) struct Completion {
    /// The argument or template variable completed.
    pub(crate) name: Ident,
    /// The completion function's path.
    pub(crate) function: syn::ExprPath,
}

/// The arguments of `#[mcp_tool(...)]`, `#[mcp_resource(...)]` or
/// `#[mcp_prompt(...)]`. A slot another kind owns stays empty: its key is
/// refused while parsing.
pub(crate) struct ItemAttrs {
    pub(crate) name: Slot<LitStr>,
    pub(crate) title: Slot<LitStr>,
    pub(crate) description: Slot<LitStr>,
    pub(crate) access: AccessAttrs,
    /// Tools.
    pub(crate) client_capabilities: Slot<StrList>,
    pub(crate) read_only: Slot<bool>,
    pub(crate) destructive: Slot<bool>,
    pub(crate) idempotent: Slot<bool>,
    pub(crate) open_world: Slot<bool>,
    pub(crate) describe_access: Slot<bool>,
    /// `task = "optional"` or `"required"`: calls may (must) run as tasks.
    pub(crate) task: Slot<LitStr>,
    /// The handler starts its task itself (`ctx.start_task()`).
    pub(crate) deferred_task: Slot<bool>,
    /// `rate = "10/min"`: how often one caller may call it.
    pub(crate) rate: Slot<LitStr>,
    /// `callers = "people"`, `"machines"` or `"any"`: who may call it, by kind.
    pub(crate) callers: Slot<LitStr>,
    /// Resources.
    pub(crate) uri: Slot<LitStr>,
    pub(crate) mime_type: Slot<LitStr>,
    /// Resources and prompts: every `name = function` of every
    /// `complete(...)`, in order.
    pub(crate) complete: Vec<Completion>,
    /// The first `complete` key, to point at on a resource without variables.
    pub(crate) complete_key: Option<syn::Path>,
}

impl ItemAttrs {
    fn empty() -> Self {
        Self {
            name: Slot::new("name"),
            title: Slot::new("title"),
            description: Slot::new("description"),
            access: AccessAttrs::new(),
            client_capabilities: Slot::new("client_capabilities"),
            read_only: Slot::new("read_only"),
            destructive: Slot::new("destructive"),
            idempotent: Slot::new("idempotent"),
            open_world: Slot::new("open_world"),
            describe_access: Slot::new("describe_access"),
            task: Slot::new("task"),
            deferred_task: Slot::new("deferred_task"),
            rate: Slot::new("rate"),
            callers: Slot::new("callers"),
            uri: Slot::new("uri"),
            mime_type: Slot::new("mime_type"),
            complete: Vec::new(),
            complete_key: None,
        }
    }

    /// Parses the tokens inside `#[<kind>(...)]`.
    pub(crate) fn parse(cx: &mut Ctxt, kind: Kind, tokens: TokenStream) -> Self {
        let mut attrs = Self::empty();
        let parser = syn::meta::parser(|meta| attrs.parse_key(cx, kind, &meta));
        if let Err(error) = parser.parse2(tokens) {
            cx.syn_error(error);
        }
        attrs
    }

    /// The attribute's arguments: `#[mcp_tool]` and `#[mcp_tool(...)]` are
    /// both fine, `#[mcp_tool = ...]` is reported.
    pub(crate) fn parse_attribute(cx: &mut Ctxt, kind: Kind, attr: &Attribute) -> Self {
        let tokens = match &attr.meta {
            syn::Meta::Path(_) => TokenStream::new(),
            syn::Meta::List(list) => list.tokens.clone(),
            syn::Meta::NameValue(nv) => {
                cx.error_spanned_by(nv, format!("write `#[{0}(...)]` or `#[{0}]`", kind.attr()));
                TokenStream::new()
            }
        };
        Self::parse(cx, kind, tokens)
    }

    fn parse_key(
        &mut self,
        cx: &mut Ctxt,
        kind: Kind,
        meta: &ParseNestedMeta<'_>,
    ) -> syn::Result<()> {
        let key = key_of(meta);
        let path = &meta.path;
        if !kind.keys().contains(&key.as_str()) {
            return refuse_key(cx, kind, meta, &key);
        }
        match key.as_str() {
            "name" => self.name.set(cx, path, string_value(meta)?),
            "title" => self.title.set(cx, path, string_value(meta)?),
            "description" => self.description.set(cx, path, string_value(meta)?),
            "uri" => self.uri.set(cx, path, string_value(meta)?),
            "mime_type" => self.mime_type.set(cx, path, string_value(meta)?),
            "client_capabilities" => {
                let list = list_value(cx, meta)?;
                self.client_capabilities.set(cx, path, list);
            }
            "read_only" => self.read_only.set(cx, path, flag_value(meta)?),
            "destructive" => self.destructive.set(cx, path, flag_value(meta)?),
            "idempotent" => self.idempotent.set(cx, path, flag_value(meta)?),
            "open_world" => self.open_world.set(cx, path, flag_value(meta)?),
            "describe_access" => self.describe_access.set(cx, path, flag_value(meta)?),
            "task" => self.task.set(cx, path, string_value(meta)?),
            "deferred_task" => self.deferred_task.set(cx, path, flag_value(meta)?),
            "rate" => self.rate.set(cx, path, string_value(meta)?),
            "callers" => self.callers.set(cx, path, string_value(meta)?),
            "complete" => self.parse_complete(cx, kind, meta)?,
            access => {
                let list = list_value(cx, meta)?;
                if let Some(slot) = self.access.slot_mut(access) {
                    slot.set(cx, path, list);
                }
            }
        }
        Ok(())
    }

    /// `complete(language = complete_language, level = Self::complete_level)`.
    fn parse_complete(
        &mut self,
        cx: &mut Ctxt,
        kind: Kind,
        meta: &ParseNestedMeta<'_>,
    ) -> syn::Result<()> {
        let example = match kind {
            Kind::Resource => "`complete(id = complete_id)`",
            _ => "`complete(language = complete_language)`",
        };
        self.complete_key.get_or_insert_with(|| meta.path.clone());
        if !meta.input.peek(syn::token::Paren) {
            if meta.input.peek(syn::Token![=]) {
                let _: Expr = meta.value()?.parse()?;
            }
            cx.error_spanned_by(
                &meta.path,
                format!(
                    "`complete` names the function of each argument: write \
                     `complete(<argument> = <function>)`, e.g. {example}"
                ),
            );
            return Ok(());
        }
        meta.parse_nested_meta(|inner| {
            let Some(name) = inner.path.get_ident().cloned() else {
                skip_value(&inner)?;
                cx.error_spanned_by(
                    &inner.path,
                    format!("name one argument, without a path: {example}"),
                );
                return Ok(());
            };
            if !inner.input.peek(syn::Token![=]) {
                skip_value(&inner)?;
                cx.error_spanned_by(
                    &name,
                    format!(
                        "name the function that completes `{name}`: \
                         `complete({name} = complete_{name})`"
                    ),
                );
                return Ok(());
            }
            let function = match inner.value()?.parse::<Expr>()? {
                Expr::Path(path) if path.qself.is_none() => path,
                other => {
                    cx.error_spanned_by(
                        other,
                        format!(
                            "expected the path of a function, like `complete_{name}` or \
                             `Self::complete_{name}`"
                        ),
                    );
                    return Ok(());
                }
            };
            if self.complete.iter().any(|c| c.name == name) {
                cx.error_spanned_by(
                    &name,
                    format!("`{name}` is completed twice; keep one `{name} = ...`"),
                );
            } else {
                self.complete.push(Completion { name, function });
            }
            Ok(())
        })
    }
}

/// Reports a key `kind` does not take: one that belongs to another kind is
/// named as such, a likely misspelling gets its correction.
fn refuse_key(cx: &mut Ctxt, kind: Kind, meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<()> {
    let owners: Vec<String> = Kind::ALL
        .into_iter()
        .filter(|k| k.keys().contains(&key))
        .map(|k| format!("`#[{}]`", k.attr()))
        .collect();
    if owners.is_empty() {
        let hint = suggest_key(key).filter(|s| kind.keys().contains(s));
        return unknown_key(cx, meta, key, kind.keys(), hint);
    }
    skip_value(meta)?;
    cx.error_spanned_by(
        &meta.path,
        format!(
            "`{key}` is a key of {}, not of `#[{}]`; expected one of {}",
            owners.join(" and "),
            kind.attr(),
            listed(kind.keys())
        ),
    );
    Ok(())
}

/// A likely intended key for a common misspelling.
fn suggest_key(key: &str) -> Option<&'static str> {
    match key {
        "scope" => Some("scopes"),
        "any_scopes" | "anyScope" => Some("any_scope"),
        "role" => Some("roles"),
        "permission" => Some("permissions"),
        "readonly" | "readOnly" | "read_only_hint" => Some("read_only"),
        "tasks" | "task_support" | "taskSupport" | "execution" => Some("task"),
        "rate_limit" | "ratelimit" | "rateLimit" | "limit" | "throttle" => Some("rate"),
        "desc" | "doc" => Some("description"),
        "mime" | "mimeType" => Some("mime_type"),
        "template" | "uri_template" => Some("uri"),
        "completion" | "completions" | "completer" | "complete_with" => Some("complete"),
        _ => None,
    }
}

/// The provider chosen by `oauth = ...`.
pub(crate) enum OAuthChoice {
    None,
    /// A built-in provider, by name.
    Named(Ident),
    /// `custom(<expr>)`: the user's own verifier.
    Custom(Box<Expr>),
}

const PROVIDERS: &[&str] = &[
    "auth0",
    "workos",
    "supabase",
    "keycloak",
    "oidc",
    "okta",
    "entra",
    "cognito",
    "zitadel",
    "clerk",
    "descope",
    "better_auth",
    "scalekit",
    "google",
    "github",
    "custom(<expr>)",
    "dev",
    "none",
];

/// The arguments of `#[mcp_server(...)]`.
pub(crate) struct ServerAttrs {
    pub(crate) name: Slot<LitStr>,
    pub(crate) version: Slot<LitStr>,
    pub(crate) title: Slot<LitStr>,
    pub(crate) instructions: Slot<LitStr>,
    pub(crate) oauth: Slot<OAuthChoice>,
}

const SERVER_KEYS: &[&str] = &["name", "version", "title", "instructions", "oauth"];

impl ServerAttrs {
    /// Parses the tokens inside `#[mcp_server(...)]`.
    pub(crate) fn parse(cx: &mut Ctxt, tokens: TokenStream) -> Self {
        let mut attrs = Self {
            name: Slot::new("name"),
            version: Slot::new("version"),
            title: Slot::new("title"),
            instructions: Slot::new("instructions"),
            oauth: Slot::new("oauth"),
        };
        let parser = syn::meta::parser(|meta| {
            let key = key_of(&meta);
            let path = &meta.path;
            match key.as_str() {
                "name" => attrs.name.set(cx, path, string_value(&meta)?),
                "version" => attrs.version.set(cx, path, string_value(&meta)?),
                "title" => attrs.title.set(cx, path, string_value(&meta)?),
                "instructions" => attrs.instructions.set(cx, path, string_value(&meta)?),
                "oauth" => {
                    let expr: Expr = meta.value()?.parse()?;
                    if let Some(choice) = oauth_choice(cx, expr) {
                        attrs.oauth.set(cx, path, choice);
                    }
                }
                "auth" | "provider" => unknown_key(cx, &meta, &key, SERVER_KEYS, Some("oauth"))?,
                _ => unknown_key(cx, &meta, &key, SERVER_KEYS, None)?,
            }
            Ok(())
        });
        if let Err(error) = parser.parse2(tokens) {
            cx.syn_error(error);
        }
        attrs
    }
}

fn oauth_choice(cx: &mut Ctxt, expr: Expr) -> Option<OAuthChoice> {
    let expected = || {
        format!(
            "expected one of {}",
            PROVIDERS
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    match &expr {
        Expr::Path(path) if path.qself.is_none() => {
            let Some(ident) = path.path.get_ident() else {
                cx.error_spanned_by(&expr, format!("unknown OAuth provider; {}", expected()));
                return None;
            };
            match ident.to_string().as_str() {
                "none" => Some(OAuthChoice::None),
                "auth0" | "workos" | "supabase" | "keycloak" | "oidc" | "okta" | "entra"
                | "cognito" | "zitadel" | "clerk" | "descope" | "better_auth" | "scalekit"
                | "dev" => Some(OAuthChoice::Named(ident.clone())),
                "custom" => {
                    cx.error_spanned_by(
                        ident,
                        "`custom` needs your provider or verifier: \
                         `oauth = custom(CustomProvider::new(\"https://issuer.example\"))` or \
                         `oauth = custom(MyVerifier::new())`",
                    );
                    None
                }
                other => {
                    cx.error_spanned_by(
                        ident,
                        format!("unknown OAuth provider `{other}`; {}", expected()),
                    );
                    None
                }
            }
        }
        Expr::Call(call) => {
            let is_custom = matches!(&*call.func, Expr::Path(p) if p.path.is_ident("custom"));
            if !is_custom {
                cx.error_spanned_by(
                    &call.func,
                    format!("unknown OAuth provider; {}", expected()),
                );
                return None;
            }
            if call.args.len() != 1 {
                cx.error_spanned_by(
                    &call.args,
                    "`custom(...)` takes exactly one argument: your provider or verifier",
                );
                return None;
            }
            call.args
                .first()
                .map(|arg| OAuthChoice::Custom(Box::new(arg.clone())))
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            cx.error_spanned_by(
                s,
                format!("write the provider without quotes: `oauth = {}`", s.value()),
            );
            None
        }
        _ => {
            cx.error_spanned_by(&expr, format!("unknown OAuth provider; {}", expected()));
            None
        }
    }
}

/// `#[arg(...)]` on a parameter: how it appears in the arguments schema.
#[derive(Default)]
pub(crate) struct ArgAttrs {
    pub(crate) description: Option<LitStr>,
    pub(crate) rename: Option<LitStr>,
}

const ARG_KEYS: &[&str] = &["description", "rename"];

/// What the attributes on one parameter say, after our own are removed.
pub(crate) struct ParamAttrs {
    pub(crate) docs: Option<String>,
    pub(crate) arg: ArgAttrs,
    /// The `#[args]` attribute, if one was written.
    pub(crate) whole_args: Option<Attribute>,
    /// The `#[arg(...)]` attribute, if one was written, to point at it whole.
    pub(crate) arg_attr: Option<Attribute>,
}

impl ParamAttrs {
    /// Takes our attributes (`#[arg]`, `#[args]`, doc comments) out of `attrs`,
    /// leaving the rest on the parameter.
    pub(crate) fn take(cx: &mut Ctxt, kind: Kind, attrs: &mut Vec<Attribute>) -> Self {
        let mut result = Self {
            docs: None,
            arg: ArgAttrs::default(),
            whole_args: None,
            arg_attr: None,
        };
        let mut doc_lines = Vec::new();
        attrs.retain(|attr| {
            if attr.path().is_ident("doc") {
                doc_lines.extend(text_line(attr));
                false
            } else if attr.path().is_ident("args") {
                if attr.meta.require_path_only().is_err() {
                    cx.error_spanned_by(
                        attr,
                        "`#[args]` takes no arguments: write `#[args]` alone, and describe the \
                         fields with doc comments on the struct itself",
                    );
                }
                if result.whole_args.is_some() {
                    cx.error_spanned_by(attr, "duplicate `#[args]`; remove one");
                }
                result.whole_args = Some(attr.clone());
                false
            } else if attr.path().is_ident("serde") || attr.path().is_ident("schemars") {
                let message = match kind {
                    Kind::Tool => "serde and schemars attributes do not apply to a tool's \
                                   parameters: for an optional argument take `Option<T>`; for \
                                   other settings, take a struct with `#[args]` and put the \
                                   attributes on its fields"
                        .to_owned(),
                    _ => format!(
                        "serde and schemars attributes do not apply to a {}'s parameters: each \
                         is parsed from a string with `FromStr`; to give one another name, \
                         write `#[arg(rename = \"...\")]`",
                        kind.noun()
                    ),
                };
                cx.error_spanned_by(attr, message);
                false
            } else if attr.path().is_ident("arg") {
                if result.arg_attr.is_some() {
                    cx.error_spanned_by(attr, "duplicate `#[arg(...)]`; merge them into one");
                }
                result.arg_attr = Some(attr.clone());
                parse_arg_attr(cx, attr, &mut result.arg);
                false
            } else {
                true
            }
        });
        result.docs = join_docs(&doc_lines);
        result
    }
}

fn parse_arg_attr(cx: &mut Ctxt, attr: &Attribute, into: &mut ArgAttrs) {
    let parsed = attr.parse_nested_meta(|meta| {
        let key = key_of(&meta);
        match key.as_str() {
            "description" => {
                let value = string_value(&meta)?;
                if into.description.replace(value).is_some() {
                    cx.error_spanned_by(&meta.path, "duplicate key `description`; remove one");
                }
            }
            "rename" => {
                let value = string_value(&meta)?;
                if into.rename.replace(value).is_some() {
                    cx.error_spanned_by(&meta.path, "duplicate key `rename`; remove one");
                }
            }
            "desc" | "doc" => unknown_key(cx, &meta, &key, ARG_KEYS, Some("description"))?,
            _ => unknown_key(cx, &meta, &key, ARG_KEYS, None)?,
        }
        Ok(())
    });
    if let Err(error) = parsed {
        cx.syn_error(error);
    }
}

fn key_of(meta: &ParseNestedMeta<'_>) -> String {
    meta.path
        .get_ident()
        .map(Ident::to_string)
        .unwrap_or_else(|| meta.path.to_token_stream().to_string().replace(' ', ""))
}

fn string_value(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(syn::Error::new_spanned(
            other,
            "expected a string literal, like `\"...\"`",
        )),
    }
}

/// A bare flag (`read_only`) or an explicit `read_only = false`.
fn flag_value(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    if meta.input.peek(syn::Token![=]) {
        let value: LitBool = meta.value()?.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `true` or `false`, or write the flag alone",
            )
        })?;
        Ok(value.value)
    } else {
        Ok(true)
    }
}

/// `"a"` or `["a", "b"]`. Non-string items are reported and skipped.
fn list_value(cx: &mut Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<StrList> {
    let expr: Expr = meta.value()?.parse()?;
    let span = expr.span();
    let elems: Vec<Expr> = match expr {
        Expr::Array(array) => array.elems.into_iter().collect(),
        single => vec![single],
    };
    let mut items = Vec::new();
    for elem in elems {
        match elem {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => items.push(s),
            other => cx.error_spanned_by(
                other,
                "expected a string literal: write `\"name\"` or `[\"a\", \"b\"]`",
            ),
        }
    }
    Ok(StrList { span, items })
}

/// Skips `= value` or `(...)` after a key that is reported anyway, so the
/// rest of the attribute is still checked.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        let _: TokenStream = content.parse()?;
    }
    Ok(())
}

/// Reports an unknown key, listing the valid ones, and skips its value.
fn unknown_key(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta<'_>,
    key: &str,
    valid: &[&str],
    suggestion: Option<&str>,
) -> syn::Result<()> {
    skip_value(meta)?;
    let listed = listed(valid);
    let message = match suggestion {
        Some(s) => format!("unknown key `{key}`; did you mean `{s}`? expected one of {listed}"),
        None => format!("unknown key `{key}`; expected one of {listed}"),
    };
    cx.error_spanned_by(&meta.path, message);
    Ok(())
}

/// `a`, `b`, `c` as a message lists keys.
pub(crate) fn listed(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whatever tokens a user writes inside an attribute, the parsers answer
/// with values or recorded errors (reported as `compile_error!`), never a
/// panic of the macro.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use std::str::FromStr as _;

    /// Every reader, on `tokens`; each context's errors are consumed as a
    /// macro would report them.
    fn read_all(tokens: &TokenStream) {
        for kind in Kind::ALL {
            let mut cx = Ctxt::default();
            let _ = ItemAttrs::parse(&mut cx, kind, tokens.clone());
            drop(cx.into_compile_errors());
            let mut cx = Ctxt::default();
            let mut attrs: Vec<Attribute> = [
                quote::quote!(#[arg(#tokens)]),
                quote::quote!(#[args(#tokens)]),
                quote::quote!(#[doc = "x"]),
                quote::quote!(#[other(#tokens)]),
            ]
            .into_iter()
            .filter_map(|attr| Attribute::parse_outer.parse2(attr).ok())
            .flatten()
            .collect();
            let _ = ParamAttrs::take(&mut cx, kind, &mut attrs);
            drop(cx.into_compile_errors());
            for attr in Attribute::parse_outer
                .parse2(quote::quote!(#[mcp(#tokens)]))
                .unwrap_or_default()
            {
                let mut cx = Ctxt::default();
                let _ = ItemAttrs::parse_attribute(&mut cx, kind, &attr);
                drop(cx.into_compile_errors());
            }
        }
        let mut cx = Ctxt::default();
        let _ = ServerAttrs::parse(&mut cx, tokens.clone());
        drop(cx.into_compile_errors());
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#""text""#.to_owned()),
            Just(r#""notes://{id}""#.to_owned()),
            Just(r#""x://{a}{b}""#.to_owned()),
            Just("true".to_owned()),
            Just("1".to_owned()),
            Just(r#"["a", "b"]"#.to_owned()),
            Just(r#"["a", 1]"#.to_owned()),
            Just("auth0".to_owned()),
            Just("custom(my::verifier())".to_owned()),
            Just("dev(\"x\")".to_owned()),
            Just("(a = b)".to_owned()),
            Just(r#"concat!("a")"#.to_owned()),
            "[a-z_:]{1,8}",
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "name",
                "title",
                "description",
                "scopes",
                "any_scope",
                "roles",
                "permissions",
                "client_capabilities",
                "read_only",
                "destructive",
                "idempotent",
                "open_world",
                "describe_access",
                "task",
                "deferred_task",
                "rate",
                "callers",
                "uri",
                "mime_type",
                "complete",
                "version",
                "instructions",
                "oauth",
                "rename",
                "desc",
                "scope",
            ])
            .prop_map(str::to_owned),
            "[a-z_]{1,8}(::[a-z]{1,4})?",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary text that lexes as Rust tokens.
        #[test]
        fn any_token_stream_is_read_or_reported(text in "[ -~]{0,48}") {
            if let Ok(tokens) = TokenStream::from_str(&text) {
                read_all(&tokens);
            }
        }

        /// `key = value` lists, `key(...)` groups and bare keys, mixed.
        #[test]
        fn attribute_like_lists_are_read_or_reported(
            entries in vec((key(), 0u8..4, value()), 0..6),
            separator in prop::sample::select(vec![", ", " ", "; ", ",,"]),
        ) {
            let text = entries
                .iter()
                .map(|(key, form, value)| match form {
                    0 => format!("{key} = {value}"),
                    1 => format!("{key}({key} = {value})"),
                    2 => key.clone(),
                    _ => format!("{key} = {value} {value}"),
                })
                .collect::<Vec<_>>()
                .join(separator);
            if let Ok(tokens) = TokenStream::from_str(&text) {
                read_all(&tokens);
            }
        }
    }
}
