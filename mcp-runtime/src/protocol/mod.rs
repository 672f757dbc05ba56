//! The wire protocol: JSON-RPC framing, MCP revisions and MCP message types.

mod content;
pub mod jsonrpc;
pub mod messages;
mod version;

pub use content::{Content, ContentAnnotations, ResourceContents, Role};
pub use jsonrpc::{ErrorObject, RequestId};
pub use messages::LoggingLevel;
pub use version::ProtocolVersion;
