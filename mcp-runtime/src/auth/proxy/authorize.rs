//! `GET /authorize` and the provider's callback: the client's redirect URI
//! and state travel through the provider inside a signed, expiring,
//! single-use `state`. A request from a dynamically registered client is
//! shown to the user for consent first (see `consent.rs`).

use super::code::{CodeClaims, s256};
use super::register::{Client, Unknown};
use super::respond::{
    bad_request, is_base64url, is_vschar, query_params, redirect, state_unavailable,
    untrusted_error, valid_error_text, valid_scope,
};
use super::signed::{Purpose, Refusal};
use super::{AuthorizeRequest, OAuthProxy};
use crate::auth::DevIssuer;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use url::Url;

/// How long a sign-in may take between `/authorize` and the callback.
const STATE_TTL: Duration = Duration::from_secs(600);
/// Longest client `state` carried through.
const MAX_STATE_BYTES: usize = 2048;
/// Longest signed state accepted back.
const MAX_SIGNED_STATE_BYTES: usize = 4 * MAX_STATE_BYTES + 1024;
/// Longest code relayed.
const MAX_CODE_BYTES: usize = 4096;

/// Parameters the proxy sets itself on a forwarded authorization request;
/// configured extra parameters never override them.
const FORWARDED_PARAMS: [&str; 9] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "scope",
    "resource",
    "prompt",
];

/// What the signed `state` carries through the provider.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StateClaims {
    /// The client's redirect URI, checked when the state was issued.
    pub(super) redirect_uri: String,
    /// The client's own `state`, returned to it unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) client_state: Option<String>,
    /// The client's PKCE S256 challenge, which the provider's code is bound
    /// to at the callback (see `code.rs`): the provider gets it too, but
    /// may ignore it. A state without one is refused.
    pub(super) code_challenge: String,
    /// The digest of the client's id, which the code is bound to as well.
    pub(super) client: String,
    /// For a redirect URI that needs consent: the keyed digest of the
    /// browser cookie the sign-in started in. The callback must come back
    /// with that cookie, so a state obtained (and approved) in one browser
    /// cannot be completed in another's (MCP security best practices,
    /// "Confused Deputy Problem").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) browser: Option<String>,
}

impl OAuthProxy {
    pub(super) async fn authorize(&self, req: &HttpRequest) -> HttpResponse {
        let (request, client, approved) = match self.check_authorize(req).await {
            Ok(checked) => checked,
            Err(refused) => return *refused,
        };
        if !approved {
            // `prompt=none` asks for no user interaction (OpenID Connect).
            // The answer is shown here, not sent to a redirect URI the user
            // has not approved: that would make this server an open
            // redirector for anyone who registered one (RFC 9700 §4.11.2).
            if request
                .prompt
                .as_deref()
                .is_some_and(|p| p.split(' ').any(|p| p == "none"))
            {
                return bad_request(
                    "consent_required",
                    "this client needs the user's consent: sign in without prompt=none",
                );
            }
            return self.ask_consent(req, &request, &client).await;
        }
        self.forward(req, &request).await
    }

    /// Checks an authorization request, and finds its client and whether
    /// this browser approved it already: unknown clients and redirect URIs
    /// are answered here; other errors go back to the client once its
    /// redirect URI is verified and approved.
    async fn check_authorize(
        &self,
        req: &HttpRequest,
    ) -> Result<(AuthorizeRequest, Client, bool), Box<HttpResponse>> {
        let untrusted = |description: &str| Err(Box::new(untrusted_error(description)));
        let Some(params) = query_params(req.query_string()) else {
            return untrusted("parameters must not be repeated");
        };
        let get = |name: &str| params.get(name).map(String::as_str);
        let client_id = get("client_id");
        let Some(redirect_uri) = get("redirect_uri") else {
            return untrusted("redirect_uri is required");
        };
        let client = match self.client_for(client_id, redirect_uri).await {
            Ok(client) => client,
            Err(Unknown::Refused(why)) => {
                tracing::debug!("proxy: refused an authorization request: {why}");
                return untrusted(&why);
            }
            Err(Unknown::Busy) => return Err(Box::new(state_unavailable())),
        };
        // From here on errors go back to the client's verified redirect URI,
        // once the user approved it in this browser; before that they are
        // shown here, so a registered URI is no open redirect (RFC 9700
        // §4.11.2).
        let client_state = get("state").filter(|s| s.len() <= MAX_STATE_BYTES);
        let approved = !self.needs_consent(req, client_id.unwrap_or_default(), redirect_uri);
        let refuse = |error: &str, description: &str| {
            Err(Box::new(if approved {
                self.redirect_error(redirect_uri, error, Some(description), client_state)
            } else {
                bad_request(error, description)
            }))
        };
        if get("state").is_some_and(|s| s.len() > MAX_STATE_BYTES) {
            return refuse("invalid_request", "state is too long");
        }
        match get("response_type") {
            Some("code") => {}
            None => return refuse("invalid_request", "response_type is required"),
            Some(_) => return refuse("unsupported_response_type", "only code is supported"),
        }
        let Some(code_challenge) = get("code_challenge") else {
            return refuse("invalid_request", "PKCE is required: send code_challenge");
        };
        if get("code_challenge_method") != Some("S256") {
            return refuse("invalid_request", "PKCE code_challenge_method must be S256");
        }
        if code_challenge.len() != 43 || !code_challenge.bytes().all(is_base64url) {
            return refuse(
                "invalid_request",
                "code_challenge must be a base64url SHA-256",
            );
        }
        let scope = get("scope");
        if scope.is_some_and(|s| !valid_scope(s)) {
            return refuse("invalid_scope", "scope is malformed");
        }
        let resource = get("resource");
        if resource.is_some_and(|r| !self.is_our_resource(r)) {
            return refuse("invalid_target", "tokens are issued only for this server");
        }
        let prompt = get("prompt").filter(|p| p.len() <= 64 && valid_scope(p));
        let request = AuthorizeRequest {
            client_id: client_id.unwrap_or_default().to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            client_state: client_state.map(str::to_owned),
            code_challenge: code_challenge.to_owned(),
            scope: scope.map(str::to_owned),
            resource: resource.map(str::to_owned),
            prompt: prompt.map(str::to_owned),
        };
        Ok((request, client, approved))
    }

    /// A 302 to the provider for a checked (and, if needed, approved)
    /// request, with this server's callback and a signed state.
    pub(super) async fn forward(
        &self,
        req: &HttpRequest,
        request: &AuthorizeRequest,
    ) -> HttpResponse {
        if let Some(dev) = &self.dev {
            return self.grant_dev_code(dev, request);
        }
        let binding = self.bind_browser(req, &request.redirect_uri);
        let browser = match &binding {
            Some(Ok((_, digest))) => Some(digest.as_str()),
            None => None,
            Some(Err(())) => return self.forward_failed(request),
        };
        let state = match self.sign_state(request, browser).await {
            Ok(state) => state,
            Err(Refusal::Unavailable) => {
                tracing::warn!("proxy: the shared state is unavailable; refused an authorization");
                return self.redirect_error(
                    &request.redirect_uri,
                    "temporarily_unavailable",
                    Some("the sign-in could not be started; try again in a moment"),
                    request.client_state.as_deref(),
                );
            }
            Err(_) => return self.forward_failed(request),
        };
        let mut upstream = match self.provider_authorization_endpoint(request).await {
            Ok(endpoint) => endpoint,
            Err(refusal) => return refusal,
        };
        {
            let mut query = upstream.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", &self.callback_url)
                .append_pair("state", &state)
                .append_pair("code_challenge", &request.code_challenge)
                .append_pair("code_challenge_method", "S256");
            for (name, value) in [
                ("scope", &request.scope),
                ("resource", &request.resource),
                ("prompt", &request.prompt),
            ] {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
            for (name, value) in &self.authorize_params {
                if !FORWARDED_PARAMS.contains(&name.as_str()) {
                    query.append_pair(name, value);
                }
            }
        }
        let mut response = redirect(upstream.as_str());
        if let Some(Ok((cookie, _))) = binding
            && response.add_cookie(&cookie).is_err()
        {
            return self.forward_failed(request);
        }
        response
    }

    fn forward_failed(&self, request: &AuthorizeRequest) -> HttpResponse {
        self.redirect_error(
            &request.redirect_uri,
            "server_error",
            Some("the sign-in could not be started"),
            request.client_state.as_deref(),
        )
    }

    /// Dev mode: a 302 to the client's redirect URI with a fresh code.
    fn grant_dev_code(&self, dev: &DevIssuer, request: &AuthorizeRequest) -> HttpResponse {
        let state = request.client_state.as_deref();
        let code = dev.issue_code(
            &request.client_id,
            &request.redirect_uri,
            &request.code_challenge,
            request.scope.as_deref(),
        );
        let Ok(code) = code else {
            return self.redirect_error(
                &request.redirect_uri,
                "temporarily_unavailable",
                Some("no code could be issued; try again later"),
                state,
            );
        };
        let Ok(mut target) = Url::parse(&request.redirect_uri) else {
            return untrusted_error("redirect_uri is not a URL");
        };
        {
            let mut query = target.query_pairs_mut();
            query.append_pair("code", &code);
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &self.issuer);
        }
        tracing::debug!("dev: issued an authorization code");
        redirect(target.as_str())
    }

    /// Whether `resource` names this server's MCP endpoint.
    pub(super) fn is_our_resource(&self, resource: &str) -> bool {
        resource == self.resource || resource.strip_suffix('/') == Some(self.resource.as_str())
    }

    /// A 302 to the client's verified redirect URI with an OAuth error.
    /// The provider's authorization endpoint, or, when it is not known
    /// (its discovery document cannot be had), the error sent back to
    /// `request`'s client.
    pub(super) async fn provider_authorization_endpoint(
        &self,
        request: &AuthorizeRequest,
    ) -> Result<Url, HttpResponse> {
        self.upstream.authorization_endpoint().await.map_err(|why| {
            tracing::warn!("proxy: {why}");
            self.redirect_error(
                &request.redirect_uri,
                "temporarily_unavailable",
                Some("the identity provider cannot be reached; try again in a moment"),
                request.client_state.as_deref(),
            )
        })
    }

    pub(super) fn redirect_error(
        &self,
        redirect_uri: &str,
        error: &str,
        description: Option<&str>,
        client_state: Option<&str>,
    ) -> HttpResponse {
        let Ok(mut target) = Url::parse(redirect_uri) else {
            return untrusted_error("redirect_uri is not a URL");
        };
        {
            let mut query = target.query_pairs_mut();
            query.append_pair("error", error);
            if let Some(description) = description {
                query.append_pair("error_description", description);
            }
            if let Some(state) = client_state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &self.issuer);
        }
        redirect(target.as_str())
    }

    /// A signed, expiring, single-use state carrying the client's redirect
    /// URI, state, PKCE challenge and id through the provider.
    pub(super) async fn sign_state(
        &self,
        request: &AuthorizeRequest,
        browser: Option<&str>,
    ) -> Result<String, Refusal> {
        let claims = StateClaims {
            redirect_uri: request.redirect_uri.clone(),
            client_state: request.client_state.clone(),
            code_challenge: request.code_challenge.clone(),
            client: s256(&request.client_id),
            browser: browser.map(str::to_owned),
        };
        self.sign_once(Purpose::State, STATE_TTL, &claims).await
    }

    /// Checks a returned state's signature and expiry, and uses it up.
    #[cfg(test)]
    pub(super) async fn redeem_state(&self, state: &str) -> Result<StateClaims, Refusal> {
        self.redeem(Purpose::State, state, MAX_SIGNED_STATE_BYTES)
            .await
    }

    pub(super) async fn callback(&self, req: &HttpRequest) -> HttpResponse {
        let Some(params) = query_params(req.query_string()) else {
            return untrusted_error("parameters must not be repeated");
        };
        let get = |name: &str| params.get(name).map(String::as_str);
        let Some(state) = get("state") else {
            return untrusted_error("the authorization response has no state");
        };
        // Checked before the state is used up: a callback from another
        // browser must not spend the user's own state.
        let verified =
            match self.verify::<StateClaims>(Purpose::State, state, MAX_SIGNED_STATE_BYTES) {
                Ok(verified) if self.same_browser(req, verified.claims.browser.as_deref()) => {
                    Ok(verified)
                }
                Ok(_) => {
                    tracing::warn!(
                        "proxy: refused a callback from another browser than the sign-in's"
                    );
                    return untrusted_error(
                        "this sign-in was started in another browser; sign in again from this one",
                    );
                }
                Err(refusal) => Err(refusal),
            };
        let used = match verified {
            Ok(verified) => self.use_up(verified).await,
            Err(refusal) => Err(refusal),
        };
        let claims = match used {
            Ok(claims) => claims,
            Err(Refusal::Invalid) => {
                tracing::debug!("proxy: refused a callback with an invalid or expired state");
                return untrusted_error("the state is invalid or expired; sign in again");
            }
            Err(Refusal::Replayed) => {
                tracing::warn!("proxy: refused a replayed authorization response");
                return untrusted_error("this authorization response was already used");
            }
            Err(Refusal::Unavailable) => {
                tracing::warn!("proxy: the shared state is unavailable; refused a callback");
                return state_unavailable();
            }
        };
        let client_state = claims.client_state.as_deref();
        let refuse = |error: &str, description: Option<&str>| {
            self.redirect_error(&claims.redirect_uri, error, description, client_state)
        };
        // RFC 9207: a response naming another issuer is not the provider's.
        if get("iss").is_some_and(|iss| {
            iss.trim_end_matches('/') != self.upstream_issuer.trim_end_matches('/')
        }) {
            tracing::warn!("proxy: the authorization response names another issuer");
            return refuse(
                "server_error",
                Some("the response came from another issuer"),
            );
        }
        if let Some(error) = get("error") {
            let error = if error.len() <= 64 && valid_error_text(error) {
                error
            } else {
                "server_error"
            };
            let description =
                get("error_description").filter(|d| d.len() <= 512 && valid_error_text(d));
            return refuse(error, description);
        }
        let Some(code) = get("code") else {
            return refuse(
                "server_error",
                Some("the provider sent neither code nor error"),
            );
        };
        if code.is_empty() || code.len() > MAX_CODE_BYTES || !code.bytes().all(is_vschar) {
            return refuse("server_error", Some("the provider sent a malformed code"));
        }
        // The code is bound to the client's challenge, redirect URI and id
        // before the client sees it: `POST /token` relays nothing else.
        let wrapped = CodeClaims {
            code: code.to_owned(),
            code_challenge: claims.code_challenge.clone(),
            redirect_uri: claims.redirect_uri.clone(),
            client: claims.client.clone(),
        };
        let code = match self.wrap_code(&wrapped).await {
            Ok(Some(code)) => code,
            Ok(None) => {
                tracing::warn!("proxy: refused a code that came back a second time");
                return refuse(
                    "access_denied",
                    Some("this authorization code was already used"),
                );
            }
            // The state is spent: the client is told to start again, where
            // a 503 would leave it waiting for a retry that cannot succeed.
            Err(Refusal::Unavailable) => {
                tracing::warn!("proxy: the shared state is unavailable; refused a callback");
                return refuse(
                    "temporarily_unavailable",
                    Some("the sign-in could not be completed; try again in a moment"),
                );
            }
            Err(_) => {
                return refuse("server_error", Some("the sign-in could not be completed"));
            }
        };
        let Ok(mut target) = Url::parse(&claims.redirect_uri) else {
            return untrusted_error("redirect_uri is not a URL");
        };
        {
            let mut query = target.query_pairs_mut();
            query.append_pair("code", &code);
            if let Some(state) = client_state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &self.issuer);
        }
        redirect(target.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{CHALLENGE, checked_request, new_proxy};
    use super::*;

    #[tokio::test]
    async fn states_are_signed_and_single_use() {
        let proxy = new_proxy();
        let state = proxy
            .sign_state(
                &checked_request("https://app.example/cb", Some("xyz")),
                None,
            )
            .await
            .expect("signed");
        let claims = proxy.redeem_state(&state).await.expect("valid");
        assert_eq!(claims.redirect_uri, "https://app.example/cb");
        assert_eq!(claims.client_state.as_deref(), Some("xyz"));
        assert_eq!(claims.code_challenge, CHALLENGE);
        assert_eq!(claims.client, s256("client-1"));
        assert_eq!(
            proxy.redeem_state(&state).await.unwrap_err(),
            Refusal::Replayed
        );
        // Another process's key is refused.
        let other = new_proxy()
            .sign_state(&checked_request("https://app.example/cb", None), None)
            .await
            .unwrap();
        assert_eq!(
            proxy.redeem_state(&other).await.unwrap_err(),
            Refusal::Invalid
        );
    }
}
