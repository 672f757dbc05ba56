//! Code generation. Generated code names the runtime only through
//! [`private`], and the runtime computes schemas and checks access: the macro
//! emits data and calls.

use crate::ast::{Param, ParamKind, Receiver, ServerImpl, ToolFn};
use crate::attr::{AccessAttrs, OAuthChoice, ServerAttrs, ToolAttrs};
use crate::ctxt::Ctxt;
use crate::valid;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Item, LitStr};

/// The one path generated code uses to reach the runtime.
pub(crate) fn private() -> TokenStream {
    quote!(::mcp_runtime::__private)
}

/// `#[mcp_tool]` on a free function.
pub(crate) fn tool(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let attrs = ToolAttrs::parse(&mut cx, args);
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => return with_errors(input, error.to_compile_error()),
    };
    let mut func = match item {
        Item::Fn(func) => func,
        other => {
            misplaced_tool(&mut cx, &other);
            return with_errors(input, cx.into_compile_errors());
        }
    };
    let tool = ToolFn::from_item(&mut cx, attrs, &mut func);
    if !matches!(tool.receiver, Receiver::None) {
        cx.error_spanned_by(
            &func.sig.inputs,
            "`#[mcp_tool]` on a method needs `#[mcp_server]` on its `impl` block",
        );
    }
    valid::check_tool(&mut cx, &tool);
    if cx.has_errors() {
        // The function itself, minus our parameter attributes, keeps later
        // errors about it meaningful.
        return with_errors(quote!(#func), cx.into_compile_errors());
    }
    free_tool(&tool, func)
}

/// `#[mcp_server]` on an `impl` block.
pub(crate) fn server(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let attrs = ServerAttrs::parse(&mut cx, args);
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => return with_errors(input, error.to_compile_error()),
    };
    let mut block = match item {
        Item::Impl(block) => block,
        other => {
            cx.error_spanned_by(
                item_head(&other),
                "`#[mcp_server]` goes on an `impl` block: `#[mcp_server] impl MyServer { ... }`",
            );
            return with_errors(input, cx.into_compile_errors());
        }
    };
    let server = ServerImpl::from_item(&mut cx, attrs, &mut block);
    valid::check_server(&mut cx, &server);
    if cx.has_errors() {
        return with_errors(quote!(#block), cx.into_compile_errors());
    }
    let api = server_api(&server);
    quote! {
        #block
        #api
    }
}

fn with_errors(item: TokenStream, errors: TokenStream) -> TokenStream {
    quote! {
        #item
        #errors
    }
}

/// The keyword and name of an item, for pointing at it without underlining its body.
pub(crate) fn item_head(item: &Item) -> TokenStream {
    match item {
        Item::Struct(s) => {
            let (kw, ident) = (&s.struct_token, &s.ident);
            quote!(#kw #ident)
        }
        Item::Enum(e) => {
            let (kw, ident) = (&e.enum_token, &e.ident);
            quote!(#kw #ident)
        }
        Item::Impl(i) => {
            let (kw, ty) = (&i.impl_token, &i.self_ty);
            quote!(#kw #ty)
        }
        Item::Trait(t) => {
            let (kw, ident) = (&t.trait_token, &t.ident);
            quote!(#kw #ident)
        }
        Item::Fn(f) => {
            let (kw, ident) = (&f.sig.fn_token, &f.sig.ident);
            quote!(#kw #ident)
        }
        other => quote_spanned!(other.span()=> item),
    }
}

fn misplaced_tool(cx: &mut Ctxt, item: &Item) {
    // A function without a body (a trait method's declaration) is not an `Item::Fn`.
    if let Item::Verbatim(tokens) = item
        && let Ok(declaration) = syn::parse2::<syn::TraitItemFn>(tokens.clone())
    {
        let (kw, ident) = (&declaration.sig.fn_token, &declaration.sig.ident);
        cx.error_spanned_by(
            quote!(#kw #ident),
            "`#[mcp_tool]` needs a function with a body, not a trait method's declaration: put \
             the tools in an `impl` block marked `#[mcp_server]`",
        );
        return;
    }
    let message = match item {
        Item::Impl(_) => {
            "`#[mcp_tool]` goes on an `async fn`; to serve the methods of an `impl` block, put \
             `#[mcp_server]` on the block and `#[mcp_tool]` on each method"
        }
        _ => {
            "`#[mcp_tool]` goes on an `async fn` (a free function, or a method in an \
             `#[mcp_server]` impl block)"
        }
    };
    cx.error_spanned_by(item_head(item), message);
}

/// A free function becomes a unit struct of the same name that registers as a
/// tool (`.tool(my_fn)`); the function lives on as `my_fn::call`.
fn free_tool(tool: &ToolFn, func: syn::ItemFn) -> TokenStream {
    let p = private();
    let ident = &tool.ident;
    let tool_expr = tool_expr(tool, &quote_spanned!(ident.span()=> #ident::call));
    let registration = quote! {
        impl #p::IntoTool for #ident {
            fn into_tool(self) -> #p::Tool {
                #tool_expr
            }
        }
    };
    let what = FreeFn {
        kind: "tool",
        name: &tool.name().value(),
        builder_method: "tool",
    };
    unit_struct_for(func, ident, &what, registration)
}

/// How a free function's unit struct describes itself in its docs.
pub(crate) struct FreeFn<'a> {
    /// `tool`, `resource`, `resource template` or `prompt`.
    pub(crate) kind: &'a str,
    /// The name clients see.
    pub(crate) name: &'a str,
    /// The builder method that registers it.
    pub(crate) builder_method: &'a str,
}

/// The unit struct a free function becomes: named like the function, with
/// its docs (or a line saying how to register it), the function itself
/// kept as `call`, and `registration`, the impl that turns it into a
/// descriptor.
pub(crate) fn unit_struct_for(
    mut func: syn::ItemFn,
    ident: &syn::Ident,
    what: &FreeFn<'_>,
    registration: TokenStream,
) -> TokenStream {
    let vis = func.vis.clone();
    let docs: Vec<syn::Attribute> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect();
    let fallback_doc = docs.is_empty().then(|| {
        let text = format!(
            "The MCP {} `{}`. Register it with `.{}({ident})`.",
            what.kind, what.name, what.builder_method
        );
        quote!(#[doc = #text])
    });
    func.sig.ident = format_ident!("call", span = ident.span());
    let call_doc = format!(
        "Runs the {}'s function directly, as `{ident}::call(...)`.",
        what.kind
    );
    quote! {
        #(#docs)*
        #fallback_doc
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #ident;

        impl #ident {
            #[doc = #call_doc]
            #func
        }

        #registration
    }
}

/// The expression building one tool. `callee` is what the parameters are
/// applied to: `my_fn::call`, `Self::method`, or `__this.method`.
fn tool_expr(tool: &ToolFn, callee: &TokenStream) -> TokenStream {
    let p = private();
    let name = tool.name();
    let arguments: Vec<&Param> = tool
        .params
        .iter()
        .filter(|p| matches!(p.kind, ParamKind::Argument))
        .collect();
    let whole = tool
        .params
        .iter()
        .find(|p| matches!(p.kind, ParamKind::WholeArgs));
    // The types the client's arguments are deserialized into: the `#[args]`
    // type, or one per argument. They are type parameters of the arguments
    // object and of `__mcp_tool`, so that one that is unfit is reported at
    // its own span, once, instead of inside generated impls.
    let checked: Vec<&syn::Type> = match whole {
        Some(param) => vec![&*param.ty],
        None => arguments.iter().map(|param| &*param.ty).collect(),
    };
    let generics: Vec<syn::Ident> = (0..checked.len())
        .map(|i| format_ident!("__T{}", i))
        .collect();
    let (args_item, args_ty) = match whole {
        Some(_) => (quote!(), quote!(__T0)),
        None if arguments.is_empty() => (quote!(), quote!(#p::NoArgs)),
        None => (
            arguments_struct(&arguments, &generics),
            quote!(__McpArguments<#(#generics),*>),
        ),
    };
    let checks = tool.params.iter().filter_map(|param| {
        let ty = &param.ty;
        match param.kind {
            ParamKind::Argument => Some(quote_spanned!(ty.span()=> #p::assert_argument::<#ty>();)),
            ParamKind::WholeArgs => {
                Some(quote_spanned!(ty.span()=> #p::assert_arguments_object::<#ty>();))
            }
            _ => None,
        }
    });
    let call_args = tool.params.iter().map(|param| match param.kind {
        ParamKind::Auth { optional: false } => quote!(__auth),
        ParamKind::Auth { optional: true } => quote!(__ctx.auth()),
        ParamKind::Context { by_ref: true } => quote!(&__ctx),
        ParamKind::Context { by_ref: false } => quote!(::core::clone::Clone::clone(&__ctx)),
        ParamKind::WholeArgs => quote!(__args),
        ParamKind::Argument => {
            let field = param.ident();
            quote!(__args.#field)
        }
    });
    let caller = tool.requires_caller().then(|| {
        quote! {
            let ::core::option::Option::Some(__auth) = __ctx.auth() else {
                return #p::unauthenticated();
            };
        }
    });
    let output_span = tool.output.as_ref().map_or(tool.ident.span(), |t| t.span());
    let output = match &tool.output {
        Some(ty) => quote!(#ty),
        None => quote!(()),
    };
    // Pointed at the function's name: a future that is not `Send` is the body's doing.
    let ident_span = tool.ident.span();
    let call = quote_spanned!(ident_span=> #p::assert_send(#callee(#(#call_args),*)));
    let output_schema = quote_spanned!(output_span=> output_schema_of::<#output>);
    // Named by the declared type, so a type that is not a tool result is
    // reported once, at the return type, together with `output_schema_of`.
    let into_result =
        quote_spanned!(output_span=> <#output as #p::IntoToolResult>::into_tool_result);
    let settings = tool_settings(tool);
    let capture = matches!(tool.receiver, Receiver::Ref)
        .then(|| quote!(let __this = ::std::sync::Arc::clone(&__this);));
    quote! {{
        #args_item
        fn __mcp_tool<#(#generics,)* F, Fut>(name: &'static str, handler: F) -> #p::Tool
        where
            #(#generics: #p::serde::de::DeserializeOwned
                + #p::schemars::JsonSchema
                + ::core::marker::Send
                + 'static,)*
            F: ::core::ops::Fn(#args_ty, #p::RequestContext) -> Fut
                + ::core::marker::Send
                + ::core::marker::Sync
                + 'static,
            Fut: ::core::future::Future<Output = #p::CallToolResult>
                + ::core::marker::Send
                + 'static,
        {
            #p::Tool::new(name, handler)
        }
        #(#checks)*
        #capture
        __mcp_tool::<#(#checked,)* _, _>(#name, move |__args, __ctx| {
            #capture
            async move {
                #caller
                let __output = #call.await;
                #into_result(__output)
            }
        })
        .#output_schema()
        #settings
    }}
}

/// The generated arguments object: one field per ordinary parameter, each of
/// its own type parameter (`generics`, in order).
fn arguments_struct(arguments: &[&Param], generics: &[syn::Ident]) -> TokenStream {
    let p = private();
    let serde_path = LitStr::new(&format!("{p}::serde").replace(' ', ""), Span::call_site());
    let schemars_path = LitStr::new(
        &format!("{p}::schemars").replace(' ', ""),
        Span::call_site(),
    );
    let fields = arguments.iter().zip(generics).map(|(param, ty)| {
        let ident = param.ident();
        let description = param
            .attrs
            .arg
            .description
            .as_ref()
            .map(LitStr::value)
            .or_else(|| param.attrs.docs.clone())
            .map(|d| quote!(#[doc = #d]));
        let rename = param
            .attrs
            .arg
            .rename
            .as_ref()
            .map(|r| quote!(#[serde(rename = #r)]));
        quote! {
            #description
            #rename
            #ident: #ty
        }
    });
    quote! {
        #[derive(#p::serde::Deserialize, #p::schemars::JsonSchema)]
        #[serde(crate = #serde_path)]
        #[schemars(crate = #schemars_path)]
        struct __McpArguments<#(#generics),*> {
            #(#fields,)*
        }
    }
}

/// The builder calls that carry the tool's description, annotations and access rule.
fn tool_settings(tool: &ToolFn) -> TokenStream {
    let p = private();
    let a = &tool.attrs;
    let mut out = TokenStream::new();
    if let Some(title) = a.title.get() {
        out.extend(quote!(.title(#title)));
    }
    let description = a
        .description
        .get()
        .map(LitStr::value)
        .or_else(|| tool.docs.clone());
    if let Some(description) = description {
        out.extend(quote!(.description(#description)));
    }
    out.extend(access_calls(&a.access));
    if let Some(list) = a.client_capabilities.get() {
        for capability in &list.items {
            out.extend(quote!(.requires_client_capability(#capability)));
        }
    }
    let hint = |slot: &crate::attr::Slot<bool>| match slot.get() {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    };
    let has_annotations = a.title.get().is_some()
        || [&a.read_only, &a.destructive, &a.idempotent, &a.open_world]
            .iter()
            .any(|s| s.get().is_some());
    if has_annotations {
        let title = match a.title.get() {
            Some(t) => quote!(::core::option::Option::Some(::std::borrow::Cow::Borrowed(#t))),
            None => quote!(::core::option::Option::None),
        };
        let (read_only, destructive, idempotent, open_world) = (
            hint(&a.read_only),
            hint(&a.destructive),
            hint(&a.idempotent),
            hint(&a.open_world),
        );
        out.extend(quote! {
            .annotations(#p::ToolAnnotations {
                title: #title,
                read_only_hint: #read_only,
                destructive_hint: #destructive,
                idempotent_hint: #idempotent,
                open_world_hint: #open_world,
            })
        });
    }
    if tool.requires_caller() {
        out.extend(quote!(.requires_caller()));
    }
    if a.describe_access.get() == Some(&false) {
        out.extend(quote!(.describe_access(false)));
    }
    out
}

/// The methods `#[mcp_server]` adds: a builder, the built server, and `listen`.
/// The builder calls for the access lists written: `.scopes([...])`,
/// `.any_scope([...])`, `.roles([...])`, `.permissions([...])`.
pub(crate) fn access_calls(access: &AccessAttrs) -> TokenStream {
    let mut out = TokenStream::new();
    for (key, list) in access.slots() {
        if let Some(list) = list.get() {
            let method = format_ident!("{key}");
            let items = &list.items;
            out.extend(quote!(.#method([#(#items),*])));
        }
    }
    out
}

fn server_api(server: &ServerImpl) -> TokenStream {
    let p = private();
    let self_ty = &server.self_ty;
    let ServerAttrs {
        name,
        version,
        title,
        instructions,
        oauth,
    } = &server.attrs;
    let name = match name.get() {
        Some(n) => quote!(#n),
        None => quote!(::core::env!("CARGO_PKG_NAME")),
    };
    let version = match version.get() {
        Some(v) => quote!(#v),
        None => quote!(::core::env!("CARGO_PKG_VERSION")),
    };
    let title = title.get().map(|t| quote!(.title(#t)));
    let instructions = instructions.get().map(|i| quote!(.instructions(#i)));
    let oauth = match oauth.get() {
        None | Some(OAuthChoice::None) => quote!(#p::OAuth::none()),
        Some(OAuthChoice::Named(ident)) => {
            quote_spanned!(ident.span()=> #p::OAuth::from_env(#p::builtin_provider::#ident))
        }
        Some(OAuthChoice::Custom(expr)) => quote_spanned!(expr.span()=> #p::oauth_custom(#expr)),
    };
    let tools = server.tools.iter().map(|tool| {
        let ident = &tool.ident;
        let callee = match tool.receiver {
            Receiver::Ref => quote_spanned!(ident.span()=> __this.#ident),
            _ => quote_spanned!(ident.span()=> Self::#ident),
        };
        tool_expr(tool, &callee)
    });
    let features = server
        .features
        .iter()
        .map(crate::feature::server_registration);
    let state_check = quote_spanned!(self_ty.span()=> #p::assert_server_state::<Self>(););
    quote! {
        impl #self_ty {
            /// A builder for the MCP server made of this value and its tools,
            /// resources and prompts.
            /// Add settings (path, hosts, sessions), then call `build()`.
            pub fn into_mcp_builder(self) -> #p::McpServerBuilder {
                #state_check
                let __this = ::std::sync::Arc::new(self);
                #p::McpServer::builder(#name, #version)
                    #title
                    #instructions
                    .oauth(#oauth)
                    #(.tool(#tools))*
                    #(#features)*
            }

            /// The MCP server made of this value and its tools, ready to
            /// `listen()` or to mount in an actix-web `App` with `configure()`.
            pub fn into_mcp_server(self) -> ::core::result::Result<#p::McpServer, #p::BuildError> {
                self.into_mcp_builder().build()
            }

            /// Serves this server on `HOST`:`PORT` from the environment
            /// (default `127.0.0.1:3000`) until Ctrl-C or SIGTERM.
            pub async fn listen(self) -> ::std::io::Result<()> {
                #p::listen(self.into_mcp_server()).await
            }
        }
    }
}
