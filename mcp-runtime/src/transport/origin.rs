//! `Host` and `Origin` checks (DNS-rebinding protection) and CORS headers.

use crate::server::HostPolicy;
use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap, HeaderValue};

/// Host names that always mean this machine.
pub(crate) const LOOPBACK_NAMES: [&str; 4] = ["localhost", "127.0.0.1", "[::1]", "::1"];

/// Splits `host[:port]` (with bracketed IPv6) into lowercase host and port.
fn split_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    let authority = authority.trim();
    if authority.is_empty() {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &authority[..end + 2];
        match &rest[end + 1..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => (authority, None),
            None => (authority, None),
        }
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some((host, port))
}

/// Host names compare without regard to case (RFC 4343).
fn is_loopback_host(host: &str) -> bool {
    LOOPBACK_NAMES
        .iter()
        .any(|name| name.eq_ignore_ascii_case(host))
}

/// The request's `Host` (or HTTP/2 `:authority`).
fn request_authority(req: &HttpRequest) -> Option<&str> {
    match req.headers().get(header::HOST) {
        Some(v) => v.to_str().ok(),
        None => req.uri().authority().map(|a| a.as_str()),
    }
}

use crate::auth::arrived_on_loopback;

/// Why a request may not reach the server's routes at all (the MCP endpoint
/// and the authorization server's alike), or `None`: a `Host` off the
/// allow-list (DNS rebinding), a foreign `Origin`, or a development
/// configuration (`loopback_only`) reached off loopback.
pub(crate) fn refusal(
    req: &HttpRequest,
    config: &crate::server::HttpConfig,
    loopback_only: bool,
) -> Option<&'static str> {
    if !host_allowed(req, &config.hosts) {
        tracing::debug!("refused a request with a disallowed Host");
        return Some("Host not allowed");
    }
    if !origin_allowed(req, &config.allowed_origins, &config.hosts) {
        tracing::debug!("refused a request with a disallowed Origin");
        return Some("Origin not allowed");
    }
    if loopback_only && !arrived_on_loopback(req) {
        tracing::warn!("refused a request to a development configuration off loopback");
        return Some("this development configuration answers only requests to a loopback address");
    }
    None
}

/// Whether the request's `Host` is allowed.
pub(crate) fn host_allowed(req: &HttpRequest, policy: &HostPolicy) -> bool {
    if *policy == HostPolicy::Any {
        return true;
    }
    let Some((host, port)) = request_authority(req).and_then(split_authority) else {
        return false;
    };
    match policy {
        HostPolicy::Any => true,
        HostPolicy::Loopback => is_loopback_host(host),
        HostPolicy::List(entries) => entries.iter().any(|entry| match split_authority(entry) {
            Some((h, None)) => h.eq_ignore_ascii_case(host),
            Some((h, Some(p))) => h.eq_ignore_ascii_case(host) && Some(p) == port,
            None => false,
        }),
    }
}

/// Whether a browser `Origin` may use the endpoint.
///
/// Allowed: no `Origin` (not a browser), a configured origin, the server's own
/// origin, or a loopback page talking to a loopback server (local tools such as
/// the MCP Inspector).
pub(crate) fn origin_allowed(req: &HttpRequest, allowed: &[String], hosts: &HostPolicy) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some(origin_authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let Some((origin_host, _)) = split_authority(origin_authority) else {
        return false;
    };
    let request_host = request_authority(req).and_then(split_authority);
    // Same-origin proves nothing when any Host is accepted: a rebinding
    // attacker controls both headers.
    if *hosts != HostPolicy::Any
        && request_authority(req).is_some_and(|a| a.eq_ignore_ascii_case(origin_authority))
    {
        return true;
    }
    matches!(request_host, Some((h, _)) if is_loopback_host(h) && is_loopback_host(origin_host))
}

const ALLOW_HEADERS: &str = "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID";
const EXPOSE_HEADERS: &str = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate";

/// Adds CORS headers for an allowed browser origin.
pub(crate) fn add_cors_headers(req: &HttpRequest, headers: &mut HeaderMap) {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return;
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}

/// Adds the preflight answer's headers.
pub(crate) fn add_preflight_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(host: &str, origin: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().insert_header((header::HOST, host));
        if let Some(o) = origin {
            r = r.insert_header((header::ORIGIN, o));
        }
        r.to_http_request()
    }

    #[test]
    fn host_policy() {
        assert!(host_allowed(
            &req("localhost:3000", None),
            &HostPolicy::Loopback
        ));
        assert!(host_allowed(
            &req("[::1]:3000", None),
            &HostPolicy::Loopback
        ));
        assert!(host_allowed(&req("127.0.0.1", None), &HostPolicy::Loopback));
        assert!(!host_allowed(
            &req("evil.example:3000", None),
            &HostPolicy::Loopback
        ));
        assert!(!host_allowed(
            &req("localhost:abc", None),
            &HostPolicy::Loopback
        ));
        let list = HostPolicy::List(vec![
            "mcp.example.com".into(),
            "api.example.com:8443".into(),
        ]);
        assert!(host_allowed(&req("MCP.example.com:443", None), &list));
        assert!(host_allowed(&req("api.example.com:8443", None), &list));
        assert!(!host_allowed(&req("api.example.com:9999", None), &list));
    }

    #[test]
    fn origin_policy() {
        let loopback = HostPolicy::Loopback;
        let allowed =
            |host, origin, extra: &[String]| origin_allowed(&req(host, origin), extra, &loopback);
        assert!(allowed("localhost:3000", None, &[]));
        assert!(allowed(
            "localhost:3000",
            Some("http://localhost:6274"),
            &[]
        ));
        assert!(allowed(
            "mcp.example.com",
            Some("https://mcp.example.com"),
            &[]
        ));
        assert!(!allowed("localhost:3000", Some("http://evil.example"), &[]));
        assert!(!allowed("mcp.example.com", Some("http://localhost:1"), &[]));
        assert!(allowed(
            "mcp.example.com",
            Some("https://app.example.com"),
            &["https://app.example.com".into()]
        ));
        assert!(!allowed("localhost:3000", Some("null"), &[]));
        // With any Host accepted, a matching Origin is no evidence of anything.
        let rebound = req("evil.example", Some("http://evil.example"));
        assert!(!origin_allowed(&rebound, &[], &HostPolicy::Any));
    }
}

/// Whatever `Host` and `Origin` a client sends, the checks answer yes or
/// no without a panic, and never let a non-loopback name through the
/// loopback policy.
#[cfg(test)]
mod properties {
    use super::*;
    use actix_web::test::TestRequest;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn request(host: &[u8], origin: Option<&[u8]>) -> Option<HttpRequest> {
        let mut req = TestRequest::default()
            .insert_header((header::HOST, HeaderValue::from_bytes(host).ok()?));
        if let Some(origin) = origin {
            req = req.insert_header((header::ORIGIN, HeaderValue::from_bytes(origin).ok()?));
        }
        Some(req.to_http_request())
    }

    fn authority() -> impl Strategy<Value = String> {
        let host = prop_oneof![
            Just("localhost".to_owned()),
            Just("LOCALHOST".to_owned()),
            Just("127.0.0.1".to_owned()),
            Just("[::1]".to_owned()),
            Just("::1".to_owned()),
            Just("[::1".to_owned()),
            Just("mcp.example.com".to_owned()),
            Just("evil.example".to_owned()),
            "[a-z0-9.:\\[\\]-]{0,20}",
        ];
        let port = prop_oneof![
            Just(String::new()),
            Just(":".to_owned()),
            "(:[0-9a-z]{0,6})"
        ];
        (host, port).prop_map(|(h, p)| format!("{h}{p}"))
    }

    fn policies() -> [HostPolicy; 3] {
        [
            HostPolicy::Any,
            HostPolicy::Loopback,
            HostPolicy::List(vec![
                "mcp.example.com".into(),
                "api.example.com:8443".into(),
                "[::1]:3000".into(),
                "".into(),
                "bad:port:".into(),
            ]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_header_bytes_get_an_answer(
            host in vec(any::<u8>(), 0..64),
            origin in proptest::option::of(vec(any::<u8>(), 0..64)),
        ) {
            if let Some(req) = request(&host, origin.as_deref()) {
                for policy in policies() {
                    let _ = host_allowed(&req, &policy);
                    let _ = origin_allowed(&req, &["https://app.example.com".into()], &policy);
                    let mut headers = HeaderMap::new();
                    add_cors_headers(&req, &mut headers);
                }
            }
        }

        #[test]
        fn loopback_policy_admits_only_loopback_names(
            host in authority(),
            scheme in prop::sample::select(vec!["http://", "https://", "", "null", "ftp://"]),
            origin in authority(),
            slash in any::<bool>(),
        ) {
            let origin = format!("{scheme}{origin}{}", if slash { "/" } else { "" });
            if let Some(req) = request(host.as_bytes(), Some(origin.as_bytes())) {
                let host_name = split_authority(&host).map(|(h, _)| h.to_owned());
                if host_allowed(&req, &HostPolicy::Loopback) {
                    prop_assert!(host_name.as_deref().is_some_and(is_loopback_host), "{}", host);
                }
                if origin_allowed(&req, &[], &HostPolicy::Loopback) {
                    // Either the very origin of the request, or loopback on both sides.
                    let origin_authority = origin
                        .trim_end_matches('/')
                        .split_once("://")
                        .map(|(_, a)| a.to_owned())
                        .unwrap_or_default();
                    let same = origin_authority.eq_ignore_ascii_case(&host);
                    let origin_loopback = split_authority(&origin_authority)
                        .is_some_and(|(h, _)| is_loopback_host(h));
                    prop_assert!(same || (origin_loopback && host_name.as_deref().is_some_and(is_loopback_host)), "{} {}", host, origin);
                }
                // With any Host accepted, only loopback on both sides.
                let both_loopback = origin
                    .trim_end_matches('/')
                    .split_once("://")
                    .and_then(|(_, a)| split_authority(a))
                    .is_some_and(|(h, _)| is_loopback_host(h))
                    && host_name.as_deref().is_some_and(is_loopback_host);
                prop_assert!(!origin_allowed(&req, &[], &HostPolicy::Any) || both_loopback);
            }
        }
    }
}
