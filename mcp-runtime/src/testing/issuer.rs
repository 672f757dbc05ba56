//! [`TestIssuer`] and [`TokenBuilder`]: access tokens minted in-process.

use super::KitError;
use crate::auth::{JwtVerifier, KeySource, Provider, SigningKey, StaticKeys, Verification};
use serde_json::{Map, Value, json};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The issuer a [`TestIssuer`] names unless told otherwise.
pub const DEFAULT_TEST_ISSUER: &str = "https://issuer.test";

/// An identity provider that lives in the test: it holds a fresh ES256 key,
/// mints access tokens with it, and hands the server a [`Provider`] that
/// trusts exactly that key.
///
/// Cloning is cheap and clones share the key and the default audience.
///
/// ```
/// use mcp_runtime::testing::TestIssuer;
///
/// let issuer = TestIssuer::new()?.with_audience("https://mcp.example.com/mcp");
/// let token = issuer.token().subject("alice").scopes(["tasks:read"]).sign()?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), mcp_runtime::testing::KitError>(())
/// ```
#[derive(Clone)]
pub struct TestIssuer {
    inner: Arc<Inner>,
}

struct Inner {
    key: SigningKey,
    /// The key's public half, as the server's verifier holds it.
    keys: Arc<StaticKeys>,
    issuer: String,
    audience: RwLock<Option<String>>,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.audience())
            .field("kid", &self.inner.key.kid())
            .finish()
    }
}

impl TestIssuer {
    /// An issuer called [`DEFAULT_TEST_ISSUER`] with a new random key.
    pub fn new() -> Result<Self, KitError> {
        Self::with_issuer(DEFAULT_TEST_ISSUER)
    }

    /// An issuer whose tokens name `issuer` in `iss`, with a new random key.
    pub fn with_issuer(issuer: impl Into<String>) -> Result<Self, KitError> {
        Self::from_key(issuer, SigningKey::generate().map_err(KitError)?)
    }

    /// An issuer that signs with `key` (e.g. one shared with another process).
    pub fn from_key(issuer: impl Into<String>, key: SigningKey) -> Result<Self, KitError> {
        let keys = StaticKeys::from_jwk_set(&key.jwk_set()).map_err(KitError)?;
        Ok(Self {
            inner: Arc::new(Inner {
                key,
                keys: Arc::new(keys),
                issuer: issuer.into(),
                audience: RwLock::new(None),
            }),
        })
    }

    /// Sets the audience tokens carry by default (and returns the issuer).
    /// [`TestServer::start_with`](super::TestServer::start_with) sets it to
    /// the started server's MCP URL.
    #[must_use]
    pub fn with_audience(self, audience: impl Into<String>) -> Self {
        self.set_audience(audience);
        self
    }

    /// Sets the audience tokens carry by default. Clones see it too.
    pub fn set_audience(&self, audience: impl Into<String>) {
        let mut slot = self
            .inner
            .audience
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *slot = Some(audience.into());
    }

    /// The audience tokens carry by default, once known.
    pub fn audience(&self) -> Option<String> {
        self.inner
            .audience
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The issuer URL tokens carry in `iss`.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.inner.key
    }

    /// The public key as a JWK set document.
    pub fn jwk_set(&self) -> Value {
        self.inner.key.jwk_set()
    }

    /// What the server under test authenticates with: pass it to
    /// [`McpServerBuilder::oauth`](crate::McpServerBuilder::oauth) or
    /// `#[mcp_server(oauth = custom(issuer.provider()))]`.
    ///
    /// It trusts only this issuer's key and `iss`, and accepts the server's
    /// own URL as the audience, like any production provider (RFC 8707).
    pub fn provider(&self) -> Provider {
        let keys = KeySource::Static(Arc::clone(&self.inner.keys));
        Provider::new(
            "test",
            self.inner.issuer.clone(),
            Verification::Jwt(JwtVerifier::new(&self.inner.issuer, keys)),
        )
    }

    /// Starts a token: subject `test-user`, no scopes, valid for an hour,
    /// for the default [`audience`](Self::audience).
    pub fn token(&self) -> TokenBuilder {
        TokenBuilder {
            issuer: self.clone(),
            iss: self.inner.issuer.clone(),
            aud: self.audience().map(Value::String),
            sub: Some("test-user".into()),
            scopes: Vec::new(),
            roles: None,
            permissions: None,
            lifetime: Lifetime::For(Duration::from_secs(3600)),
            claims: Map::new(),
            other_key: None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Lifetime {
    For(Duration),
    Expired,
}

/// An access token being described; [`sign`](Self::sign) mints it.
///
/// Claims: `iss`, `aud`, `sub`, `iat`, `nbf`, `exp`, `jti`, `scope` (space
/// separated), `roles`, `permissions`, plus any [`claim`](Self::claim).
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenBuilder {
    issuer: TestIssuer,
    iss: String,
    aud: Option<Value>,
    sub: Option<String>,
    scopes: Vec<String>,
    roles: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
    lifetime: Lifetime,
    claims: Map<String, Value>,
    other_key: Option<Arc<SigningKey>>,
}

impl TokenBuilder {
    /// The caller's id (`sub`; default `test-user`).
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.sub = Some(subject.into());
        self
    }

    /// Leaves `sub` out.
    pub fn without_subject(mut self) -> Self {
        self.sub = None;
        self
    }

    /// Granted scopes (`scope`), added to those already set.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Roles (`roles`), added to those already set.
    pub fn roles<S: Into<String>>(mut self, roles: impl IntoIterator<Item = S>) -> Self {
        self.roles
            .get_or_insert_with(Vec::new)
            .extend(roles.into_iter().map(Into::into));
        self
    }

    /// Permissions (`permissions`), added to those already set.
    pub fn permissions<S: Into<String>>(
        mut self,
        permissions: impl IntoIterator<Item = S>,
    ) -> Self {
        self.permissions
            .get_or_insert_with(Vec::new)
            .extend(permissions.into_iter().map(Into::into));
        self
    }

    /// The caller's email (`email`).
    pub fn email(self, email: impl Into<String>) -> Self {
        self.claim("email", email.into())
    }

    /// A machine client's token, as the client-credentials grant issues
    /// it: `client_id` and `sub` both name the client (RFC 9068 §2.2).
    pub fn machine(self, client_id: impl Into<String>) -> Self {
        let client_id = client_id.into();
        self.subject(client_id.clone()).client_id(client_id)
    }

    /// The OAuth client the token was issued to (`client_id`).
    pub fn client_id(self, client_id: impl Into<String>) -> Self {
        self.claim("client_id", client_id.into())
    }

    /// Any other claim; it replaces a standard one of the same name.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }

    /// Valid for `lifetime` from now (default one hour).
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.lifetime = Lifetime::For(lifetime);
        self
    }

    /// Expired an hour ago, well beyond any clock-skew leeway.
    pub fn expired(mut self) -> Self {
        self.lifetime = Lifetime::Expired;
        self
    }

    /// For `audience` instead of the issuer's default (e.g. another server,
    /// for a negative test).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.aud = Some(Value::String(audience.into()));
        self
    }

    /// Names `issuer` in `iss` instead of the test issuer (negative tests:
    /// the signature is still the trusted key's).
    pub fn issued_by(mut self, issuer: impl Into<String>) -> Self {
        self.iss = issuer.into();
        self
    }

    /// Signs with a fresh key the server does not trust (negative tests).
    pub fn forged(mut self) -> Result<Self, KitError> {
        self.other_key = Some(Arc::new(SigningKey::generate().map_err(KitError)?));
        Ok(self)
    }

    /// The claims as they will be signed.
    pub fn claims(&self) -> Result<Map<String, Value>, KitError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| KitError("the system clock is before 1970".into()))?
            .as_secs();
        let Some(aud) = &self.aud else {
            return Err(KitError(
                "the token has no audience: start the server with \
                 `TestServer::start_with(server, &issuer)`, or call \
                 `issuer.set_audience(server.url())` or `.audience(..)`"
                    .into(),
            ));
        };
        let (iat, exp) = match self.lifetime {
            Lifetime::For(lifetime) => (now, now.saturating_add(lifetime.as_secs())),
            Lifetime::Expired => (now.saturating_sub(7200), now.saturating_sub(3600)),
        };
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.iss));
        claims.insert("aud".into(), aud.clone());
        if let Some(sub) = &self.sub {
            claims.insert("sub".into(), json!(sub));
        }
        claims.insert("iat".into(), json!(iat));
        claims.insert("nbf".into(), json!(iat));
        claims.insert("exp".into(), json!(exp));
        claims.insert("jti".into(), json!(random_id()));
        if !self.scopes.is_empty() {
            claims.insert("scope".into(), json!(self.scopes.join(" ")));
        }
        if let Some(roles) = &self.roles {
            claims.insert("roles".into(), json!(roles));
        }
        if let Some(permissions) = &self.permissions {
            claims.insert("permissions".into(), json!(permissions));
        }
        claims.extend(self.claims.clone());
        Ok(claims)
    }

    /// The signed token (an ES256 JWT of type `at+jwt`).
    pub fn sign(&self) -> Result<String, KitError> {
        let claims = Value::Object(self.claims()?);
        let key = match &self.other_key {
            Some(key) => key,
            None => &self.issuer.inner.key,
        };
        key.sign("at+jwt", &claims).map_err(KitError)
    }
}

fn random_id() -> String {
    use rand::Rng as _;
    format!("{:032x}", rand::rng().random::<u128>())
}
