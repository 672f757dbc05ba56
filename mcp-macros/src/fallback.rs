//! What a macro emits beside its `compile_error!`s: the user's item and stubs
//! of what it would have generated (the unit struct and its registration
//! impl, a server's `into_mcp_builder`, `into_mcp_server` and `listen`), so
//! one mistake is reported once, where it is, instead of again as "no method
//! `listen`" or "`IntoTool` is not implemented" wherever the item is used,
//! and IDEs keep resolving those uses. The stubs never run: the crate does
//! not compile while the error stands.

use crate::ast::{McpFn, Receiver, ServerImpl};
use crate::expand::{private, registration_trait, unit_struct_for};
use proc_macro2::TokenStream;
use quote::quote;

/// A free function's unit struct, with the function as `call` and a
/// registration impl that is never run.
pub(crate) fn free_fn(f: &McpFn, func: syn::ItemFn) -> TokenStream {
    // A method outside a server block sits in an `impl`, where no struct can
    // be declared; a parameter named like the function would become a
    // pattern matching the unit struct. The error says so; stubs would add more.
    let shadowed = f.params.iter().any(|p| p.ident() == Some(&f.ident));
    if shadowed || !matches!(f.receiver, Receiver::None) {
        return quote!(#func);
    }
    let p = private();
    let ident = &f.ident;
    let (trait_, convert, descriptor) = registration_trait(f);
    let registration = quote! {
        impl #p::#trait_ for #ident {
            fn #convert(self) -> #p::#descriptor {
                ::core::unreachable!()
            }
        }
    };
    unit_struct_for(func, f, registration)
}

/// The methods `#[mcp_server]` adds, except those the block already defines
/// (that clash is the error being reported), on a block they can be added to.
pub(crate) fn server(server: &ServerImpl) -> TokenStream {
    if server.generics.is_some() || server.trait_.is_some() {
        return TokenStream::new();
    }
    let p = private();
    let self_ty = &server.self_ty;
    let defined = |name: &str| server.fn_names.iter().any(|n| n == name);
    let builder = (!defined("into_mcp_builder")).then(|| {
        quote! {
            /// Not generated: the `#[mcp_server]` block has an error.
            pub fn into_mcp_builder(self) -> #p::McpServerBuilder {
                ::core::unreachable!()
            }
        }
    });
    let built = (!defined("into_mcp_server")).then(|| {
        quote! {
            /// Not generated: the `#[mcp_server]` block has an error.
            pub fn into_mcp_server(self) -> ::core::result::Result<#p::McpServer, #p::BuildError> {
                ::core::unreachable!()
            }
        }
    });
    let listen = (!defined("listen")).then(|| {
        quote! {
            /// Not generated: the `#[mcp_server]` block has an error.
            pub async fn listen(self) -> ::std::io::Result<()> {
                ::core::unreachable!()
            }
        }
    });
    quote! {
        impl #self_ty {
            #builder
            #built
            #listen
        }
    }
}
