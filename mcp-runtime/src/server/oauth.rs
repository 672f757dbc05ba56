//! OAuth settings: which provider a server uses, resolved when it is built,
//! and the resource server it becomes once its URL is known.

use super::{HostPolicy, McpServer};
use crate::auth::{OAuthKind, ResourceServer, ResourceUrl};
use std::net::SocketAddr;
use std::sync::Arc;

impl McpServer {
    /// The OAuth resource server this server is when bound to `bound` (if
    /// known): `None` without OAuth, an error for a configuration it cannot
    /// honour at that address.
    pub(crate) fn resource_server(
        &self,
        bound: Option<SocketAddr>,
    ) -> Result<Option<Arc<ResourceServer>>, String> {
        let OAuthKind::Provider(provider) = &self.core.oauth.kind else {
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
        let provider = match &provider.dev {
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
                url,
                &settings.tool_scopes,
                name,
                Arc::clone(&settings.hierarchy),
                settings.hide_forbidden_tools,
                &settings.proxy,
            )?
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
        let OAuthKind::Provider(provider) = &self.core.oauth.kind else {
            return Err("the server has no OAuth provider; use `oauth = dev`".into());
        };
        let dev = provider
            .dev
            .as_ref()
            .ok_or("dev tokens need `oauth = dev`")?;
        let scopes: Vec<String> = scopes.into_iter().map(|s| s.as_ref().to_owned()).collect();
        dev.mint(&scopes)
    }
}
