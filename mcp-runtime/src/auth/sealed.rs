//! Values sealed for this server (and the replicas sharing its secret)
//! alone: AES-256-GCM under a key derived from a secret, written
//! BASE64URL(nonce || ciphertext and tag) with a fresh random nonce each
//! time, and bound to associated data saying what the value is, so one
//! sealed for one purpose (or one owner) never opens as another.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The key HMAC-SHA-256(`secret`, `label`) derives for `label`'s values.
pub(crate) fn key(secret: &[u8], label: &[u8]) -> LessSafeKey {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), label);
    let key = UnboundKey::new(&AES_256_GCM, tag.as_ref())
        .expect("HMAC-SHA-256 gives the 32 bytes AES-256 takes");
    LessSafeKey::new(key)
}

/// `plain` sealed under `key`, bound to `aad`.
pub(crate) fn seal(key: &LessSafeKey, aad: &[u8], plain: &[u8]) -> Option<String> {
    let nonce = crate::random::random_bytes::<NONCE_LEN>();
    let mut data = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut data,
    )
    .ok()?;
    let mut out = nonce.to_vec();
    out.extend(data);
    Some(URL_SAFE_NO_PAD.encode(out))
}

/// What `sealed` holds, if it was sealed under `key` bound to `aad`.
pub(crate) fn open(key: &LessSafeKey, aad: &[u8], sealed: &str) -> Option<Vec<u8>> {
    let mut bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let mut data = bytes.split_off(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(&bytes).ok()?;
    let plain = key.open_in_place(nonce, Aad::from(aad), &mut data).ok()?;
    Some(plain.to_vec())
}
