//! Signed, expiring tokens the proxy hands out and takes back: the `state`
//! it sends through the provider, the token of the consent form, the code
//! it gives the client, the client id it registers, and the cookie that
//! remembers consent. All are HS256 JWTs under one key, derived from the
//! shared secret when one is configured (so every replica signs and checks
//! alike), else drawn at start-up; each names its purpose, and one kind is
//! never accepted as another.
//!
//! A single-use token carries a serial number drawn from the shared state
//! ([`Serials`](crate::state::Serials)); spending it sets one bit there, so
//! it is good once on whichever replica it arrives, and a flood of tokens
//! spent (a loop of denied consents, say) costs a bit each: it can neither
//! fill a store nor slow the next user's sign-in.

use super::OAuthProxy;
use super::respond::now;
use crate::state::{Serial, Unavailable};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a spent serial is kept past its token's expiry: replicas'
/// clocks may disagree by this much on when the token expired.
const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// What a signed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Purpose {
    /// The `state` sent through the provider.
    State,
    /// The consent form's token.
    Consent,
    /// The cookie listing the redirect URIs a browser approved.
    Remember,
    /// The code handed to the client: the provider's, bound to the client.
    Code,
    /// A registered client's id, carrying its redirect URIs.
    Client,
}

/// The claims every signed token carries around its own.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope<T> {
    #[serde(rename = "use")]
    purpose: Purpose,
    exp: u64,
    /// What makes a single-use token single-use.
    #[serde(default, rename = "sn", skip_serializing_if = "Option::is_none")]
    serial: Option<Serial>,
    #[serde(flatten)]
    claims: T,
}

/// A token whose signature, purpose and expiry were checked.
#[derive(Debug)]
pub(super) struct Verified<T> {
    pub(super) claims: T,
    exp: u64,
    serial: Option<Serial>,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Not ours, altered, for another purpose, too long, or expired (or,
    /// at signing, the token could not be made).
    Invalid,
    /// Already used.
    Replayed,
    /// The shared state could not be reached to draw or spend the token's
    /// serial: refused, for now, rather than risk a second use.
    Unavailable,
}

impl OAuthProxy {
    /// Signs `claims` for `purpose`, valid for `ttl`, to be used any number
    /// of times until then.
    pub(super) fn sign<T: Serialize>(
        &self,
        purpose: Purpose,
        ttl: Duration,
        claims: &T,
    ) -> Result<String, ()> {
        self.sign_with(purpose, ttl, None, claims)
    }

    /// Signs `claims` for `purpose`, valid for `ttl` and good once (see
    /// [`use_up`](Self::use_up)).
    pub(super) async fn sign_once<T: Serialize>(
        &self,
        purpose: Purpose,
        ttl: Duration,
        claims: &T,
    ) -> Result<String, Refusal> {
        let serial = self
            .state
            .serials
            .issue()
            .await
            .map_err(|Unavailable| Refusal::Unavailable)?;
        self.sign_with(purpose, ttl, Some(serial), claims)
            .map_err(|()| Refusal::Invalid)
    }

    fn sign_with<T: Serialize>(
        &self,
        purpose: Purpose,
        ttl: Duration,
        serial: Option<Serial>,
        claims: &T,
    ) -> Result<String, ()> {
        let envelope = Envelope {
            purpose,
            exp: now().saturating_add(ttl.as_secs()),
            serial,
            claims,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &envelope,
            &self.encoding_key,
        )
        .map_err(|_| ())
    }

    /// Checks a token's length, signature, purpose and expiry.
    pub(super) fn verify<T: DeserializeOwned>(
        &self,
        purpose: Purpose,
        token: &str,
        max_len: usize,
    ) -> Result<Verified<T>, Refusal> {
        if token.len() > max_len {
            return Err(Refusal::Invalid);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        let envelope = jsonwebtoken::decode::<Envelope<T>>(token, &self.decoding_key, &validation)
            .map_err(|_| Refusal::Invalid)?
            .claims;
        if envelope.purpose != purpose || envelope.exp <= now() {
            return Err(Refusal::Invalid);
        }
        Ok(Verified {
            claims: envelope.claims,
            exp: envelope.exp,
            serial: envelope.serial,
        })
    }

    /// Uses a verified single-use token up, on every replica: `Replayed`
    /// the second time. A token signed without a serial is not single-use,
    /// and never passes for one.
    pub(super) async fn use_up<T>(&self, token: Verified<T>) -> Result<T, Refusal> {
        let Some(serial) = token.serial else {
            return Err(Refusal::Invalid);
        };
        let ttl = Duration::from_secs(token.exp.saturating_sub(now())) + CLOCK_SKEW;
        match self.state.serials.spend(serial, ttl).await {
            Ok(true) => Ok(token.claims),
            Ok(false) => Err(Refusal::Replayed),
            Err(Unavailable) => Err(Refusal::Unavailable),
        }
    }

    /// Checks a single-use token and uses it up.
    #[cfg(test)]
    pub(super) async fn redeem<T: DeserializeOwned>(
        &self,
        purpose: Purpose,
        token: &str,
        max_len: usize,
    ) -> Result<T, Refusal> {
        self.use_up(self.verify(purpose, token, max_len)?).await
    }

    /// A keyed digest of `value` (HMAC-SHA-256 under the signing key, with
    /// `label` to keep uses apart), base64url. A JWT's signing input never
    /// holds a newline, so a digest is never a token signature.
    pub(super) fn digest(&self, label: &str, value: &str) -> Result<String, ()> {
        let message = format!("{label}\n{value}");
        jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding_key, Algorithm::HS256)
            .map_err(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::new_proxy;
    use super::*;
    use base64::Engine as _;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        value: String,
    }

    fn claims() -> Claims {
        Claims { value: "v".into() }
    }

    #[tokio::test]
    async fn tokens_are_signed_expiring_single_use_and_kept_to_their_purpose() {
        let proxy = new_proxy();
        let ttl = Duration::from_secs(60);
        let token = proxy
            .sign_once(Purpose::Consent, ttl, &claims())
            .await
            .unwrap();
        assert_eq!(
            proxy
                .verify::<Claims>(Purpose::State, &token, 4096)
                .unwrap_err(),
            Refusal::Invalid,
            "a consent token is no state"
        );
        assert_eq!(
            proxy
                .verify::<Claims>(Purpose::Consent, &token, 10)
                .unwrap_err(),
            Refusal::Invalid,
            "too long"
        );
        assert_eq!(
            proxy.redeem::<Claims>(Purpose::Consent, &token, 4096).await,
            Ok(claims())
        );
        assert_eq!(
            proxy.redeem::<Claims>(Purpose::Consent, &token, 4096).await,
            Err(Refusal::Replayed)
        );
        // Verifying alone does not use a token up.
        let token = proxy.sign(Purpose::Remember, ttl, &claims()).unwrap();
        for _ in 0..2 {
            assert!(
                proxy
                    .verify::<Claims>(Purpose::Remember, &token, 4096)
                    .is_ok()
            );
        }
        // A token signed to be reused never passes for a single-use one.
        let reusable = proxy.sign(Purpose::State, ttl, &claims()).unwrap();
        assert_eq!(
            proxy
                .redeem::<Claims>(Purpose::State, &reusable, 4096)
                .await,
            Err(Refusal::Invalid)
        );
        // Another process's key is refused.
        let other = new_proxy()
            .sign_once(Purpose::State, ttl, &claims())
            .await
            .unwrap();
        assert_eq!(
            proxy.redeem::<Claims>(Purpose::State, &other, 4096).await,
            Err(Refusal::Invalid)
        );
        // Expired (exp is now: no leeway).
        let expired = proxy
            .sign_once(Purpose::State, Duration::ZERO, &claims())
            .await
            .unwrap();
        assert_eq!(
            proxy.redeem::<Claims>(Purpose::State, &expired, 4096).await,
            Err(Refusal::Invalid)
        );
        // An unsigned ("alg": "none") token is refused.
        let token = proxy
            .sign_once(Purpose::State, ttl, &claims())
            .await
            .unwrap();
        let unsigned = format!(
            "{}.{}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            token.split('.').nth(1).unwrap()
        );
        assert_eq!(
            proxy
                .redeem::<Claims>(Purpose::State, &unsigned, 4096)
                .await,
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn digests_are_keyed_and_labelled() {
        let proxy = new_proxy();
        let a = proxy.digest("remember", "https://app.example/cb").unwrap();
        assert_eq!(a.len(), 43);
        assert_eq!(
            a,
            proxy.digest("remember", "https://app.example/cb").unwrap()
        );
        assert_ne!(a, proxy.digest("csrf", "https://app.example/cb").unwrap());
        assert_ne!(
            a,
            new_proxy()
                .digest("remember", "https://app.example/cb")
                .unwrap()
        );
    }
}
