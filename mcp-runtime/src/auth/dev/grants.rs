//! What the dev server remembers between requests: authorization codes and
//! refresh tokens, in bounded in-memory stores keyed by the SHA-256 of the
//! value (the values themselves are never kept).

use crate::random::random_token;
use base64::Engine as _;
use dashmap::DashMap;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Outstanding codes kept at most: past it, the oldest give way (a code
/// is redeemed within seconds of being issued, so under a flood the newest,
/// the next user's, are the ones that must stay).
const MAX_CODES: usize = 10_000;
/// Refresh tokens (live and rotated) kept at most.
const MAX_REFRESH: usize = 100_000;

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    /// The PKCE S256 challenge.
    pub(crate) challenge: String,
    pub(crate) scope: String,
    pub(crate) expires: Instant,
}

/// An issued refresh token.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    /// Every token rotated from the same sign-in shares it.
    pub(crate) family: String,
    pub(crate) client_id: String,
    pub(crate) sub: String,
    pub(crate) scope: String,
    pub(crate) expires: Instant,
    /// Already exchanged: presenting it again revokes the family.
    pub(crate) rotated: bool,
}

/// The stores, in this process only: dev mode is one process by design
/// (loopback, no replicas), so its codes and refresh tokens stay out of the
/// shared state.
#[derive(Debug, Default)]
pub(crate) struct Grants {
    codes: DashMap<String, CodeGrant>,
    /// The codes' keys in the order they were issued, to drop expired and
    /// surplus ones from the front without a scan.
    code_order: Mutex<VecDeque<String>>,
    refresh: DashMap<String, RefreshGrant>,
    /// When expired refresh tokens were last dropped: once a minute, so
    /// memory follows the live ones rather than waiting for a full store.
    refresh_purged: Mutex<Option<Instant>>,
}

/// The store key of a value.
fn key(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// What happened to a presented refresh token.
#[derive(Debug)]
pub(crate) enum Refresh {
    /// Valid: now rotated; the grant it carried.
    Rotated(RefreshGrant),
    /// Unknown or expired.
    Invalid,
    /// Already rotated: its whole family is now revoked.
    Reused,
}

impl Grants {
    /// Stores a code, in O(1): the oldest codes go first, expired or past
    /// [`MAX_CODES`]. `None` only if the store cannot be used at all.
    pub(crate) fn add_code(&self, grant: CodeGrant) -> Option<String> {
        let mut order = self.code_order.lock().ok()?;
        let now = Instant::now();
        while let Some(oldest) = order.front() {
            let live = self.codes.get(oldest).is_some_and(|c| c.expires > now);
            if live && order.len() < MAX_CODES {
                break;
            }
            self.codes.remove(oldest);
            order.pop_front();
        }
        let code = random_token::<32>();
        let stored = key(&code);
        self.codes.insert(stored.clone(), grant);
        order.push_back(stored);
        Some(code)
    }

    /// Takes a code out (single use), if it exists and has not expired.
    pub(crate) fn take_code(&self, code: &str) -> Option<CodeGrant> {
        let (_, grant) = self.codes.remove(&key(code))?;
        (grant.expires > Instant::now()).then_some(grant)
    }

    /// Stores a refresh token; `None` when the store is full.
    pub(crate) fn add_refresh(&self, grant: RefreshGrant) -> Option<String> {
        self.purge_expired_refresh();
        if self.refresh.len() >= MAX_REFRESH {
            let now = Instant::now();
            self.refresh.retain(|_, r| r.expires > now);
            if self.refresh.len() >= MAX_REFRESH {
                return None;
            }
        }
        let token = random_token::<32>();
        self.refresh.insert(key(&token), grant);
        Some(token)
    }

    /// Drops expired refresh tokens, at most once a minute (amortized O(1)).
    fn purge_expired_refresh(&self) {
        let now = Instant::now();
        {
            let Ok(mut last) = self.refresh_purged.lock() else {
                return;
            };
            if last.is_some_and(|at| now.duration_since(at) < Duration::from_secs(60)) {
                return;
            }
            *last = Some(now);
        }
        self.refresh.retain(|_, r| r.expires > now);
    }

    /// Rotates a presented refresh token: a second use of the same token
    /// revokes every token of its family.
    pub(crate) fn rotate(&self, token: &str) -> Refresh {
        let family = {
            let Some(mut entry) = self.refresh.get_mut(&key(token)) else {
                return Refresh::Invalid;
            };
            if entry.expires <= Instant::now() {
                return Refresh::Invalid;
            }
            if !entry.rotated {
                entry.rotated = true;
                return Refresh::Rotated(entry.clone());
            }
            entry.family.clone()
        };
        self.refresh.retain(|_, r| r.family != family);
        Refresh::Reused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refresh_grant(family: &str) -> RefreshGrant {
        RefreshGrant {
            family: family.into(),
            client_id: "c".into(),
            sub: "u".into(),
            scope: String::new(),
            expires: Instant::now() + Duration::from_secs(60),
            rotated: false,
        }
    }

    fn code_grant() -> CodeGrant {
        CodeGrant {
            client_id: "c".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            challenge: "x".into(),
            scope: String::new(),
            expires: Instant::now() + Duration::from_secs(60),
        }
    }

    #[test]
    fn codes_are_single_use_and_expire() {
        let grants = Grants::default();
        let grant = code_grant();
        let code = grants.add_code(grant.clone()).unwrap();
        assert!(grants.take_code(&code).is_some());
        assert!(grants.take_code(&code).is_none());
        let expired = grants
            .add_code(CodeGrant {
                expires: Instant::now(),
                ..grant
            })
            .unwrap();
        assert!(grants.take_code(&expired).is_none());
    }

    #[test]
    fn expired_refresh_tokens_go_within_a_minute() {
        let grants = Grants::default();
        let gone = grants
            .add_refresh(RefreshGrant {
                expires: Instant::now(),
                ..refresh_grant("old")
            })
            .unwrap();
        *grants.refresh_purged.lock().unwrap() =
            Instant::now().checked_sub(Duration::from_secs(61));
        let kept = grants.add_refresh(refresh_grant("new")).unwrap();
        assert_eq!(grants.refresh.len(), 1);
        assert!(matches!(grants.rotate(&gone), Refresh::Invalid));
        assert!(matches!(grants.rotate(&kept), Refresh::Rotated(_)));
    }

    #[test]
    fn a_flood_of_codes_leaves_the_newest_redeemable() {
        let grants = Grants::default();
        let grant = code_grant();
        let first = grants.add_code(grant.clone()).unwrap();
        for _ in 0..MAX_CODES + 500 {
            assert!(grants.add_code(grant.clone()).is_some(), "never refused");
        }
        let mine = grants.add_code(grant).unwrap();
        assert!(grants.codes.len() <= MAX_CODES);
        assert!(grants.take_code(&mine).is_some(), "the newest stays");
        assert!(grants.take_code(&first).is_none(), "the oldest gave way");
    }

    #[test]
    fn reusing_a_rotated_refresh_token_revokes_its_family() {
        let grants = Grants::default();
        let first = grants.add_refresh(refresh_grant("f")).unwrap();
        let other = grants.add_refresh(refresh_grant("g")).unwrap();
        assert!(matches!(grants.rotate(&first), Refresh::Rotated(_)));
        let second = grants.add_refresh(refresh_grant("f")).unwrap();
        assert!(matches!(grants.rotate(&first), Refresh::Reused));
        assert!(matches!(grants.rotate(&second), Refresh::Invalid));
        assert!(matches!(grants.rotate(&other), Refresh::Rotated(_)));
        assert!(matches!(grants.rotate("nonsense"), Refresh::Invalid));
    }
}
