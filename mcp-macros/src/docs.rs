//! Doc comments: an item's becomes its description, a parameter's its
//! argument's. Literal lines are trimmed and joined here; a line the compiler
//! must expand (`#[doc = include_str!("tool.md")]`) is left to `concat!`.

use proc_macro2::TokenStream;
use syn::{Attribute, Expr, ExprLit, Lit};

/// A doc comment's line: text, or an expression such as
/// `include_str!("tool.md")` in `#[doc = ...]`, which only the compiler can
/// expand.
enum DocLine {
    Text(String),
    Expr(Expr),
}

/// The text of a literal doc line; `None` for an expression.
pub(crate) fn text_line(attr: &Attribute) -> Option<String> {
    match doc_line(attr)? {
        DocLine::Text(text) => Some(text),
        DocLine::Expr(_) => None,
    }
}

fn doc_line(attr: &Attribute) -> Option<DocLine> {
    match &attr.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(DocLine::Text(s.value())),
            other => Some(DocLine::Expr(other.clone())),
        },
        _ => None,
    }
}

/// The doc comment of an item, which becomes its description.
pub(crate) enum Docs {
    /// Every line a string literal: trimmed and joined here.
    Text(String),
    /// Some line an expression: a `&'static str` expression that joins the
    /// lines with `concat!` and trims the result, at the user's build.
    Expr(TokenStream),
}

impl Docs {
    /// The description as an expression for a `.description(...)` call.
    pub(crate) fn to_expr(&self) -> TokenStream {
        match self {
            Docs::Text(text) => quote::quote!(#text),
            Docs::Expr(tokens) => tokens.clone(),
        }
    }
}

/// The doc comments among `attrs`; `None` if there are none.
pub(crate) fn docs_of(attrs: &[Attribute]) -> Option<Docs> {
    let lines: Vec<DocLine> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(doc_line)
        .collect();
    if lines.iter().all(|l| matches!(l, DocLine::Text(_))) {
        let texts: Vec<String> = lines
            .into_iter()
            .filter_map(|l| match l {
                DocLine::Text(t) => Some(t),
                DocLine::Expr(_) => None,
            })
            .collect();
        return join_docs(&texts).map(Docs::Text);
    }
    let mut pieces = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            pieces.push(quote::quote!("\n"));
        }
        pieces.push(match line {
            DocLine::Text(text) => {
                let trimmed = text.trim();
                quote::quote!(#trimmed)
            }
            DocLine::Expr(expr) => quote::quote!(#expr),
        });
    }
    Some(Docs::Expr(quote::quote! {
        <::core::primitive::str>::trim(::core::concat!(#(#pieces),*))
    }))
}

pub(crate) fn join_docs(lines: &[String]) -> Option<String> {
    let text = lines
        .iter()
        .flat_map(|l| l.lines())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}
