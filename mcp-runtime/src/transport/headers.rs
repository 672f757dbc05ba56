//! The MCP header names of Streamable HTTP.

/// `Mcp-Session-Id`.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// `MCP-Protocol-Version`.
pub const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
/// `Mcp-Method` (2026-07-28).
pub const METHOD_HEADER: &str = "mcp-method";
/// `Mcp-Name` (2026-07-28).
pub const NAME_HEADER: &str = "mcp-name";

/// The names above, parsed once: a lookup by `&str` parses the name again,
/// and for these non-standard names allocates, on every request.
pub(crate) mod names {
    use actix_web::http::header::HeaderName;

    pub(crate) const SESSION: HeaderName = HeaderName::from_static(super::SESSION_HEADER);
    pub(crate) const PROTOCOL_VERSION: HeaderName =
        HeaderName::from_static(super::PROTOCOL_VERSION_HEADER);
    pub(crate) const METHOD: HeaderName = HeaderName::from_static(super::METHOD_HEADER);
    pub(crate) const NAME: HeaderName = HeaderName::from_static(super::NAME_HEADER);
    /// W3C trace context.
    pub(crate) const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
    /// W3C trace context: vendors' state beside `traceparent`.
    pub(crate) const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
}
