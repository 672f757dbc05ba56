//! PKCE, checked here as well as by the provider: a provider that ignores
//! `code_challenge` would otherwise turn any leaked code into tokens.
//!
//! At the callback, the provider's code is wrapped before the client sees
//! it: the client gets a code of this server's own, signed, expiring and
//! single-use (see `signed.rs`), carrying the provider's code, sealed
//! (AES-256-GCM under a key derived from the signing key, so a code that
//! leaks from the client reveals nothing of the provider's), with the
//! client's challenge, redirect URI and client id (all from the signed
//! state). At `POST /token`, that code must be ours and unexpired, the
//! client's `code_verifier` must hash to its challenge (S256, compared in
//! constant time), and the `redirect_uri` and `client_id` must be the ones
//! it was issued for; only then is its serial spent and the provider's code
//! relayed (the verifier too: a provider that checks PKCE keeps checking).
//! Nothing about a code is stored, so the callback and the exchange may
//! reach different replicas and a flood of callbacks fills nothing. The
//! provider's code is never logged.
//!
//! A provider's code is also bound once: the first callback to bring it
//! claims a marker (`proxy:bound:{BASE64URL(SHA-256(code))}`), so a code
//! injected later with another sign-in's state (and its challenge) is
//! refused rather than wrapped again. That marker is a defence in depth
//! against a provider that honours neither PKCE nor single-use codes; the
//! in-memory store forgets the oldest such markers first under a flood
//! (see `state::memory`), never a serial.
//!
//! What this cannot do: behind a provider that ignores PKCE, a code taken
//! on its way from the provider to this server's callback (before it is
//! bound) can be brought here first with another sign-in's state. Such a
//! provider still needs its own fix; here, the legitimate callback is then
//! refused rather than served with a code someone else holds.

use super::OAuthProxy;
use super::respond::is_pkce_char;
use super::signed::{Purpose, Refusal};
use aws_lc_rs::aead::LessSafeKey;
use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a code is good: as long as providers keep codes (RFC 6749
/// §4.1.2 recommends ten minutes at most). Past it the exchange is refused.
pub(super) const CODE_TTL: Duration = Duration::from_secs(600);
/// Longest code accepted at `/token`: a provider's code of at most 4 KiB,
/// with the rest, base64url-encoded and signed.
pub(super) const MAX_WRAPPED_CODE_BYTES: usize = 12 * 1024;
/// What the sealing key is derived for, from the signing key.
const SEALING_LABEL: &[u8] = b"mcp proxy provider-code seal";
/// Bound to every sealed code: a sealed value is a provider's code, nothing else.
const SEALED_AAD: &[u8] = b"provider code";

/// The key sealing providers' codes: HMAC-SHA-256(signing key, label), so
/// every replica holding the shared secret holds it too.
pub(super) fn sealing_key(signing_key: &[u8; 32]) -> LessSafeKey {
    crate::auth::sealed::key(signing_key, SEALING_LABEL)
}

/// What the code handed to the client carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct CodeClaims {
    /// The provider's code, sealed ([`OAuthProxy::seal`]): relayed once the
    /// exchange passes every check, never readable from the client's code.
    #[serde(rename = "sealed")]
    pub(super) code: String,
    /// The client's PKCE S256 challenge.
    pub(super) code_challenge: String,
    /// The client's redirect URI, which the exchange must name again.
    pub(super) redirect_uri: String,
    /// The digest ([`s256`]) of the client id the sign-in was for.
    pub(super) client: String,
}

/// Why a code exchange is refused before it reaches the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mismatch {
    /// Not a code of this server, altered, or expired.
    UnknownCode,
    /// Already exchanged.
    Used,
    /// No `code_verifier`.
    NoVerifier,
    /// The verifier does not hash to the challenge.
    WrongVerifier,
    /// Another (or no) `redirect_uri` than the authorization request's.
    WrongRedirectUri,
    /// Another (or no) `client_id` than the authorization request's.
    WrongClient,
}

impl Mismatch {
    /// The `error_description` of the `invalid_grant` answer.
    pub(super) fn description(self) -> &'static str {
        match self {
            Self::UnknownCode => "the code is unknown or expired",
            Self::Used => "the code was already used",
            Self::NoVerifier => {
                "code_verifier is required: the code was issued for a PKCE challenge"
            }
            Self::WrongVerifier => "the PKCE code_verifier does not match the code_challenge",
            Self::WrongRedirectUri => "redirect_uri differs from the authorization request's",
            Self::WrongClient => "the code was issued to another client_id",
        }
    }
}

/// BASE64URL(SHA-256(`value`)): the S256 challenge of a verifier (RFC 7636
/// §4.2), and how a code or a client id is named without being repeated.
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

fn marker_key(code: &str) -> String {
    format!("proxy:bound:{}", s256(code))
}

/// What a code exchange passed on: the provider's code and the verifier.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Exchange<'v> {
    pub(super) code: String,
    pub(super) verifier: &'v str,
}

impl OAuthProxy {
    /// `code`, sealed: BASE64URL(nonce || ciphertext and tag), a fresh
    /// random nonce each time.
    fn seal(&self, code: &str) -> Result<String, Refusal> {
        crate::auth::sealed::seal(&self.code_key, SEALED_AAD, code.as_bytes())
            .ok_or(Refusal::Invalid)
    }

    /// The provider's code a sealed value holds, if this server sealed it.
    fn unseal(&self, sealed: &str) -> Option<String> {
        crate::auth::sealed::open(&self.code_key, SEALED_AAD, sealed)
            .and_then(|code| String::from_utf8(code).ok())
    }

    /// The code handed to the client for the provider's `claims.code`, or
    /// `Ok(None)` if that code was brought back before (an injection, or a
    /// provider's bug: refused either way).
    pub(super) async fn wrap_code(&self, claims: &CodeClaims) -> Result<Option<String>, Refusal> {
        let first = self
            .state
            .markers
            .claim(&marker_key(&claims.code), CODE_TTL)
            .await
            .map_err(|_| Refusal::Unavailable)?;
        if !first {
            return Ok(None);
        }
        let sealed = CodeClaims {
            code: self.seal(&claims.code)?,
            ..claims.clone()
        };
        self.sign_once(Purpose::Code, CODE_TTL, &sealed)
            .await
            .map(Some)
    }

    /// Checks a code exchange: the provider's code and the verifier to
    /// relay, or why nothing may be relayed. The code is spent only by an
    /// exchange that passes every other check.
    pub(super) async fn check_code<'v>(
        &self,
        code: &str,
        verifier: Option<&'v str>,
        redirect_uri: Option<&str>,
        client_id: Option<&str>,
    ) -> Result<Result<Exchange<'v>, Mismatch>, crate::state::Unavailable> {
        let Ok(token) = self.verify::<CodeClaims>(Purpose::Code, code, MAX_WRAPPED_CODE_BYTES)
        else {
            return Ok(Err(Mismatch::UnknownCode));
        };
        let Some(verifier) = verifier else {
            return Ok(Err(Mismatch::NoVerifier));
        };
        if !verifier_matches(verifier, &token.claims.code_challenge) {
            return Ok(Err(Mismatch::WrongVerifier));
        }
        if redirect_uri != Some(token.claims.redirect_uri.as_str()) {
            return Ok(Err(Mismatch::WrongRedirectUri));
        }
        if client_id.map(s256).as_deref() != Some(token.claims.client.as_str()) {
            return Ok(Err(Mismatch::WrongClient));
        }
        let Some(code) = self.unseal(&token.claims.code) else {
            return Ok(Err(Mismatch::UnknownCode));
        };
        match self.use_up(token).await {
            Ok(_) => Ok(Ok(Exchange { code, verifier })),
            Err(Refusal::Unavailable) => Err(crate::state::Unavailable),
            Err(Refusal::Replayed) => Ok(Err(Mismatch::Used)),
            Err(Refusal::Invalid) => Ok(Err(Mismatch::UnknownCode)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::new_proxy;
    use super::*;
    use aws_lc_rs::aead::NONCE_LEN;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn claims(code: &str, challenge: &str) -> CodeClaims {
        CodeClaims {
            code: code.to_owned(),
            code_challenge: challenge.to_owned(),
            redirect_uri: "https://app.example/cb".to_owned(),
            client: s256("client-1"),
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
    async fn a_code_is_wrapped_once_and_checked_whole_before_it_is_spent() {
        let proxy = new_proxy();
        let redirect = Some("https://app.example/cb");
        let client = Some("client-1");
        assert_eq!(
            proxy
                .check_code("code-1", Some(VERIFIER), redirect, client)
                .await,
            Ok(Err(Mismatch::UnknownCode)),
            "a provider's code, never wrapped here"
        );
        let ours = proxy
            .wrap_code(&claims("code-1", CHALLENGE))
            .await
            .unwrap()
            .expect("wrapped");
        // Brought back with another sign-in's challenge: refused.
        let attackers = s256(&"a".repeat(43));
        assert_eq!(
            proxy.wrap_code(&claims("code-1", &attackers)).await,
            Ok(None)
        );
        let attempts = [
            (
                Some("a".repeat(43)),
                redirect,
                client,
                Mismatch::WrongVerifier,
            ),
            (None, redirect, client, Mismatch::NoVerifier),
            (
                Some(VERIFIER.to_owned()),
                None,
                client,
                Mismatch::WrongRedirectUri,
            ),
            (
                Some(VERIFIER.to_owned()),
                Some("https://app.example/cb/"),
                client,
                Mismatch::WrongRedirectUri,
            ),
            (
                Some(VERIFIER.to_owned()),
                redirect,
                None,
                Mismatch::WrongClient,
            ),
            (
                Some(VERIFIER.to_owned()),
                redirect,
                Some("client-2"),
                Mismatch::WrongClient,
            ),
        ];
        for (verifier, redirect, client, mismatch) in attempts {
            assert_eq!(
                proxy
                    .check_code(&ours, verifier.as_deref(), redirect, client)
                    .await,
                Ok(Err(mismatch)),
                "{mismatch:?}"
            );
        }
        // Failed attempts do not spend it; the right exchange does, once.
        assert_eq!(
            proxy
                .check_code(&ours, Some(VERIFIER), redirect, client)
                .await,
            Ok(Ok(Exchange {
                code: "code-1".to_owned(),
                verifier: VERIFIER
            }))
        );
        assert_eq!(
            proxy
                .check_code(&ours, Some(VERIFIER), redirect, client)
                .await,
            Ok(Err(Mismatch::Used))
        );
        // Another server's code is unknown here.
        let theirs = new_proxy()
            .wrap_code(&claims("code-2", CHALLENGE))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            proxy
                .check_code(&theirs, Some(VERIFIER), redirect, client)
                .await,
            Ok(Err(Mismatch::UnknownCode))
        );
        // The provider's code is nowhere in the marker's key, nor readable
        // in the code the client holds: sealed, with a fresh nonce each time.
        assert!(!marker_key("code-1").contains("code-1"));
        let payload = ours.split('.').nth(1).unwrap();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(!payload.contains("code-1"), "{payload}");
        let claims: CodeClaims = serde_json::from_str(&payload).unwrap();
        assert_eq!(proxy.unseal(&claims.code).as_deref(), Some("code-1"));
        assert_ne!(proxy.seal("code-1").unwrap(), claims.code);
        assert_eq!(new_proxy().unseal(&claims.code), None, "another key");
        let mut tampered = URL_SAFE_NO_PAD.decode(&claims.code).unwrap();
        tampered[NONCE_LEN] ^= 1;
        assert_eq!(proxy.unseal(&URL_SAFE_NO_PAD.encode(tampered)), None);
        for junk in ["", "AAAA", "not base64!"] {
            assert_eq!(proxy.unseal(junk), None, "{junk:?}");
        }
    }
}
