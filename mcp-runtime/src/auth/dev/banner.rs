//! What `listen()` prints on the terminal of the developer who started a dev
//! server: where it is, how to sign in with the MCP Inspector, and a ready
//! token. Printed with `eprint!`, since a new server often has no `tracing`
//! subscriber to show logs.

use super::{Bound, DEV_USER, DevIssuer, ENV_AUTO_APPROVE, ENV_CLIENT_ID, ENV_CLIENT_SECRET};
use crate::auth::paths::PROXY_TOKEN_PATH;
use std::fmt::Write as _;
use std::time::Duration;

/// The header of the ready token's line, `TOKEN=...`, so the line can be
/// pasted into a shell.
const TOKEN_LINE_PREFIX: &str = "TOKEN=";

impl DevIssuer {
    /// The start-up text of server `name`, once bound: its MCP URL, the
    /// Inspector sign-in, and (on loopback only, where the one who reads the
    /// terminal is the one who may sign in) a token for [`DEV_USER`] with
    /// every supported scope, a curl call using it, and how to get fewer
    /// scopes. `None` before the server is bound.
    pub(crate) fn banner(&self, name: &str) -> Option<String> {
        let bound = self.bound()?;
        let url = &bound.resource;
        let mut text = String::new();
        let _ = writeln!(
            text,
            "\nMCP server `{name}`: {url}\n\
             Its OAuth is the development authorization server (`oauth = dev`) at {}: \
             never deploy it.",
            bound.issuer
        );
        let consent = if self.consent() {
            format!(
                "once you approve it on the consent page ({ENV_AUTO_APPROVE}=1 skips that page)"
            )
        } else {
            format!("(the consent page is skipped: {ENV_AUTO_APPROVE})")
        };
        let _ = writeln!(
            text,
            "\nSign in with the MCP Inspector: run\n\
             \n  npx @modelcontextprotocol/inspector\n\
             \nchoose the transport \"Streamable HTTP\", enter the URL {url} and connect;\n\
             it registers itself and gets a token {consent}."
        );
        if !bound.loopback {
            return Some(text);
        }
        let token = self.mint(&bound.scopes).ok()?;
        let scopes = if bound.scopes.is_empty() {
            "none declared".to_owned()
        } else {
            bound.scopes.join(" ")
        };
        let _ = writeln!(
            text,
            "\nOr call it with this development token (user {DEV_USER}, valid {}, scopes: {scopes}):\n\
             \n  {TOKEN_LINE_PREFIX}{token}\n\
             \n  curl -s {url} -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n\
             \x20   -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \\\n\
             \x20   -H 'Mcp-Method: tools/list' \\\n\
             \x20   -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{{\"_meta\":{{\
             \"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\
             \"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}'",
            lifetime(self.settings.access_ttl)
        );
        if !bound.scopes.is_empty() {
            let _ = writeln!(text, "\n{}", fewer_scopes(&bound));
        }
        Some(text)
    }
}

/// The line on getting a token with fewer scopes: a `client_credentials`
/// client of the dev server asks for them at its token endpoint; in code,
/// `McpServer::dev_token` mints one.
fn fewer_scopes(bound: &Bound) -> String {
    let example = bound.scopes.first().map_or("", String::as_str);
    format!(
        "Fewer scopes: start with {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} set, then\n\
         \x20 curl -s -u \"${ENV_CLIENT_ID}:${ENV_CLIENT_SECRET}\" -d grant_type=client_credentials \
         -d 'scope={example}' {}{PROXY_TOKEN_PATH}\n\
         (or, in code, `server.dev_token([\"{example}\"])` once the server is bound).",
        bound.issuer
    )
}

/// `ttl` as people say it: `1 h`, `10 min`, `45 s`.
fn lifetime(ttl: Duration) -> String {
    let secs = ttl.as_secs();
    if secs >= 3600 && secs.is_multiple_of(3600) {
        format!("{} h", secs / 3600)
    } else if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The banner of a dev server declaring `tasks:write`, bound to `ip`.
    fn banner_at(ip: [u8; 4], loopback: bool) -> String {
        let dev = super::super::DevServer::new().allow_non_loopback_i_understand_this_is_insecure();
        let (provider, issuer) = dev.build().expect("a dev server");
        let addr = std::net::SocketAddr::from((ip, 3000));
        let url = crate::auth::ResourceUrl::resolve(None, Some(addr), "/mcp").expect("a URL");
        issuer
            .provider_at(&provider, &url, loopback, &["tasks:write".to_owned()])
            .expect("served");
        issuer.banner("tasks").expect("bound")
    }

    #[test]
    fn a_token_is_printed_only_on_the_terminal_of_a_loopback_server() {
        let local = banner_at([127, 0, 0, 1], true);
        assert!(local.contains("http://127.0.0.1:3000/mcp"), "{local}");
        assert!(
            local.contains("npx @modelcontextprotocol/inspector"),
            "{local}"
        );
        assert!(local.contains("\n  TOKEN=ey"), "{local}");
        assert!(local.contains("scopes: tasks:write"), "{local}");
        let public = banner_at([192, 0, 2, 1], false);
        assert!(public.contains("http://192.0.2.1:3000/mcp"), "{public}");
        assert!(
            public.contains("npx @modelcontextprotocol/inspector"),
            "{public}"
        );
        assert!(!public.contains(TOKEN_LINE_PREFIX), "{public}");
    }

    #[test]
    fn lifetimes_read_as_people_say_them() {
        assert_eq!(lifetime(Duration::from_secs(3600)), "1 h");
        assert_eq!(lifetime(Duration::from_secs(600)), "10 min");
        assert_eq!(lifetime(Duration::from_secs(90)), "90 s");
    }

    #[test]
    fn the_fewer_scopes_line_names_the_token_endpoint_and_never_a_secret_value() {
        let bound = Bound {
            issuer: "http://127.0.0.1:3000".into(),
            resource: "http://127.0.0.1:3000/mcp".into(),
            scopes: vec!["tasks:write".into(), "admin".into()],
            loopback: true,
        };
        let line = fewer_scopes(&bound);
        assert!(line.contains("http://127.0.0.1:3000/token"), "{line}");
        assert!(line.contains("scope=tasks:write"), "{line}");
        assert!(line.contains("$MCP_DEV_OAUTH_CLIENT_SECRET"), "{line}");
    }
}
