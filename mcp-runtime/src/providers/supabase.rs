//! Supabase Auth: issuer `{project URL}/auth/v1`, audience `authenticated`.
//! Projects sign with asymmetric keys (ES256, or RS256) published at
//! `/auth/v1/.well-known/jwks.json`, or with the legacy HS256 JWT secret.
//! `User::extra` holds the sign-in's assurance level `aal` (`aal2` after
//! multi-factor authentication), `session_id` and `is_anonymous`.

use super::{ConfigError, Var, merge, strings, text};
use crate::auth::{
    Algorithm, IntoOAuth, JwtVerifier, KeySource, OAuth, Provider, Secret, Verification,
};
use serde_json::Value;

const PROJECT_ID: Var = Var::new("MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "abcdefghijklmnopqrst");
const URL: Var = Var::new("MCP_USE_OAUTH_SUPABASE_URL", "https://supabase.example.com");
const JWT_SECRET: Var = Var::new(
    "MCP_USE_OAUTH_SUPABASE_JWT_SECRET",
    "<the project's JWT secret>",
);

/// Supabase Auth, in direct mode (Supabase is the authorization server).
///
/// ```
/// use mcp_runtime::providers::Supabase;
/// let provider = Supabase::project("abcdefghijklmnopqrst").build().expect("valid settings");
/// assert_eq!(provider.issuer(), "https://abcdefghijklmnopqrst.supabase.co/auth/v1");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Supabase {
    url: String,
    /// The id given to [`Supabase::project`], checked when built.
    project_id: Option<String>,
    jwt_secret: Option<Secret>,
    scopes: Vec<String>,
}

impl Supabase {
    /// A hosted project, by its id.
    pub fn project(project_id: impl AsRef<str>) -> Self {
        let id = project_id.as_ref().trim().to_owned();
        let mut supabase = Self::url(format!("https://{id}.supabase.co"));
        supabase.project_id = Some(id);
        supabase
    }

    /// A project at this URL (self-hosted, or a custom domain).
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            project_id: None,
            jwt_secret: None,
            scopes: Vec::new(),
        }
    }

    /// From `MCP_USE_OAUTH_SUPABASE_PROJECT_ID` or `MCP_USE_OAUTH_SUPABASE_URL`,
    /// and the optional `MCP_USE_OAUTH_SUPABASE_JWT_SECRET`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut supabase = match (URL.get(), PROJECT_ID.get()) {
            (Some(url), _) => Self::url(url),
            (None, Some(id)) => Self::project(id),
            (None, None) => {
                return Err(ConfigError::new(format!(
                    "set {}={} (hosted) or {}={} (self-hosted)",
                    PROJECT_ID.name, PROJECT_ID.example, URL.name, URL.example
                )));
            }
        };
        supabase.jwt_secret = JWT_SECRET.get().map(Secret::new);
        Ok(supabase)
    }

    /// Verify with the project's legacy HS256 JWT secret instead of its JWK set.
    pub fn jwt_secret(mut self, secret: impl Into<String>) -> Self {
        self.jwt_secret = Some(Secret::new(secret));
        self
    }

    /// Scopes to publish in the discovery metadata.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The provider, or what is wrong with its settings.
    pub fn build(self) -> Result<Provider, ConfigError> {
        // An id that is not one would make a URL of another host or path.
        if let Some(id) = &self.project_id
            && (id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(PROJECT_ID.invalid("must be the project's id (letters and digits)"));
        }
        let base = text(&URL.url_from(&self.url)?);
        let issuer = format!("{base}/auth/v1");
        let verifier = match self.jwt_secret {
            Some(secret) => {
                crate::auth::check_hmac_secret(secret.expose().len())
                    .map_err(|why| ConfigError::new(format!("{}: {why}", JWT_SECRET.name)))?;
                JwtVerifier::new(&issuer, KeySource::shared_secret(secret.expose()))
            }
            None => JwtVerifier::new(
                &issuer,
                KeySource::jwks(format!("{issuer}/.well-known/jwks.json")),
            )
            .algorithms([Algorithm::ES256, Algorithm::RS256]),
        };
        let verifier = verifier.audiences(["authenticated"]).claims_hook(|auth| {
            let metadata = auth
                .payload
                .get("user_metadata")
                .cloned()
                .unwrap_or(Value::Null);
            let field = |key: &str| metadata.get(key).and_then(Value::as_str).map(str::to_owned);
            auth.user.name = auth
                .user
                .name
                .take()
                .or_else(|| field("full_name"))
                .or_else(|| field("name"));
            auth.user.username = auth
                .user
                .username
                .take()
                .or_else(|| field("username"))
                .or_else(|| field("user_name"));
            auth.user.picture = auth.user.picture.take().or_else(|| field("avatar_url"));
            merge(&mut auth.user.roles, strings(auth.payload.get("role")));
            // The sign-in's assurance level (`aal1`, `aal2` after MFA), its
            // session, and whether the user is anonymous.
            for claim in ["aal", "session_id", "is_anonymous"] {
                if let Some(value) = auth.payload.get(claim) {
                    auth.user.extra.insert(claim.to_owned(), value.clone());
                }
            }
        });
        let mut provider = Provider::new("supabase", issuer, Verification::Jwt(verifier));
        provider.metadata_url = Some(format!(
            "{base}/.well-known/oauth-authorization-server/auth/v1"
        ));
        provider.scopes_supported = self.scopes;
        Ok(provider)
    }
}

impl IntoOAuth for Supabase {
    fn into_oauth(self) -> OAuth {
        OAuth::from_result(self.build())
    }
}
