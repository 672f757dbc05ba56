//! The OAuth flows a client runs against this server's authorization
//! endpoints (the dev server's and the proxy's): registration, the
//! authorization request and its redirects through the consent page, and
//! the token endpoint. Every hop is made by hand, redirects never followed
//! by the HTTP client, so each can be checked.

use mcp_runtime::auth::PROXY_CONSENT_PATH;
use reqwest::Url;
use serde_json::Value;
use std::collections::HashMap;

/// The cookie the consent page sets and its form must come back with.
pub const CSRF_COOKIE: &str = "mcp_consent_csrf";

/// A client that never follows redirects: each hop is checked by hand.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// `POST {base}/register` (RFC 7591) with `body`: the status and the JSON
/// answer (`Null` if it is not JSON).
pub async fn register(base: &str, body: Value) -> (u16, Value) {
    let response = http()
        .post(format!("{base}/register"))
        .json(&body)
        .send()
        .await
        .expect("register answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `{base}/authorize` with `params` as its query.
pub fn authorize_url(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = Url::parse(&format!("{base}/authorize")).expect("URL");
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

/// `GET {base}/authorize`: the status and the query of its redirect (empty
/// without one).
pub async fn authorize(base: &str, params: &[(&str, &str)]) -> (u16, HashMap<String, String>) {
    let hop = get(&authorize_url(base, params)).await;
    let query = hop.location.as_ref().map(query_of).unwrap_or_default();
    (hop.status, query)
}

/// `POST {base}/token` with `form`: the status, the headers and the JSON
/// answer (`Null` if it is not JSON).
pub async fn token_request(
    base: &str,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = http()
        .post(format!("{base}/token"))
        .form(form)
        .send()
        .await
        .expect("token answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

/// One answer of a flow, read whole: status, absolute `Location`, headers
/// and body.
pub struct Hop {
    pub status: u16,
    pub location: Option<Url>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Hop {
    /// Reads the answer to a request for `url`.
    pub async fn of(url: &str, response: reqwest::Response) -> Hop {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| Url::parse(url).and_then(|u| u.join(l)).expect("a URL"));
        let body = response.text().await.unwrap_or_default();
        Hop {
            status,
            location,
            headers,
            body,
        }
    }

    /// The `Set-Cookie` line of cookie `name`, if set.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|line| line.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// `name=value` of cookie `name`, to send back.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookie(name)
            .and_then(|line| line.split(';').next().map(str::to_owned))
    }

    /// Whether this hop is the proxy's consent page.
    pub fn is_consent_page(&self) -> bool {
        self.status == 200 && self.body.contains(r#"<form id="mcp-consent""#)
    }

    /// The consent token of a consent page.
    pub fn consent_token(&self) -> String {
        let marker = r#"<input type="hidden" name="consent_token" value=""#;
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no consent token in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').expect("a closing quote") + start;
        self.body[start..end].to_owned()
    }
}

/// `GET url`, not following redirects.
pub async fn get(url: &str) -> Hop {
    get_with_cookie(url, None).await
}

/// `GET url` with a `Cookie` header, not following redirects.
pub async fn get_with_cookie(url: &str, cookie: Option<&str>) -> Hop {
    let mut request = http().get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    Hop::of(url, request.send().await.expect("answers")).await
}

/// Posts `form` to the consent endpoint with `cookie` and extra `headers`.
pub async fn post_consent(
    base: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
    headers: &[(&str, &str)],
) -> Hop {
    let url = format!("{base}{PROXY_CONSENT_PATH}");
    let mut request = http().post(&url).form(form);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Hop::of(&url, request.send().await.expect("answers")).await
}

/// The query parameters of `url`.
pub fn query_of(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// Follows redirects (keeping cookies, approving the consent page) until
/// one leaves for `stop` (the client's redirect URI, never fetched);
/// returns that URL.
pub async fn follow_until(start: &str, stop: &str) -> Url {
    let mut jar: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current = Url::parse(start).expect("a URL");
    for _ in 0..20 {
        let origin = current.origin().ascii_serialization();
        let cookies = jar.get(&origin).map(|cookies| {
            let pairs: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.join("; ")
        });
        let mut hop = get_with_cookie(current.as_str(), cookies.as_deref()).await;
        if hop.is_consent_page() {
            let csrf = hop.cookie(CSRF_COOKIE).expect("the consent cookie");
            let form = [
                ("consent_token", hop.consent_token()),
                ("decision", "approve".to_owned()),
            ];
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            hop = post_consent(&origin, &form, Some(&csrf), &[]).await;
        }
        for value in hop.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                jar.entry(origin.clone())
                    .or_default()
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let Some(next) = hop.location.filter(|_| (300..400).contains(&hop.status)) else {
            panic!("sign-in stopped at {current}: {} {}", hop.status, hop.body);
        };
        if next.as_str().starts_with(stop) {
            return next;
        }
        current = next;
    }
    panic!("too many redirects from {start}");
}
