//! Random secrets and identifiers, drawn from the thread's CSPRNG.

use base64::Engine as _;
use rand::RngCore as _;

/// `N` random bytes.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// `N` random bytes as base64url without padding: an opaque value safe in
/// URLs, headers and cookies.
pub(crate) fn random_token<const N: usize>() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_base64url_of_their_length_and_differ() {
        let token = random_token::<32>();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(random_token::<18>().len(), 24);
        assert_ne!(random_token::<32>(), token);
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }
}
