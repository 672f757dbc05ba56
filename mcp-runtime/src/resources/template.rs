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
        match_parts(&self.parts, uri)
    }
}

// Matching is written here: the URI-template crates expand a template into a
// URI, and a resource read needs the reverse, the values a URI gives each
// variable. Each variable takes the shortest value that lets the rest of
// the template match. Which positions the rest can match from is worked
// out first, from the end, once per part: time and memory linear in the
// URI per part, where trying every split in turn was cubic in the URI
// with three variables (a client's long URI held a worker for minutes).
fn match_parts(parts: &[Part], input: &str) -> Option<HashMap<String, String>> {
    let bytes = input.as_bytes();
    let n = bytes.len();
    // `rest[i][p]`: whether `parts[i..]` match `input[p..]`.
    let mut rest = vec![vec![false; n + 1]; parts.len() + 1];
    rest[parts.len()][n] = true;
    for (i, part) in parts.iter().enumerate().rev() {
        let (done, after) = rest.split_at_mut(i + 1);
        let (here, next) = (&mut done[i], &after[0]);
        match part {
            Part::Literal(literal) => {
                let literal = literal.as_bytes();
                for (p, matches) in here.iter_mut().enumerate() {
                    *matches = next.get(p + literal.len()) == Some(&true)
                        && bytes[p..].starts_with(literal);
                }
            }
            Part::Variable(_) => {
                // From right to left, the nearest end after `p` the rest
                // matches from, forgotten at each `/` (no value holds one).
                let mut nearest = false;
                for p in (0..n).rev() {
                    if bytes[p] == b'/' {
                        nearest = false;
                    } else if next[p + 1] && input.is_char_boundary(p + 1) {
                        nearest = true;
                    }
                    here[p] = nearest;
                }
            }
        }
    }
    if !rest[0][0] {
        return None;
    }
    let mut found = HashMap::new();
    let mut at = 0;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Literal(literal) => at += literal.len(),
            Part::Variable(name) => {
                let limit = bytes[at..]
                    .iter()
                    .position(|&b| b == b'/')
                    .map_or(n, |slash| at + slash);
                let end = (at + 1..=limit)
                    .find(|&end| input.is_char_boundary(end) && rest[i + 1][end])?;
                found.insert(name.clone(), percent_decode(&input[at..end]));
                at = end;
            }
        }
    }
    Some(found)
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

    /// A long URI made of one literal's character once made the matcher
    /// try every way to split it between the variables (cubic with three:
    /// minutes for these URIs; linear now). The values are checked here;
    /// the cost is the algorithm's, not a timed assertion.
    #[test]
    fn long_uris_of_one_literal_match_with_shortest_values() {
        let t = UriTemplate::parse("x://{a}-{b}-{c}").unwrap();
        assert!(
            t.matches(&format!("x://{}!/", "-".repeat(20_000)))
                .is_none()
        );
        assert!(t.matches(&format!("x://{}", "-".repeat(20_000))).is_some());
        let long = format!("x://{}a", "a-".repeat(20_000));
        let found = t.matches(&long).unwrap();
        assert_eq!((found["a"].as_str(), found["b"].as_str()), ("a", "a"));
        assert_eq!(found["c"].len(), long.len() - "x://a-a-".len());
    }

    #[test]
    fn shortest_values_first_and_multibyte_text() {
        let t = UriTemplate::parse("x://{a}-{b}").unwrap();
        let found = t.matches("x://1-2-3").unwrap();
        assert_eq!((found["a"].as_str(), found["b"].as_str()), ("1", "2-3"));
        let found = t.matches("x://é-ü€").unwrap();
        assert_eq!((found["a"].as_str(), found["b"].as_str()), ("é", "ü€"));
        assert!(t.matches("x://-").is_none());
        assert!(t.matches("x://a-b/").is_none());
        let slash = UriTemplate::parse("x://{a}/{b}").unwrap();
        assert_eq!(slash.matches("x://a/b").unwrap()["b"], "b");
        assert!(slash.matches("x://a/b/c").is_none());
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
