//! RFC 6570 level-1 URI templates (`test://template/{id}/data`): parsing,
//! matching a URI and extracting its parameters by name.

use mcp_uri_template::Part;
use std::collections::HashMap;

/// A URI template whose `{name}` variables each match one non-empty path
/// segment piece (no `/`), percent-decoded. Parsed by `mcp-uri-template`,
/// the parser `#[mcp_resource]` checks templates with at compile time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    text: String,
    parts: Vec<Part>,
}

impl UriTemplate {
    /// Parses `text`; variables are `{name}` with a name of letters, digits
    /// and `_`, at least one of them, each once, with a literal between two.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts =
            mcp_uri_template::parse(text).map_err(|e| format!("URI template `{text}`: {e}"))?;
        if mcp_uri_template::variables(&parts).next().is_none() {
            return Err(format!("URI template `{text}` has no `{{variable}}`"));
        }
        Ok(Self {
            text: text.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The variable names, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        mcp_uri_template::variables(&self.parts)
    }

    /// The parameters of `uri` by name, if it matches.
    pub fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let mut found = HashMap::new();
        match_parts(&self.parts, uri, &mut found).then_some(found)
    }
}

// Matching is written here: the URI-template crates expand a template into a
// URI, and a resource read needs the reverse, the values a URI gives each
// variable.
fn match_parts(parts: &[Part], input: &str, found: &mut HashMap<String, String>) -> bool {
    match parts.split_first() {
        None => input.is_empty(),
        Some((Part::Literal(literal), rest)) => input
            .strip_prefix(literal.as_str())
            .is_some_and(|tail| match_parts(rest, tail, found)),
        Some((Part::Variable(name), rest)) => {
            let limit = input.find('/').unwrap_or(input.len());
            for end in (1..=limit).filter(|&e| input.is_char_boundary(e)) {
                if match_parts(rest, &input[end..], found) {
                    found.insert(name.clone(), percent_decode(&input[..end]));
                    return true;
                }
            }
            false
        }
    }
}

/// `%XX` sequences decoded; malformed ones kept as written, and the text
/// kept whole when the decoded bytes are not UTF-8.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map_or_else(|_| text.to_owned(), |decoded| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_and_extracts() {
        let t = UriTemplate::parse("test://template/{id}/data").unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), ["id"]);
        let found = t.matches("test://template/123/data").unwrap();
        assert_eq!(found["id"], "123");
        assert_eq!(
            t.matches("test://template/a%20b/data").unwrap()["id"],
            "a b"
        );
        assert!(t.matches("test://template//data").is_none());
        assert!(t.matches("test://template/1/2/data").is_none());
        assert!(t.matches("test://template/1/data/x").is_none());
        let two = UriTemplate::parse("db://{table}/rows/{row}").unwrap();
        let found = two.matches("db://users/rows/7").unwrap();
        assert_eq!(
            (found["table"].as_str(), found["row"].as_str()),
            ("users", "7")
        );
    }

    #[test]
    fn rejects_bad_templates() {
        for bad in [
            "x://{",
            "x://}",
            "x://{}",
            "x://{+a}",
            "x://{a}{b}",
            "x://{a}/{a}",
            "x://a",
        ] {
            assert!(UriTemplate::parse(bad).is_err(), "{bad}");
        }
    }
}

/// Whatever the template and the URI, parsing and matching end without a
/// panic, and a match gives back values that rebuild the URI.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn rebuild(template: &UriTemplate, values: &HashMap<String, String>) -> String {
        template
            .parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => text.clone(),
                Part::Variable(name) => values[name].clone(),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_template_and_uri_get_an_answer(text in any::<String>(), uri in any::<String>()) {
            if let Ok(template) = UriTemplate::parse(&text) {
                prop_assert_eq!(template.as_str(), text.as_str());
                let _ = template.matches(&uri);
            }
        }

        /// Templates built from literals and variables: each URI made by
        /// filling them in matches, and the values found rebuild it.
        #[test]
        fn filled_in_templates_match(
            pieces in vec(("[a-z:/.#?-]{1,4}", "[a-z0-9.~-]{1,6}"), 1..4),
            tail in "[a-z/.]{0,3}",
            encoded in any::<bool>(),
        ) {
            let mut text = String::new();
            let mut uri = String::new();
            for (i, (literal, value)) in pieces.iter().enumerate() {
                text.push_str(&format!("{literal}{{v{i}}}"));
                let value = if encoded && i == 0 { format!("%41{value}") } else { value.clone() };
                uri.push_str(&format!("{literal}{value}"));
            }
            text.push_str(&tail);
            uri.push_str(&tail);
            let template = UriTemplate::parse(&text).expect("a valid template");
            let found = template.matches(&uri);
            prop_assert!(found.is_some(), "{} does not match {}", uri, text);
            let found = found.unwrap_or_default();
            prop_assert_eq!(found.len(), pieces.len());
            prop_assert!(found.values().all(|v| !v.is_empty() && !v.contains('/')));
            if !encoded {
                prop_assert_eq!(rebuild(&template, &found), uri);
            }
        }
    }
}
