//! MCP protocol revisions this runtime speaks.

use std::fmt;

/// A protocol revision.
///
/// Ordered by date, so `v >= ProtocolVersion::V2025_06_18` reads as "at least".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolVersion {
    /// First Streamable HTTP revision.
    V2025_03_26,
    /// Adds structured tool output and the `MCP-Protocol-Version` header; drops batching.
    V2025_06_18,
    /// Latest session-based revision.
    V2025_11_25,
    /// Stateless revision: no `initialize`, no sessions, `server/discover`.
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every supported revision, newest first.
    pub const ALL: [ProtocolVersion; 4] = [
        ProtocolVersion::V2026_07_28,
        ProtocolVersion::V2025_11_25,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_03_26,
    ];

    /// The newest revision that starts with an `initialize` handshake.
    pub const LATEST_SESSION_BASED: ProtocolVersion = ProtocolVersion::V2025_11_25;

    /// The version a client that sends no `MCP-Protocol-Version` header is assumed to speak.
    pub const ASSUMED_WITHOUT_HEADER: ProtocolVersion = ProtocolVersion::V2025_03_26;

    /// The wire spelling, e.g. `"2025-11-25"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }

    /// Parses a wire spelling; `None` for revisions this runtime does not speak.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether this revision has no `initialize` handshake and no sessions.
    pub const fn is_stateless(self) -> bool {
        matches!(self, ProtocolVersion::V2026_07_28)
    }

    /// Whether tool results may carry `structuredContent` and listings `outputSchema`.
    pub fn has_structured_output(self) -> bool {
        self >= ProtocolVersion::V2025_06_18
    }

    /// The supported wire spellings, newest first.
    pub fn supported_strings() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.as_str()).collect()
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::parse(v.as_str()), Some(v));
        }
        assert_eq!(ProtocolVersion::parse("2024-11-05"), None);
        assert!(ProtocolVersion::V2025_11_25 > ProtocolVersion::V2025_06_18);
        assert!(!ProtocolVersion::V2025_03_26.has_structured_output());
    }
}
