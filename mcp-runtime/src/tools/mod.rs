//! Tools: descriptors, schemas, results and the registry.

mod descriptor;
mod registry;
mod result;
mod schema;

pub use descriptor::{
    ACCESS_META_KEY, AccessRule, IntoTool, NoArgs, Tool, ToolAnnotations, ToolFn, ToolFuture,
    ToolHandler,
};
pub use registry::{RegistryError, ToolRegistry, is_valid_tool_name};
pub use result::{
    CallToolResult, Content, ContentAnnotations, IntoToolResult, Json, OutputSchema,
    ResourceContents, ToolError,
};
pub use schema::{HeaderParam, HeaderParamType, SchemaError, object_schema_for};
