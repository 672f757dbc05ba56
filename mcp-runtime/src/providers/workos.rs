//! WorkOS AuthKit: an OAuth 2.1 server at `https://{subdomain}.authkit.app`
//! with keys at `/oauth2/jwks`. Access tokens name the MCP URL as audience
//! when the client asks for it as resource (RFC 8707), else the
//! environment's client id. The organization is `org_id`; `User::extra`
//! holds the session id `sid`.

use super::{ConfigError, Var, merge, strings, text};
use crate::auth::{IntoOAuth, JwtVerifier, KeySource, Mode, OAuth, Provider, Secret, Verification};

const SUBDOMAIN: Var = Var::new("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", "your-app-1234");
const CLIENT_ID: Var = Var::new("MCP_USE_OAUTH_WORKOS_CLIENT_ID", "client_01H...");
const API_KEY: Var = Var::new("MCP_USE_OAUTH_WORKOS_API_KEY", "sk_live_...");

/// WorkOS AuthKit. Direct mode (clients use AuthKit's dynamic client
/// registration) unless a client id is configured, which makes this server
/// proxy for that pre-registered client (the API key is its secret).
///
/// ```
/// use mcp_runtime::providers::WorkOs;
/// let provider = WorkOs::new("your-app-1234").build().expect("valid settings");
/// assert_eq!(provider.issuer(), "https://your-app-1234.authkit.app");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct WorkOs {
    subdomain: String,
    client_id: Option<String>,
    api_key: Option<Secret>,
    scopes: Vec<String>,
    mode: Option<Mode>,
}

impl WorkOs {
    /// The AuthKit subdomain (`your-app-1234`), or its full host or URL
    /// (a custom domain).
    pub fn new(subdomain: impl Into<String>) -> Self {
        Self {
            subdomain: subdomain.into(),
            client_id: None,
            api_key: None,
            scopes: Vec::new(),
            mode: None,
        }
    }

    /// From `MCP_USE_OAUTH_WORKOS_SUBDOMAIN` (required) and the optional
    /// `..._CLIENT_ID` and `..._API_KEY`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut workos = Self::new(SUBDOMAIN.require()?);
        workos.client_id = CLIENT_ID.get();
        workos.api_key = API_KEY.get().map(Secret::new);
        Ok(workos)
    }

    /// A pre-registered client: its id, and the environment's API key as secret.
    pub fn client(mut self, id: impl Into<String>, api_key: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self.api_key = Some(Secret::new(api_key));
        self
    }

    /// Scopes to publish in the discovery metadata.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Overrides the mode (default: proxy with a client id, else direct).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let value = self.subdomain.trim();
        let host_like = value.contains('.') || value.contains("://") || value.contains(':');
        let full = if host_like {
            value.to_owned()
        } else {
            format!("{value}.authkit.app")
        };
        let issuer = text(&SUBDOMAIN.url_from(&full)?);
        let mut verifier =
            JwtVerifier::new(&issuer, KeySource::jwks(format!("{issuer}/oauth2/jwks")))
                .claims_hook(|auth| {
                    // `role` is the organization membership's role; `roles` when several.
                    let mut roles = strings(auth.payload.get("role"));
                    merge(&mut roles, strings(auth.payload.get("roles")));
                    merge(&mut auth.user.roles, roles);
                    // `org_id` is the organization (read by default); the
                    // AuthKit session the token belongs to, for sign-out.
                    if let Some(sid) = auth.payload.get("sid") {
                        auth.user.extra.insert("sid".to_owned(), sid.clone());
                    }
                });
        if let Some(client_id) = &self.client_id {
            // Tokens issued without a resource name the environment's client id.
            verifier = verifier.extra_audiences([client_id.clone()]);
        }
        let mut provider = Provider::new("workos", issuer.clone(), Verification::Jwt(verifier));
        provider.authorization_endpoint = Some(format!("{issuer}/oauth2/authorize"));
        provider.token_endpoint = Some(format!("{issuer}/oauth2/token"));
        provider.metadata_url = Some(format!("{issuer}/.well-known/oauth-authorization-server"));
        provider.scopes_supported = self.scopes;
        provider.mode = self.mode.unwrap_or(if self.client_id.is_some() {
            Mode::Proxy
        } else {
            Mode::Direct
        });
        provider.client_id = self.client_id;
        provider.client_secret = self.api_key;
        Ok(provider)
    }
}

impl IntoOAuth for WorkOs {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}
