//! `#[mcp_resource]` and `#[mcp_prompt]`, on methods of an `#[mcp_server]`
//! block or on free functions: their attributes, typed model, rules and
//! generated registration.

use crate::ast::{ParamKind, classify, option_inner};
use crate::attr::{
    AccessAttrs, ParamAttrs, Slot, docs_of, key_of, list_value, skip_value, string_value,
    unknown_key,
};
use crate::ctxt::Ctxt;
use crate::expand::access_calls;
use crate::valid::{OnceEach, caller_or_context_misuse, check_access_list};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser as _;
use syn::spanned::Spanned as _;
use syn::{Expr, FnArg, Ident, ImplItemFn, Item, LitStr, Pat, Type};

pub(crate) const RESOURCE_KEYS: &[&str] = &[
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
pub(crate) const PROMPT_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "scopes",
    "any_scope",
    "roles",
    "permissions",
    "complete",
];

/// Which attribute a function carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Resource,
    Prompt,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Resource => "mcp_resource",
            Kind::Prompt => "mcp_prompt",
        }
    }
}

/// `<argument> = <function>` inside `complete(...)`.
struct Completion {
    /// The argument or template variable completed.
    name: Ident,
    /// The completion function's path.
    function: syn::ExprPath,
}

/// The keys of `#[mcp_resource(...)]` or `#[mcp_prompt(...)]`.
pub(crate) struct FeatureAttrs {
    uri: Slot<LitStr>,
    name: Slot<LitStr>,
    title: Slot<LitStr>,
    description: Slot<LitStr>,
    mime_type: Slot<LitStr>,
    access: AccessAttrs,
    /// Every `name = function` of every `complete(...)`, in order.
    complete: Vec<Completion>,
    /// The first `complete` key, to point at on a resource without variables.
    complete_key: Option<syn::Path>,
}

impl FeatureAttrs {
    fn parse(cx: &mut Ctxt, kind: Kind, tokens: TokenStream) -> Self {
        let mut a = Self {
            uri: Slot::new("uri"),
            name: Slot::new("name"),
            title: Slot::new("title"),
            description: Slot::new("description"),
            mime_type: Slot::new("mime_type"),
            access: AccessAttrs::new(),
            complete: Vec::new(),
            complete_key: None,
        };
        let parser = syn::meta::parser(|meta| a.parse_key(cx, kind, &meta));
        if let Err(error) = parser.parse2(tokens) {
            cx.syn_error(error);
        }
        a
    }

    fn parse_key(
        &mut self,
        cx: &mut Ctxt,
        kind: Kind,
        meta: &ParseNestedMeta<'_>,
    ) -> syn::Result<()> {
        let key = key_of(meta);
        let path = &meta.path;
        let resource = kind == Kind::Resource;
        match key.as_str() {
            "uri" if resource => self.uri.set(cx, path, string_value(meta)?),
            "mime_type" if resource => self.mime_type.set(cx, path, string_value(meta)?),
            "name" => self.name.set(cx, path, string_value(meta)?),
            "title" => self.title.set(cx, path, string_value(meta)?),
            "description" => self.description.set(cx, path, string_value(meta)?),
            "scopes" | "any_scope" | "roles" | "permissions" => {
                let list = list_value(cx, meta)?;
                if let Some(slot) = self.access.slot_mut(&key) {
                    slot.set(cx, path, list);
                }
            }
            "complete" => self.parse_complete(cx, kind, meta)?,
            _ => {
                let keys = if resource { RESOURCE_KEYS } else { PROMPT_KEYS };
                let hint = match key.as_str() {
                    "scope" => Some("scopes"),
                    "mime" | "mimeType" => Some("mime_type"),
                    "template" | "uri_template" => Some("uri"),
                    "completion" | "completions" | "completer" | "complete_with" => {
                        Some("complete")
                    }
                    _ => None,
                };
                unknown_key(cx, meta, &key, keys, hint)?;
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
            Kind::Prompt => "`complete(language = complete_language)`",
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

/// One parameter of a resource or prompt function.
struct FeatureParam {
    ident: Ident,
    ty: Type,
    kind: ParamKind,
    description: Option<String>,
}

impl FeatureParam {
    /// The argument's or template variable's name.
    fn key(&self) -> String {
        unraw(&self.ident)
    }
}

fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").unwrap_or(&text).to_owned()
}

/// A function marked `#[mcp_resource]` or `#[mcp_prompt]`.
pub(crate) struct FeatureFn {
    kind: Kind,
    attrs: FeatureAttrs,
    ident: Ident,
    docs: Option<String>,
    by_ref_self: bool,
    params: Vec<FeatureParam>,
}

impl FeatureFn {
    /// Reads the function's signature (removing our parameter attributes)
    /// and checks every rule about it. `attr` is the attribute to point at
    /// when a key is missing; `in_server` says whether `&self` may be taken.
    fn from_parts(
        cx: &mut Ctxt,
        kind: Kind,
        attrs: FeatureAttrs,
        attr: &TokenStream,
        fn_attrs: &[syn::Attribute],
        sig: &mut syn::Signature,
        in_server: bool,
    ) -> Self {
        if sig.asyncness.is_none() {
            cx.error_spanned_by(
                sig.fn_token,
                format!(
                    "`#[{}]` needs an `async fn`; write `async fn {}(...)`",
                    kind.attr(),
                    sig.ident
                ),
            );
        }
        if !sig.generics.params.is_empty() {
            cx.error_spanned_by(
                &sig.generics,
                format!("`#[{}]` functions cannot be generic", kind.attr()),
            );
        }
        let mut by_ref_self = false;
        let mut params = Vec::new();
        for input in sig.inputs.iter_mut() {
            match input {
                FnArg::Receiver(r) if !in_server => cx.error_spanned_by(
                    &*r,
                    format!(
                        "`#[{}]` on a method needs `#[mcp_server]` on its `impl` block",
                        kind.attr()
                    ),
                ),
                FnArg::Receiver(r) => {
                    if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none() {
                        by_ref_self = true;
                    } else {
                        cx.error_spanned_by(
                            &*r,
                            "take `&self`: the server's state is shared between requests",
                        );
                    }
                }
                FnArg::Typed(typed) => {
                    let taken = ParamAttrs::take(cx, &mut typed.attrs);
                    let Pat::Ident(pat) = &*typed.pat else {
                        cx.error_spanned_by(&typed.pat, "use a plain name for this parameter");
                        continue;
                    };
                    params.push(FeatureParam {
                        ident: pat.ident.clone(),
                        ty: (*typed.ty).clone(),
                        kind: classify(&typed.ty, false),
                        description: taken
                            .arg
                            .description
                            .as_ref()
                            .map(LitStr::value)
                            .or(taken.docs),
                    });
                }
            }
        }
        let feature = Self {
            kind,
            attrs,
            ident: sig.ident.clone(),
            docs: docs_of(fn_attrs),
            by_ref_self,
            params,
        };
        check_params(cx, &feature);
        check_lists(cx, &feature);
        if kind == Kind::Resource {
            check_uri(cx, &feature, attr);
        }
        check_complete(cx, &feature);
        feature
    }

    /// `resource`, `resource template` or `prompt`, for messages.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Resource if self.is_template() => "resource template",
            Kind::Resource => "resource",
            Kind::Prompt => "prompt",
        }
    }

    fn is_template(&self) -> bool {
        self.attrs
            .uri
            .get()
            .is_some_and(|u| u.value().contains('{'))
    }

    /// Where the first of `scopes`, `any_scope`, `roles`, `permissions` was written.
    pub(crate) fn access_key_span(&self) -> Option<Span> {
        self.attrs.access.first_span()
    }

    /// The types of the parameters that take a required `&Auth`.
    pub(crate) fn required_callers(&self) -> Vec<&Type> {
        self.params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Auth { optional: false }))
            .map(|p| &p.ty)
            .collect()
    }

    fn requires_caller(&self) -> bool {
        !self.required_callers().is_empty()
    }

    /// The names `complete(...)` may name: the prompt's arguments, or the
    /// template's variables (each a parameter, checked by `check_uri`).
    fn completable(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Argument))
            .map(FeatureParam::key)
            .collect()
    }
}

/// Takes `#[mcp_resource]`/`#[mcp_prompt]` off `method` of a server block, if
/// it has one.
pub(crate) fn take(cx: &mut Ctxt, method: &mut ImplItemFn) -> Option<FeatureFn> {
    let is = |a: &syn::Attribute, kind: Kind| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == kind.attr())
    };
    let position = method
        .attrs
        .iter()
        .position(|a| is(a, Kind::Resource) || is(a, Kind::Prompt))?;
    let attr = method.attrs.remove(position);
    let kind = if is(&attr, Kind::Resource) {
        Kind::Resource
    } else {
        Kind::Prompt
    };
    method.attrs.retain(|a| {
        let again = is(a, Kind::Resource) || is(a, Kind::Prompt) || a.path().is_ident("mcp_tool");
        if again {
            cx.error_spanned_by(
                a,
                format!("`#[{}]` already marks this method; keep one", kind.attr()),
            );
        }
        !again
    });
    let tokens = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    let attrs = FeatureAttrs::parse(cx, kind, tokens);
    Some(FeatureFn::from_parts(
        cx,
        kind,
        attrs,
        &attr.to_token_stream(),
        &method.attrs,
        &mut method.sig,
        true,
    ))
}

/// Caller, context, once each; no misspelt caller or context; every other
/// parameter is an argument parsed from a string.
fn check_params(cx: &mut Ctxt, f: &FeatureFn) {
    let mut once = OnceEach::default();
    for param in &f.params {
        once.note(cx, &param.kind, &param.ty);
        match param.kind {
            ParamKind::Auth { .. } | ParamKind::Context { .. } => {}
            ParamKind::Argument | ParamKind::WholeArgs => {
                if let Some(message) = caller_or_context_misuse(&param.ty) {
                    cx.error_spanned_by(&param.ty, message);
                }
            }
        }
    }
}

/// Scopes are scope-tokens, and every access list names someone, once.
fn check_lists(cx: &mut Ctxt, f: &FeatureFn) {
    for (key, list) in f.attrs.access.slots() {
        if let Some(list) = list.get() {
            check_access_list(cx, key, list);
        }
    }
}

/// The `{names}` of a URI template, or why it is malformed.
fn template_variables(uri: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = uri;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("an unclosed `{`")?;
        let name = &after[..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "`{{{name}}}` is not a simple variable (letters, digits, `_`)"
            ));
        }
        names.push(name.to_owned());
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("an unmatched `}`".into());
    }
    Ok(names)
}

/// A resource needs a URI; each template variable names a parameter and
/// each parameter (besides the caller and the context) a variable.
fn check_uri(cx: &mut Ctxt, f: &FeatureFn, attr: &TokenStream) {
    let Some(uri) = f.attrs.uri.get() else {
        cx.error_spanned_by(
            attr,
            "`#[mcp_resource]` needs a `uri`: `#[mcp_resource(uri = \"app://items/{id}\")]`",
        );
        return;
    };
    let variables = match template_variables(&uri.value()) {
        Ok(v) => v,
        Err(why) => {
            cx.error_spanned_by(uri, format!("invalid URI template: {why}"));
            return;
        }
    };
    for variable in &variables {
        if !f.params.iter().any(|p| p.key() == *variable) {
            cx.error_spanned_by(
                uri,
                format!("`{{{variable}}}` names no parameter of `{}`; add `{variable}: String` (or any `FromStr` type)", f.ident),
            );
        }
    }
    for param in f
        .params
        .iter()
        .filter(|p| matches!(p.kind, ParamKind::Argument))
        .filter(|p| caller_or_context_misuse(&p.ty).is_none())
    {
        if !variables.contains(&param.key()) {
            cx.error_spanned_by(
                &param.ident,
                format!("`{}` is not a variable of the URI `{}`; a resource's parameters come from its URI template", param.ident, uri.value()),
            );
        }
    }
}

/// A completion function completes one argument (or template variable) that
/// exists; a fixed URI has nothing to complete.
fn check_complete(cx: &mut Ctxt, f: &FeatureFn) {
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
    let names = f.completable();
    let listed = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    for completion in &f.attrs.complete {
        let name = unraw(&completion.name);
        if names.contains(&name) {
            continue;
        }
        let message = match (f.kind, names.is_empty()) {
            (Kind::Prompt, true) => format!(
                "`{name}` is not an argument of this prompt, which has none; add a parameter \
                 `{name}: String`, or remove `complete`"
            ),
            (Kind::Prompt, false) => {
                format!("`{name}` is not an argument of this prompt; its arguments are {listed}")
            }
            (Kind::Resource, _) => {
                let uri = f.attrs.uri.get().map(LitStr::value).unwrap_or_default();
                format!(
                    "`{name}` is not a variable of the URI template `{uri}`; its variables are \
                     {listed}"
                )
            }
        };
        cx.error_spanned_by(&completion.name, message);
    }
}

/// The expression building the resource, template or prompt. `callee` is
/// what the parameters are applied to: `my_fn::call`, `Self::method`, or
/// `__this.method`.
fn registration(f: &FeatureFn, callee: &TokenStream) -> TokenStream {
    let p = crate::expand::private();
    let error = match f.kind {
        Kind::Resource => quote!(#p::ResourceError),
        Kind::Prompt => quote!(#p::PromptError),
    };
    let call_args = f.params.iter().map(|param| {
        let name = &param.ident;
        match param.kind {
            ParamKind::Auth { optional: false } => quote!(__auth),
            ParamKind::Auth { optional: true } => quote!(__req.context().auth()),
            ParamKind::Context { by_ref: true } => quote!(__req.context()),
            ParamKind::Context { by_ref: false } => quote!(__req.context().clone()),
            _ => quote!(#name),
        }
    });
    let caller = f.requires_caller().then(|| {
        let refusal = match f.kind {
            Kind::Resource => quote!(#p::resource_unauthenticated()),
            Kind::Prompt => quote!(#p::prompt_unauthenticated()),
        };
        quote! {
            let ::core::option::Option::Some(__auth) = __req.context().auth() else {
                return ::core::result::Result::Err(#refusal);
            };
        }
    });
    let arguments = f
        .params
        .iter()
        .filter(|p| matches!(p.kind, ParamKind::Argument));
    let a = &f.attrs;
    let mut settings = TokenStream::new();
    // A prompt's name is the constructor's argument; prompts never have a `uri`.
    let name_setting = (f.kind == Kind::Resource).then_some(&a.name);
    for (method, slot) in [
        (quote!(name), name_setting.unwrap_or(&a.uri)),
        (quote!(title), &a.title),
        (quote!(mime_type), &a.mime_type),
    ] {
        if let Some(value) = slot.get() {
            settings.extend(quote!(.#method(#value)));
        }
    }
    if let Some(d) = a
        .description
        .get()
        .map(LitStr::value)
        .or_else(|| f.docs.clone())
    {
        settings.extend(quote!(.description(#d)));
    }
    settings.extend(access_calls(&a.access));
    if f.requires_caller() {
        settings.extend(quote!(.requires_caller()));
    }
    let (constructor, first, request, extract): (
        TokenStream,
        TokenStream,
        TokenStream,
        Vec<TokenStream>,
    ) = match f.kind {
        Kind::Resource => {
            let uri = a.uri.get().map(LitStr::value).unwrap_or_default();
            let ctor = if f.is_template() {
                quote!(#p::ResourceTemplate::new)
            } else {
                quote!(#p::Resource::new)
            };
            let extract = arguments
                .map(|param| {
                    let (name, ty) = (&param.ident, &param.ty);
                    let key = param.key();
                    quote_spanned!(ty.span()=> let #name: #ty = __req.param_as::<#ty>(#key)?;)
                })
                .collect();
            (ctor, quote!(#uri), quote!(#p::ResourceRequest), extract)
        }
        Kind::Prompt => {
            let name = a
                .name
                .get()
                .map(LitStr::value)
                .unwrap_or_else(|| unraw(&f.ident));
            let extract = arguments
                .map(|param| {
                    let (name, ty) = (&param.ident, &param.ty);
                    let key = param.key();
                    let description = param.description.clone().unwrap_or_default();
                    match option_inner(ty) {
                        Some(inner) => {
                            settings.extend(quote!(.optional_argument(#key, #description)));
                            quote_spanned!(ty.span()=> let #name: #ty = #p::prompt_optional::<#inner>(&__req, #key)?;)
                        }
                        None => {
                            settings.extend(quote!(.required_argument(#key, #description)));
                            quote_spanned!(ty.span()=> let #name: #ty = #p::prompt_required::<#ty>(&__req, #key)?;)
                        }
                    }
                })
                .collect();
            (
                quote!(#p::Prompt::new),
                quote!(#name),
                quote!(#p::PromptRequest),
                extract,
            )
        }
    };
    for completion in &a.complete {
        let key = unraw(&completion.name);
        let function = &completion.function;
        let checked = quote_spanned!(function.span()=> #p::completion_fn(#function));
        settings.extend(quote!(.complete(#key, #checked)));
    }
    let share = f
        .by_ref_self
        .then(|| quote!(let __this = ::std::sync::Arc::clone(&__this);));
    quote! {{
        #share
        #constructor(#first, move |__req: #request| {
            #share
            async move {
                #caller
                #(#extract)*
                ::core::result::Result::Ok::<_, #error>(#callee(#(#call_args),*).await)
            }
        })
        #settings
    }}
}

/// The builder call registering `f`, a method of a server block:
/// `.resource(...)`, `.resource_template(...)` or `.prompt(...)`.
pub(crate) fn server_registration(f: &FeatureFn) -> TokenStream {
    let ident = &f.ident;
    let callee = if f.by_ref_self {
        quote_spanned!(ident.span()=> __this.#ident)
    } else {
        quote_spanned!(ident.span()=> Self::#ident)
    };
    let method = builder_method(f);
    let registration = registration(f, &callee);
    quote!(.#method(#registration))
}

/// Which builder method registers `f`.
fn builder_method(f: &FeatureFn) -> Ident {
    let name = match f.kind {
        Kind::Resource if f.is_template() => "resource_template",
        Kind::Resource => "resource",
        Kind::Prompt => "prompt",
    };
    format_ident!("{name}")
}

/// `#[mcp_resource]`/`#[mcp_prompt]` on a free function: the function becomes
/// a unit struct of the same name that registers with `.resource(my_fn)`,
/// `.resource_template(my_fn)` or `.prompt(my_fn)`, and lives on as
/// `my_fn::call`.
pub(crate) fn standalone(kind: Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let attrs = FeatureAttrs::parse(&mut cx, kind, args);
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#input #error);
        }
    };
    let Item::Fn(mut func) = item else {
        cx.error_spanned_by(
            crate::expand::item_head(&item),
            format!(
                "`#[{}]` goes on an `async fn` (a free function, or a method in an \
                 `#[mcp_server]` impl block)",
                kind.attr()
            ),
        );
        let errors = cx.into_compile_errors();
        return quote!(#input #errors);
    };
    let feature = FeatureFn::from_parts(
        &mut cx,
        kind,
        attrs,
        &TokenStream::new(),
        &func.attrs,
        &mut func.sig,
        false,
    );
    check_shadowing(&mut cx, &feature);
    if cx.has_errors() {
        let errors = cx.into_compile_errors();
        return quote!(#func #errors);
    }
    free_feature(&feature, func)
}

/// A free function becomes a unit struct of its name, and a parameter of the
/// same name would then be a pattern matching that struct, not a binding.
fn check_shadowing(cx: &mut Ctxt, f: &FeatureFn) {
    for param in f.params.iter().filter(|p| p.ident == f.ident) {
        cx.error_spanned_by(
            &param.ident,
            format!(
                "this parameter has the function's name, which `#[{}]` gives to a unit struct \
                 (registered with `.{}({})`); rename the function, e.g. `fn read_{}`",
                f.kind.attr(),
                builder_method(f),
                f.ident,
                unraw(&f.ident),
            ),
        );
    }
}

fn free_feature(f: &FeatureFn, func: syn::ItemFn) -> TokenStream {
    let p = crate::expand::private();
    let ident = &f.ident;
    let (trait_, convert, descriptor) = match f.kind {
        Kind::Resource if f.is_template() => (
            quote!(IntoResourceTemplate),
            quote!(into_resource_template),
            quote!(ResourceTemplate),
        ),
        Kind::Resource => (
            quote!(IntoResource),
            quote!(into_resource),
            quote!(Resource),
        ),
        Kind::Prompt => (quote!(IntoPrompt), quote!(into_prompt), quote!(Prompt)),
    };
    let body = registration(f, &quote_spanned!(ident.span()=> #ident::call));
    let registration = quote! {
        impl #p::#trait_ for #ident {
            fn #convert(self) -> #p::#descriptor {
                #body
            }
        }
    };
    let what = crate::expand::FreeFn {
        kind: f.kind_name(),
        name: &ident.to_string(),
        builder_method: &builder_method(f).to_string(),
    };
    crate::expand::unit_struct_for(func, ident, &what, registration)
}
