//! Attribute macros for `mcp-runtime`. Use them through `mcp_runtime`, which
//! re-exports them.
