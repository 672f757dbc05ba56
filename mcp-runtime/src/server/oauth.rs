//! OAuth settings: which provider a server uses, resolved when it is built,
//! and the resource server it becomes once its URL is known.

use super::{AuthSettings, BuildError, HostPolicy, McpServer};
use crate::access::AccessRule;
use crate::auth::{OAuth, OAuthKind, ProxyContext, ResourceServer, ResourceUrl};
use crate::tools::Tool;
use std::net::SocketAddr;
use std::sync::Arc;

/// `oauth`, with a built-in provider configured from the environment now.
pub(super) fn resolve(oauth: OAuth) -> Result<OAuth, BuildError> {
    match oauth.kind {
        OAuthKind::FromEnv(provider) => crate::providers::from_env(provider)
            .map_err(|e| BuildError::Config(format!("`{}` provider: {e}", provider.name()))),
        _ => Ok(oauth),
    }
}

/// Refuses an OAuth setting the server cannot run with, and, on a server
/// that authenticates no one, tools and `rules` (of resources and prompts,
/// by name) no caller could ever meet.
pub(super) fn check_reachable(
    oauth: &OAuth,
    tools: &[Tool],
    rules: &[(String, &AccessRule)],
) -> Result<(), BuildError> {
    match &oauth.kind {
        // `resolve` configured it; kept closed should that ever change.
        OAuthKind::FromEnv(provider) => Err(BuildError::Config(format!(
            "the `{}` provider was not configured",
            provider.name()
        ))),
        OAuthKind::Invalid(why) => Err(BuildError::Config(why.clone())),
        OAuthKind::None => {
            let unreachable: Vec<String> = tools
                .iter()
                .filter(|t| t.access().needs_caller())
                .map(|t| t.name().to_owned())
                .chain(
                    rules
                        .iter()
                        .filter(|(_, r)| r.needs_caller())
                        .map(|(n, _)| n.clone()),
                )
                .collect();
            if unreachable.is_empty() {
                Ok(())
            } else {
                Err(BuildError::UnreachableTools(unreachable))
            }
        }
        OAuthKind::Provider(..) => Ok(()),
    }
}

/// The resource-server settings once checked: the proxy's redirect URIs
/// allowed, and every scope a tool or `rules` declare collected for the
/// metadata's `scopes_supported`.
pub(super) fn settle(
    mut settings: AuthSettings,
    tools: &[Tool],
    rules: &[(String, &AccessRule)],
) -> Result<AuthSettings, BuildError> {
    for uri in &settings.proxy.redirect_uris {
        crate::auth::check_allowed_redirect_uri(uri).map_err(BuildError::Config)?;
    }
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if settings.proxy.rate_limit.is_none()
        && let Some(limit) = from_env("MCP_OAUTH_RATE_LIMIT")
    {
        let limit = limit.trim().parse::<u32>().map_err(|_| {
            BuildError::Config(format!(
                "MCP_OAUTH_RATE_LIMIT must be a number of requests per minute (0 turns it off), got `{limit}`"
            ))
        })?;
        settings.proxy.rate_limit = Some(limit);
    }
    // A comma-separated list from the environment.
    let list_from_env = |name: &str| {
        from_env(name).map(|list| {
            list.split(',')
                .map(|b| b.trim().to_owned())
                .filter(|b| !b.is_empty())
                .collect::<Vec<_>>()
        })
    };
    if settings.proxy.trusted_proxies.is_none() {
        settings.proxy.trusted_proxies = list_from_env("MCP_TRUSTED_PROXIES");
    }
    if settings.proxy.forwarded_header.is_none() {
        settings.proxy.forwarded_header = from_env("MCP_FORWARDED_HEADER");
    }
    settings.proxy.trusted().map_err(BuildError::Config)?;
    if settings.proxy.client_metadata_documents.is_none()
        && let Some(value) = from_env("MCP_OAUTH_CLIENT_METADATA_DOCUMENTS")
    {
        settings.proxy.client_metadata_documents = Some(match value.trim() {
            "true" | "1" | "on" => true,
            "false" | "0" | "off" => false,
            other => {
                return Err(BuildError::Config(format!(
                    "MCP_OAUTH_CLIENT_METADATA_DOCUMENTS must be true or false, got `{other}`"
                )));
            }
        });
    }
    if settings.proxy.client_metadata_networks.is_none() {
        settings.proxy.client_metadata_networks =
            list_from_env("MCP_OAUTH_CLIENT_METADATA_NETWORKS");
    }
    settings
        .proxy
        .document_addresses(false)
        .map_err(BuildError::Config)?;
    for rule in tools
        .iter()
        .map(Tool::access)
        .chain(rules.iter().map(|(_, r)| *r))
    {
        for scope in rule.scopes.iter().chain(&rule.any_scope) {
            if !settings.tool_scopes.iter().any(|s| s == scope) {
                settings.tool_scopes.push(scope.to_string());
            }
        }
    }
    Ok(settings)
}

impl McpServer {
    /// The OAuth resource server this server is when bound to `bound` (if
    /// known): `None` without OAuth, an error for a configuration it cannot
    /// honour at that address.
    pub(crate) fn resource_server(
        &self,
        bound: Option<SocketAddr>,
    ) -> Result<Option<Arc<ResourceServer>>, String> {
        let OAuthKind::Provider(provider, dev) = &self.core.oauth.kind else {
            return Ok(None);
        };
        let settings = &self.core.auth_settings;
        let url = ResourceUrl::resolve(settings.public_url.as_deref(), bound, &self.http.path)?;
        if !provider.checks_signatures() {
            let loopback_only = match bound {
                Some(addr) => addr.ip().is_loopback(),
                None => self.http.hosts == HostPolicy::Loopback,
            };
            if !loopback_only {
                return Err(
                    "token signatures are not checked (`verify_jwt(false)`): allowed only \
                     on a server bound to loopback"
                        .into(),
                );
            }
            tracing::warn!(
                "!!! DEVELOPMENT MODE: access token signatures are NOT checked; anyone can forge a \
                 token. Never deploy this configuration. !!!"
            );
        }
        // `oauth = dev`: issuer and audience are this server's own URL, and
        // only a loopback bind (or the loud override) may issue tokens.
        let served;
        let provider = match dev {
            Some(dev) => {
                let loopback = match bound {
                    Some(addr) => addr.ip().is_loopback(),
                    None => self.http.hosts == HostPolicy::Loopback,
                };
                served = dev.provider_at(provider, &url, loopback, &settings.tool_scopes)?;
                &served
            }
            None => provider.as_ref(),
        };
        let name = self
            .core
            .info
            .title
            .as_deref()
            .unwrap_or(&self.core.info.name);
        tracing::info!(resource = %url.endpoint, provider = provider.name(), "OAuth resource server");
        Ok(Some(Arc::new(
            ResourceServer::new(
                provider,
                dev.as_ref(),
                url,
                &settings.tool_scopes,
                name,
                Arc::clone(&settings.hierarchy),
                ProxyContext {
                    settings: &settings.proxy,
                    state: &self.state,
                    secret: self.state_secret.as_deref(),
                },
            )?
            .with_forbidden_tools_hidden(settings.hide_forbidden_tools)
            // Decided again on every request from the address it arrived
            // on: a `Host: localhost` header is all it takes to pass a
            // Host check, and a mount by `configure` cannot see its bind.
            .with_loopback_only(
                !provider.checks_signatures()
                    || dev.as_ref().is_some_and(|dev| !dev.allows_non_loopback()),
            )
            .with_token_cache(
                settings
                    .verified_token_capacity
                    .unwrap_or(crate::auth::DEFAULT_VERIFIED_TOKEN_CAPACITY),
            ),
        )))
    }

    /// With `oauth = dev` only: a ready access token for the development
    /// user `dev-user` holding `scopes` (those the server supports; others
    /// are dropped), e.g. to print for curl. Available once the server is
    /// bound (or mounted with [`configure`](Self::configure)); the token is
    /// a secret: show it only on the developer's own terminal.
    pub fn dev_token<S: AsRef<str>>(
        &self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<String, String> {
        let OAuthKind::Provider(_, dev) = &self.core.oauth.kind else {
            return Err("the server has no OAuth provider; use `oauth = dev`".into());
        };
        let dev = dev.as_ref().ok_or("dev tokens need `oauth = dev`")?;
        let scopes: Vec<String> = scopes.into_iter().map(|s| s.as_ref().to_owned()).collect();
        dev.mint(&scopes)
    }

    /// With `oauth = dev`, once bound: what `listen` prints for the developer
    /// (the URL, the Inspector sign-in and, on loopback, a ready token).
    pub(crate) fn dev_banner(&self) -> Option<String> {
        let OAuthKind::Provider(_, Some(dev)) = &self.core.oauth.kind else {
            return None;
        };
        dev.banner(&self.core.info.name)
    }
}
