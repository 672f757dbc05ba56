//! RFC 6570 level-1 URI templates (`test://template/{id}/data`): parsing,
//! matching a URI and extracting its parameters by name.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// A URI template whose `{name}` variables each match one non-empty path
/// segment piece (no `/`), percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    text: String,
    parts: Vec<Part>,
}

impl UriTemplate {
    /// Parses `text`; variables are `{name}` with a name of letters, digits and `_`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if rest[..open].contains('}') {
                return Err(format!("URI template `{text}` has an unmatched `}}`"));
            }
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("URI template `{text}` has an unclosed `{{`"))?;
            let name = &after[..close];
            let valid =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(format!(
                    "URI template `{text}`: `{{{name}}}` is not a simple variable \
                     (use letters, digits and `_`)"
                ));
            }
            if matches!(parts.last(), Some(Part::Variable(_))) {
                return Err(format!(
                    "URI template `{text}`: two variables need a literal between them"
                ));
            }
            if parts.iter().any(|p| *p == Part::Variable(name.to_owned())) {
                return Err(format!("URI template `{text}` repeats `{{{name}}}`"));
            }
            parts.push(Part::Variable(name.to_owned()));
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("URI template `{text}` has an unmatched `}}`"));
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Variable(_))) {
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
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// The parameters of `uri` by name, if it matches.
    pub fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let mut found = HashMap::new();
        match_parts(&self.parts, uri, &mut found).then_some(found)
    }
}

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

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
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
