//! The dev server's grants: codes for approved authorization requests, and
//! the token endpoint's `authorization_code` (+ PKCE), `refresh_token`
//! (rotated) and `client_credentials`.

use super::grants::{CodeGrant, Refresh, RefreshGrant};
use super::{Bound, DEV_USER, DevIssuer};
use crate::random::random_token;
use aws_lc_rs::constant_time::verify_slices_are_equal;
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A refused token request (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenError {
    /// 400, 401 or 503.
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) description: String,
}

fn refuse(error: &'static str, description: impl Into<String>) -> TokenError {
    let status = if error == "invalid_client" { 401 } else { 400 };
    TokenError {
        status,
        error,
        description: description.into(),
    }
}

fn unavailable() -> TokenError {
    TokenError {
        status: 503,
        error: "temporarily_unavailable",
        description: "too many grants outstanding; try again later".into(),
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `requested` ∩ `supported`, in request order; nothing requested: all of `supported`.
fn grant_scope(requested: Option<&str>, supported: &[String]) -> String {
    match requested.map(str::split_whitespace) {
        Some(list) => {
            let mut granted: Vec<&str> = Vec::new();
            for scope in list {
                if supported.iter().any(|s| s == scope) && !granted.contains(&scope) {
                    granted.push(scope);
                }
            }
            granted.join(" ")
        }
        None => supported.join(" "),
    }
}

/// Whether `secret` equals `expected`, in constant time.
fn same_secret(secret: &str, expected: &str) -> bool {
    verify_slices_are_equal(secret.as_bytes(), expected.as_bytes()).is_ok()
}

impl DevIssuer {
    /// A code for an approved authorization request, bound to the client,
    /// its redirect URI and its PKCE challenge.
    pub(crate) fn issue_code(
        &self,
        client_id: &str,
        redirect_uri: &str,
        challenge: &str,
        scope: Option<&str>,
    ) -> Result<String, ()> {
        let bound = self.bound().ok_or(())?;
        let grant = CodeGrant {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            challenge: challenge.to_owned(),
            scope: grant_scope(scope, &bound.scopes),
            expires: Instant::now() + self.settings.code_ttl,
        };
        self.grants.add_code(grant).ok_or(())
    }

    /// A signed access token (`at+jwt`) for this server.
    pub(crate) fn access_token(
        &self,
        bound: &Bound,
        sub: &str,
        client_id: &str,
        scope: &str,
    ) -> Result<String, String> {
        let iat = now_secs();
        let claims = json!({
            "iss": bound.issuer,
            "aud": bound.resource,
            "sub": sub,
            "client_id": client_id,
            "scope": scope,
            "iat": iat,
            "exp": iat.saturating_add(self.settings.access_ttl.as_secs()),
            "jti": random_token::<32>(),
        });
        self.key.sign("at+jwt", &claims)
    }

    /// A token response for `sub`, with a refresh token of `family` if given.
    fn respond(
        &self,
        bound: &Bound,
        sub: &str,
        client_id: &str,
        scope: &str,
        family: Option<String>,
    ) -> Result<Value, TokenError> {
        let token = self
            .access_token(bound, sub, client_id, scope)
            .map_err(|_| refuse("server_error", "the token could not be signed"))?;
        let mut body = json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.settings.access_ttl.as_secs(),
            "scope": scope,
        });
        if let Some(family) = family {
            let refresh = self
                .grants
                .add_refresh(RefreshGrant {
                    family,
                    client_id: client_id.to_owned(),
                    sub: sub.to_owned(),
                    scope: scope.to_owned(),
                    expires: Instant::now() + self.settings.refresh_ttl,
                    rotated: false,
                })
                .ok_or_else(unavailable)?;
            body["refresh_token"] = json!(refresh);
        }
        Ok(body)
    }

    /// `POST /token`, once the form is parsed: `basic` is the decoded
    /// `Authorization: Basic` pair, if any.
    pub(crate) fn token(
        &self,
        params: &HashMap<String, String>,
        basic: Option<(String, String)>,
    ) -> Result<Value, TokenError> {
        let get = |name: &str| params.get(name).map(String::as_str);
        let bound = self
            .bound()
            .ok_or_else(|| refuse("server_error", "the server is not bound yet"))?;
        if get("resource").is_some_and(|r| r.trim_end_matches('/') != bound.resource) {
            return Err(refuse(
                "invalid_target",
                "tokens are issued only for this server",
            ));
        }
        if basic.is_some() && get("client_secret").is_some() {
            return Err(refuse(
                "invalid_request",
                "use one client authentication method",
            ));
        }
        let (client_id, secret) = match (&basic, get("client_id")) {
            (Some((id, _)), Some(param)) if id != param => {
                return Err(refuse("invalid_client", "client ids disagree"));
            }
            (Some((id, secret)), _) => (Some(id.as_str()), Some(secret.as_str())),
            (None, id) => (id, get("client_secret")),
        };
        match get("grant_type") {
            Some("authorization_code") => {
                let (Some(code), Some(verifier)) = (get("code"), get("code_verifier")) else {
                    return Err(refuse(
                        "invalid_request",
                        "code and code_verifier are required",
                    ));
                };
                let Some(client_id) = client_id else {
                    return Err(refuse("invalid_client", "client_id is required"));
                };
                let Some(grant) = self.grants.take_code(code) else {
                    tracing::debug!("dev: refused an unknown, used or expired code");
                    return Err(refuse(
                        "invalid_grant",
                        "the code is invalid, used or expired",
                    ));
                };
                if grant.client_id != client_id {
                    return Err(refuse(
                        "invalid_grant",
                        "the code was issued to another client",
                    ));
                }
                if get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
                    return Err(refuse(
                        "invalid_grant",
                        "redirect_uri differs from the authorization request's",
                    ));
                }
                let computed =
                    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
                let computed =
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(computed.as_ref());
                if !same_secret(&computed, &grant.challenge) {
                    return Err(refuse(
                        "invalid_grant",
                        "the PKCE code_verifier does not match",
                    ));
                }
                crate::operations::audit::sign_in("code_redeemed", Some(client_id), Some(DEV_USER));
                self.respond(
                    &bound,
                    DEV_USER,
                    client_id,
                    &grant.scope,
                    Some(random_token::<32>()),
                )
            }
            Some("refresh_token") => {
                let Some(token) = get("refresh_token") else {
                    return Err(refuse("invalid_request", "refresh_token is required"));
                };
                let grant = match self.grants.rotate(token) {
                    Refresh::Rotated(grant) => grant,
                    Refresh::Invalid => {
                        return Err(refuse(
                            "invalid_grant",
                            "the refresh token is invalid or expired",
                        ));
                    }
                    Refresh::Reused => {
                        tracing::warn!(
                            "dev: a rotated refresh token was reused; revoked its family"
                        );
                        crate::operations::audit::sign_in("family_revoked", client_id, None);
                        return Err(refuse(
                            "invalid_grant",
                            "the refresh token was already used; the sign-in is revoked",
                        ));
                    }
                };
                if client_id.is_some_and(|id| id != grant.client_id) {
                    return Err(refuse(
                        "invalid_grant",
                        "the refresh token is another client's",
                    ));
                }
                let scope = match get("scope") {
                    None => grant.scope.clone(),
                    Some(asked) => {
                        let held: Vec<String> =
                            grant.scope.split_whitespace().map(str::to_owned).collect();
                        if asked
                            .split_whitespace()
                            .any(|s| !held.iter().any(|h| h == s))
                        {
                            return Err(refuse("invalid_scope", "more scope than was granted"));
                        }
                        grant_scope(Some(asked), &held)
                    }
                };
                crate::operations::audit::sign_in(
                    "refresh_rotated",
                    Some(&grant.client_id),
                    Some(&grant.sub),
                );
                self.respond(
                    &bound,
                    &grant.sub,
                    &grant.client_id,
                    &scope,
                    Some(grant.family),
                )
            }
            Some("client_credentials") => {
                let (Some(id), Some(secret)) = (client_id, secret) else {
                    return Err(refuse(
                        "invalid_client",
                        "client authentication is required",
                    ));
                };
                let client = self.settings.clients.iter().find(|c| c.id == id);
                // Compare against something even for an unknown id.
                let expected = client.map_or("", |c| c.secret.expose());
                if !same_secret(secret, expected) || client.is_none() {
                    tracing::debug!("dev: refused client credentials");
                    return Err(refuse("invalid_client", "unknown client or wrong secret"));
                }
                let client = client.ok_or_else(|| refuse("invalid_client", "unknown client"))?;
                let allowed: Vec<String> = if client.scopes.is_empty() {
                    bound.scopes.clone()
                } else {
                    client
                        .scopes
                        .iter()
                        .filter(|s| bound.scopes.contains(s))
                        .cloned()
                        .collect()
                };
                let scope = grant_scope(get("scope"), &allowed);
                self.respond(&bound, &client.id, &client.id, &scope, None)
            }
            None => Err(refuse("invalid_request", "grant_type is required")),
            Some(_) => Err(refuse(
                "unsupported_grant_type",
                "authorization_code, refresh_token and client_credentials are supported",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_granted_are_requested_and_supported() {
        let supported = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(grant_scope(None, &supported), "a b");
        assert_eq!(grant_scope(Some("b c b"), &supported), "b");
        assert_eq!(grant_scope(Some(""), &supported), "");
        assert!(same_secret("s3cret-value", "s3cret-value"));
        assert!(!same_secret("s3cret-valuf", "s3cret-value"));
        assert!(!same_secret("", "s3cret-value"));
    }
}
