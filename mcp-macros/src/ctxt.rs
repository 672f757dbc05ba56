//! Collects every error of one macro invocation, so a user sees all their
//! mistakes in one compile instead of one per round.

use proc_macro2::TokenStream;
use quote::ToTokens;
use std::fmt::Display;

#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// Records an error spanning `tokens`.
    pub(crate) fn error_spanned_by(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.errors
            .push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error at `span`.
    pub(crate) fn error_at(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Records a parse error.
    pub(crate) fn syn_error(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Every recorded error as `compile_error!` invocations.
    pub(crate) fn into_compile_errors(mut self) -> TokenStream {
        std::mem::take(&mut self.errors)
            .into_iter()
            .map(|e| e.to_compile_error())
            .collect()
    }
}

/// Recorded errors must reach the output: a path that returns generated
/// code without checking `has_errors` is a bug in the macro, caught by the
/// first test that makes that mistake rather than by a user whose error
/// silently vanished.
impl Drop for Ctxt {
    fn drop(&mut self) {
        if !self.errors.is_empty() && !std::thread::panicking() {
            panic!(
                "mcp-macros dropped {} unreported error(s)",
                self.errors.len()
            );
        }
    }
}
