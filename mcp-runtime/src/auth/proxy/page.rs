//! The consent page: self-contained HTML (no scripts, no external assets),
//! every shown string escaped, served so that it cannot be framed, cached or
//! leak its URL.
//!
//! Stable markers for clients that drive it without a browser (the tests):
//! `<form id="mcp-consent" method="post" action="/authorize/consent">`, a
//! hidden input `consent_token`, and two submit buttons named `decision`
//! with the values `approve` and `deny`.

use super::PROXY_CONSENT_PATH;
use super::respond::no_store;
use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use std::fmt::Write as _;
use url::{Host, Url};

/// Longest client name shown; longer ones are cut.
const MAX_SHOWN_NAME_CHARS: usize = 100;

/// What the consent page shows.
pub(super) struct ConsentView<'a> {
    /// The registered `client_name`, chosen by the client itself.
    pub(super) client_name: Option<&'a str>,
    /// For a client described by its metadata document: that document's
    /// `host[:port]`, which vouches for the name.
    pub(super) vouched_by: Option<&'a str>,
    pub(super) redirect_uri: &'a Url,
    pub(super) scope: Option<&'a str>,
    /// This server's name.
    pub(super) server_name: &'a str,
    /// The provider's authorization endpoint, where Approve leads.
    pub(super) provider: &'a Url,
    /// The signed consent token.
    pub(super) token: &'a str,
}

/// `text` safe inside HTML text and double- or single-quoted attributes.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A client-chosen name as shown: bounded, without control characters or
/// bidirectional overrides that could disguise it.
fn shown_name(name: &str) -> String {
    let mut shown: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                '\u{fffd}'
            } else {
                c
            }
        })
        .take(MAX_SHOWN_NAME_CHARS + 1)
        .collect();
    if shown.chars().count() > MAX_SHOWN_NAME_CHARS {
        shown = shown.chars().take(MAX_SHOWN_NAME_CHARS).collect();
        shown.push('\u{2026}');
    }
    shown
}

/// `host[:port]` of a URL, as the user should read it.
pub(super) fn shown_host(url: &Url) -> String {
    let host = url.host_str().unwrap_or("(no host)");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// A CSP source expression allowing navigation to `url`'s origin. CSP host
/// sources cannot name IPv6 addresses: those get their scheme alone.
pub(super) fn csp_source(url: &Url) -> String {
    match url.host() {
        Some(Host::Ipv6(_)) | None => format!("{}:", url.scheme()),
        Some(_) => url.origin().ascii_serialization(),
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f4f5;color:#18181b;\
margin:0;padding:2rem 1rem}main{max-width:34rem;margin:auto;background:#fff;border-radius:.75rem;\
padding:1.5rem 2rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}h1{font-size:1.3rem}\
dt{font-weight:600;margin-top:.9rem}dd{margin:.25rem 0 0;overflow-wrap:anywhere}\
code{background:#f4f4f5;padding:.1rem .3rem;border-radius:.25rem}\
.host{font-size:1.1rem;font-weight:700}.warn{background:#fef3c7;padding:.6rem .8rem;\
border-radius:.5rem}form{display:flex;gap:.75rem;justify-content:flex-end;margin-top:1.5rem}\
button{font-size:1rem;padding:.55rem 1.3rem;border-radius:.5rem;border:1px solid #a1a1aa;\
background:#fff;cursor:pointer}button[value=approve]{background:#1d4ed8;border-color:#1d4ed8;\
color:#fff}";

/// The page's HTML.
fn render(view: &ConsentView<'_>) -> String {
    let name = view
        .client_name
        .map(shown_name)
        .filter(|n| !n.is_empty())
        .map_or_else(|| "An unnamed application".to_owned(), |n| escape(&n));
    let server = escape(view.server_name);
    let host = escape(&shown_host(view.redirect_uri));
    let uri = escape(view.redirect_uri.as_str());
    let provider = escape(&shown_host(view.provider));
    let mut scopes = String::new();
    match view.scope.map(str::split_whitespace) {
        Some(list) => {
            scopes.push_str("<ul>");
            for scope in list {
                let _ = write!(scopes, "<li><code>{}</code></li>", escape(scope));
            }
            scopes.push_str("</ul>");
        }
        None => scopes.push_str("No particular scopes (the provider's defaults)"),
    }
    let token = escape(view.token);
    let (whose, identified) = match view.vouched_by {
        Some(document_host) => {
            let document_host = escape(document_host);
            (
                format!(
                    "comes from the application's metadata document at <strong>{document_host}</strong>"
                ),
                format!(
                    "<dt>Identified by</dt>\n<dd><span class=\"host\">{document_host}</span><br>\
                     its metadata document, which names the application</dd>\n"
                ),
            )
        }
        None => (
            "is chosen by the application itself".to_owned(),
            String::new(),
        ),
    };
    // Any program on this computer can listen on a loopback port.
    let local = if crate::auth::is_loopback_url(view.redirect_uri) {
        format!(
            "\n<p class=\"warn\"><strong>{host}</strong> is this computer: approve only if \
             the application you started is the one waiting there.</p>"
        )
    } else {
        String::new()
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Allow access to {server}?</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>Allow {name} to access {server}?</h1>
<p class="warn">The name above {whose}. Approve only if you
just started this sign-in and trust <strong>{host}</strong>: it will receive access to
{server} in your name.</p>{local}
<dl>
<dt>Application</dt>
<dd>{name}</dd>
{identified}<dt>Will be sent back to</dt>
<dd><span class="host">{host}</span><br><code>{uri}</code></dd>
<dt>Access requested</dt>
<dd>{scopes}</dd>
</dl>
<p>Approve to continue to sign in at {provider}.</p>
<form id="mcp-consent" method="post" action="{PROXY_CONSENT_PATH}">
<input type="hidden" name="consent_token" value="{token}">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="approve">Approve</button>
</form>
</main>
</body>
</html>
"#
    )
}

/// The consent page as a 200 answer. Its form may only post here; Chrome
/// also checks the redirects that follow a form submission against
/// `form-action`, so the provider's origin (Approve) and the client's
/// redirect origin (Deny) are allowed too.
pub(super) fn consent_page(view: &ConsentView<'_>) -> HttpResponse {
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {} {}; \
         frame-ancestors 'none'; base-uri 'none'",
        csp_source(view.provider),
        csp_source(view.redirect_uri)
    );
    let Ok(csp) = HeaderValue::from_str(&csp) else {
        return HttpResponse::InternalServerError().finish();
    };
    let mut response = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(render(view));
    no_store(&mut response);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shown_string_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
        let redirect = Url::parse("https://app.example/cb?a=%3Cb%3E&b=\"'").unwrap();
        let provider = Url::parse("https://id.example.com/authorize").unwrap();
        let html = render(&ConsentView {
            client_name: Some("<img src=x onerror=alert(1)>"),
            vouched_by: None,
            redirect_uri: &redirect,
            scope: Some("tasks:read <i>x</i>"),
            server_name: "<b>tasks</b>",
            provider: &provider,
            token: "a.b.c",
        });
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<i>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("<code>&lt;i&gt;x&lt;/i&gt;</code>"));
        assert!(
            html.contains(r#"<form id="mcp-consent" method="post" action="/authorize/consent">"#)
        );
        assert!(html.contains(r#"<input type="hidden" name="consent_token" value="a.b.c">"#));
    }

    /// A metadata-document client's page names the host vouching for it,
    /// and says the name comes from there.
    #[test]
    fn a_document_clients_page_names_its_documents_host() {
        let redirect = Url::parse("http://127.0.0.1:3000/callback").unwrap();
        let provider = Url::parse("https://id.example.com/authorize").unwrap();
        let view = |vouched_by| ConsentView {
            client_name: Some("Example Agent"),
            vouched_by,
            redirect_uri: &redirect,
            scope: None,
            server_name: "tasks",
            provider: &provider,
            token: "a.b.c",
        };
        let html = render(&view(Some("agent.example<x>")));
        assert!(
            html.contains("Allow Example Agent to access tasks?"),
            "{html}"
        );
        assert!(
            html.contains("metadata document at <strong>agent.example&lt;x&gt;</strong>"),
            "{html}"
        );
        assert!(html.contains("<dt>Identified by</dt>"), "{html}");
        assert!(
            html.contains("is this computer"),
            "a loopback redirect URI: {html}"
        );
        let registered = render(&view(None));
        assert!(!registered.contains("Identified by"), "{registered}");
        assert!(registered.contains("chosen by the application itself"));
    }

    #[test]
    fn names_are_bounded_and_cannot_hide_behind_controls() {
        assert_eq!(shown_name("  app\u{202e}gpj.exe\n "), "app\u{fffd}gpj.exe");
        let long = "x".repeat(500);
        assert_eq!(shown_name(&long).chars().count(), MAX_SHOWN_NAME_CHARS + 1);
    }

    #[test]
    fn csp_sources_are_origins_or_schemes() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            csp_source(&url("http://127.0.0.1:8080/cb?x")),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            csp_source(&url("https://app.example/cb")),
            "https://app.example"
        );
        assert_eq!(csp_source(&url("http://[::1]:9/cb")), "http:");
        assert_eq!(shown_host(&url("http://[::1]:9/cb")), "[::1]:9");
    }
}
