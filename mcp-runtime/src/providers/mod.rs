//! Built-in identity providers. Each is a small file saying where the
//! provider's keys and metadata live, which algorithms it signs with, how its
//! claims map to the caller, and which mode it uses; all of them verify
//! tokens with the one shared [`JwtVerifier`](crate::auth::JwtVerifier).
//!
//! Every provider is configured either in code or from environment variables
//! alone (explicit settings win). A missing or malformed variable is a
//! startup error that names it and shows an example value.

mod auth0;
mod better_auth;
mod clerk;
mod cognito;
mod descope;
mod entra;
mod github;
mod google;
mod keycloak;
mod oidc;
mod okta;
mod scalekit;
mod supabase;
mod workos;
mod zitadel;

pub use auth0::Auth0;
pub use better_auth::BetterAuth;
pub use clerk::Clerk;
pub use cognito::Cognito;
pub use descope::Descope;
pub use entra::EntraId;
pub use github::GitHub;
pub use google::Google;
pub use keycloak::Keycloak;
pub use oidc::Oidc;
pub use okta::Okta;
pub use scalekit::Scalekit;
pub use supabase::Supabase;
pub use workos::WorkOs;
pub use zitadel::Zitadel;

use crate::auth::{
    BuiltinProvider, DevServer, ExchangeStyle, IssuerDiscovery, JwksSettings, JwtVerifier, Mode,
    OAuth, OAuthKind, Provider, Secret, Verification,
};
use std::sync::Arc;
use url::Url;

/// A provider setting that is missing or malformed. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    fn missing(var: &str, example: &str) -> Self {
        Self::new(format!(
            "the environment variable {var} is not set; set it like {var}={example}"
        ))
    }

    fn malformed(var: &str, why: &str, example: &str) -> Self {
        Self::new(format!("{var} {why}; set it like {var}={example}"))
    }
}

/// One environment variable a provider reads, with an example value for errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Var {
    pub(crate) name: &'static str,
    pub(crate) example: &'static str,
}

impl Var {
    pub(crate) const fn new(name: &'static str, example: &'static str) -> Self {
        Self { name, example }
    }

    /// The variable's value, if set and not blank.
    pub(crate) fn get(self) -> Option<String> {
        std::env::var(self.name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The variable's value, or an error naming it.
    pub(crate) fn require(self) -> Result<String, ConfigError> {
        self.get()
            .ok_or_else(|| ConfigError::missing(self.name, self.example))
    }

    /// The error for a value of this variable that is not right: it
    /// names the variable, says `why`, and shows the example.
    pub(crate) fn invalid(self, why: &str) -> ConfigError {
        ConfigError::malformed(self.name, why, self.example)
    }

    /// A base URL from a bare host (`id.example.com`) or a full URL. Plain
    /// `http://` only for loopback hosts, which is how tests point at a local IdP.
    pub(crate) fn url_from(self, value: &str) -> Result<Url, ConfigError> {
        base_url(value).map_err(|why| ConfigError::malformed(self.name, &why, self.example))
    }
}

/// Parses a bare host or an http(s) URL into a base URL without a trailing slash.
pub(crate) fn base_url(value: &str) -> Result<Url, String> {
    let value = value.trim();
    let text = if value.contains("://") {
        value.to_owned()
    } else {
        format!("https://{value}")
    };
    let url = Url::parse(&text).map_err(|_| "is not a host name or URL".to_owned())?;
    let host = url.host_str().ok_or("has no host")?.to_owned();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err("must use https (plain http is accepted only for loopback hosts)".into());
        }
        _ => return Err("must be an https URL".into()),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    let mut url = url;
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// `url` as text, without the trailing slash `Url` adds to an empty path.
pub(crate) fn text(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// The provider named in `#[mcp_server(oauth = ...)]`, from the environment.
pub(crate) fn from_env(provider: BuiltinProvider) -> Result<OAuth, ConfigError> {
    let provider = match provider {
        BuiltinProvider::Auth0 => Auth0::from_env()?.build()?,
        BuiltinProvider::WorkOs => WorkOs::from_env()?.build()?,
        BuiltinProvider::Supabase => Supabase::from_env()?.build()?,
        BuiltinProvider::Keycloak => Keycloak::from_env()?.build()?,
        BuiltinProvider::Oidc => Oidc::from_env()?.build()?,
        BuiltinProvider::Okta => Okta::from_env()?.build()?,
        BuiltinProvider::Entra => EntraId::from_env()?.build()?,
        BuiltinProvider::Cognito => Cognito::from_env()?.build()?,
        BuiltinProvider::Zitadel => Zitadel::from_env()?.build()?,
        BuiltinProvider::Clerk => Clerk::from_env()?.build()?,
        BuiltinProvider::Descope => Descope::from_env()?.build()?,
        BuiltinProvider::BetterAuth => BetterAuth::from_env()?.build()?,
        BuiltinProvider::Scalekit => Scalekit::from_env()?.build()?,
        BuiltinProvider::Google => Google::from_env()?.build()?,
        BuiltinProvider::GitHub => GitHub::from_env()?.build()?,
        BuiltinProvider::Dev => {
            let (provider, issuer) = DevServer::from_env()
                .and_then(DevServer::build)
                .map_err(ConfigError::new)?;
            let kind = OAuthKind::Provider(Arc::new(provider), Some(issuer));
            return Ok(OAuth { kind });
        }
    };
    Ok(OAuth::from_provider(provider))
}

/// What every provider found through its discovery document also takes:
/// the client registered for this server at the provider (proxy mode),
/// the scopes to publish, and the mode.
#[derive(Debug, Clone, Default)]
pub(crate) struct Common {
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) scopes: Vec<String>,
    pub(crate) mode: Option<Mode>,
}

impl Common {
    /// From `{prefix}_CLIENT_ID`, `{prefix}_CLIENT_SECRET` and `{prefix}_SCOPES`
    /// (space-separated), each optional.
    pub(crate) fn from_env(prefix: &str) -> Self {
        let get = |name: &str| {
            std::env::var(format!("{prefix}_{name}"))
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Self {
            client_id: get("CLIENT_ID"),
            client_secret: get("CLIENT_SECRET").map(Secret::new),
            scopes: get("SCOPES")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            mode: None,
        }
    }

    /// The client id, which this provider needs (`var` names it; `why`
    /// says what for).
    pub(crate) fn required_client(&self, var: Var, why: &str) -> Result<String, ConfigError> {
        self.client_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| var.invalid(why))
    }

    /// The provider `name` whose tokens `issuer` signs, found through
    /// `discovery` and checked by `verifier`: proxy mode with a client id
    /// (or `default_mode`), its endpoints from the document, exchanging
    /// tokens in `exchange`'s way if it does.
    pub(crate) fn provider(
        self,
        name: &str,
        issuer: &str,
        discovery: Arc<IssuerDiscovery>,
        verifier: JwtVerifier,
        default_mode: Mode,
        exchange: Option<ExchangeStyle>,
    ) -> Result<Provider, ConfigError> {
        let mode = self.mode.unwrap_or(if self.client_id.is_some() {
            Mode::Proxy
        } else {
            default_mode
        });
        if mode == Mode::Proxy && self.client_id.is_none() {
            return Err(ConfigError::new(format!(
                "the `{name}` provider signs MCP clients in through this server (proxy mode), \
                 which needs the client registered for it there: set its client id"
            )));
        }
        let mut provider = Provider::new(name, issuer.to_owned(), Verification::Jwt(verifier));
        provider.metadata_url = Some(format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ));
        provider.discovery = Some(discovery);
        provider.scopes_supported = self.scopes;
        provider.mode = mode;
        provider.client_id = self.client_id;
        provider.client_secret = self.client_secret;
        provider.exchange = exchange;
        Ok(provider)
    }
}

/// The builder methods every provider on [`Common`] settings has.
macro_rules! common_settings {
    () => {
        /// The client registered for this server at the provider, which
        /// turns on [`Mode::Proxy`](crate::auth::Mode::Proxy); `secret` for
        /// a confidential client.
        pub fn client(mut self, id: impl Into<String>, secret: Option<String>) -> Self {
            self.common.client_id = Some(id.into());
            self.common.client_secret = secret.map(crate::auth::Secret::new);
            self
        }

        /// Scopes to publish in the discovery metadata.
        pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
            self.common.scopes = scopes.into_iter().map(Into::into).collect();
            self
        }

        /// Overrides the mode.
        pub fn mode(mut self, mode: crate::auth::Mode) -> Self {
            self.common.mode = Some(mode);
            self
        }
    };
}
pub(crate) use common_settings;

/// A provider configured by its issuer URL and an optional audience (this
/// server's URL by default), in direct mode unless a client is set: the
/// struct, `new`, `from_env` and the builder methods; each file writes
/// its `build`.
macro_rules! issuer_and_audience {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $issuer:ident, $audience:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        #[must_use]
        pub struct $name {
            issuer: String,
            audience: Option<String>,
            common: super::Common,
        }

        impl $name {
            /// The issuer's URL, exactly as its tokens name it.
            pub fn new(issuer: impl Into<String>) -> Self {
                Self {
                    issuer: issuer.into(),
                    audience: None,
                    common: super::Common::default(),
                }
            }

            #[doc = concat!("From `", $prefix, "_", stringify!($issuer), "` (required), and the optional `..._AUDIENCE`, `..._CLIENT_ID`, `..._CLIENT_SECRET` and `..._SCOPES`.")]
            pub fn from_env() -> Result<Self, super::ConfigError> {
                let mut provider = Self::new($issuer.require()?);
                provider.audience = $audience.get();
                provider.common = super::Common::from_env($prefix);
                Ok(provider)
            }

            /// The audience tokens must name (default: this server's URL,
            /// the `resource` MCP clients ask for).
            pub fn audience(mut self, audience: impl Into<String>) -> Self {
                self.audience = Some(audience.into());
                self
            }

            super::common_settings!();
        }

        impl crate::auth::IntoOAuth for $name {
            fn into_oauth(self) -> crate::auth::OAuth {
                crate::auth::OAuth::from_result(self.build())
            }
        }
    };
}
pub(crate) use issuer_and_audience;

/// An issuer setting: a whole https URL (http on loopback), kept exactly
/// as given, since tokens' `iss` must match it.
pub(crate) fn issuer_url(var: Var, value: &str) -> Result<String, ConfigError> {
    let issuer = value.trim().to_owned();
    if !issuer.contains("://") {
        return Err(var.invalid("must be the issuer's whole URL, as its tokens name it"));
    }
    var.url_from(&issuer)?;
    Ok(issuer)
}

/// The discovery of `issuer`, with default key settings.
pub(crate) fn discovery(issuer: &str) -> Arc<IssuerDiscovery> {
    Arc::new(IssuerDiscovery::new(issuer, JwksSettings::default()))
}

/// Copies each of `claims` the token carries into the caller's extras.
pub(crate) fn keep_extra(auth: &mut crate::auth::Auth, claims: &[&str]) {
    for claim in claims {
        if let Some(value) = auth.payload.get(*claim) {
            auth.user.extra.insert((*claim).to_owned(), value.clone());
        }
    }
}

/// Strings of a claim that is an array of strings or one string.
pub(crate) fn strings(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// Adds `items` to `list`, skipping ones already there.
pub(crate) fn merge(list: &mut Vec<String>, items: Vec<String>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_urls_are_accepted_and_http_only_on_loopback() {
        assert_eq!(
            text(&base_url("tenant.eu.auth0.com").unwrap()),
            "https://tenant.eu.auth0.com"
        );
        assert_eq!(
            text(&base_url("https://id.example.com/").unwrap()),
            "https://id.example.com"
        );
        assert_eq!(
            text(&base_url("http://127.0.0.1:8080/base/").unwrap()),
            "http://127.0.0.1:8080/base"
        );
        assert!(base_url("http://localhost:9000").is_ok());
        assert!(base_url("http://[::1]:9000").is_ok());
        assert!(
            base_url("http://id.example.com")
                .unwrap_err()
                .contains("https")
        );
        assert!(base_url("ftp://id.example.com").is_err());
        assert!(base_url("https://id.example.com/?x=1").is_err());
        assert!(base_url("").is_err());
    }

    #[test]
    fn errors_name_the_variable_and_show_an_example() {
        let var = Var::new("MCP_USE_OAUTH_TEST_UNSET_VARIABLE", "tenant.us.auth0.com");
        let error = var.require().unwrap_err().to_string();
        assert!(
            error.contains("MCP_USE_OAUTH_TEST_UNSET_VARIABLE=tenant.us.auth0.com"),
            "{error}"
        );
        let error = var.url_from("http://evil.example").unwrap_err().to_string();
        assert!(
            error.starts_with("MCP_USE_OAUTH_TEST_UNSET_VARIABLE must use https"),
            "{error}"
        );
    }
}
