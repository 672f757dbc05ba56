//! The canonical URL of this server as an OAuth protected resource, and
//! where its metadata lives.

use std::net::SocketAddr;
use url::Url;

/// The well-known path of protected resource metadata.
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// The canonical URL of the MCP endpoint and where its metadata lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceUrl {
    /// `https://mcp.example.com/mcp`: the `resource` and the default audience.
    pub(crate) endpoint: String,
    /// `https://mcp.example.com/.well-known/oauth-protected-resource/mcp`.
    pub(crate) metadata_url: String,
    /// The metadata URL's path.
    pub(crate) metadata_path: String,
}

impl ResourceUrl {
    /// Settles the canonical URL: explicit setting, else `MCP_URL`, else the
    /// bound address, else `HOST`:`PORT` (never the request's `Host` header).
    /// A base URL gets `path` appended; one that already ends in it is the endpoint.
    pub(crate) fn resolve(
        explicit: Option<&str>,
        bound: Option<SocketAddr>,
        path: &str,
    ) -> Result<Self, String> {
        let configured = explicit
            .map(|v| (v.to_owned(), "the public URL setting"))
            .or_else(|| std::env::var("MCP_URL").ok().map(|v| (v, "MCP_URL")));
        let (base, source) = match configured {
            Some(found) => found,
            None => {
                let origin = match bound {
                    Some(addr) if addr.ip().is_unspecified() => {
                        format!("http://localhost:{}", addr.port())
                    }
                    Some(addr) => format!("http://{addr}"),
                    None => {
                        let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
                        let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
                        format!("http://{host}:{port}")
                    }
                };
                (origin, "the bound address")
            }
        };
        let url = Url::parse(base.trim()).map_err(|e| {
            format!("{source} `{base}` is not a URL ({e}); write it like `https://mcp.example.com`")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "{source} `{base}` must be an http(s) URL like `https://mcp.example.com`"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "{source} `{base}` must not have a query or fragment"
            ));
        }
        let base_path = url.path().trim_end_matches('/');
        let endpoint_path =
            if base_path.ends_with(path.trim_end_matches('/')) && !base_path.is_empty() {
                base_path.to_owned()
            } else {
                format!("{base_path}{path}")
            };
        let origin = url.origin().ascii_serialization();
        let metadata_path = format!("{RESOURCE_METADATA_PATH}{endpoint_path}");
        Ok(Self {
            endpoint: format!("{origin}{endpoint_path}"),
            metadata_url: format!("{origin}{metadata_path}"),
            metadata_path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_url_comes_from_configuration() {
        let explicit = ResourceUrl::resolve(Some("https://mcp.example.com"), None, "/mcp").unwrap();
        assert_eq!(explicit.endpoint, "https://mcp.example.com/mcp");
        assert_eq!(
            explicit.metadata_url,
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        let full = ResourceUrl::resolve(Some("https://x.example/api/mcp/"), None, "/mcp").unwrap();
        assert_eq!(full.endpoint, "https://x.example/api/mcp");
        assert_eq!(
            full.metadata_path,
            "/.well-known/oauth-protected-resource/api/mcp"
        );
        let bound: SocketAddr = "127.0.0.1:4321".parse().unwrap();
        let from_bind =
            ResourceUrl::resolve(Some("http://127.0.0.1:4321"), Some(bound), "/mcp").unwrap();
        assert_eq!(from_bind.endpoint, "http://127.0.0.1:4321/mcp");
        assert!(ResourceUrl::resolve(Some("mcp.example.com"), None, "/mcp").is_err());
        assert!(ResourceUrl::resolve(Some("ftp://x.example"), None, "/mcp").is_err());
        assert!(ResourceUrl::resolve(Some("https://x.example/?a=b"), None, "/mcp").is_err());
    }
}
