//! `/healthz` and `/readyz` for load balancers and orchestrators: cheap,
//! unauthenticated, and saying nothing an attacker could use.

use super::access::AuthMode;
use crate::server::session::SessionStore;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use std::sync::Arc;
use std::time::Duration;

/// Longest a readiness check waits for each thing it asks (a probe has its
/// own timeout, commonly a second).
const CHECK_WITHIN: Duration = Duration::from_millis(900);

/// Registers `/healthz` (the process answers) and `/readyz` (it can serve:
/// the shared state answers, and the identity provider's keys were fetched
/// at least once).
pub(super) fn configure(cfg: &mut web::ServiceConfig, sessions: Arc<SessionStore>, auth: AuthMode) {
    cfg.route(
        "/healthz",
        web::get().to(|| async {
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(serde_json::json!({ "status": "ok" }))
        }),
    );
    cfg.route(
        "/readyz",
        web::get().to(move || {
            let (sessions, auth) = (Arc::clone(&sessions), auth.clone());
            async move { readiness(&sessions, &auth).await }
        }),
    );
}

async fn readiness(sessions: &SessionStore, auth: &AuthMode) -> HttpResponse {
    let mut unready: Vec<&str> = Vec::new();
    let state = tokio::time::timeout(CHECK_WITHIN, sessions.state_ready()).await;
    if !matches!(state, Ok(Ok(()))) {
        unready.push("the shared state does not answer");
    }
    match auth {
        AuthMode::Open => {}
        AuthMode::Protected(server) => {
            match tokio::time::timeout(CHECK_WITHIN, server.verifier.ready()).await {
                Ok(Ok(())) => {}
                Ok(Err(why)) => {
                    // The details stay in the log: the probe is public.
                    tracing::debug!("not ready: {why}");
                    unready.push("the identity provider's keys have not been fetched");
                }
                Err(_) => unready.push("the identity provider's keys have not been fetched"),
            }
        }
        AuthMode::Broken => unready.push("the OAuth configuration is invalid"),
    }
    if unready.is_empty() {
        return HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "status": "ready" }));
    }
    HttpResponse::ServiceUnavailable()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::RETRY_AFTER,
            crate::state::RETRY_AFTER_SECS.to_string(),
        ))
        .json(serde_json::json!({ "status": "unready", "reasons": unready }))
}
