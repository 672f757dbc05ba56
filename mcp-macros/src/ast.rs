//! The typed model of a tool function and of a server `impl` block, built from
//! syn's syntax tree. Parameters are classified here, by their types.

use crate::attr::{ParamAttrs, ServerAttrs, ToolAttrs, docs_of};
use crate::ctxt::Ctxt;
use proc_macro2::Span;
use syn::{FnArg, Ident, ImplItem, ImplItemFn, ItemFn, ItemImpl, LitStr, Pat, Type};

/// A function marked `#[mcp_tool]`.
pub(crate) struct ToolFn {
    pub(crate) attrs: ToolAttrs,
    pub(crate) ident: Ident,
    pub(crate) docs: Option<String>,
    pub(crate) receiver: Receiver,
    pub(crate) params: Vec<Param>,
    /// The declared return type; `None` for `()`.
    pub(crate) output: Option<Type>,
    /// The `async` token, or the `fn` token's span if it is missing.
    pub(crate) asyncness: Result<Span, Span>,
    pub(crate) generics: Option<syn::Generics>,
    /// The `unsafe` token, reported: generated code calls the tool safely.
    pub(crate) unsafety: Option<syn::token::Unsafe>,
}

/// How a tool method takes `self`.
pub(crate) enum Receiver {
    /// A free function, or an associated function without `self`.
    None,
    /// `&self`: the server's shared state.
    Ref,
    /// Anything else (`self`, `&mut self`, `self: Box<Self>`), reported.
    Unsupported(syn::Receiver),
}

/// One parameter besides `self`.
pub(crate) struct Param {
    pub(crate) pat: Box<Pat>,
    pub(crate) ty: Box<Type>,
    pub(crate) kind: ParamKind,
    pub(crate) attrs: ParamAttrs,
}

pub(crate) enum ParamKind {
    /// `&Auth` (required caller) or `Option<&Auth>`.
    Auth { optional: bool },
    /// `RequestContext` by value or by reference.
    Context { by_ref: bool },
    /// `#[args] name: T`: the whole arguments object.
    WholeArgs,
    /// An ordinary parameter: one property of the arguments object.
    Argument,
}

impl Param {
    /// The parameter's name, for properties and calls.
    pub(crate) fn ident(&self) -> Option<&Ident> {
        match &*self.pat {
            Pat::Ident(p) => Some(&p.ident),
            _ => None,
        }
    }

    /// The property name in the arguments object.
    pub(crate) fn property_name(&self) -> Option<LitStr> {
        if let Some(rename) = &self.attrs.arg.rename {
            return Some(rename.clone());
        }
        self.ident().map(|i| {
            let text = i.to_string();
            LitStr::new(text.strip_prefix("r#").unwrap_or(&text), i.span())
        })
    }
}

impl ToolFn {
    /// The tool from a free function (`fn_item`) or a method's parts.
    pub(crate) fn from_parts(
        cx: &mut Ctxt,
        attrs: ToolAttrs,
        fn_attrs: &[syn::Attribute],
        sig: &mut syn::Signature,
    ) -> Self {
        let docs = docs_of(fn_attrs);
        let mut receiver = Receiver::None;
        let mut params = Vec::new();
        for input in sig.inputs.iter_mut() {
            match input {
                FnArg::Receiver(r) => {
                    let by_shared_ref =
                        r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none();
                    receiver = if by_shared_ref {
                        Receiver::Ref
                    } else {
                        Receiver::Unsupported(r.clone())
                    };
                }
                FnArg::Typed(typed) => {
                    let attrs = ParamAttrs::take(cx, &mut typed.attrs);
                    let kind = classify(&typed.ty, attrs.whole_args.is_some());
                    params.push(Param {
                        pat: typed.pat.clone(),
                        ty: typed.ty.clone(),
                        kind,
                        attrs,
                    });
                }
            }
        }
        let output = match &sig.output {
            syn::ReturnType::Default => None,
            syn::ReturnType::Type(_, ty) => Some((**ty).clone()),
        };
        let has_generics = !sig.generics.params.is_empty() || sig.generics.where_clause.is_some();
        Self {
            attrs,
            ident: sig.ident.clone(),
            docs,
            receiver,
            params,
            output,
            asyncness: sig.asyncness.map(|a| a.span).ok_or(sig.fn_token.span),
            generics: has_generics.then(|| sig.generics.clone()),
            unsafety: sig.unsafety,
        }
    }

    /// A free function marked `#[mcp_tool]`; its parameter attributes are
    /// removed from `item` as they are read.
    pub(crate) fn from_item(cx: &mut Ctxt, attrs: ToolAttrs, item: &mut ItemFn) -> Self {
        Self::from_parts(cx, attrs, &item.attrs, &mut item.sig)
    }

    /// The tool's name: the `name` key, else the function's name.
    pub(crate) fn name(&self) -> LitStr {
        if let Some(name) = self.attrs.name.get() {
            return name.clone();
        }
        let text = self.ident.to_string();
        LitStr::new(text.strip_prefix("r#").unwrap_or(&text), self.ident.span())
    }

    /// Where to point at the tool's name: the `name` value or the function's name.
    pub(crate) fn name_span(&self) -> Span {
        self.attrs
            .name
            .get()
            .map_or_else(|| self.ident.span(), LitStr::span)
    }

    /// Whether the tool must have an authenticated caller to run at all.
    pub(crate) fn requires_caller(&self) -> bool {
        self.params
            .iter()
            .any(|p| matches!(p.kind, ParamKind::Auth { optional: false }))
    }

    /// Whether the tool declares scopes, roles or permissions.
    pub(crate) fn access_key_span(&self) -> Option<Span> {
        self.attrs.access.first_span()
    }
}

/// Sorts a parameter by its type. Names are matched by their last path
/// segment, so `mcp_runtime::auth::Auth` and an imported `Auth` both work.
pub(crate) fn classify(ty: &Type, whole_args: bool) -> ParamKind {
    if whole_args {
        return ParamKind::WholeArgs;
    }
    if let Type::Reference(r) = ty
        && r.mutability.is_none()
    {
        if is_named(&r.elem, "Auth") {
            return ParamKind::Auth { optional: false };
        }
        if is_named(&r.elem, "RequestContext") {
            return ParamKind::Context { by_ref: true };
        }
    }
    if is_named(ty, "RequestContext") {
        return ParamKind::Context { by_ref: false };
    }
    if let Some(inner) = option_inner(ty)
        && let Type::Reference(r) = inner
        && r.mutability.is_none()
        && is_named(&r.elem, "Auth")
    {
        return ParamKind::Auth { optional: true };
    }
    ParamKind::Argument
}

/// Whether `ty` is a path whose last segment is `name`, without generics.
pub(crate) fn is_named(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == name && s.arguments.is_none()),
        Type::Paren(p) => is_named(&p.elem, name),
        Type::Group(g) => is_named(&g.elem, name),
        _ => false,
    }
}

/// `T` of `Option<T>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// An `impl` block marked `#[mcp_server]`.
pub(crate) struct ServerImpl {
    pub(crate) attrs: ServerAttrs,
    pub(crate) self_ty: Box<Type>,
    pub(crate) tools: Vec<ToolFn>,
    /// Generic parameters of the block, reported: tools are built once per type.
    pub(crate) generics: Option<syn::Generics>,
    /// `impl Trait for Type`, reported.
    pub(crate) trait_: Option<syn::Path>,
    /// The names of every function in the block, tools or not.
    pub(crate) fn_names: Vec<Ident>,
    /// Methods marked `#[mcp_resource]` or `#[mcp_prompt]`.
    pub(crate) features: Vec<crate::feature::FeatureFn>,
}

impl ServerImpl {
    /// Reads the block, taking every `#[mcp_tool]` off its methods (they are
    /// parsed here, not expanded on their own).
    pub(crate) fn from_item(cx: &mut Ctxt, attrs: ServerAttrs, item: &mut ItemImpl) -> Self {
        let mut tools = Vec::new();
        let mut fn_names = Vec::new();
        let mut features = Vec::new();
        for impl_item in &mut item.items {
            if let ImplItem::Fn(method) = impl_item {
                fn_names.push(method.sig.ident.clone());
                if let Some(tool) = take_tool(cx, method) {
                    tools.push(tool);
                } else if let Some(feature) = crate::feature::take(cx, method) {
                    features.push(feature);
                }
            }
        }
        let has_generics = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
        Self {
            attrs,
            self_ty: item.self_ty.clone(),
            tools,
            generics: has_generics.then(|| item.generics.clone()),
            trait_: item.trait_.as_ref().map(|(_, path, _)| path.clone()),
            fn_names,
            features,
        }
    }
}

fn take_tool(cx: &mut Ctxt, method: &mut ImplItemFn) -> Option<ToolFn> {
    let position = method.attrs.iter().position(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "mcp_tool")
    })?;
    let attr = method.attrs.remove(position);
    // Any further `#[mcp_tool]` is reported and removed: left in place, it
    // would expand on its own, as if the method were outside a server.
    method.attrs.retain(|a| {
        let is_tool = a
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "mcp_tool");
        if is_tool {
            cx.error_spanned_by(a, "duplicate `#[mcp_tool]`; merge them into one");
        }
        !is_tool
    });
    let tokens = match &attr.meta {
        syn::Meta::Path(_) => proc_macro2::TokenStream::new(),
        syn::Meta::List(list) => list.tokens.clone(),
        syn::Meta::NameValue(nv) => {
            cx.error_spanned_by(nv, "write `#[mcp_tool(...)]` or `#[mcp_tool]`");
            proc_macro2::TokenStream::new()
        }
    };
    let attrs = ToolAttrs::parse(cx, tokens);
    Some(ToolFn::from_parts(
        cx,
        attrs,
        &method.attrs,
        &mut method.sig,
    ))
}
