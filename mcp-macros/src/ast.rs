//! The typed model of a function marked `#[mcp_tool]`, `#[mcp_resource]` or
//! `#[mcp_prompt]`, and of a server `impl` block, built from syn's syntax
//! tree. One model serves the three kinds: they share the parameter model,
//! the attribute reader and the checks, and a kind adds only its own keys
//! and rules. Parameters are classified here, by their types.

use crate::attr::{ItemAttrs, Kind, ParamAttrs, ServerAttrs};
use crate::ctxt::Ctxt;
use crate::docs::{Docs, docs_of};
use proc_macro2::{Span, TokenStream};
use quote::ToTokens as _;
use syn::{FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat, Type};

/// A function marked `#[mcp_tool]`, `#[mcp_resource]` or `#[mcp_prompt]`.
pub(crate) struct McpFn {
    pub(crate) kind: Kind,
    pub(crate) attrs: ItemAttrs,
    /// The attribute as written, to point at when a required key is missing.
    pub(crate) attr: TokenStream,
    pub(crate) ident: Ident,
    pub(crate) docs: Option<Docs>,
    pub(crate) receiver: Receiver,
    pub(crate) params: Vec<Param>,
    /// The declared return type; `None` for `()`.
    pub(crate) output: Option<Type>,
    /// The `async` token, or the `fn` token's span if it is missing.
    pub(crate) asyncness: Result<Span, Span>,
    pub(crate) generics: Option<syn::Generics>,
    /// The `unsafe` token, reported: generated code calls the function safely.
    pub(crate) unsafety: Option<syn::token::Unsafe>,
}

/// How a method takes `self`.
pub(crate) enum Receiver {
    /// A free function, or an associated function without `self`.
    None,
    /// `&self`: the server's shared state.
    Ref(syn::Receiver),
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

    /// What describes it to clients: `#[arg(description = "...")]`, else
    /// its doc comment.
    pub(crate) fn description(&self) -> Option<String> {
        self.attrs
            .arg
            .description
            .as_ref()
            .map(LitStr::value)
            .or_else(|| self.attrs.docs.clone())
    }

    /// The name clients use: the property in a tool's arguments object, a
    /// prompt's argument, a resource template's variable.
    pub(crate) fn property_name(&self) -> Option<LitStr> {
        if let Some(rename) = &self.attrs.arg.rename {
            return Some(rename.clone());
        }
        self.ident().map(|i| LitStr::new(&unraw(i), i.span()))
    }
}

impl McpFn {
    /// Reads a function's signature, removing our parameter attributes from
    /// it. `attr` is the attribute as written (empty for a free function,
    /// where the attribute is the call site).
    pub(crate) fn from_parts(
        cx: &mut Ctxt,
        kind: Kind,
        attrs: ItemAttrs,
        attr: TokenStream,
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
                        Receiver::Ref(r.clone())
                    } else {
                        Receiver::Unsupported(r.clone())
                    };
                }
                FnArg::Typed(typed) => {
                    let attrs = ParamAttrs::take(cx, kind, &mut typed.attrs);
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
            kind,
            attrs,
            attr,
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

    /// The name clients see (a tool's or a prompt's): the `name` key, else
    /// the function's name.
    pub(crate) fn name(&self) -> LitStr {
        if let Some(name) = self.attrs.name.get() {
            return name.clone();
        }
        LitStr::new(&unraw(&self.ident), self.ident.span())
    }

    /// Where to point at the name: the `name` value or the function's name.
    pub(crate) fn name_span(&self) -> Span {
        self.attrs
            .name
            .get()
            .map_or_else(|| self.ident.span(), LitStr::span)
    }

    /// `tool`, `resource`, `resource template` or `prompt`, for messages.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Resource if self.is_template() => "resource template",
            kind => kind.noun(),
        }
    }

    /// The builder method that registers it.
    pub(crate) fn builder_method(&self) -> &'static str {
        match self.kind {
            Kind::Tool => "tool",
            Kind::Resource if self.is_template() => "resource_template",
            Kind::Resource => "resource",
            Kind::Prompt => "prompt",
        }
    }

    /// Whether this is a resource whose URI has `{variables}`.
    pub(crate) fn is_template(&self) -> bool {
        self.kind == Kind::Resource
            && self
                .attrs
                .uri
                .get()
                .is_some_and(|u| u.value().contains('{'))
    }

    /// The types of the parameters that take a required `&Auth`.
    pub(crate) fn required_callers(&self) -> Vec<&Type> {
        self.params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Auth { optional: false }))
            .map(|p| &*p.ty)
            .collect()
    }

    /// Whether it must have an authenticated caller to run at all.
    pub(crate) fn requires_caller(&self) -> bool {
        !self.required_callers().is_empty()
    }

    /// Where the first of `scopes`, `any_scope`, `roles`, `permissions` was written.
    pub(crate) fn access_key_span(&self) -> Option<Span> {
        self.attrs.access.first_span()
    }

    /// The ordinary parameters: a tool's arguments, a prompt's arguments, a
    /// resource template's variables.
    pub(crate) fn arguments(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Argument))
    }
}

/// A name as written, without `r#`.
pub(crate) fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").unwrap_or(&text).to_owned()
}

/// Sorts a parameter by its type. Names are matched by their last path
/// segment, so `mcp_runtime::auth::Auth` and an imported `Auth` both work.
fn classify(ty: &Type, whole_args: bool) -> ParamKind {
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
    /// Its methods marked `#[mcp_tool]`, `#[mcp_resource]` or `#[mcp_prompt]`,
    /// in order.
    pub(crate) items: Vec<McpFn>,
    /// Generic parameters of the block, reported: items are built once per type.
    pub(crate) generics: Option<syn::Generics>,
    /// `impl Trait for Type`, reported.
    pub(crate) trait_: Option<syn::Path>,
    /// The names of every function in the block, marked or not.
    pub(crate) fn_names: Vec<Ident>,
}

impl ServerImpl {
    /// Reads the block, taking our attributes off its methods (they are
    /// parsed here, not expanded on their own).
    pub(crate) fn from_item(cx: &mut Ctxt, attrs: ServerAttrs, item: &mut ItemImpl) -> Self {
        let mut items = Vec::new();
        let mut fn_names = Vec::new();
        for impl_item in &mut item.items {
            if let ImplItem::Fn(method) = impl_item {
                fn_names.push(method.sig.ident.clone());
                items.extend(take_marked(cx, method));
            }
        }
        let has_generics = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
        Self {
            attrs,
            self_ty: item.self_ty.clone(),
            items,
            generics: has_generics.then(|| item.generics.clone()),
            trait_: item.trait_.as_ref().map(|(_, path, _)| path.clone()),
            fn_names,
        }
    }

    /// The marked methods of one kind.
    pub(crate) fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &McpFn> {
        self.items.iter().filter(move |f| f.kind == kind)
    }
}

/// Takes the first of our attributes off `method`, and reports (and removes)
/// any further one: left in place, it would expand on its own, as if the
/// method were outside a server.
fn take_marked(cx: &mut Ctxt, method: &mut ImplItemFn) -> Option<McpFn> {
    let position = method
        .attrs
        .iter()
        .position(|a| Kind::of_attr(a).is_some())?;
    let attr = method.attrs.remove(position);
    let kind = Kind::of_attr(&attr)?;
    method.attrs.retain(|a| {
        let Some(again) = Kind::of_attr(a) else {
            return true;
        };
        let message = if again == kind {
            format!("duplicate `#[{}]`; merge them into one", kind.attr())
        } else {
            format!("`#[{}]` already marks this method; keep one", kind.attr())
        };
        cx.error_spanned_by(a, message);
        false
    });
    let attrs = ItemAttrs::parse_attribute(cx, kind, &attr);
    Some(McpFn::from_parts(
        cx,
        kind,
        attrs,
        attr.to_token_stream(),
        &method.attrs,
        &mut method.sig,
    ))
}
