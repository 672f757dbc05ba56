//! The wire protocol: JSON-RPC framing, MCP revisions and MCP message types.

pub mod jsonrpc;
pub mod messages;
mod version;

pub use jsonrpc::{ErrorObject, RequestId};
pub use messages::LoggingLevel;
pub use version::ProtocolVersion;
