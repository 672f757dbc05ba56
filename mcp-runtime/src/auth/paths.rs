//! The authorization-server routes this server mounts, in proxy mode and
//! for the development authorization server alike. A module of their own,
//! below both: the dev server names them in what it prints, and the proxy
//! mounts them.

/// Where clients register (RFC 7591), in proxy mode.
pub const PROXY_REGISTER_PATH: &str = "/register";
/// Where clients start a sign-in, in proxy mode.
pub const PROXY_AUTHORIZE_PATH: &str = "/authorize";
/// Where the consent page posts the user's answer, in proxy mode.
pub const PROXY_CONSENT_PATH: &str = "/authorize/consent";
/// Where the provider sends the user back, in proxy mode: register
/// `{public URL origin}/oauth/callback` as the redirect URI of the server's
/// client at the provider.
pub const PROXY_CALLBACK_PATH: &str = "/oauth/callback";
/// Where clients exchange codes and refresh tokens, in proxy mode.
pub const PROXY_TOKEN_PATH: &str = "/token";
