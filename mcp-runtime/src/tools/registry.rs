//! The set of tools a server serves: validated once, listings rendered once.

use super::descriptor::Tool;
use crate::protocol::ErrorObject;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

/// Why a tool, resource, resource template or prompt could not be
/// registered: the one error of every `McpServer::add_*`.
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
    /// Added at run time, the tool declares scopes, roles or permissions, or
    /// takes `&Auth`, but the server authenticates no one: it could never be used.
    #[error(
        "tool `{0}` declares scopes, roles or permissions, or takes `&Auth`, but the server \
         authenticates no one; configure `oauth`"
    )]
    Unreachable(String),
    /// A resource, resource template or prompt added at run time clashes
    /// with one served, is invalid, or declares access rules on a server
    /// that authenticates no one; every problem is listed.
    #[error("invalid resources or prompts:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Features(Vec<String>),
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
#[derive(Clone)]
pub(crate) struct ToolRegistry {
    tools: Vec<Arc<RegisteredTool>>,
    by_name: HashMap<Arc<str>, usize>,
    /// Whether any tool repeats arguments in `Mcp-Param-*` headers, so
    /// requests skip that check when none does.
    header_params: bool,
    /// Whether any tool has its own rate limit, so requests skip reading
    /// the called tool's name for it when none has.
    rate_limited: bool,
    /// The first `tools/list` page when every tool is listed (with and
    /// without output schemas): most listings, rendered once.
    first_pages: [OnceLock<Box<RawValue>>; 2],
}

impl ToolRegistry {
    /// Validates every tool, reporting every problem at once.
    pub fn new(tools: Vec<Tool>) -> Result<Self, Vec<RegistryError>> {
        let mut errors = Vec::new();
        let mut registry = Self {
            tools: Vec::with_capacity(tools.len()),
            by_name: HashMap::with_capacity(tools.len()),
            header_params: false,
            rate_limited: false,
            first_pages: Default::default(),
        };
        for tool in tools {
            errors.extend(registry.push(tool));
        }
        if errors.is_empty() {
            Ok(registry)
        } else {
            Err(errors)
        }
    }

    /// Validates one tool and appends it; returns its problems (a tool with
    /// problems may be left in: the caller then drops the registry).
    fn push(&mut self, tool: Tool) -> Vec<RegistryError> {
        let mut errors = Vec::new();
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
        if self.by_name.contains_key(&name) {
            errors.push(RegistryError::DuplicateName(tool.name.to_string()));
        } else {
            self.by_name.insert(name, self.tools.len());
        }
        let render = |structured| {
            serde_json::value::to_raw_value(&tool.listing(structured))
                .unwrap_or_else(|_| RawValue::NULL.to_owned())
        };
        self.header_params |= !tool.header_params().is_empty();
        self.rate_limited |= tool.rate_limit().is_some();
        self.first_pages = Default::default();
        self.tools.push(Arc::new(RegisteredTool {
            listing: render(true),
            listing_without_output_schema: render(false),
            tool,
        }));
        errors
    }

    /// A copy with `tool` appended, validated like the tools given to
    /// [`new`](Self::new); the first problem found is returned.
    pub(crate) fn with_tool(&self, tool: Tool) -> Result<Self, RegistryError> {
        let mut next = self.clone();
        match next.push(tool).into_iter().next() {
            Some(error) => Err(error),
            None => Ok(next),
        }
    }

    /// A copy without the tool called `name`, or `None` if there is none.
    pub(crate) fn without_tool(&self, name: &str) -> Option<Self> {
        let index = *self.by_name.get(name)?;
        let mut tools = self.tools.clone();
        tools.remove(index);
        let by_name = tools
            .iter()
            .enumerate()
            .map(|(i, t)| (Arc::from(t.tool.name()), i))
            .collect();
        let header_params = tools.iter().any(|t| !t.tool.header_params().is_empty());
        let rate_limited = tools.iter().any(|t| t.tool.rate_limit().is_some());
        Some(Self {
            tools,
            by_name,
            header_params,
            rate_limited,
            first_pages: Default::default(),
        })
    }

    /// Whether any tool declares `Mcp-Param-*` header arguments.
    pub(crate) fn has_header_params(&self) -> bool {
        self.header_params
    }

    /// Whether any tool has its own rate limit.
    pub(crate) fn has_rate_limits(&self) -> bool {
        self.rate_limited
    }

    /// The tool called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<RegisteredTool>> {
        self.by_name.get(name).map(|&i| &self.tools[i])
    }

    /// Names in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|t| t.tool.name())
    }

    /// Renders one `tools/list` page as a JSON object.
    ///
    /// `visible` filters tools out (e.g. those the caller may not use);
    /// `None` lists every tool, and its first page is rendered only once.
    pub(crate) fn list_page(
        &self,
        cursor: Option<&str>,
        page_size: usize,
        structured: bool,
        visible: Option<&dyn Fn(&Tool) -> bool>,
    ) -> Result<Box<RawValue>, ErrorObject> {
        let start = crate::paging::start_of("tools", cursor, self.tools.len())?;
        match (cursor, visible) {
            (None, None) => {
                let cell = &self.first_pages[usize::from(structured)];
                if let Some(page) = cell.get() {
                    return Ok(page.clone());
                }
                let page = self.render_page(0, page_size, structured, &|_| true)?;
                Ok(cell.get_or_init(|| page).clone())
            }
            (_, visible) => {
                self.render_page(start, page_size, structured, visible.unwrap_or(&|_| true))
            }
        }
    }

    fn render_page(
        &self,
        start: usize,
        page_size: usize,
        structured: bool,
        visible: &dyn Fn(&Tool) -> bool,
    ) -> Result<Box<RawValue>, ErrorObject> {
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
            let _ = write!(
                out,
                r#","nextCursor":"{}""#,
                crate::paging::encode_cursor("tools", next)
            );
        }
        out.push('}');
        RawValue::from_string(out)
            .map_err(|e| ErrorObject::internal(format!("tools/list rendering failed: {e}")))
    }
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

    fn listed(registry: &ToolRegistry) -> Vec<String> {
        let page: Value =
            serde_json::from_str(registry.list_page(None, 10, true, None).unwrap().get()).unwrap();
        page["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn adds_and_removes_tools_in_copies() {
        let registry = ToolRegistry::new(vec![tool("a"), tool("b")]).unwrap();
        // The first page is rendered once; copies must not inherit it.
        assert_eq!(listed(&registry), ["a", "b"]);
        let added = registry.with_tool(tool("c")).unwrap();
        assert_eq!(listed(&added), ["a", "b", "c"]);
        assert_eq!(listed(&added.without_tool("b").unwrap()), ["a", "c"]);
        assert_eq!(added.names().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(registry.names().count(), 2, "the original is untouched");
        assert_eq!(
            registry.with_tool(tool("a")).err(),
            Some(RegistryError::DuplicateName("a".into()))
        );
        let removed = added.without_tool("a").unwrap();
        assert_eq!(removed.names().collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(removed.get("c").unwrap().tool.name(), "c");
        assert!(removed.get("a").is_none());
        assert!(removed.without_tool("a").is_none());
    }

    #[test]
    fn paginates_with_opaque_cursors() {
        let registry = ToolRegistry::new((0..5).map(|i| tool(&format!("t{i}"))).collect()).unwrap();
        let page: Value =
            serde_json::from_str(registry.list_page(None, 2, true, None).unwrap().get()).unwrap();
        assert_eq!(page["tools"].as_array().unwrap().len(), 2);
        let cursor = page["nextCursor"].as_str().unwrap().to_owned();
        let page: Value = serde_json::from_str(
            registry
                .list_page(Some(&cursor), 10, true, None)
                .unwrap()
                .get(),
        )
        .unwrap();
        assert_eq!(page["tools"][0]["name"], "t2");
        assert_eq!(page.get("nextCursor"), None);
        assert!(registry.list_page(Some("garbage"), 2, true, None).is_err());
    }
}
