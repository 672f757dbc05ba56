//! The attribute readers of `mcp-macros` (a proc-macro crate, whose items
//! cannot be linked), compiled in from their source: arbitrary text that
//! lexes as tokens, read as the inside of `#[mcp_tool(...)]`,
//! `#[mcp_resource(...)]`, `#[mcp_prompt(...)]`, `#[mcp_server(...)]`
//! and `#[arg(...)]`. Errors must be recorded, never a panic.
#![no_main]
#![allow(dead_code)]

#[path = "../../mcp-macros/src/attr.rs"]
mod attr;
#[path = "../../mcp-macros/src/ctxt.rs"]
mod ctxt;
#[path = "../../mcp-macros/src/docs.rs"]
mod docs;

use attr::{ItemAttrs, Kind, ParamAttrs, ServerAttrs};
use ctxt::Ctxt;
use proc_macro2::TokenStream;
use std::str::FromStr as _;
use syn::Attribute;
use syn::parse::Parser as _;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tokens) = TokenStream::from_str(text) else {
        return;
    };
    for kind in Kind::ALL {
        let mut cx = Ctxt::default();
        let _ = ItemAttrs::parse(&mut cx, kind, tokens.clone());
        drop(cx.into_compile_errors());
        let mut attrs: Vec<Attribute> = [
            quote::quote!(#[arg(#tokens)]),
            quote::quote!(#[args(#tokens)]),
            quote::quote!(#[doc = "x"]),
        ]
        .into_iter()
        .filter_map(|attr| Attribute::parse_outer.parse2(attr).ok())
        .flatten()
        .collect();
        let mut cx = Ctxt::default();
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
    let _ = ServerAttrs::parse(&mut cx, tokens);
    drop(cx.into_compile_errors());
});
