//! Client ID Metadata Documents, end to end: the TypeScript SDK's OAuth
//! client names itself by an https URL (`clientMetadataUrl`) instead of
//! registering, and the server fetches that document from a real https host
//! (`tests/node/documents.mjs`, under an authority made for the run and
//! trusted through `SSL_CERT_FILE`), in the development authorization server
//! (the quickstart example) and in proxy mode in front of a real OpenID
//! provider (the oidc example, oidc-provider); and the conformance suite's
//! authorization-server scenarios sign in as such a client. Refused here: a document
//! naming another client, a redirect URI it does not list, one larger than
//! 5 KiB, a redirect, private and link-local addresses, and every document
//! when the operator turns them off.

mod support;

use serde_json::{Value, json};
use support::documents::{DocumentHost, answer, document};
use support::example::Example;

/// A PKCE S256 challenge (of RFC 7636's example verifier).
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The document host, serving `agent.json` (for `redirect`) and the
/// refused ones.
fn document_host(redirect: &str) -> DocumentHost {
    let agent = |client_id: &str, extra: Value| {
        let mut body = json!({
            "client_id": client_id,
            "client_name": "Example Agent",
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        });
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        document(&body)
    };
    DocumentHost::start(&json!({
        "/agent.json": agent("{origin}/agent.json", json!({})),
        "/impostor.json": agent("{origin}/agent.json", json!({})),
        "/big.json": agent("{origin}/big.json", json!({"padding": "x".repeat(6 * 1024)})),
        "/moved.json": answer(302, json!({"location": "{origin}/agent.json"}), ""),
    }))
}

/// The SDK client signing in to `url` as the document at `metadata_url`,
/// calling `tool`; what it printed.
fn sdk_client(url: &str, redirect: &str, metadata_url: &str, tool: &str) -> Value {
    support::sdk_sign_in(
        url,
        redirect,
        tool,
        "{}",
        &[("MCP_CLIENT_METADATA_URL", metadata_url)],
    )
}

/// The server's authorization-server metadata.
async fn metadata(origin: &str) -> Value {
    reqwest::get(format!("{origin}/.well-known/oauth-authorization-server"))
        .await
        .expect("metadata answers")
        .json()
        .await
        .expect("metadata is JSON")
}

/// `GET /authorize` as `client_id` for `redirect`, not followed: its status
/// and body.
async fn authorize(origin: &str, client_id: &str, redirect: &str) -> (u16, String) {
    let url = support::oauth::authorize_url(
        origin,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "s1"),
        ],
    );
    let response = support::oauth::http()
        .get(url)
        .send()
        .await
        .expect("authorize answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// `/authorize` refuses `client_id` here (no redirect to anyone), saying
/// `because`.
async fn refused(origin: &str, client_id: &str, redirect: &str, because: &str) {
    let (status, body) = authorize(origin, client_id, redirect).await;
    assert_eq!(status, 400, "{client_id}: {body}");
    assert!(
        body.contains(because),
        "{client_id}: expected `{because}` in {body}"
    );
}

fn origin_of(example: &Example) -> String {
    format!("http://127.0.0.1:{}", example.port())
}

#[actix_web::test]
async fn the_development_server_signs_in_a_client_named_by_its_metadata_document() {
    let redirect = support::loopback_redirect();
    let host = document_host(&redirect);
    let quickstart = Example::start("quickstart", &[host.trust()]);
    let origin = origin_of(&quickstart);
    assert_eq!(
        metadata(&origin).await["client_id_metadata_document_supported"],
        true
    );

    let agent = host.url("/agent.json");
    let printed = sdk_client(&format!("{origin}/mcp"), &redirect, &agent, "whoami");
    assert_eq!(
        printed["client"]["client_id"], agent,
        "no registration: the document's URL is the client id: {printed}"
    );
    assert_eq!(printed["consent_pages"], 1, "{printed}");
    assert_eq!(
        printed["result"]["structuredContent"]["user"], "dev-user",
        "{printed}"
    );
    assert_eq!(printed["token"]["has_refresh_token"], true, "{printed}");

    // The consent page names the client as its document does, and the
    // document's host, which vouches for that name.
    let (status, page) = authorize(&origin, &agent, &redirect).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Allow Example Agent to access"), "{page}");
    let document_host = host.origin.trim_start_matches("https://");
    assert!(
        page.contains(&format!(
            "metadata document at <strong>{document_host}</strong>"
        )),
        "{page}"
    );

    refused(
        &origin,
        &host.url("/impostor.json"),
        &redirect,
        "names another client_id",
    )
    .await;
    refused(
        &origin,
        &agent,
        "http://127.0.0.1:1/elsewhere",
        "redirect_uri is not one the client's metadata document lists",
    )
    .await;
    refused(
        &origin,
        &host.url("/big.json"),
        &redirect,
        "larger than 5 KiB",
    )
    .await;
    refused(
        &origin,
        &host.url("/moved.json"),
        &redirect,
        "redirect, which is not followed",
    )
    .await;
    // Loopback is the development server's own machine; private and
    // link-local addresses are not.
    refused(
        &origin,
        "https://10.1.2.3/agent.json",
        &redirect,
        "10.1.2.3, which is not a public address",
    )
    .await;
    refused(
        &origin,
        "https://169.254.169.254/latest/meta-data.json",
        &redirect,
        "not a public address",
    )
    .await;
    refused(
        &origin,
        "http://agent.example/agent.json",
        &redirect,
        "must be served over https",
    )
    .await;
}

#[actix_web::test]
async fn an_operator_may_turn_metadata_documents_off() {
    let redirect = support::loopback_redirect();
    let host = document_host(&redirect);
    let quickstart = Example::start(
        "quickstart",
        &[
            host.trust(),
            ("MCP_OAUTH_CLIENT_METADATA_DOCUMENTS", "false"),
        ],
    );
    let origin = origin_of(&quickstart);
    let metadata = metadata(&origin).await;
    assert!(
        metadata
            .get("client_id_metadata_document_supported")
            .is_none(),
        "{metadata}"
    );
    refused(
        &origin,
        &host.url("/agent.json"),
        &redirect,
        "does not take client metadata documents",
    )
    .await;
}

#[actix_web::test]
async fn the_proxy_signs_in_a_client_named_by_its_metadata_document() {
    let port = support::free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let resource = format!("{origin}/mcp");
    let idp = support::start_proxy_idp(&origin);
    let redirect = support::loopback_redirect();
    let host = document_host(&redirect);
    // The documents are on loopback, which the operator allows here (and
    // only 127.0.0.1: 127.0.0.2 stays refused).
    let server = Example::start_on(
        "oidc",
        &[
            host.trust(),
            ("MCP_OAUTH_OIDC_ISSUER", &idp.issuer),
            ("MCP_OAUTH_OIDC_AUDIENCE", &resource),
            ("MCP_OAUTH_OIDC_CLIENT_ID", "mcp-proxy"),
            ("MCP_OAUTH_OIDC_CLIENT_SECRET", "mcp-proxy-secret"),
            ("MCP_OAUTH_OIDC_SCOPES", "user:write"),
            ("MCP_OAUTH_CLIENT_METADATA_NETWORKS", "127.0.0.1/32, ::1"),
        ],
        port,
    );
    assert_eq!(
        metadata(&origin).await["client_id_metadata_document_supported"],
        true
    );
    let agent = host.url("/agent.json");
    let printed = sdk_client(&resource, &redirect, &agent, "manage-users");
    assert_eq!(printed["client"]["client_id"], agent, "{printed}");
    assert_eq!(printed["consent_pages"], 1, "{printed}");
    assert_eq!(
        printed["result"]["content"][0]["text"], "test-user may manage users",
        "{printed}"
    );
    assert!(
        support::signed_in_at(&printed, &idp),
        "the sign-in went through the provider: {printed}"
    );

    let elsewhere = agent.replace("localhost", "127.0.0.2");
    refused(
        &origin,
        &elsewhere,
        &redirect,
        "127.0.0.2, which is not a public address",
    )
    .await;
    drop(server);
}

/// The conformance suite's authorization-server scenarios against the
/// development server, signing in as a metadata-document client: the
/// metadata (with `client_id_metadata_document_supported`), then an
/// authorization code grant whose browser step this test plays (the server
/// approves by itself here), redeemed at the token endpoint.
#[test]
fn the_conformance_suites_authorization_server_scenarios_pass_for_a_document_client() {
    use std::io::{BufRead, BufReader};
    let callback_port = support::free_port();
    let redirect = format!("http://127.0.0.1:{callback_port}/callback");
    let host = document_host(&redirect);
    let quickstart = Example::start(
        "quickstart",
        &[host.trust(), ("MCP_DEV_OAUTH_AUTO_APPROVE", "1")],
    );
    let origin = origin_of(&quickstart);
    let results = support::fresh_dir("conformance-authorization");
    let suite = support::node_harness().join("node_modules/conformance-next/dist/index.js");
    let agent = host.url("/agent.json");
    let mut child = std::process::Command::new(support::node())
        .arg(&suite)
        .args(["authorization", "--url", &origin, "--client-id", &agent])
        .args(["--port", &callback_port.to_string()])
        .args(["--resource", &format!("{origin}/mcp")])
        .arg("-o")
        .arg(&results)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the conformance suite starts");
    let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut printed = String::new();
    let mut visited = false;
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        printed.push_str(&line);
        printed.push('\n');
        // The browser's part: open the authorization URL it prints, and
        // follow the redirects to its callback.
        if !visited && line.starts_with(&format!("{origin}/authorize?")) {
            visited = true;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let answer = runtime.block_on(reqwest::get(&line));
            assert!(
                answer.as_ref().is_ok_and(|a| a.status().is_success()),
                "the authorization URL led to {answer:?}"
            );
        }
    }
    let status = child.wait().expect("the suite ends");
    let stderr =
        std::io::read_to_string(child.stderr.take().expect("piped stderr")).unwrap_or_default();
    assert!(
        visited,
        "the suite printed no authorization URL:\n{printed}\n{stderr}"
    );
    assert!(
        status.success(),
        "the suite failed ({status}):\n{printed}\n{stderr}"
    );
    let mut checks = Vec::new();
    for entry in std::fs::read_dir(&results).expect("the results folder") {
        let file = entry.expect("an entry").path().join("checks.json");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!("{}: {e}\n{printed}", file.display());
        });
        let found: Vec<Value> = serde_json::from_str(&text).expect("checks are JSON");
        checks.extend(found);
    }
    let status_of = |id: &str| {
        checks
            .iter()
            .find(|check| check["id"] == id)
            .map(|check| check["status"].clone())
    };
    for id in [
        "authorization-server-metadata",
        "authorization-server-metadata-cimd",
        "authorization-code-grant",
    ] {
        assert_eq!(status_of(id), Some(json!("SUCCESS")), "{id}: {checks:?}");
    }
    assert!(
        checks
            .iter()
            .all(|check| check["status"] == "SUCCESS" || check["status"] == "INFO"),
        "{checks:?}"
    );
}
