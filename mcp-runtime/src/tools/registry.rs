//! The set of tools a server serves: validated once, listings rendered once.

use super::descriptor::Tool;
use crate::protocol::ErrorObject;
use base64::Engine as _;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// Why a tool could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two tools share a name.
    #[error("two tools are named `{0}`; tool names must be unique")]
    DuplicateName(String),
    /// The name breaks the MCP tool-name rules.
    #[error(
        "tool name `{0}` is invalid: use 1 to 128 characters of A-Z, a-z, 0-9, `_`, `-` and `.`"
    )]
    InvalidName(String),
    /// The arguments or output type has no object schema.
    #[error("tool `{tool}`: {source}")]
    Schema {
        /// The tool.
        tool: String,
        /// What is wrong with its schema.
        source: super::SchemaError,
    },
}

/// Whether `name` follows the MCP tool-name rules.
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

pub(crate) struct RegisteredTool {
    pub(crate) tool: Tool,
    listing: Box<RawValue>,
    listing_without_output_schema: Box<RawValue>,
}

/// Tools by name, in registration order.
pub struct ToolRegistry {
    tools: Vec<Arc<RegisteredTool>>,
    by_name: HashMap<Arc<str>, usize>,
}

impl ToolRegistry {
    /// Validates every tool, reporting every problem at once.
    pub fn new(tools: Vec<Tool>) -> Result<Self, Vec<RegistryError>> {
        let mut errors = Vec::new();
        let mut registered = Vec::with_capacity(tools.len());
        let mut by_name = HashMap::with_capacity(tools.len());
        for tool in tools {
            if !is_valid_tool_name(&tool.name) {
                errors.push(RegistryError::InvalidName(tool.name.to_string()));
            }
            let schema_errors = [
                tool.input_schema.as_ref().err(),
                tool.output_schema.as_ref().and_then(|s| s.as_ref().err()),
            ];
            for source in schema_errors.into_iter().flatten() {
                errors.push(RegistryError::Schema {
                    tool: tool.name.to_string(),
                    source: source.clone(),
                });
            }
            let name: Arc<str> = Arc::from(tool.name.as_ref());
            if by_name.insert(name, registered.len()).is_some() {
                errors.push(RegistryError::DuplicateName(tool.name.to_string()));
            }
            let render = |structured| {
                serde_json::value::to_raw_value(&tool.listing(structured))
                    .unwrap_or_else(|_| RawValue::NULL.to_owned())
            };
            registered.push(Arc::new(RegisteredTool {
                listing: render(true),
                listing_without_output_schema: render(false),
                tool,
            }));
        }
        if errors.is_empty() {
            Ok(Self {
                tools: registered,
                by_name,
            })
        } else {
            Err(errors)
        }
    }

    /// The tool called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<RegisteredTool>> {
        self.by_name.get(name).map(|&i| &self.tools[i])
    }

    /// Number of tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// Whether there are no tools.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Names in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|t| t.tool.name())
    }

    /// Renders one `tools/list` page as a JSON object.
    ///
    /// `visible` filters tools out (e.g. those the caller may not use).
    pub(crate) fn list_page(
        &self,
        cursor: Option<&str>,
        page_size: usize,
        structured: bool,
        visible: impl Fn(&Tool) -> bool,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let start = match cursor {
            None => 0,
            Some(cursor) => decode_cursor(cursor)
                .filter(|&i| i <= self.tools.len())
                .ok_or_else(|| ErrorObject::invalid_params("invalid cursor"))?,
        };
        let mut out = String::with_capacity(256 * page_size.min(self.tools.len()).max(1));
        out.push_str(r#"{"tools":["#);
        let mut taken = 0;
        let mut next = None;
        for (i, entry) in self.tools.iter().enumerate().skip(start) {
            if !visible(&entry.tool) {
                continue;
            }
            if taken == page_size {
                next = Some(i);
                break;
            }
            if taken > 0 {
                out.push(',');
            }
            let listing = if structured {
                &entry.listing
            } else {
                &entry.listing_without_output_schema
            };
            out.push_str(listing.get());
            taken += 1;
        }
        out.push(']');
        if let Some(next) = next {
            let _ = write!(out, r#","nextCursor":"{}""#, encode_cursor(next));
        }
        out.push('}');
        RawValue::from_string(out)
            .map_err(|e| ErrorObject::internal(format!("tools/list rendering failed: {e}")))
    }
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("tools:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("tools:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn tool(name: &str) -> Tool {
        Tool::new(name.to_owned(), || async { "ok" })
    }

    #[test]
    fn validates_names_and_duplicates() {
        let errors = ToolRegistry::new(vec![tool("a"), tool("a"), tool("bad name"), tool("")])
            .err()
            .unwrap();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(is_valid_tool_name("get-user.v2_x"));
        assert!(!is_valid_tool_name(&"x".repeat(129)));
    }

    #[test]
    fn paginates_with_opaque_cursors() {
        let registry = ToolRegistry::new((0..5).map(|i| tool(&format!("t{i}"))).collect()).unwrap();
        let page: Value =
            serde_json::from_str(registry.list_page(None, 2, true, |_| true).unwrap().get())
                .unwrap();
        assert_eq!(page["tools"].as_array().unwrap().len(), 2);
        let cursor = page["nextCursor"].as_str().unwrap().to_owned();
        let page: Value = serde_json::from_str(
            registry
                .list_page(Some(&cursor), 10, true, |_| true)
                .unwrap()
                .get(),
        )
        .unwrap();
        assert_eq!(page["tools"][0]["name"], "t2");
        assert_eq!(page.get("nextCursor"), None);
        assert!(
            registry
                .list_page(Some("garbage"), 2, true, |_| true)
                .is_err()
        );
    }
}
