//! Discovery routes of a protected server: the protected resource metadata
//! (RFC 9728), the authorization server metadata (RFC 8414) when this origin
//! serves it, and the proxy or development authorization server's routes.

use super::refusal::{method_not_allowed, refuse};
use crate::auth::{AUTHORIZATION_SERVER_METADATA_PATHS, RESOURCE_METADATA_PATH, ResourceServer};
use crate::protocol::jsonrpc;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use std::sync::Arc;

/// Registers the discovery routes of `server`, whose MCP endpoint is at `mcp_path`.
pub(super) fn configure(
    cfg: &mut web::ServiceConfig,
    server: &Arc<ResourceServer>,
    mcp_path: &str,
    config: &Arc<crate::server::HttpConfig>,
) {
    // RFC 9728: the path-suffixed document, and the bare one for
    // clients that look there first.
    let mut paths = vec![
        server.url.metadata_path.clone(),
        format!("{RESOURCE_METADATA_PATH}{mcp_path}"),
        RESOURCE_METADATA_PATH.to_owned(),
    ];
    paths.dedup();
    for metadata_path in paths {
        let document = server.metadata.clone();
        cfg.service(web::resource(metadata_path).to(move |req: HttpRequest| {
            let document = document.clone();
            async move { public_document(&req, document) }
        }));
    }
    if let Some(metadata) = &server.authorization_server {
        for metadata_path in AUTHORIZATION_SERVER_METADATA_PATHS {
            let metadata = Arc::clone(metadata);
            cfg.service(web::resource(metadata_path).to(move |req: HttpRequest| {
                let metadata = Arc::clone(&metadata);
                async move {
                    match metadata.document().await {
                        Ok(document) => public_document(&req, document),
                        Err(why) => {
                            tracing::warn!("authorization server metadata: {why}");
                            refuse(StatusCode::BAD_GATEWAY, jsonrpc::INTERNAL_ERROR, why)
                        }
                    }
                }
            }));
        }
    }
    if let Some(proxy) = &server.proxy {
        crate::auth::configure_proxy(cfg, proxy, admission(server, config));
    }
}

/// The checks the MCP endpoint makes before anything else, for the
/// authorization server's routes too: `Host` (DNS rebinding), `Origin`,
/// and a development configuration's loopback-only rule.
fn admission(
    server: &Arc<ResourceServer>,
    config: &Arc<crate::server::HttpConfig>,
) -> crate::auth::Admission {
    let config = Arc::clone(config);
    let loopback_only = server.loopback_only;
    // OAuth's error shape (RFC 6749 §5.2), as the routes' own refusals.
    let refused = |why: &str| {
        Some(HttpResponse::Forbidden().json(serde_json::json!({
            "error": "invalid_request",
            "error_description": why,
        })))
    };
    Arc::new(move |req: &HttpRequest| {
        super::origin::refusal(req, &config, loopback_only).and_then(refused)
    })
}

/// A discovery document: public, cacheable, readable from any origin.
fn public_document(req: &HttpRequest, document: Bytes) -> HttpResponse {
    let mut response = match *req.method() {
        Method::GET | Method::HEAD => HttpResponse::Ok()
            .content_type("application/json")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(document),
        Method::OPTIONS => HttpResponse::NoContent().finish(),
        _ => method_not_allowed("GET, HEAD, OPTIONS"),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("mcp-protocol-version"),
    );
    response
}
