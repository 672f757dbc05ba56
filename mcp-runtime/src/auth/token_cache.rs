//! Verdicts on bearer tokens, remembered: clients send the same token on
//! every request of a session, and checking its signature again each time
//! is most of what a request costs.
//!
//! A verdict is kept under a SHA-256 digest of the token (the token itself
//! is not a key anyone can enumerate), until the token's `exp`, and only
//! while the key that signed it is still published: a provider that rotates
//! a key out ends the verdicts made with it. Only signature-checked JWTs are
//! remembered; a verifier that asks a server (introspection) is asked every
//! time, so revocation there takes effect at once.

use super::Auth;
use super::verifier::JwtVerifier;
use aws_lc_rs::digest::{SHA256, digest};
use dashmap::DashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Default number of remembered verdicts.
pub const DEFAULT_VERIFIED_TOKEN_CAPACITY: usize = 10_000;

type Digest = [u8; 32];

struct Verdict {
    auth: Arc<Auth>,
    /// `exp`; the verdict is dropped at that second.
    expires_at: u64,
    /// The key set the signature was checked against.
    key_generation: u64,
}

/// The remembered verdicts of one server.
pub(crate) struct VerifiedTokens {
    verdicts: DashMap<Digest, Verdict, BuildHasherDefault<DigestHasher>>,
    capacity: usize,
    verifier: JwtVerifier,
    /// When expired verdicts were last dropped (seconds since the epoch):
    /// once a minute, so memory follows the tokens still live rather than
    /// waiting for the cache to fill.
    last_purge: AtomicU64,
}

impl VerifiedTokens {
    /// Remembers up to `capacity` verdicts of `verifier`.
    pub(crate) fn new(verifier: JwtVerifier, capacity: usize) -> Self {
        Self {
            verdicts: DashMap::with_capacity_and_hasher(
                capacity.min(1024),
                BuildHasherDefault::default(),
            ),
            capacity,
            verifier,
            last_purge: AtomicU64::new(jsonwebtoken::get_current_timestamp()),
        }
    }

    /// The same verdicts, bounded to `capacity`.
    pub(crate) fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The caller `token` stands for, if a verdict on it still holds.
    pub(crate) fn get(&self, token: &str) -> Option<Arc<Auth>> {
        let key = digest_of(token);
        let now = jsonwebtoken::get_current_timestamp();
        let stale = {
            let verdict = self.verdicts.get(&key)?;
            if now < verdict.expires_at
                && self
                    .verifier
                    .still_trusts(verdict.auth.key_id.as_deref(), verdict.key_generation)
            {
                return Some(Arc::clone(&verdict.auth));
            }
            true
        };
        if stale {
            self.verdicts.remove(&key);
        }
        None
    }

    /// Which key set a verdict made now is made with.
    pub(crate) fn key_generation(&self) -> u64 {
        self.verifier.key_generation()
    }

    /// Remembers that `token` stands for `auth`, checked with key set
    /// `key_generation`. Tokens without `exp` are not remembered.
    pub(crate) fn insert(&self, token: &str, auth: &Arc<Auth>, key_generation: u64) {
        let Some(expires_at) = auth.expires_at else {
            return;
        };
        self.purge_expired();
        if self.verdicts.len() >= self.capacity {
            self.make_room();
        }
        if self.verdicts.len() >= self.capacity {
            return;
        }
        self.verdicts.insert(
            digest_of(token),
            Verdict {
                auth: Arc::clone(auth),
                expires_at,
                key_generation,
            },
        );
    }

    /// Drops expired verdicts, at most once a minute (amortized O(1)).
    fn purge_expired(&self) {
        let now = jsonwebtoken::get_current_timestamp();
        let last = self.last_purge.load(Ordering::Relaxed);
        if now.saturating_sub(last) < 60
            || self
                .last_purge
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        self.verdicts.retain(|_, v| v.expires_at > now);
    }

    /// Drops expired verdicts, and if that frees nothing, an arbitrary
    /// eighth: a flood of distinct tokens must not grow memory, and a
    /// dropped verdict only costs one more signature check.
    fn make_room(&self) {
        let now = jsonwebtoken::get_current_timestamp();
        self.verdicts.retain(|_, v| v.expires_at > now);
        if self.verdicts.len() < self.capacity {
            return;
        }
        let victims: Vec<Digest> = self
            .verdicts
            .iter()
            .take(self.capacity / 8 + 1)
            .map(|entry| *entry.key())
            .collect();
        for key in victims {
            self.verdicts.remove(&key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.verdicts.len()
    }
}

fn digest_of(token: &str) -> Digest {
    let mut key = [0u8; 32];
    key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    key
}

/// The keys are already uniform SHA-256 digests: their first eight bytes
/// are as good a hash as any, and cost nothing.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut head = [0u8; 8];
        let n = bytes.len().min(8);
        head[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(head);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::KeySource;
    use serde_json::json;

    fn verifier() -> JwtVerifier {
        JwtVerifier::new("https://issuer", KeySource::shared_secret("s3cret"))
    }

    fn auth(exp: u64) -> Arc<Auth> {
        let claims = json!({"sub": "alice", "exp": exp});
        Arc::new(Auth::from_claims(
            "t",
            claims.as_object().cloned().unwrap_or_default(),
        ))
    }

    #[test]
    fn a_verdict_lasts_until_the_token_expires() {
        let cache = VerifiedTokens::new(verifier(), 10);
        let now = jsonwebtoken::get_current_timestamp();
        cache.insert("live", &auth(now + 60), 0);
        cache.insert("dead", &auth(now - 1), 0);
        assert_eq!(
            cache.get("live").map(|a| a.user.user_id.clone()).as_deref(),
            Some("alice")
        );
        assert!(cache.get("dead").is_none());
        assert!(cache.get("other").is_none());
        assert_eq!(cache.len(), 1, "the expired verdict is dropped on sight");
        let mut no_exp = Auth::from_claims("n", serde_json::Map::new());
        no_exp.expires_at = None;
        cache.insert("n", &Arc::new(no_exp), 0);
        assert!(cache.get("n").is_none());
    }

    #[test]
    fn expired_verdicts_go_within_a_minute_without_waiting_for_a_full_cache() {
        let cache = VerifiedTokens::new(verifier(), 1000);
        let now = jsonwebtoken::get_current_timestamp();
        for i in 0..10 {
            cache.insert(&format!("soon-{i}"), &auth(now + 1), 0);
        }
        cache.insert("later", &auth(now + 600), 0);
        assert_eq!(cache.len(), 11);
        // A minute on (the clock of the last purge set back): the next
        // insert drops what expired, never looked up again or not.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        cache.last_purge.store(now - 61, Ordering::Relaxed);
        cache.insert("new", &auth(now + 600), 0);
        assert_eq!(cache.len(), 2, "the expired went; `later` and `new` stay");
        assert!(cache.get("later").is_some());
    }

    #[test]
    fn a_full_cache_stays_bounded() {
        let cache = VerifiedTokens::new(verifier(), 16);
        let later = jsonwebtoken::get_current_timestamp() + 60;
        for i in 0..100 {
            cache.insert(&format!("token-{i}"), &auth(later), 0);
            assert!(cache.len() <= 16);
        }
        assert!(cache.get("token-99").is_some(), "the newest is remembered");
    }
}
