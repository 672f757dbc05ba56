//! The wire protocol: JSON-RPC framing, MCP revisions and MCP message types.
//!
//! The JSON-RPC envelopes and the MCP request and result types are the
//! runtime's own business; this module shows what a server's code meets:
//! content blocks, error objects and codes, request ids, logging levels,
//! protocol revisions and the server's identity.

mod content;
pub(crate) mod jsonrpc;
pub(crate) mod messages;
pub mod tasks;
mod version;

pub use content::{Content, ContentAnnotations, ResourceContents, Role};
pub use jsonrpc::{
    ErrorObject, HEADER_MISMATCH, HandlerError, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST,
    METHOD_NOT_FOUND, MISSING_CLIENT_CAPABILITY, PARSE_ERROR, REQUEST_CANCELLED, RequestId,
    UNSUPPORTED_PROTOCOL_VERSION,
};
pub use messages::{Implementation, LoggingLevel};
pub use version::ProtocolVersion;

/// The extension (SEP-1046) by which machine clients sign in with the
/// client-credentials grant; advertised by servers that verify tokens.
pub const CLIENT_CREDENTIALS_EXTENSION: &str = "io.modelcontextprotocol/oauth-client-credentials";
