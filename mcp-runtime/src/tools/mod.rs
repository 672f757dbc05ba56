//! Tools: descriptors, schemas, results and the registry.

mod descriptor;
mod registry;
mod result;

pub use crate::access::{ACCESS_META_KEY, AccessRule, Callers};
pub use crate::protocol::tasks::TaskSupport;
pub use crate::protocol::{Content, ContentAnnotations, ResourceContents};
pub use crate::schema::{HeaderParam, HeaderParamType, SchemaError, object_schema_for};
pub use descriptor::{IntoTool, NoArgs, Tool, ToolAnnotations, ToolFn, ToolFuture, ToolHandler};
pub(crate) use registry::{RegisteredTool, ToolRegistry};
pub use registry::{RegistryError, is_valid_tool_name};
pub use result::{CallToolResult, IntoToolResult, Json, OutputSchema, ToolError};
