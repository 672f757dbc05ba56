//! `#[mcp_resource]` and `#[mcp_prompt]` on methods of an `#[mcp_server]`
//! block: their attributes, typed model, rules and generated registration.

use crate::ast::{ParamKind, classify, option_inner};
use crate::attr::{
    ParamAttrs, Slot, StrList, docs_of, key_of, list_value, string_value, unknown_key,
};
use crate::ctxt::Ctxt;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser as _;
use syn::spanned::Spanned as _;
use syn::{FnArg, Ident, ImplItemFn, LitStr, Pat, Type};

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
];
pub(crate) const PROMPT_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "scopes",
    "any_scope",
    "roles",
    "permissions",
];

/// Which attribute a method carries.
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

/// The keys of `#[mcp_resource(...)]` or `#[mcp_prompt(...)]`.
pub(crate) struct FeatureAttrs {
    uri: Slot<LitStr>,
    name: Slot<LitStr>,
    title: Slot<LitStr>,
    description: Slot<LitStr>,
    mime_type: Slot<LitStr>,
    scopes: Slot<StrList>,
    any_scope: Slot<StrList>,
    roles: Slot<StrList>,
    permissions: Slot<StrList>,
}

impl FeatureAttrs {
    fn parse(cx: &mut Ctxt, kind: Kind, tokens: TokenStream) -> Self {
        let mut a = Self {
            uri: Slot::new("uri"),
            name: Slot::new("name"),
            title: Slot::new("title"),
            description: Slot::new("description"),
            mime_type: Slot::new("mime_type"),
            scopes: Slot::new("scopes"),
            any_scope: Slot::new("any_scope"),
            roles: Slot::new("roles"),
            permissions: Slot::new("permissions"),
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
            "scopes" => {
                let list = list_value(cx, meta)?;
                self.scopes.set(cx, path, list);
            }
            "any_scope" => {
                let list = list_value(cx, meta)?;
                self.any_scope.set(cx, path, list);
            }
            "roles" => {
                let list = list_value(cx, meta)?;
                self.roles.set(cx, path, list);
            }
            "permissions" => {
                let list = list_value(cx, meta)?;
                self.permissions.set(cx, path, list);
            }
            _ => {
                let keys = if resource { RESOURCE_KEYS } else { PROMPT_KEYS };
                let hint = match key.as_str() {
                    "scope" => Some("scopes"),
                    "mime" | "mimeType" => Some("mime_type"),
                    "template" | "uri_template" => Some("uri"),
                    _ => None,
                };
                unknown_key(cx, meta, &key, keys, hint)?;
            }
        }
        Ok(())
    }
}

/// One parameter of a resource or prompt method.
struct FeatureParam {
    ident: Ident,
    ty: Type,
    kind: ParamKind,
    description: Option<String>,
}

/// A method marked `#[mcp_resource]` or `#[mcp_prompt]`.
pub(crate) struct FeatureFn {
    kind: Kind,
    attrs: FeatureAttrs,
    ident: Ident,
    docs: Option<String>,
    by_ref_self: bool,
    params: Vec<FeatureParam>,
}

/// Takes `#[mcp_resource]`/`#[mcp_prompt]` off `method`, if it has one.
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
    let sig = &mut method.sig;
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
            format!("`#[{}]` methods cannot be generic", kind.attr()),
        );
    }
    let mut by_ref_self = false;
    let mut params = Vec::new();
    for input in sig.inputs.iter_mut() {
        match input {
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
                let kind = classify(&typed.ty, false);
                if matches!(kind, ParamKind::Auth { .. }) {
                    cx.error_spanned_by(
                        &typed.ty,
                        "resources and prompts take no `&Auth` yet; take `&RequestContext` and use its caller",
                    );
                }
                params.push(FeatureParam {
                    ident: pat.ident.clone(),
                    ty: (*typed.ty).clone(),
                    kind,
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
    let feature = FeatureFn {
        kind,
        attrs,
        ident: sig.ident.clone(),
        docs: docs_of(&method.attrs),
        by_ref_self,
        params,
    };
    if kind == Kind::Resource {
        check_uri(cx, &feature, &attr);
    }
    Some(feature)
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
/// each parameter (besides the context) a variable.
fn check_uri(cx: &mut Ctxt, f: &FeatureFn, attr: &syn::Attribute) {
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
        if !f.params.iter().any(|p| p.ident == variable.as_str()) {
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
    {
        if !variables.iter().any(|v| param.ident == v.as_str()) {
            cx.error_spanned_by(
                &param.ident,
                format!("`{}` is not a variable of the URI `{}`; a resource's parameters come from its URI template", param.ident, uri.value()),
            );
        }
    }
}

/// The builder call registering one resource, template or prompt.
pub(crate) fn registration(f: &FeatureFn) -> TokenStream {
    let p = quote!(::mcp_runtime::__private);
    let ident = &f.ident;
    let call_args = f.params.iter().map(|param| {
        let name = &param.ident;
        match param.kind {
            ParamKind::Context { by_ref: true } => quote!(__req.context()),
            ParamKind::Context { by_ref: false } => quote!(__req.context().clone()),
            _ => quote!(#name),
        }
    });
    let callee = if f.by_ref_self {
        quote_spanned!(ident.span()=> __this.#ident)
    } else {
        quote_spanned!(ident.span()=> Self::#ident)
    };
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
    for (method, list) in [
        (quote!(scopes), &a.scopes),
        (quote!(any_scope), &a.any_scope),
        (quote!(roles), &a.roles),
        (quote!(permissions), &a.permissions),
    ] {
        if let Some(list) = list.get() {
            let items = &list.items;
            settings.extend(quote!(.#method([#(#items),*])));
        }
    }
    let (constructor, first, request, error, extract): (
        TokenStream,
        TokenStream,
        TokenStream,
        TokenStream,
        Vec<TokenStream>,
    ) = match f.kind {
        Kind::Resource => {
            let uri = a.uri.get().map(LitStr::value).unwrap_or_default();
            let ctor = if uri.contains('{') {
                quote!(#p::ResourceTemplate::new)
            } else {
                quote!(#p::Resource::new)
            };
            let extract = arguments
                .map(|param| {
                    let (name, ty) = (&param.ident, &param.ty);
                    let key = name.to_string();
                    quote_spanned!(ty.span()=> let #name: #ty = __req.param_as::<#ty>(#key)?;)
                })
                .collect();
            (
                ctor,
                quote!(#uri),
                quote!(#p::ResourceRequest),
                quote!(#p::ResourceError),
                extract,
            )
        }
        Kind::Prompt => {
            let name = a
                .name
                .get()
                .map(LitStr::value)
                .unwrap_or_else(|| ident.to_string());
            let extract = arguments
                .map(|param| {
                    let (name, ty) = (&param.ident, &param.ty);
                    let key = name.to_string();
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
                quote!(#p::PromptError),
                extract,
            )
        }
    };
    let (share, clone) = if f.by_ref_self {
        (
            quote!(let __this = ::std::sync::Arc::clone(&__this);),
            quote!(let __this = ::std::sync::Arc::clone(&__this);),
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    quote! {{
        #share
        #constructor(#first, move |__req: #request| {
            #clone
            async move {
                #(#extract)*
                ::core::result::Result::Ok::<_, #error>(#callee(#(#call_args),*).await)
            }
        })
        #settings
    }}
}

/// Which builder method registers `f`.
pub(crate) fn builder_method(f: &FeatureFn) -> TokenStream {
    match f.kind {
        Kind::Resource if f.attrs.uri.get().is_some_and(|u| u.value().contains('{')) => {
            quote!(resource_template)
        }
        Kind::Resource => quote!(resource),
        Kind::Prompt => quote!(prompt),
    }
}

/// `#[mcp_resource]`/`#[mcp_prompt]` outside an `#[mcp_server]` block.
pub(crate) fn standalone(kind: Kind, input: TokenStream) -> TokenStream {
    let span = syn::parse2::<syn::ItemFn>(input.clone())
        .map(|f| f.sig.ident.span())
        .unwrap_or_else(|_| Span::call_site());
    let message = format!(
        "`#[{}]` goes on a method of an `impl` block marked `#[mcp_server]`",
        kind.attr()
    );
    let error = syn::Error::new(span, message).to_compile_error();
    quote!(#input #error)
}
