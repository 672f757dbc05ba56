//! Refusals, answered as RFC 6750 says: one typed enum builds every
//! `WWW-Authenticate` header and body, so the shapes match on the MCP
//! endpoint and on users' own routes. Nothing here ever echoes a token.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde_json::json;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials: 401 with a bare challenge (RFC 6750 section 3.1).
    MissingToken,
    /// Credentials sent the wrong way (`invalid_request`): 401. An empty
    /// token (`Authorization: Bearer ` with nothing after it), another scheme
    /// than `Bearer`, more than one word, two `Authorization` headers, an
    /// oversized header, or a token in the URL.
    InvalidRequest(String),
    /// The token is malformed, expired, or not for this server
    /// (`invalid_token`): 401. A token the verifier refuses; an empty one is
    /// [`InvalidRequest`](Self::InvalidRequest), never read by a verifier.
    InvalidToken(String),
    /// The caller lacks what the call needs: 403. `scopes` are the scopes to
    /// ask for (step-up); empty when scopes would not help (roles, permissions).
    InsufficientScope {
        /// Scopes to request.
        scopes: Vec<String>,
        /// What is missing, in words.
        message: String,
    },
    /// The token could not be checked now: 503, retry shortly.
    Unavailable(String),
}

/// What every challenge of one server carries.
#[derive(Debug, Clone, Default)]
pub struct ChallengeContext {
    /// URL of the protected resource metadata (RFC 9728).
    pub resource_metadata: Option<String>,
    /// Scopes to suggest when a token is missing or invalid.
    pub scope: Option<String>,
}

impl Refusal {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidRequest(_) | Self::InvalidToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::Unavailable(_) => Some("temporarily_unavailable"),
        }
    }

    fn description(&self) -> &str {
        match self {
            Self::MissingToken => {
                "authentication required: send an OAuth access token as `Authorization: Bearer <token>`"
            }
            Self::InvalidRequest(d) | Self::InvalidToken(d) | Self::Unavailable(d) => d,
            Self::InsufficientScope { message, .. } => message,
        }
    }

    /// The `WWW-Authenticate` value, or `None` for refusals that carry none.
    pub fn challenge(&self, context: &ChallengeContext) -> Option<String> {
        // Built by hand: actix-web has no challenge type, and actix-web-httpauth's
        // `Bearer` (not a dependency) has no `resource_metadata` (RFC 9728 §5.1).
        if matches!(self, Self::Unavailable(_)) {
            return None;
        }
        let mut params: Vec<String> = Vec::new();
        if let Some(code) = self.code() {
            params.push(format!("error=\"{code}\""));
            params.push(format!(
                "error_description=\"{}\"",
                quoted(self.description())
            ));
        }
        let scope = match self {
            Self::InsufficientScope { scopes, .. } if !scopes.is_empty() => Some(scopes.join(" ")),
            Self::InsufficientScope { .. } => None,
            _ => context.scope.clone(),
        };
        if let Some(scope) = scope {
            params.push(format!("scope=\"{}\"", quoted(&scope)));
        }
        if let Some(url) = &context.resource_metadata {
            params.push(format!("resource_metadata=\"{}\"", quoted(url)));
        }
        Some(if params.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", params.join(", "))
        })
    }

    /// The whole response: status, challenge, and a JSON body in words a
    /// client developer can act on.
    pub fn response(&self, context: &ChallengeContext) -> HttpResponse {
        let body = json!({
            "error": self.code().unwrap_or("unauthorized"),
            "error_description": self.description(),
        });
        let mut response = HttpResponse::build(self.status()).json(body);
        if let Some(value) = self
            .challenge(context)
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if matches!(self, Self::Unavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// Makes `text` safe inside a quoted-string.
fn quoted(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ChallengeContext {
        ChallengeContext {
            resource_metadata: Some(
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp".into(),
            ),
            scope: Some("tasks:read".into()),
        }
    }

    #[test]
    fn challenges_follow_rfc_6750() {
        assert_eq!(
            Refusal::MissingToken.challenge(&context()).unwrap(),
            "Bearer scope=\"tasks:read\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""
        );
        let invalid = Refusal::InvalidToken("the token has \"expired\"".into())
            .challenge(&context())
            .unwrap();
        assert!(
            invalid.starts_with(
                "Bearer error=\"invalid_token\", error_description=\"the token has expired\""
            ),
            "{invalid}"
        );
        let step_up = Refusal::InsufficientScope {
            scopes: vec!["tasks:write".into(), "admin".into()],
            message: "missing scope: tasks:write admin".into(),
        };
        assert_eq!(step_up.status(), StatusCode::FORBIDDEN);
        assert!(
            step_up
                .challenge(&context())
                .unwrap()
                .contains("scope=\"tasks:write admin\"")
        );
        assert_eq!(
            Refusal::Unavailable("later".into()).challenge(&context()),
            None
        );
    }
}
