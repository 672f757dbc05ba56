//! This server as an OAuth protected resource (RFC 9728): its canonical URL,
//! its metadata document, and the verifier bound to it.

use super::provider::{Mode, Provider, Verification};
use super::token_cache::{DEFAULT_VERIFIED_TOKEN_CAPACITY, VerifiedTokens};
use super::{
    AuthorizationServerMetadata, ChallengeContext, OAuthProxy, ProxySettings, ScopeHierarchy,
    TokenVerifier,
};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
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

/// Everything the endpoint needs to authenticate requests, built once per
/// server from its provider and canonical URL.
pub(crate) struct ResourceServer {
    pub(crate) verifier: Arc<dyn TokenVerifier>,
    pub(crate) challenge: ChallengeContext,
    pub(crate) url: ResourceUrl,
    /// The metadata document, rendered once.
    pub(crate) metadata: bytes::Bytes,
    pub(crate) hierarchy: Arc<ScopeHierarchy>,
    /// Leave tools the caller cannot use out of `tools/list`.
    pub(crate) hide_forbidden_tools: bool,
    /// The authorization server metadata served at this origin, if any.
    pub(crate) authorization_server: Option<Arc<AuthorizationServerMetadata>>,
    /// In proxy mode, the authorization server this server plays.
    pub(crate) proxy: Option<Arc<OAuthProxy>>,
    /// Verdicts on tokens already checked, when the verifier's may be kept.
    pub(crate) verified: Option<VerifiedTokens>,
}

impl ResourceServer {
    /// Remembers up to `capacity` verdicts (0: checks every token every time).
    pub(crate) fn with_token_cache(mut self, capacity: usize) -> Self {
        self.verified = match (self.verified.take(), capacity) {
            (_, 0) | (None, _) => None,
            (Some(cache), capacity) => Some(cache.with_capacity(capacity)),
        };
        self
    }

    /// The resource server of `provider` at `url`, or why proxy mode cannot
    /// run with `proxy_settings`.
    pub(crate) fn new(
        provider: &Provider,
        url: ResourceUrl,
        tool_scopes: &[String],
        resource_name: &str,
        hierarchy: Arc<ScopeHierarchy>,
        hide_forbidden_tools: bool,
        proxy_settings: &ProxySettings,
    ) -> Result<Self, String> {
        let verifier: Arc<dyn TokenVerifier> = match &provider.verification {
            Verification::Jwt(jwt) if !jwt.has_audience() => {
                Arc::new(jwt.clone().audiences([url.endpoint.clone()]))
            }
            Verification::Jwt(jwt) => Arc::new(jwt.clone()),
            Verification::Hook(hook) => Arc::clone(hook),
        };
        let mut scopes: Vec<String> = Vec::new();
        for scope in tool_scopes.iter().chain(&provider.scopes_supported) {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        let mut document = json!({
            "resource": url.endpoint,
            "bearer_methods_supported": ["header"],
            "resource_name": resource_name,
        });
        let proxy = match provider.mode {
            Mode::Proxy => Some(Arc::new(OAuthProxy::new(
                provider,
                &url.endpoint,
                resource_name,
                &scopes,
                proxy_settings,
            )?)),
            Mode::Direct => None,
        };
        if let Some(proxy) = &proxy {
            // Clients see this server as their authorization server.
            document["authorization_servers"] = json!([proxy.issuer()]);
        } else if !provider.issuer.is_empty() {
            document["authorization_servers"] = json!([provider.issuer]);
        }
        if !scopes.is_empty() {
            document["scopes_supported"] = json!(scopes);
        }
        // Suggest the provider's scopes on a 401; never offline_access, which
        // is the client's choice, not the resource's requirement.
        let suggested: Vec<&str> = provider
            .scopes_supported
            .iter()
            .map(String::as_str)
            .filter(|s| *s != "offline_access")
            .collect();
        let challenge = ChallengeContext {
            resource_metadata: Some(url.metadata_url.clone()),
            scope: (!suggested.is_empty()).then(|| suggested.join(" ")),
        };
        let authorization_server = match &proxy {
            Some(proxy) => Some(Arc::new(AuthorizationServerMetadata::Own(proxy.metadata()))),
            None => provider
                .metadata_url
                .clone()
                .map(|url| Arc::new(AuthorizationServerMetadata::upstream(url))),
        };
        Ok(Self {
            verified: match &provider.verification {
                Verification::Jwt(jwt) if jwt.checks_signatures() => Some(VerifiedTokens::new(
                    jwt.clone(),
                    DEFAULT_VERIFIED_TOKEN_CAPACITY,
                )),
                _ => None,
            },
            verifier,
            challenge,
            url,
            metadata: bytes::Bytes::from(document.to_string()),
            hierarchy,
            hide_forbidden_tools,
            authorization_server,
            proxy,
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
