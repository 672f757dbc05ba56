//! Machine clients: tokens of the client-credentials grant (the
//! `io.modelcontextprotocol/oauth-client-credentials` extension) have no
//! user behind them. `Auth::is_machine` says so, a tool can be for people
//! only or machines only (`#[mcp_tool(callers = ...)]`, refused with 403
//! otherwise), the server advertises the extension, and the development
//! authorization server issues such tokens to its configured client.

mod support;

use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, TestIssuer, TestServer};
use serde_json::json;

struct Deployments;

#[mcp_server(name = "deployments", version = "1.0.0", oauth = auth0)]
impl Deployments {
    /// Who is calling, and what kind of caller.
    #[mcp_tool]
    async fn whoami(auth: &Auth) -> String {
        let kind = if auth.is_machine() {
            "machine"
        } else {
            "person"
        };
        format!("{} ({kind})", auth.user.user_id)
    }

    /// Approves a release: a person's decision.
    #[mcp_tool(callers = "people")]
    async fn approve() -> &'static str {
        "approved"
    }

    /// Reports a build, from CI.
    #[mcp_tool(callers = "machines", scopes = "builds:write")]
    async fn report_build() -> &'static str {
        "reported"
    }
}

fn forbidden(outcome: &Result<mcp_runtime::testing::ToolResult, ClientError>, why: &str) -> bool {
    matches!(outcome, Err(ClientError::Forbidden { challenge, .. }) if challenge.contains(why))
}

#[actix_web::test]
async fn a_tool_takes_people_machines_or_either() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Deployments
        .into_mcp_builder()
        .oauth(issuer.provider())
        .build()
        .expect("builds");
    let running = TestServer::start_with(server, &issuer).expect("starts");
    let person = running.client().with_token(
        issuer
            .token()
            .subject("ada")
            .client_id("inspector")
            .scopes(["builds:write"])
            .sign()
            .expect("token"),
    );
    let machine = running.client().with_token(
        issuer
            .token()
            .machine("ci-runner")
            .scopes(["builds:write"])
            .sign()
            .expect("token"),
    );

    assert_eq!(
        person.call_tool("whoami", ()).await.expect("whoami").text(),
        "ada (person)"
    );
    assert_eq!(
        machine
            .call_tool("whoami", ())
            .await
            .expect("whoami")
            .text(),
        "ci-runner (machine)"
    );
    assert_eq!(
        person
            .call_tool("approve", ())
            .await
            .expect("a person")
            .text(),
        "approved"
    );
    let refused = machine.call_tool("approve", ()).await;
    assert!(forbidden(&refused, "not machine clients"), "{refused:?}");
    assert_eq!(
        machine
            .call_tool("report_build", ())
            .await
            .expect("a machine")
            .text(),
        "reported"
    );
    let refused = person.call_tool("report_build", ()).await;
    assert!(forbidden(&refused, "for machine clients"), "{refused:?}");

    // Tokens that say so are machines too, whatever their subject.
    for (claim, value) in [("gty", "client-credentials"), ("idtyp", "app")] {
        let said = running.client().with_token(
            issuer
                .token()
                .subject("svc-account")
                .claim(claim, value)
                .sign()
                .expect("token"),
        );
        let refused = said.call_tool("approve", ()).await;
        assert!(
            forbidden(&refused, "not machine clients"),
            "{claim}: {refused:?}"
        );
    }

    // The listing says who may call, and so does the description.
    let tools = person.list_tools().await.expect("tools/list");
    let approve = tools.iter().find(|t| t.name == "approve").expect("approve");
    assert!(
        approve
            .description
            .as_deref()
            .is_some_and(|d| d.contains("Callable by people only")),
        "{approve:?}"
    );

    // The server advertises the extension: at initialize, and in
    // server/discover on 2026-07-28.
    let info = person.initialize().await.expect("initialize");
    assert!(
        info.capabilities["extensions"]
            .get("io.modelcontextprotocol/oauth-client-credentials")
            .is_some(),
        "{:?}",
        info.capabilities
    );
    let token = issuer.token().machine("ci-runner").sign().expect("token");
    let discovered = support::stateless_request(
        running.url(),
        Some(&token),
        "server/discover",
        "",
        json!({}),
    )
    .await;
    assert_eq!(discovered.status, 200, "{}", discovered.body);
    let body = discovered.rpc().unwrap_or_default();
    assert!(
        body["result"]["capabilities"]["extensions"]
            .get("io.modelcontextprotocol/oauth-client-credentials")
            .is_some(),
        "{body}"
    );
}

struct DevDeployments;

fn dev_settings() -> mcp_runtime::auth::DevServer {
    mcp_runtime::auth::DevServer::new()
        .scopes_supported(["builds:write"])
        .client("ci", "ci-secret-value", ["builds:write"])
}

#[mcp_server(name = "deployments", version = "1.0.0", oauth = custom(dev_settings()))]
impl DevDeployments {
    /// Approves a release: a person's decision.
    #[mcp_tool(callers = "people")]
    async fn approve() -> &'static str {
        "approved"
    }

    /// Reports a build, from CI.
    #[mcp_tool(callers = "machines", scopes = "builds:write")]
    async fn report_build() -> &'static str {
        "reported"
    }
}

#[actix_web::test]
async fn the_development_server_issues_machine_tokens_to_its_client() {
    let server =
        TestServer::start(DevDeployments.into_mcp_server().expect("valid server")).expect("starts");
    let response = reqwest::Client::new()
        .post(format!("{}/token", server.base_url()))
        .basic_auth("ci", Some("ci-secret-value"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("the token endpoint answers");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON");
    let token = body["access_token"].as_str().expect("a token").to_owned();
    let machine = server.client().with_token(token);
    assert_eq!(
        machine
            .call_tool("report_build", ())
            .await
            .expect("a machine may")
            .text(),
        "reported"
    );
    let refused = machine.call_tool("approve", ()).await;
    assert!(forbidden(&refused, "not machine clients"), "{refused:?}");
}
