//! The verified-token cache through a real server: a JWT's signature is
//! checked once and its verdict reused until the token expires; turning the
//! cache off checks every request; verifiers that ask someone else
//! (introspection, custom hooks) are asked every time. Dropping a verdict
//! when its signing key leaves the provider's JWK set is checked against a
//! real provider in tests/resource_server.rs (key rotation).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_runtime::auth::{AuthError, CustomProvider, TokenVerifier, VerifyFuture};
use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, TestServer};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const ISSUER: &str = "https://issuer.test";
const SECRET: &str = "a-shared-secret-of-at-least-32-bytes!";

struct Echo;

#[mcp_server(name = "echo")]
impl Echo {
    /// Says who called.
    #[mcp_tool]
    async fn whoami(auth: Option<&Auth>) -> String {
        auth.map_or_else(|| "anonymous".to_owned(), |a| a.user.user_id.clone())
    }
}

fn token(subject: &str, audience: &str, lifetime: Duration) -> String {
    let exp = jsonwebtoken::get_current_timestamp() + lifetime.as_secs();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": ISSUER, "sub": subject, "aud": audience, "exp": exp}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("a signed token")
}

/// A server whose JWT verifications are counted (the claims hook runs once
/// per signature check).
fn counted_server(
    configure: impl FnOnce(McpServerBuilder) -> McpServerBuilder,
) -> (TestServer, Arc<AtomicUsize>) {
    let checks = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&checks);
    let provider = CustomProvider::new(ISSUER)
        .shared_secret(SECRET)
        .map_user(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
    let server = configure(Echo.into_mcp_builder().oauth(provider))
        .build()
        .expect("the server builds");
    (
        TestServer::start(server).expect("the server starts"),
        checks,
    )
}

async fn whoami(server: &TestServer, token: &str) -> Result<String, ClientError> {
    let client = server.client().stateless().with_token(token);
    client
        .call_tool("whoami", json!({}))
        .await
        .map(|r| r.text())
}

#[actix_web::test]
async fn a_token_is_verified_once_then_remembered() {
    let (server, checks) = counted_server(|b| b.stateless(true));
    let alice = token("alice", server.url(), Duration::from_secs(600));
    for _ in 0..3 {
        assert_eq!(whoami(&server, &alice).await.expect("alice"), "alice");
    }
    assert_eq!(checks.load(Ordering::SeqCst), 1, "one signature check");
    let bob = token("bob", server.url(), Duration::from_secs(600));
    assert_eq!(whoami(&server, &bob).await.expect("bob"), "bob");
    assert_eq!(whoami(&server, &alice).await.expect("alice"), "alice");
    assert_eq!(checks.load(Ordering::SeqCst), 2, "each token once");
    // A refused token is never remembered as good.
    let foreign = token(
        "mallory",
        "https://elsewhere.test/mcp",
        Duration::from_secs(600),
    );
    for _ in 0..2 {
        assert!(matches!(
            whoami(&server, &foreign).await,
            Err(ClientError::Unauthorized { .. })
        ));
    }
}

#[actix_web::test]
async fn with_the_cache_off_every_request_is_checked() {
    let (server, checks) = counted_server(|b| b.stateless(true).verified_token_cache(0));
    let alice = token("alice", server.url(), Duration::from_secs(600));
    for _ in 0..3 {
        assert_eq!(whoami(&server, &alice).await.expect("alice"), "alice");
    }
    assert_eq!(checks.load(Ordering::SeqCst), 3);
}

#[actix_web::test]
async fn a_remembered_verdict_ends_when_the_token_expires() {
    let (server, checks) = counted_server(|b| b.stateless(true));
    let brief = token("alice", server.url(), Duration::from_secs(2));
    assert_eq!(whoami(&server, &brief).await.expect("alice"), "alice");
    // Past `exp` plus the verifier's 30 s leeway is too long to wait for;
    // past `exp` is enough for the cache: it must check the token again.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        whoami(&server, &brief).await.expect("within leeway"),
        "alice"
    );
    assert_eq!(
        checks.load(Ordering::SeqCst),
        2,
        "the expired verdict was not reused"
    );
}

/// Accepts one token and counts how often it is asked.
struct Counting(Arc<AtomicUsize>);

impl TokenVerifier for Counting {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(async move {
            self.0.fetch_add(1, Ordering::SeqCst);
            if token != "opaque-token" {
                return Err(AuthError::InvalidToken("unknown token".into()));
            }
            let exp = jsonwebtoken::get_current_timestamp() + 600;
            let claims = json!({"sub": "carol", "exp": exp});
            Ok(Auth::from_claims(
                token,
                claims.as_object().cloned().unwrap_or_default(),
            ))
        })
    }
}

#[actix_web::test]
async fn custom_verifiers_are_asked_every_time() {
    let asked = Arc::new(AtomicUsize::new(0));
    let provider = CustomProvider::new(ISSUER).verify_with(Counting(Arc::clone(&asked)));
    let server = Echo
        .into_mcp_builder()
        .stateless(true)
        .oauth(provider)
        .build()
        .expect("the server builds");
    let server = TestServer::start(server).expect("the server starts");
    for _ in 0..3 {
        assert_eq!(
            whoami(&server, "opaque-token").await.expect("carol"),
            "carol"
        );
    }
    assert_eq!(asked.load(Ordering::SeqCst), 3);
}
