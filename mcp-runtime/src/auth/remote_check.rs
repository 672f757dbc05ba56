//! Access tokens that are not JWTs (Google's, GitHub's), checked by asking
//! the provider that issued them. Each answer becomes the claims the
//! caller is made of, as a JWT's would; a verdict is remembered for at most
//! [`VERDICT_TTL`] (never past the token's expiry), so a busy client costs
//! the provider one call per token per minute, not one per request. A
//! token the provider refuses is remembered as refused for
//! [`REFUSAL_TTL`], and never lets anything through.
//!
//! What one caller can make the provider do is bounded: tokens longer than
//! [`MAX_TOKEN_BYTES`] are refused unasked, at most [`MAX_CHECKS`] checks
//! run at once (more wait their turn, within the timeout), and answers
//! longer than [`MAX_ANSWER_BYTES`] are not read. A flood of made-up tokens
//! is still one call each: the per-address rate limits are what bound it.

use super::{Auth, AuthError, TokenVerifier, VerifyFuture};
use dashmap::DashMap;
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a verdict is remembered at most.
pub const VERDICT_TTL: Duration = Duration::from_secs(60);

/// How long a refusal is remembered.
pub const REFUSAL_TTL: Duration = Duration::from_secs(10);

/// Longest token sent to a provider: theirs are a few hundred bytes.
pub const MAX_TOKEN_BYTES: usize = 4 * 1024;

/// Checks running at once, per provider.
pub const MAX_CHECKS: usize = 32;

/// Longest answer read from a provider.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Verdicts remembered at most; past it, expired ones go (at most once a
/// second), and new ones are not kept until there is room.
const CAPACITY: usize = 10_000;

/// Time allowed for one check.
const TIMEOUT: Duration = Duration::from_secs(5);

/// What a check returns: the token's claims, or why it is refused.
pub(crate) type CheckFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Map<String, Value>, AuthError>> + Send + 'a>>;

/// How one provider is asked about a token.
pub(crate) trait RemoteCheck: Send + Sync + 'static {
    /// The claims `token` stands for (`sub`, `scope`, `client_id`, `exp`,
    /// profile fields), from the provider's answer; `InvalidToken` when the
    /// provider does not know it or it is not this server's client's,
    /// `Unavailable` when the provider cannot be asked.
    fn check<'a>(&'a self, http: &'a reqwest::Client, token: &'a str) -> CheckFuture<'a>;
}

/// A [`TokenVerifier`] asking the provider through `C`.
pub(crate) struct RemoteVerifier<C> {
    check: C,
    http: reqwest::Client,
    /// SHA-256 of a token -> its caller (or `None`: refused), and until when.
    verdicts: DashMap<[u8; 32], (Option<Arc<Auth>>, Instant)>,
    checks: tokio::sync::Semaphore,
    /// When expired verdicts were last dropped.
    last_purge: std::sync::Mutex<Instant>,
}

impl<C: RemoteCheck> RemoteVerifier<C> {
    pub(crate) fn new(check: C) -> Self {
        let http = super::credential_client(TIMEOUT);
        Self {
            check,
            http,
            verdicts: DashMap::new(),
            checks: tokio::sync::Semaphore::new(MAX_CHECKS),
            last_purge: std::sync::Mutex::new(Instant::now()),
        }
    }

    async fn verify_token(&self, token: &str) -> Result<Auth, AuthError> {
        let refused =
            || AuthError::InvalidToken("the identity provider does not know this token".into());
        if token.len() > MAX_TOKEN_BYTES {
            return Err(refused());
        }
        let key = digest(token);
        if let Some(verdict) = self.verdicts.get(&key)
            && verdict.1 > Instant::now()
        {
            return verdict.0.as_deref().cloned().ok_or_else(refused);
        }
        let checked = {
            let _turn = self.checks.acquire().await.map_err(|_| {
                AuthError::Unavailable("the identity provider cannot be asked now".into())
            })?;
            self.check.check(&self.http, token).await
        };
        let claims = match checked {
            Ok(claims) => claims,
            Err(error @ AuthError::InvalidToken(_)) => {
                self.remember(key, None, Instant::now() + REFUSAL_TTL);
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        let auth = Auth::from_claims(token, claims);
        let left = auth.expires_at.map_or(VERDICT_TTL, |exp| {
            Duration::from_secs(exp.saturating_sub(jsonwebtoken::get_current_timestamp()))
        });
        if left.is_zero() {
            return Err(AuthError::InvalidToken("the token has expired".into()));
        }
        self.remember(
            key,
            Some(Arc::new(auth.clone())),
            Instant::now() + left.min(VERDICT_TTL),
        );
        Ok(auth)
    }

    fn remember(&self, key: [u8; 32], verdict: Option<Arc<Auth>>, until: Instant) {
        if self.verdicts.len() >= CAPACITY {
            let now = Instant::now();
            let mut last = self.last_purge.lock().unwrap_or_else(|e| e.into_inner());
            if now.duration_since(*last) >= Duration::from_secs(1) {
                *last = now;
                drop(last);
                self.verdicts.retain(|_, (_, until)| *until > now);
            }
        }
        if self.verdicts.len() < CAPACITY {
            self.verdicts.insert(key, (verdict, until));
        }
    }
}

impl<C: RemoteCheck> TokenVerifier for RemoteVerifier<C> {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(self.verify_token(token))
    }
}

fn digest(token: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut key = [0; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

/// The refusal or unavailability an answer's status means: `refused` for
/// the statuses by which the provider says it does not know the token.
pub(crate) fn status_error(status: reqwest::StatusCode, refused: &[u16]) -> AuthError {
    if refused.contains(&status.as_u16()) {
        AuthError::InvalidToken("the identity provider does not know this token".into())
    } else {
        tracing::warn!(%status, "the identity provider could not check a token");
        AuthError::Unavailable(
            "the identity provider could not check the token; try again shortly".into(),
        )
    }
}

/// The answer's body, parsed, if it is JSON within [`MAX_ANSWER_BYTES`].
pub(crate) async fn answer<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, AuthError> {
    let unreadable = || {
        tracing::warn!("the identity provider's answer about a token could not be read");
        AuthError::Unavailable(
            "the identity provider could not check the token; try again shortly".into(),
        )
    };
    let body = super::read_bounded(response, MAX_ANSWER_BYTES)
        .await
        .map_err(|_| unreadable())?;
    serde_json::from_slice(&body).map_err(|_| unreadable())
}

/// The provider could not be reached.
pub(crate) fn unreachable(error: &reqwest::Error) -> AuthError {
    tracing::warn!(
        "the identity provider could not be asked about a token: {}",
        super::jwks::without_url(error)
    );
    AuthError::Unavailable(
        "the identity provider could not check the token; try again shortly".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Knows one token, for `ttl` seconds, and counts the questions.
    struct Fake {
        asked: Arc<AtomicUsize>,
        ttl: u64,
    }

    impl RemoteCheck for Fake {
        fn check<'a>(&'a self, _: &'a reqwest::Client, token: &'a str) -> CheckFuture<'a> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let answer = match token {
                "good" => Ok(serde_json::json!({
                    "sub": "u1",
                    "exp": jsonwebtoken::get_current_timestamp() + self.ttl,
                })
                .as_object()
                .cloned()
                .unwrap_or_default()),
                _ => Err(AuthError::InvalidToken("unknown".into())),
            };
            Box::pin(std::future::ready(answer))
        }
    }

    #[tokio::test]
    async fn verdicts_and_refusals_are_remembered_and_long_tokens_never_sent() {
        let asked = Arc::new(AtomicUsize::new(0));
        let verifier = RemoteVerifier::new(Fake {
            asked: Arc::clone(&asked),
            ttl: 3600,
        });
        for _ in 0..3 {
            assert_eq!(
                verifier.verify_token("good").await.unwrap().user.user_id,
                "u1"
            );
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        for _ in 0..2 {
            assert!(verifier.verify_token("bad").await.is_err());
        }
        assert_eq!(
            asked.load(Ordering::SeqCst),
            2,
            "a refusal is remembered too"
        );
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        assert!(verifier.verify_token(&long).await.is_err());
        assert_eq!(asked.load(Ordering::SeqCst), 2, "never sent");
        let expired = RemoteVerifier::new(Fake {
            asked: Arc::clone(&asked),
            ttl: 0,
        });
        assert!(expired.verify_token("good").await.is_err());
    }
}
