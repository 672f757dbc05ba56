//! This server as an OAuth protected resource (RFC 9728): its canonical URL,
//! its metadata document, and the verifier bound to it.

use super::dev::DevIssuer;
use super::provider::{Mode, Provider, Verification};
use super::resource_url::ResourceUrl;
use super::token_cache::{DEFAULT_VERIFIED_TOKEN_CAPACITY, VerifiedTokens};
use super::{
    AuthorizationServerMetadata, ChallengeContext, OAuthProxy, ProxyContext, ScopeHierarchy,
    TokenVerifier,
};
use serde_json::json;
use std::sync::Arc;

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
    /// How callers' tokens are exchanged for downstream APIs.
    pub(crate) exchange: Arc<super::TokenExchange>,
    /// A development configuration (signatures not checked, or the
    /// development authorization server): every request must have arrived
    /// on a loopback address, whatever its `Host` header says.
    pub(crate) loopback_only: bool,
}

impl ResourceServer {
    /// Answers only requests that arrived on a loopback address when `only`.
    pub(crate) fn with_loopback_only(mut self, only: bool) -> Self {
        self.loopback_only = only;
        self
    }

    /// Leaves tools the caller cannot use out of `tools/list` when `hide`.
    pub(crate) fn with_forbidden_tools_hidden(mut self, hide: bool) -> Self {
        self.hide_forbidden_tools = hide;
        self
    }

    /// Remembers up to `capacity` verdicts (0: checks every token every time).
    pub(crate) fn with_token_cache(mut self, capacity: usize) -> Self {
        self.verified = match (self.verified.take(), capacity) {
            (_, 0) | (None, _) => None,
            (Some(cache), capacity) => Some(cache.with_capacity(capacity)),
        };
        self
    }

    /// The resource server of `provider` at `url` (with `dev`, the
    /// development authorization server it plays), or why proxy mode cannot
    /// run in `proxy` (its settings, and the state and secret every replica
    /// of the server shares).
    pub(crate) fn new(
        provider: &Provider,
        dev: Option<&Arc<DevIssuer>>,
        url: ResourceUrl,
        tool_scopes: &[String],
        resource_name: &str,
        hierarchy: Arc<ScopeHierarchy>,
        proxy: ProxyContext<'_>,
    ) -> Result<Self, String> {
        let exchange = Arc::new(super::TokenExchange::new(
            &provider.issuer,
            exchange_route(provider),
            Arc::clone(&proxy.state.values),
            proxy.secret,
        ));
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
                dev,
                &url.endpoint,
                resource_name,
                &scopes,
                proxy,
            )?)),
            Mode::Direct => None,
        };
        if let Some(proxy) = &proxy {
            // Clients see this server as their authorization server.
            document["authorization_servers"] = json!([proxy.issuer()]);
        } else if let Some(server) = &provider.authorization_server {
            document["authorization_servers"] = json!([server]);
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
            None if provider.discovery.is_some() => provider
                .discovery
                .clone()
                .map(|discovery| Arc::new(AuthorizationServerMetadata::Discovered(discovery))),
            None => provider
                .metadata_url
                .clone()
                .map(|url| Arc::new(AuthorizationServerMetadata::upstream(url))),
        };
        Ok(Self {
            exchange,
            loopback_only: false,
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
            hide_forbidden_tools: false,
            authorization_server,
            proxy,
        })
    }
}

/// How `provider` exchanges tokens, or why it cannot.
fn exchange_route(
    provider: &Provider,
) -> Result<
    (
        super::ExchangeStyle,
        super::TokenEndpoint,
        String,
        super::Secret,
    ),
    String,
> {
    let name = &provider.name;
    let style = provider
        .exchange
        .ok_or_else(|| format!("the `{name}` provider offers no token exchange"))?;
    let (Some(client_id), Some(secret)) = (&provider.client_id, &provider.client_secret) else {
        return Err(format!(
            "token exchange at `{name}` needs this server's client id and secret"
        ));
    };
    let endpoint = match (&provider.token_endpoint, &provider.discovery) {
        (Some(url), _) => super::TokenEndpoint::Fixed(url.clone()),
        (None, Some(discovery)) => super::TokenEndpoint::Discovered(Arc::clone(discovery)),
        (None, None) => return Err(format!("the `{name}` provider has no token endpoint")),
    };
    Ok((style, endpoint, client_id.clone(), secret.clone()))
}
