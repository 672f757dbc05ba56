//! RFC 6570 level-1 URI templates as MCP resource templates use them
//! (`notes://{folder}/{id}`): the one parser behind both the compile-time
//! check of `#[mcp_resource(uri = "...")]` in `mcp-macros` and the matching
//! in `mcp-runtime`, so a template the macro accepts is one the runtime
//! serves. It has no dependencies: a proc-macro crate pays for every one at
//! every user's build.
//!
//! ```
//! use mcp_uri_template::{Part, parse};
//!
//! let parts = parse("db://{table}/rows/{row}").unwrap();
//! assert_eq!(parts[0], Part::Literal("db://".into()));
//! assert_eq!(parts[1], Part::Variable("table".into()));
//! assert!(parse("db://{a}{b}").is_err());
//! ```

use std::fmt;

/// One piece of a template: text matched as written, or a `{variable}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text that a URI must contain as written.
    Literal(String),
    /// A `{name}`: one non-empty piece of a path segment.
    Variable(String),
}

/// Why a template cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A `{` with no `}` after it.
    Unclosed,
    /// A `}` with no `{` before it.
    Unmatched,
    /// `{...}` holding something other than a simple name (an RFC 6570
    /// operator such as `{+path}`, or nothing).
    NotSimple(String),
    /// `{a}{b}`: with nothing between them, a URI could be split between the
    /// two variables in more than one way.
    Adjacent(String, String),
    /// `{a}...{a}`: one name, two values.
    Repeated(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unclosed => f.write_str("a `{` is never closed"),
            Self::Unmatched => f.write_str("a `}` has no `{` before it"),
            Self::NotSimple(name) => write!(
                f,
                "`{{{name}}}` is not a simple variable (use letters, digits and `_`)"
            ),
            Self::Adjacent(first, second) => write!(
                f,
                "`{{{first}}}{{{second}}}`: two variables need a literal between them"
            ),
            Self::Repeated(name) => write!(f, "`{{{name}}}` appears twice"),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Splits `text` into literals and variables. A template without variables
/// parses too (a fixed URI); whether one is required is the caller's rule.
pub fn parse(text: &str) -> Result<Vec<Part>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if rest[..open].contains('}') {
            return Err(TemplateError::Unmatched);
        }
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(TemplateError::Unclosed)?;
        let name = &after[..close];
        let simple =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !simple {
            return Err(TemplateError::NotSimple(name.to_owned()));
        }
        if let Some(Part::Variable(previous)) = parts.last() {
            return Err(TemplateError::Adjacent(previous.clone(), name.to_owned()));
        }
        if parts
            .iter()
            .any(|p| matches!(p, Part::Variable(v) if v == name))
        {
            return Err(TemplateError::Repeated(name.to_owned()));
        }
        parts.push(Part::Variable(name.to_owned()));
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(TemplateError::Unmatched);
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_owned()));
    }
    Ok(parts)
}

/// The variable names of parsed `parts`, in order.
pub fn variables(parts: &[Part]) -> impl Iterator<Item = &str> {
    parts.iter().filter_map(|p| match p {
        Part::Variable(name) => Some(name.as_str()),
        Part::Literal(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_literals_and_variables() {
        let parts = parse("db://{table}/rows/{row}").unwrap();
        assert_eq!(variables(&parts).collect::<Vec<_>>(), ["table", "row"]);
        assert_eq!(parts.len(), 4);
        assert_eq!(parse("app://fixed").unwrap().len(), 1);
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn refuses_what_cannot_be_matched() {
        let cases = [
            ("x://{", TemplateError::Unclosed),
            ("x://}", TemplateError::Unmatched),
            ("x://}{a}", TemplateError::Unmatched),
            ("x://{}", TemplateError::NotSimple(String::new())),
            ("x://{+a}", TemplateError::NotSimple("+a".into())),
            (
                "x://{a}{b}",
                TemplateError::Adjacent("a".into(), "b".into()),
            ),
            ("x://{a}/{a}", TemplateError::Repeated("a".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Err(expected), "{text}");
        }
    }
}

/// Whatever the text, `parse` answers without a panic; what it accepts
/// writes back to the very text, and keeps its own rules.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn check(text: &str) -> Result<(), TestCaseError> {
        let Ok(parts) = parse(text) else {
            return Ok(());
        };
        let written: String = parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => text.clone(),
                Part::Variable(name) => format!("{{{name}}}"),
            })
            .collect();
        prop_assert_eq!(&written, text);
        let names: Vec<&str> = variables(&parts).collect();
        for (i, name) in names.iter().enumerate() {
            prop_assert!(!name.is_empty() && !names[..i].contains(name));
        }
        for pair in parts.windows(2) {
            prop_assert!(!matches!(pair, [Part::Variable(_), Part::Variable(_)]));
            prop_assert!(!matches!(pair, [Part::Literal(_), Part::Literal(_)]));
        }
        for part in &parts {
            if let Part::Literal(literal) = part {
                let braced = literal.contains(['{', '}']);
                prop_assert!(!literal.is_empty() && !braced);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_parsed_or_refused(text in any::<String>()) {
            check(&text)?;
        }

        #[test]
        fn template_like_text_is_parsed_or_refused(text in "[a-z{}/:+_]{0,24}") {
            check(&text)?;
        }
    }
}
