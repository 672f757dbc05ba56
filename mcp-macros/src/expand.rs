//! Code generation. Generated code names the runtime only through
//! [`private`], and the runtime computes schemas and checks access: the macro
//! emits data and calls. Tools, resources and prompts share the entry point,
//! the unit struct a free function becomes, and the settings every kind has;
//! each kind adds its own handler.

use crate::ast::{McpFn, Param, ParamKind, Receiver, ServerImpl, option_inner};
use crate::attr::{AccessAttrs, ItemAttrs, Kind, OAuthChoice, ServerAttrs};
use crate::ctxt::Ctxt;
use crate::{fallback, valid};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Item, LitStr};

/// The one path generated code uses to reach the runtime.
pub(crate) fn private() -> TokenStream {
    quote!(::mcp_runtime::__private)
}

/// `#[mcp_tool]`, `#[mcp_resource]` or `#[mcp_prompt]` on a free function.
pub(crate) fn free_item(kind: Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let attrs = ItemAttrs::parse(&mut cx, kind, args);
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            // Reported with any mistake already found in the attribute.
            cx.syn_error(error);
            return with_errors(input, cx.into_compile_errors());
        }
    };
    let mut func = match item {
        Item::Fn(func) => func,
        other => {
            misplaced(&mut cx, kind, &other);
            return with_errors(input, cx.into_compile_errors());
        }
    };
    let f = McpFn::from_parts(
        &mut cx,
        kind,
        attrs,
        TokenStream::new(),
        &func.attrs,
        &mut func.sig,
    );
    valid::check_fn(&mut cx, &f, false);
    if cx.has_errors() {
        // The function itself, minus our parameter attributes, keeps later
        // errors about it meaningful, and the stubs keep its uses compiling.
        return with_errors(fallback::free_fn(&f, func), cx.into_compile_errors());
    }
    free_fn(&f, func)
}

/// `#[mcp_server]` on an `impl` block.
pub(crate) fn server(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let attrs = ServerAttrs::parse(&mut cx, args);
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            // Reported with any mistake already found in the attribute.
            cx.syn_error(error);
            return with_errors(input, cx.into_compile_errors());
        }
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
        let stubs = fallback::server(&server);
        return with_errors(quote!(#block #stubs), cx.into_compile_errors());
    }
    let api = server_api(&server);
    quote! {
        #block
        #api
    }
}

/// `#[main]` on the program's `async fn main`: its body, run to the end on
/// the runtime's system, which `listen` needs.
pub(crate) fn main_fn(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    if !args.is_empty() {
        cx.error_spanned_by(
            &args,
            "`#[mcp_runtime::main]` takes no keys; write `#[mcp_runtime::main]`",
        );
    }
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            cx.syn_error(error);
            return with_errors(input, cx.into_compile_errors());
        }
    };
    let func = match item {
        Item::Fn(func) => func,
        other => {
            cx.error_spanned_by(
                item_head(&other),
                "`#[mcp_runtime::main]` goes on the program's entry point: \
                 `#[mcp_runtime::main] async fn main() { ... }`",
            );
            return with_errors(input, cx.into_compile_errors());
        }
    };
    valid::check_main(&mut cx, &func);
    let syn::ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let (ident, output) = (&sig.ident, &sig.output);
    if cx.has_errors() {
        // A plain `fn` of the same name and type, so the mistake is not
        // reported again as a missing or misshapen `main`.
        let stub = quote! {
            #(#attrs)*
            #vis fn #ident() #output {
                ::core::unreachable!()
            }
        };
        return with_errors(stub, cx.into_compile_errors());
    }
    let private = private();
    quote! {
        #(#attrs)*
        #vis fn #ident() #output {
            #private::rt::System::new().block_on(async move #block)
        }
    }
}

fn with_errors(item: TokenStream, errors: TokenStream) -> TokenStream {
    quote! {
        #item
        #errors
    }
}

/// The keyword and name of an item, for pointing at it without underlining its body.
fn item_head(item: &Item) -> TokenStream {
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

fn misplaced(cx: &mut Ctxt, kind: Kind, item: &Item) {
    let attr = kind.attr();
    // A function without a body (a trait method's declaration) is not an `Item::Fn`.
    if let Item::Verbatim(tokens) = item
        && let Ok(declaration) = syn::parse2::<syn::TraitItemFn>(tokens.clone())
    {
        let (kw, ident) = (&declaration.sig.fn_token, &declaration.sig.ident);
        cx.error_spanned_by(
            quote!(#kw #ident),
            format!(
                "`#[{attr}]` needs a function with a body, not a trait method's declaration: \
                 put the {}s in an `impl` block marked `#[mcp_server]`",
                kind.noun()
            ),
        );
        return;
    }
    let message = match item {
        Item::Impl(_) => format!(
            "`#[{attr}]` goes on an `async fn`; to serve the methods of an `impl` block, put \
             `#[mcp_server]` on the block and `#[{attr}]` on each method"
        ),
        _ => format!(
            "`#[{attr}]` goes on an `async fn` (a free function, or a method in an \
             `#[mcp_server]` impl block)"
        ),
    };
    cx.error_spanned_by(item_head(item), message);
}

/// The trait a free function's unit struct implements to register, its
/// method, and the descriptor that returns.
pub(crate) fn registration_trait(f: &McpFn) -> (TokenStream, TokenStream, TokenStream) {
    match f.kind {
        Kind::Tool => (quote!(IntoTool), quote!(into_tool), quote!(Tool)),
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
    }
}

/// A free function becomes a unit struct of the same name that registers
/// with `.tool(my_fn)`, `.resource(my_fn)`, `.resource_template(my_fn)` or
/// `.prompt(my_fn)`; the function lives on as `my_fn::call`.
fn free_fn(f: &McpFn, func: syn::ItemFn) -> TokenStream {
    let p = private();
    let ident = &f.ident;
    let (trait_, convert, descriptor) = registration_trait(f);
    let body = descriptor_expr(f, &quote_spanned!(ident.span()=> #ident::call));
    let registration = quote! {
        impl #p::#trait_ for #ident {
            fn #convert(self) -> #p::#descriptor {
                #body
            }
        }
    };
    unit_struct_for(func, f, registration)
}

/// The expression building the descriptor of `f`. `callee` is what the
/// parameters are applied to: `my_fn::call`, `Self::method`, or `__this.method`.
fn descriptor_expr(f: &McpFn, callee: &TokenStream) -> TokenStream {
    match f.kind {
        Kind::Tool => tool_expr(f, callee),
        Kind::Resource | Kind::Prompt => feature_expr(f, callee),
    }
}

/// The unit struct a free function becomes: named like the function, with
/// its docs (or a line saying how to register it), the function itself
/// kept as `call`, and `registration`, the impl that turns it into a
/// descriptor.
pub(crate) fn unit_struct_for(
    mut func: syn::ItemFn,
    f: &McpFn,
    registration: TokenStream,
) -> TokenStream {
    let ident = &f.ident;
    let vis = func.vis.clone();
    let docs: Vec<syn::Attribute> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect();
    let shown_name = match f.kind {
        Kind::Resource => f.attrs.uri.get().map(LitStr::value).unwrap_or_default(),
        _ => f.name().value(),
    };
    let fallback_doc = docs.is_empty().then(|| {
        let text = format!(
            "The MCP {} `{}`. Register it with `.{}({ident})`.",
            f.kind_name(),
            shown_name,
            f.builder_method()
        );
        quote!(#[doc = #text])
    });
    func.sig.ident = format_ident!("call", span = ident.span());
    let call_doc = format!(
        "Runs the {}'s function directly, as `{ident}::call(...)`.",
        f.kind_name()
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

/// The expression building one tool.
fn tool_expr(tool: &McpFn, callee: &TokenStream) -> TokenStream {
    let p = private();
    let name = tool.name();
    let arguments: Vec<&Param> = tool.arguments().collect();
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
    let args_hint = args_hint(&arguments);
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
    let capture = matches!(tool.receiver, Receiver::Ref(_))
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
        #args_hint
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

/// A warning when a tool's only argument looks like a struct of the user's,
/// undescribed: `note: NewNote` makes one argument `note` holding the
/// struct, where `#[args] note: NewNote` was most likely meant. Stable Rust
/// lets a macro warn only through a lint, so the warning is the use of a
/// deprecated constant, at the parameter's type; describing the argument (a
/// doc comment or `#[arg(...)]`) says it is meant, and silences it.
fn args_hint(arguments: &[&Param]) -> Option<TokenStream> {
    let [param] = arguments else { return None };
    let undescribed = param.attrs.docs.is_none() && param.attrs.arg_attr.is_none();
    if !undescribed || !looks_like_own_struct(&param.ty) {
        return None;
    }
    let ty = &param.ty;
    let name = param.property_name()?.value();
    let shown = quote!(#ty).to_string().replace(' ', "");
    let note = format!(
        "`{name}: {shown}` is one argument `{name}` holding a `{shown}`; to take `{shown}`'s \
         fields as the tool's arguments, write `#[args] {name}: {shown}`; if one argument \
         is meant, describe it (a doc comment, or `#[arg(description = \"...\")]`)"
    );
    Some(quote_spanned! {ty.span()=>
        {
            #[deprecated(note = #note)]
            #[allow(non_upper_case_globals)]
            const did_you_mean_args: () = ();
            let () = did_you_mean_args;
        }
    })
}

/// A plain path to a type whose name is not one of the standard library's
/// or serde_json's: most likely a struct the user wrote.
fn looks_like_own_struct(ty: &syn::Type) -> bool {
    const STANDARD: &[&str] = &[
        "String", "Vec", "Option", "Box", "HashMap", "BTreeMap", "HashSet", "BTreeSet", "VecDeque",
        "Value", "Map", "Cow", "Arc", "Rc", "PathBuf", "Duration",
    ];
    let syn::Type::Path(path) = ty else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let name = last.ident.to_string();
    path.qself.is_none()
        && last.arguments.is_none()
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && !STANDARD.contains(&name.as_str())
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
        let description = param.description().map(|d| quote!(#[doc = #d]));
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

/// The builder calls every kind takes: title, description (the `description`
/// key, else the doc comment), access rule, and whether a caller is required.
fn common_settings(f: &McpFn) -> TokenStream {
    let a = &f.attrs;
    let mut out = TokenStream::new();
    if let Some(title) = a.title.get() {
        out.extend(quote!(.title(#title)));
    }
    let description = match (a.description.get(), &f.docs) {
        (Some(description), _) => Some(quote!(#description)),
        (None, Some(docs)) => Some(docs.to_expr()),
        (None, None) => None,
    };
    if let Some(description) = description {
        out.extend(quote!(.description(#description)));
    }
    out.extend(access_calls(&a.access));
    if f.requires_caller() {
        out.extend(quote!(.requires_caller()));
    }
    out
}

/// The builder calls that carry a tool's own settings: client capabilities,
/// annotations, and whether its access rule is described.
fn tool_settings(tool: &McpFn) -> TokenStream {
    let p = private();
    let a = &tool.attrs;
    let mut out = common_settings(tool);
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
    if a.describe_access.get() == Some(&false) {
        out.extend(quote!(.describe_access(false)));
    }
    // Only a `RequestContext` parameter lets a tool reach the client while
    // it runs; without one, its calls need no stream made ready.
    if !tool
        .params
        .iter()
        .any(|param| matches!(param.kind, ParamKind::Context { .. }))
    {
        out.extend(quote!(.without_notifications()));
    }
    match a.task.get().map(LitStr::value).as_deref() {
        Some("optional") => out.extend(quote!(.task(#p::TaskSupport::Optional))),
        Some("required") => out.extend(quote!(.task(#p::TaskSupport::Required))),
        _ => {}
    }
    if a.deferred_task.get() == Some(&true) {
        out.extend(quote!(.deferred_task()));
    }
    if let Some((count, seconds)) = a.rate.get().and_then(|r| valid::rate_limit(&r.value())) {
        out.extend(quote!(.rate(#p::RateLimit::__checked(#count, #seconds))));
    }
    match a.callers.get().map(LitStr::value).as_deref() {
        Some("people") => out.extend(quote!(.callers(#p::Callers::People))),
        Some("machines") => out.extend(quote!(.callers(#p::Callers::Machines))),
        _ => {}
    }
    out
}

/// The builder calls for the access lists written: `.scopes([...])`,
/// `.any_scope([...])`, `.roles([...])`, `.permissions([...])`.
fn access_calls(access: &AccessAttrs) -> TokenStream {
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

/// The expression building a resource, resource template or prompt: its
/// handler takes the request, checks the caller, parses each argument or
/// template variable with `FromStr` under the name clients use, and calls
/// the function.
fn feature_expr(f: &McpFn, callee: &TokenStream) -> TokenStream {
    let p = private();
    let a = &f.attrs;
    let (error, request) = match f.kind {
        Kind::Resource => (quote!(#p::ResourceError), quote!(#p::ResourceRequest)),
        _ => (quote!(#p::PromptError), quote!(#p::PromptRequest)),
    };
    let call_args = f.params.iter().map(|param| match param.kind {
        ParamKind::Auth { optional: false } => quote!(__auth),
        ParamKind::Auth { optional: true } => quote!(__req.context().auth()),
        ParamKind::Context { by_ref: true } => quote!(__req.context()),
        ParamKind::Context { by_ref: false } => quote!(__req.context().clone()),
        ParamKind::Argument | ParamKind::WholeArgs => {
            let ident = param.ident();
            quote!(#ident)
        }
    });
    let caller = f.requires_caller().then(|| {
        let refusal = match f.kind {
            Kind::Resource => quote!(#p::resource_unauthenticated()),
            _ => quote!(#p::prompt_unauthenticated()),
        };
        quote! {
            let ::core::option::Option::Some(__auth) = __req.context().auth() else {
                return ::core::result::Result::Err(#refusal);
            };
        }
    });
    let mut settings = TokenStream::new();
    let mut extract = Vec::new();
    for param in f.arguments() {
        let (Some(ident), Some(key)) = (param.ident(), param.property_name()) else {
            continue;
        };
        let ty = &param.ty;
        extract.push(match (f.kind, option_inner(ty)) {
            (Kind::Resource, _) => {
                quote_spanned!(ty.span()=> let #ident: #ty = __req.param_as::<#ty>(#key)?;)
            }
            (_, optional) => {
                let description = param.description().unwrap_or_default();
                match optional {
                    Some(inner) => {
                        settings.extend(quote!(.optional_argument(#key, #description)));
                        quote_spanned!(ty.span()=> let #ident: #ty = #p::prompt_optional::<#inner>(&__req, #key)?;)
                    }
                    None => {
                        settings.extend(quote!(.required_argument(#key, #description)));
                        quote_spanned!(ty.span()=> let #ident: #ty = #p::prompt_required::<#ty>(&__req, #key)?;)
                    }
                }
            }
        });
    }
    let (constructor, first) = match f.kind {
        Kind::Resource => {
            // A resource's name is a setting; a prompt's is the constructor's argument.
            if let Some(name) = a.name.get() {
                settings.extend(quote!(.name(#name)));
            }
            if let Some(mime_type) = a.mime_type.get() {
                settings.extend(quote!(.mime_type(#mime_type)));
            }
            let uri = a.uri.get().map(LitStr::value).unwrap_or_default();
            let constructor = if f.is_template() {
                quote!(#p::ResourceTemplate::new)
            } else {
                quote!(#p::Resource::new)
            };
            (constructor, quote!(#uri))
        }
        _ => {
            let name = f.name();
            (quote!(#p::Prompt::new), quote!(#name))
        }
    };
    settings.extend(common_settings(f));
    for completion in &a.complete {
        let key = crate::ast::unraw(&completion.name);
        let function = &completion.function;
        let checked = quote_spanned!(function.span()=> #p::completion_fn(#function));
        settings.extend(quote!(.complete(#key, #checked)));
    }
    let share = matches!(f.receiver, Receiver::Ref(_))
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

/// The methods `#[mcp_server]` adds: a builder, the built server, and `listen`.
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
    // Tools first, then resources and prompts, each in the block's order.
    let registrations = [Kind::Tool, Kind::Resource, Kind::Prompt]
        .into_iter()
        .flat_map(|kind| server.of_kind(kind))
        .map(|f| {
            let ident = &f.ident;
            let callee = match f.receiver {
                Receiver::Ref(_) => quote_spanned!(ident.span()=> __this.#ident),
                _ => quote_spanned!(ident.span()=> Self::#ident),
            };
            let method = format_ident!("{}", f.builder_method());
            let descriptor = descriptor_expr(f, &callee);
            quote!(.#method(#descriptor))
        });
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
                    #(#registrations)*
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An attribute mistake and an item syn cannot read are both reported,
    /// and the error context is emptied rather than dropped full.
    #[test]
    fn attribute_and_item_errors_are_reported_together() {
        for kind in [Kind::Tool, Kind::Resource, Kind::Prompt] {
            let out =
                free_item(kind, quote!(scope = "admin"), quote!(fn broken() -> {})).to_string();
            assert_eq!(out.matches("compile_error").count(), 2, "{out}");
        }
        let out = server(quote!(oauth = "dev"), quote!(impl {})).to_string();
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
    }
}
