//! The authenticated caller handed to tools: who they are and what the token allows.

use super::ScopeHierarchy;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The user behind a verified access token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// The subject (`sub`).
    pub user_id: String,
    /// `email`, when the token carries it.
    pub email: Option<String>,
    /// Display name (`name`).
    pub name: Option<String>,
    /// Login name (`preferred_username` or `username`).
    pub username: Option<String>,
    /// `nickname`.
    pub nickname: Option<String>,
    /// Avatar URL (`picture`).
    pub picture: Option<String>,
    /// Roles granted to the user.
    pub roles: Vec<String>,
    /// Fine-grained permissions granted to the user.
    pub permissions: Vec<String>,
    /// The organization (or tenant) the token acts for: `org_id` by
    /// default; providers map their own (Entra's `tid`, ...).
    pub organization: Option<String>,
    /// What else the provider says about the user and the sign-in, by the
    /// claim names it uses (Supabase's `aal`, `session_id`, ...): each
    /// provider's mapping lists what it puts here.
    pub extra: Map<String, Value>,
}

/// A token for a downstream API.
#[derive(Debug, Clone)]
pub struct ExchangedToken {
    /// The token (redacted in `Debug`).
    pub access_token: AccessToken,
    /// Its type, as the provider says (`Bearer`).
    pub token_type: String,
    /// When it expires (seconds since the Unix epoch), if the provider said.
    pub expires_at: Option<u64>,
    /// The scopes it grants, if the provider said.
    pub scope: Option<String>,
}

/// Why no token could be had for the downstream API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// This server cannot exchange tokens: the provider has no token
    /// exchange, or this server has no client credentials for it.
    #[error("token exchange is not available: {0}")]
    Unsupported(String),
    /// The provider refused (its OAuth error code and description).
    #[error("the identity provider refused the exchange: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The OAuth error code (`invalid_target`, `invalid_grant`, ...).
        error: String,
        /// Its description, if any.
        description: Option<String>,
    },
    /// The provider (or the shared state) could not be asked now.
    #[error("the token exchange could not be made now: {0}")]
    Unavailable(String),
}

/// How a caller's token is exchanged for downstream APIs: the server's
/// (see `auth/exchange.rs`), held by each caller it verified.
pub(crate) trait Exchange: Send + Sync + std::fmt::Debug {
    /// A token for `audience` with `scopes`, on behalf of `caller`.
    fn exchange<'a>(
        &'a self,
        caller: &'a Auth,
        audience: &'a str,
        scopes: &'a [&'a str],
    ) -> ExchangeFuture<'a>;
}

/// What [`Exchange::exchange`] returns.
pub(crate) type ExchangeFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<ExchangedToken, ExchangeError>> + Send + 'a>,
>;

/// A bearer token. `Debug` never shows it, so logging a caller cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a raw token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The raw token, for the rare tool that must forward it on purpose.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// The authenticated caller of a request: who they are and what their
/// verified access token allows.
///
/// ```
/// use mcp_runtime::auth::Auth;
/// let claims = serde_json::json!({ "sub": "u1", "scope": "tasks:read tasks:write", "exp": 2000000000 });
/// let auth = Auth::from_claims("token", claims.as_object().unwrap().clone());
/// assert!(auth.has_scope("tasks:read"));
/// assert!(auth.require_any_scope(&["admin", "tasks:write"]).is_ok());
/// assert!(auth.require_scope("admin").is_err());
/// assert!(!format!("{auth:?}").contains("token\""));
/// ```
#[derive(Debug, Clone)]
pub struct Auth {
    /// Who the caller is.
    pub user: User,
    /// The bearer token itself (redacted in `Debug`).
    pub access_token: AccessToken,
    /// Scopes granted by the token.
    pub scopes: Vec<String>,
    /// The OAuth client the token was issued to (`client_id` or `azp`).
    pub client_id: Option<String>,
    /// Expiry as seconds since the Unix epoch (`exp`).
    pub expires_at: Option<u64>,
    /// Every claim of the token.
    pub payload: Map<String, Value>,
    /// The server's scope hierarchy, so helpers see implied scopes too.
    pub(crate) hierarchy: Option<Arc<ScopeHierarchy>>,
    /// The `kid` of the key that signed the token, so a remembered verdict
    /// ends when the provider stops publishing that key.
    pub(crate) key_id: Option<String>,
    /// Whether no user is behind the token, when its provider tells by
    /// other means than the claims [`is_machine`](Self::is_machine) reads
    /// (Entra's app-only tokens carry no `scp`).
    pub(crate) machine: Option<bool>,
    /// How this server exchanges the caller's token for downstream APIs.
    pub(crate) exchange: Option<Arc<dyn Exchange>>,
}

/// A check on the caller failed. Returned from a tool, it becomes an error result
/// naming what was missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    /// Scopes the token lacks (all of them are needed).
    #[error("missing scope: {}", .0.join(" "))]
    MissingScopes(Vec<String>),
    /// None of these scopes was granted; any one would do.
    #[error("needs one of the scopes: {}", .0.join(" "))]
    NoneOfScopes(Vec<String>),
    /// Roles the caller lacks.
    #[error("missing role: {}", .0.join(" "))]
    MissingRoles(Vec<String>),
    /// Permissions the caller lacks.
    #[error("missing permission: {}", .0.join(" "))]
    MissingPermissions(Vec<String>),
    /// The tool needs an authenticated caller and the request had none.
    #[error("this tool needs an authenticated caller")]
    Unauthenticated,
    /// The tool is for people, and the caller is a machine client.
    #[error("this tool is for people signed in, not machine clients")]
    MachineCaller,
    /// The tool is for machine clients, and the caller is a person.
    #[error("this tool is for machine clients (a client-credentials token), not people")]
    PersonCaller,
}

impl Auth {
    /// Whether no user is behind the token: a machine client's, issued by
    /// the client-credentials grant (the
    /// `io.modelcontextprotocol/oauth-client-credentials` extension). Such
    /// a token names the client as its subject (RFC 9068 §2.2: `sub` is the
    /// client's id), or says so (`gty` = `client-credentials`, Auth0's;
    /// `idtyp` = `app`, Microsoft Entra's).
    pub fn is_machine(&self) -> bool {
        if let Some(machine) = self.machine {
            return machine;
        }
        let said = |claim: &str, value: &str| {
            self.payload.get(claim).and_then(Value::as_str) == Some(value)
        };
        said("gty", "client-credentials")
            || said("idtyp", "app")
            || self
                .client_id
                .as_deref()
                .is_some_and(|client| client == self.user.user_id)
    }

    /// A token for the downstream API `audience` with `scopes`, on this
    /// caller's behalf: the caller's token is exchanged at the provider
    /// (RFC 8693; Microsoft Entra's on-behalf-of flow), never passed on.
    /// Exchanged tokens are kept (sealed, in the shared state) per caller,
    /// audience and scopes until shortly before they expire.
    ///
    /// # Errors
    /// [`ExchangeError::Unsupported`]
    /// when the provider has no token exchange or this server no client
    /// secret for it; `Refused` with the provider's error; `Unavailable`
    /// when it cannot be asked now.
    pub async fn exchange(
        &self,
        audience: &str,
        scopes: &[&str],
    ) -> Result<ExchangedToken, ExchangeError> {
        match &self.exchange {
            Some(exchange) => exchange.exchange(self, audience, scopes).await,
            None => Err(ExchangeError::Unsupported(
                "this caller was not verified by a server with a provider".into(),
            )),
        }
    }

    /// The caller described by verified `claims`, with the common claim names:
    /// `sub`, `email`, `name`, `preferred_username`/`username`, `nickname`,
    /// `picture`, `roles`, `permissions`, `org_id`, `scope` (a space-separated
    /// string or an array) or `scp`, `client_id`/`azp`, `exp`. Providers map their own
    /// claims on top of this.
    pub fn from_claims(token: impl Into<String>, claims: Map<String, Value>) -> Self {
        let text = |key: &str| claims.get(key).and_then(Value::as_str).map(str::to_owned);
        let user = User {
            user_id: text("sub").unwrap_or_default(),
            email: text("email"),
            name: text("name"),
            username: text("preferred_username").or_else(|| text("username")),
            nickname: text("nickname"),
            picture: text("picture"),
            roles: string_list(claims.get("roles")),
            permissions: string_list(claims.get("permissions")),
            organization: text("org_id"),
            extra: Map::new(),
        };
        let scopes = scopes_of(&claims);
        Self {
            user,
            access_token: AccessToken::new(token),
            scopes,
            client_id: text("client_id").or_else(|| text("azp")),
            expires_at: claims.get("exp").and_then(Value::as_u64),
            payload: claims,
            hierarchy: None,
            key_id: None,
            machine: None,
            exchange: None,
        }
    }

    /// Whether the token grants `scope`, directly or through the server's
    /// scope hierarchy.
    pub fn has_scope(&self, scope: &str) -> bool {
        match &self.hierarchy {
            Some(hierarchy) => hierarchy.grants(&self.scopes, scope),
            None => self.scopes.iter().any(|s| s == scope),
        }
    }

    /// Who this is across tokens: issuer and subject. Sessions are bound to it.
    pub(crate) fn owner_key(&self) -> String {
        let issuer = self
            .payload
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        format!("{issuer}\n{}", self.user.user_id)
    }

    /// Whether `owner` is this caller's [`owner_key`](Self::owner_key),
    /// compared without building the key: sessions check it on every request.
    pub(crate) fn is_owner(&self, owner: &str) -> bool {
        let issuer = self
            .payload
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        owner
            .strip_prefix(issuer)
            .and_then(|rest| rest.strip_prefix('\n'))
            == Some(self.user.user_id.as_str())
    }

    /// The same caller, judged with `hierarchy`.
    pub fn with_hierarchy(mut self, hierarchy: Arc<ScopeHierarchy>) -> Self {
        self.hierarchy = (!hierarchy.is_empty()).then_some(hierarchy);
        self
    }

    /// Whether the token grants at least one of `scopes`.
    pub fn has_any_scope<S: AsRef<str>>(&self, scopes: &[S]) -> bool {
        scopes.iter().any(|s| self.has_scope(s.as_ref()))
    }

    /// Requires one scope, or all of several: `require_scope("admin")` or
    /// `require_scope(["tasks:read", "tasks:write"])`.
    pub fn require_scope<'a>(&self, scopes: impl RequiredNames<'a>) -> Result<(), AccessDenied> {
        let missing = missing(scopes.names(), |s| self.has_scope(s));
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AccessDenied::MissingScopes(missing))
        }
    }

    /// Requires at least one of `scopes`.
    pub fn require_any_scope<S: AsRef<str>>(&self, scopes: &[S]) -> Result<(), AccessDenied> {
        if scopes.is_empty() || self.has_any_scope(scopes) {
            Ok(())
        } else {
            Err(AccessDenied::NoneOfScopes(
                scopes.iter().map(|s| s.as_ref().to_owned()).collect(),
            ))
        }
    }

    /// Whether the user has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.user.roles.iter().any(|r| r == role)
    }

    /// Requires one role, or all of several.
    pub fn require_role<'a>(&self, roles: impl RequiredNames<'a>) -> Result<(), AccessDenied> {
        let missing = missing(roles.names(), |r| self.has_role(r));
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AccessDenied::MissingRoles(missing))
        }
    }

    /// Whether the user has `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.user.permissions.iter().any(|p| p == permission)
    }

    /// Requires one permission, or all of several.
    pub fn require_permission<'a>(
        &self,
        permissions: impl RequiredNames<'a>,
    ) -> Result<(), AccessDenied> {
        let missing = missing(permissions.names(), |p| self.has_permission(p));
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AccessDenied::MissingPermissions(missing))
        }
    }
}

/// One name or several, for the `require_*` helpers.
pub trait RequiredNames<'a> {
    /// The names, in order.
    fn names(self) -> Vec<&'a str>;
}

impl<'a> RequiredNames<'a> for &'a str {
    fn names(self) -> Vec<&'a str> {
        vec![self]
    }
}

impl<'a, const N: usize> RequiredNames<'a> for [&'a str; N] {
    fn names(self) -> Vec<&'a str> {
        self.to_vec()
    }
}

impl<'a, S: AsRef<str>> RequiredNames<'a> for &'a [S] {
    fn names(self) -> Vec<&'a str> {
        self.iter().map(AsRef::as_ref).collect()
    }
}

fn missing(names: Vec<&str>, held: impl Fn(&str) -> bool) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| !held(n))
        .map(str::to_owned)
        .collect()
}

/// Scopes from `scope` (space-separated string or array) or `scp` (either form).
fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    ["scope", "scp"]
        .iter()
        .filter_map(|key| claims.get(*key))
        .flat_map(|value| match value {
            Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
            other => string_list(Some(other)),
        })
        .collect()
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn auth(claims: Value) -> Auth {
        Auth::from_claims(
            "secret-token",
            claims.as_object().cloned().unwrap_or_default(),
        )
    }

    #[test]
    fn scopes_come_from_a_string_an_array_or_scp() {
        assert_eq!(auth(json!({"scope": "a  b"})).scopes, ["a", "b"]);
        assert_eq!(auth(json!({"scope": ["a", "b"]})).scopes, ["a", "b"]);
        assert_eq!(auth(json!({"scp": ["c"]})).scopes, ["c"]);
        assert_eq!(auth(json!({"scp": "d e"})).scopes, ["d", "e"]);
        assert!(auth(json!({"scope": 3})).scopes.is_empty());
    }

    #[test]
    fn helpers_name_what_is_missing() {
        let a = auth(json!({"sub": "u", "scope": "a", "roles": ["r"], "permissions": "p"}));
        assert_eq!(
            a.require_scope(["a", "b", "c"]),
            Err(AccessDenied::MissingScopes(vec!["b".into(), "c".into()]))
        );
        assert!(a.require_scope("a").is_ok());
        assert!(a.require_any_scope(&["x", "a"]).is_ok());
        assert_eq!(
            a.require_any_scope(&["x"]),
            Err(AccessDenied::NoneOfScopes(vec!["x".into()]))
        );
        assert!(a.require_role("r").is_ok() && a.require_role("s").is_err());
        assert!(a.require_permission("p").is_ok());
        assert_eq!(a.user.user_id, "u");
    }

    #[test]
    fn ownership_is_issuer_and_subject() {
        let alice = auth(json!({"iss": "https://idp", "sub": "alice"}));
        assert!(alice.is_owner(&alice.owner_key()));
        for other in [
            json!({"iss": "https://idp", "sub": "bob"}),
            json!({"iss": "https://other", "sub": "alice"}),
            json!({"iss": "https://idp", "sub": "alic"}),
            json!({"iss": "https://idp", "sub": "alice2"}),
            json!({"sub": "alice"}),
            json!({"iss": "https://idp\nalice"}),
        ] {
            let other = auth(other);
            assert!(
                !alice.is_owner(&other.owner_key()),
                "{:?}",
                other.owner_key()
            );
            assert!(
                !other.is_owner(&alice.owner_key()),
                "{:?}",
                other.owner_key()
            );
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let a = auth(json!({"sub": "u"}));
        assert!(!format!("{a:?}").contains("secret-token"));
        assert_eq!(a.access_token.expose(), "secret-token");
    }
}
