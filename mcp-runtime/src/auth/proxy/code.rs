//! PKCE, checked here as well as by the provider: a provider that ignores
//! `code_challenge` would otherwise turn any leaked code into tokens.
//!
//! At the callback, the provider's code is bound to the client's challenge
//! and redirect URI (both carried in the signed state): a record of the
//! shared state, `proxy:code:{BASE64URL(SHA-256(code))}`, kept as long as a
//! provider's code lives. A code is bound once: the first callback to bring
//! it claims a marker (`proxy:bound:{same digest}`), so a code injected
//! later with another sign-in's state (and its challenge) is refused rather
//! than rebound. At `POST /token`, the code's record must exist, the
//! client's `code_verifier` must hash to its challenge (S256, compared in
//! constant time) and the `redirect_uri` must be the one it was issued for;
//! only then is the exchange relayed (the verifier too: a provider that
//! checks PKCE keeps checking). Everything is in the shared state,
//! never in this process, so the callback and the exchange may reach
//! different replicas. Neither the code nor the verifier is ever logged or
//! stored: the key holds the code's digest.
//!
//! What this cannot do: behind a provider that ignores PKCE, a code taken
//! on its way from the provider to this server's callback (before it is
//! bound) can be brought here first with another sign-in's state. Such a
//! provider still needs its own fix; here, the legitimate callback is then
//! refused rather than served with a code someone else holds.

use super::OAuthProxy;
use super::respond::is_pkce_char;
use crate::state::Unavailable;
use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a code stays bound: as long as providers keep codes (RFC 6749
/// §4.1.2 recommends ten minutes at most). Past it the exchange is refused.
pub(super) const CODE_TTL: Duration = Duration::from_secs(600);

/// What a provider's code was issued for, as kept in the shared records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct CodeBinding {
    /// The client's PKCE S256 challenge.
    pub(super) code_challenge: String,
    /// The client's redirect URI, which the exchange must name again.
    pub(super) redirect_uri: String,
}

/// Why a code exchange is refused before it reaches the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mismatch {
    /// The code was never bound here, or its binding expired.
    UnknownCode,
    /// No `code_verifier`.
    NoVerifier,
    /// The verifier does not hash to the challenge.
    WrongVerifier,
    /// Another (or no) `redirect_uri` than the authorization request's.
    WrongRedirectUri,
}

impl Mismatch {
    /// The `error_description` of the `invalid_grant` answer.
    pub(super) fn description(self) -> &'static str {
        match self {
            Self::UnknownCode => "the code is unknown or expired",
            Self::NoVerifier => {
                "code_verifier is required: the code was issued for a PKCE challenge"
            }
            Self::WrongVerifier => "the PKCE code_verifier does not match the code_challenge",
            Self::WrongRedirectUri => "redirect_uri differs from the authorization request's",
        }
    }
}

/// BASE64URL(SHA-256(`value`)): the S256 challenge of a verifier (RFC 7636
/// §4.2), and the key a code is bound under.
pub(super) fn s256(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, value.as_bytes()).as_ref())
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
pub(super) fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len()) && verifier.bytes().all(is_pkce_char)
}

/// Whether `verifier` hashes to `challenge`, compared in constant time.
pub(super) fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    verify_slices_are_equal(s256(verifier).as_bytes(), challenge.as_bytes()).is_ok()
}

fn record_key(code: &str) -> String {
    format!("proxy:code:{}", s256(code))
}

fn marker_key(code: &str) -> String {
    format!("proxy:bound:{}", s256(code))
}

impl OAuthProxy {
    /// Binds a provider's `code` to what the client's authorization request
    /// named; `Ok(false)` if the code was already bound (a code brought back
    /// twice is an injection, or a provider's bug: refused either way).
    pub(super) async fn bind_code(
        &self,
        code: &str,
        binding: &CodeBinding,
    ) -> Result<bool, Unavailable> {
        let value = serde_json::to_vec(binding).map_err(|_| Unavailable)?;
        if !self
            .state
            .markers
            .claim(&marker_key(code), CODE_TTL)
            .await?
        {
            return Ok(false);
        }
        self.state
            .records
            .put(&record_key(code), &value, CODE_TTL)
            .await?;
        Ok(true)
    }

    /// Checks a code exchange against the code's binding: the verifier to
    /// relay, or why nothing may be relayed.
    pub(super) async fn check_code<'v>(
        &self,
        code: &str,
        verifier: Option<&'v str>,
        redirect_uri: Option<&str>,
    ) -> Result<Result<&'v str, Mismatch>, Unavailable> {
        let Some(stored) = self.state.records.get(&record_key(code)).await? else {
            return Ok(Err(Mismatch::UnknownCode));
        };
        // A record that does not parse is nothing to relay on.
        let binding = serde_json::from_slice::<CodeBinding>(&stored).map_err(|_| Unavailable)?;
        let Some(verifier) = verifier else {
            return Ok(Err(Mismatch::NoVerifier));
        };
        if !verifier_matches(verifier, &binding.code_challenge) {
            return Ok(Err(Mismatch::WrongVerifier));
        }
        if redirect_uri != Some(binding.redirect_uri.as_str()) {
            return Ok(Err(Mismatch::WrongRedirectUri));
        }
        Ok(Ok(verifier))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::new_proxy;
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn binding(challenge: &str) -> CodeBinding {
        CodeBinding {
            code_challenge: challenge.to_owned(),
            redirect_uri: "https://app.example/cb".to_owned(),
        }
    }

    #[test]
    fn the_challenge_is_base64url_sha256_of_the_verifier() {
        assert_eq!(s256(VERIFIER), CHALLENGE);
        assert!(verifier_matches(VERIFIER, CHALLENGE));
    }

    #[test]
    fn a_verifier_matches_its_challenge_only_whole() {
        // One character off anywhere, a prefix, a longer string, another
        // case: all refused (and compared without an early exit).
        let mut first = CHALLENGE.to_owned().into_bytes();
        first[0] = b'F';
        let mut last = CHALLENGE.to_owned().into_bytes();
        last[42] = b'N';
        for challenge in [
            String::from_utf8(first).unwrap(),
            String::from_utf8(last).unwrap(),
            CHALLENGE[..42].to_owned(),
            format!("{CHALLENGE}A"),
            CHALLENGE.to_ascii_lowercase(),
            String::new(),
        ] {
            assert!(!verifier_matches(VERIFIER, &challenge), "{challenge}");
        }
        let mut other = VERIFIER.to_owned().into_bytes();
        other[20] = b'x';
        assert!(!verifier_matches(
            &String::from_utf8(other).unwrap(),
            CHALLENGE
        ));
        // The plain method is no S256: the challenge itself is no verifier.
        assert!(!verifier_matches(CHALLENGE, CHALLENGE));
    }

    #[test]
    fn verifiers_are_43_to_128_unreserved_characters() {
        assert!(valid_verifier(VERIFIER));
        assert!(valid_verifier(&"a".repeat(43)));
        assert!(valid_verifier(&"Z9-._~".repeat(22)[..128]));
        assert!(!valid_verifier(&"a".repeat(42)));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(""));
        for bad in ['+', '/', '=', ' ', '%', '\n', 'é'] {
            let verifier = format!("{}{bad}", &VERIFIER[..42]);
            assert!(!valid_verifier(&verifier), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_code_is_bound_once_and_checked_whole() {
        let proxy = new_proxy();
        let redirect = Some("https://app.example/cb");
        assert_eq!(
            proxy.check_code("code-1", Some(VERIFIER), redirect).await,
            Ok(Err(Mismatch::UnknownCode)),
            "never bound"
        );
        assert_eq!(
            proxy.bind_code("code-1", &binding(CHALLENGE)).await,
            Ok(true)
        );
        // Brought back with another sign-in's challenge: refused, and the
        // first binding stands.
        let attackers = s256(&"a".repeat(43));
        assert_eq!(
            proxy.bind_code("code-1", &binding(&attackers)).await,
            Ok(false)
        );
        assert_eq!(
            proxy
                .check_code("code-1", Some(&"a".repeat(43)), redirect)
                .await,
            Ok(Err(Mismatch::WrongVerifier))
        );
        assert_eq!(
            proxy.check_code("code-1", None, redirect).await,
            Ok(Err(Mismatch::NoVerifier))
        );
        for other in [
            None,
            Some("https://app.example/cb/"),
            Some("https://evil.example/cb"),
        ] {
            assert_eq!(
                proxy.check_code("code-1", Some(VERIFIER), other).await,
                Ok(Err(Mismatch::WrongRedirectUri)),
                "{other:?}"
            );
        }
        assert_eq!(
            proxy.check_code("code-1", Some(VERIFIER), redirect).await,
            Ok(Ok(VERIFIER))
        );
        // Failed attempts do not spend the binding; another code is another.
        assert_eq!(
            proxy.check_code("code-2", Some(VERIFIER), redirect).await,
            Ok(Err(Mismatch::UnknownCode))
        );
        // The code itself is nowhere in the key.
        assert!(!record_key("code-1").contains("code-1"));
        assert!(!marker_key("code-1").contains("code-1"));
    }
}
