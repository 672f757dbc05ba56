//! The testing kit (`mcp_runtime::testing`) against a real server: minted
//! tokens reach the tools, every kind of bad token is refused with 401,
//! access rules answer 403 with the scopes to ask for, and results come back
//! typed, whether the server answers with JSON or an SSE stream.

use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, CompletionRef, TestClient, TestIssuer, TestServer};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

/// The caller as a tool sees it.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Debug, PartialEq)]
struct Caller {
    sub: String,
    email: Option<String>,
    scopes: Vec<String>,
    roles: Vec<String>,
    permissions: Vec<String>,
    team: Option<String>,
}

/// Totals of a list of numbers.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Debug, PartialEq)]
struct Totals {
    count: usize,
    sum: i64,
}

struct Shop;

// In production the shop trusts Auth0; the tests swap in the kit's issuer.
#[mcp_server(name = "shop", version = "0.1.0", oauth = auth0)]
impl Shop {
    /// Who is calling, as the tool sees it.
    #[mcp_tool(read_only)]
    async fn whoami(auth: &Auth) -> Json<Caller> {
        Json(Caller {
            sub: auth.user.user_id.clone(),
            email: auth.user.email.clone(),
            scopes: auth.scopes.clone(),
            roles: auth.user.roles.clone(),
            permissions: auth.user.permissions.clone(),
            team: auth
                .payload
                .get("team")
                .and_then(|t| t.as_str())
                .map(str::to_owned),
        })
    }

    /// Adds numbers up.
    #[mcp_tool(scopes = "shop:read")]
    async fn totals(numbers: Vec<i64>) -> Json<Totals> {
        Json(Totals {
            count: numbers.len(),
            sum: numbers.iter().sum(),
        })
    }

    /// Deletes an order.
    #[mcp_tool(name = "delete-order", scopes = ["shop:read", "shop:write"], destructive)]
    async fn delete_order(id: u64) -> String {
        format!("deleted {id}")
    }

    /// Deploys.
    #[mcp_tool(roles = "ops")]
    async fn deploy() -> &'static str {
        "deployed"
    }

    /// Reads invoices.
    #[mcp_tool(permissions = "billing:read")]
    async fn invoices() -> &'static str {
        "no invoices"
    }

    /// Always fails.
    #[mcp_tool]
    async fn broken() -> Result<String, ToolError> {
        Err(ToolError::new("the warehouse is on fire"))
    }

    /// Reports progress and logs before answering.
    #[mcp_tool]
    async fn restock(ctx: RequestContext, items: u32) -> String {
        for done in 1..=items {
            ctx.progress(f64::from(done), Some(f64::from(items)), Some("restocking"))
                .await;
        }
        ctx.log(LoggingLevel::Info, None, "restocked").await;
        format!("restocked {items}")
    }
}

struct Setup {
    issuer: TestIssuer,
    server: TestServer,
}

fn start(configure: impl FnOnce(McpServerBuilder) -> McpServerBuilder) -> Setup {
    let issuer = TestIssuer::new().expect("an issuer");
    let server = configure(Shop.into_mcp_builder().oauth(issuer.provider()))
        .build()
        .expect("the shop builds");
    let server = TestServer::start_with(server, &issuer).expect("the shop starts");
    Setup { issuer, server }
}

impl Setup {
    fn client(&self, token: mcp_runtime::testing::TokenBuilder) -> TestClient {
        self.server
            .client()
            .with_token(token.sign().expect("a signed token"))
    }
}

#[actix_web::test]
async fn minted_claims_reach_the_tool() {
    let setup = start(|b| b);
    let client = setup.client(
        setup
            .issuer
            .token()
            .subject("alice")
            .email("alice@example.com")
            .scopes(["shop:read", "shop:write"])
            .roles(["ops"])
            .permissions(["billing:read"])
            .claim("team", "blue")
            .expires_in(Duration::from_secs(120)),
    );
    let caller: Caller = client.call_tool_as("whoami", ()).await.expect("whoami");
    assert_eq!(
        caller,
        Caller {
            sub: "alice".into(),
            email: Some("alice@example.com".into()),
            scopes: vec!["shop:read".into(), "shop:write".into()],
            roles: vec!["ops".into()],
            permissions: vec!["billing:read".into()],
            team: Some("blue".into()),
        }
    );
    // The same token passes every guard.
    for (tool, text) in [("deploy", "deployed"), ("invoices", "no invoices")] {
        let result = client.call_tool(tool, ()).await.expect(tool);
        assert_eq!(result.text(), text);
    }
    let deleted = client
        .call_tool("delete-order", json!({"id": 9}))
        .await
        .expect("delete-order");
    assert_eq!(deleted.text(), "deleted 9");
    // The handshake ran and the server keeps a session for this client.
    assert!(client.session_id().await.is_some());
}

#[actix_web::test]
async fn bad_tokens_are_refused_with_401() {
    let setup = start(|b| b);
    let token = || {
        setup
            .issuer
            .token()
            .subject("mallory")
            .scopes(["shop:read"])
    };
    let cases = [
        ("expired", token().expired()),
        ("another issuer", token().issued_by("https://evil.test")),
        (
            "another audience",
            token().audience("http://127.0.0.1:1/mcp"),
        ),
        (
            "an untrusted key",
            token().forged().expect("a forged token"),
        ),
    ];
    for (what, builder) in cases {
        let error = setup
            .client(builder)
            .call_tool("whoami", ())
            .await
            .expect_err(what);
        assert!(
            matches!(&error, ClientError::Unauthorized { .. }),
            "{what}: {error:?}"
        );
        assert_eq!(
            error.challenge_param("error").as_deref(),
            Some("invalid_token"),
            "{what}: {error}"
        );
        assert!(
            error
                .challenge_param("resource_metadata")
                .is_some_and(|url| url.starts_with(&setup.server.base_url())),
            "{what}: {error}"
        );
    }
    let description = setup
        .client(token().expired())
        .call_tool("whoami", ())
        .await
        .expect_err("expired")
        .challenge_param("error_description")
        .unwrap_or_default();
    assert!(description.contains("expired"), "{description}");

    // No token at all: a bare challenge pointing at the metadata.
    let error = setup
        .server
        .client()
        .list_tools()
        .await
        .expect_err("no token");
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.challenge_param("error"), None, "{error}");
}

#[actix_web::test]
async fn missing_scopes_roles_and_permissions_are_refused_with_403() {
    let setup = start(|b| b);
    let reader = setup.client(setup.issuer.token().subject("bob").scopes(["shop:read"]));
    match reader.call_tool("delete-order", json!({"id": 1})).await {
        Err(ClientError::Forbidden { scopes, challenge }) => {
            assert_eq!(scopes, ["shop:read", "shop:write"], "{challenge}");
            assert!(challenge.contains(r#"error="insufficient_scope""#));
        }
        other => panic!("expected 403: {other:?}"),
    }
    for tool in ["deploy", "invoices"] {
        let error = reader.call_tool(tool, ()).await.expect_err(tool);
        assert_eq!(error.status(), Some(403), "{tool}: {error}");
    }
    // What the token allows still works on the same session.
    let totals: Totals = reader
        .call_tool_as("totals", json!({"numbers": [1, 2]}))
        .await
        .expect("totals");
    assert_eq!(totals, Totals { count: 2, sum: 3 });
}

#[actix_web::test]
async fn structured_output_comes_back_typed() {
    let setup = start(|b| b);
    let client = setup.client(setup.issuer.token().scopes(["shop:read"]));

    #[derive(Serialize)]
    struct Args {
        numbers: Vec<i64>,
    }
    let totals: Totals = client
        .call_tool_as(
            "totals",
            Args {
                numbers: vec![4, 5, 6],
            },
        )
        .await
        .expect("totals");
    assert_eq!(totals, Totals { count: 3, sum: 15 });

    // The raw result keeps both forms.
    let result = client
        .call_tool("totals", json!({"numbers": []}))
        .await
        .expect("totals");
    assert_eq!(
        result.structured_content,
        Some(json!({"count": 0, "sum": 0}))
    );
    assert!(result.notifications.is_empty());

    // A shape mismatch is a decode error, not a panic.
    let error = client
        .call_tool_as::<Vec<String>>("totals", json!({"numbers": [1]}))
        .await
        .expect_err("not a list");
    assert!(matches!(error, ClientError::Decode(_)), "{error:?}");
    let error = client
        .call_tool_as::<Totals>("deploy", ())
        .await
        .expect_err("403 first");
    assert_eq!(error.status(), Some(403));
    let error = client
        .call_tool("totals", json!([1, 2]))
        .await
        .expect_err("arguments are an object");
    assert!(matches!(error, ClientError::Arguments(_)), "{error:?}");
}

#[actix_web::test]
async fn tool_failures_and_protocol_errors_are_distinguished() {
    let setup = start(|b| b);
    let client = setup.client(setup.issuer.token().scopes(["shop:read"]));
    match client.call_tool("broken", ()).await {
        Err(ClientError::ToolError(text)) => assert_eq!(text, "the warehouse is on fire"),
        other => panic!("expected a tool error: {other:?}"),
    }
    // Arguments the tool cannot take are an error result too, naming the field.
    match client.call_tool("totals", json!({"numbers": "many"})).await {
        Err(ClientError::ToolError(text)) => assert!(text.contains("numbers"), "{text}"),
        other => panic!("expected a tool error: {other:?}"),
    }
    let error = client
        .call_tool("no-such-tool", ())
        .await
        .expect_err("unknown tool");
    assert!(
        matches!(error, ClientError::Rpc { code: -32602, .. }),
        "{error:?}"
    );
}

#[actix_web::test]
async fn progress_arrives_over_sse_before_the_final_result() {
    let setup = start(|b| b);
    let client = setup.client(setup.issuer.token()).with_progress();
    let result = client
        .call_tool("restock", json!({"items": 3}))
        .await
        .expect("restock");
    assert_eq!(result.text(), "restocked 3");
    let progress: Vec<f64> = result
        .progress()
        .iter()
        .filter_map(|p| p["progress"].as_f64())
        .collect();
    assert_eq!(progress, [1.0, 2.0, 3.0]);

    // Without a progress token the tool still answers (JSON or SSE alike).
    let plain = setup.client(setup.issuer.token());
    let result = plain
        .call_tool("restock", json!({"items": 2}))
        .await
        .expect("restock");
    assert_eq!(result.text(), "restocked 2");
    assert!(result.progress().is_empty());
}

#[actix_web::test]
async fn listing_and_handshake_follow_the_servers_mode() {
    let setup = start(|b| b);
    let client = setup.client(setup.issuer.token());
    let info = client.initialize().await.expect("initialize");
    assert_eq!(
        (info.name.as_str(), info.version.as_str()),
        ("shop", "0.1.0")
    );
    assert_eq!(info.protocol_version, "2025-11-25");
    assert!(info.session_id.is_some());
    let tools = client.list_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "whoami",
            "totals",
            "delete-order",
            "deploy",
            "invoices",
            "broken",
            "restock"
        ]
    );
    let totals = tools.iter().find(|t| t.name == "totals").expect("totals");
    assert!(totals.output_schema.is_some());
    assert_eq!(totals.input_schema["required"], json!(["numbers"]));

    // A stateless server needs no handshake; one still works against it.
    let stateless = start(|b| b.stateless(true));
    let token = stateless
        .issuer
        .token()
        .subject("carol")
        .sign()
        .expect("token");
    for client in [
        stateless.server.client().with_token(&token).stateless(),
        stateless.server.client().with_token(&token),
    ] {
        let caller: Caller = client.call_tool_as("whoami", ()).await.expect("whoami");
        assert_eq!(caller.sub, "carol");
        assert_eq!(client.session_id().await, None);
    }
}

#[test]
fn tokens_need_an_audience_and_say_how_to_set_one() {
    let issuer = TestIssuer::new().expect("an issuer");
    let error = issuer.token().sign().expect_err("no audience yet");
    assert!(error.to_string().contains("start_with"), "{error}");
    let issuer = issuer.with_audience("https://mcp.example.com/mcp");
    let claims = issuer
        .token()
        .subject("dave")
        .scopes(["a", "b"])
        .claims()
        .expect("claims");
    assert_eq!(claims["aud"], "https://mcp.example.com/mcp");
    assert_eq!(claims["iss"], "https://issuer.test");
    assert_eq!(claims["scope"], "a b");
    assert!(claims["exp"].as_u64() > claims["iat"].as_u64());
    let expired = issuer.token().expired().claims().expect("claims");
    assert!(expired["exp"].as_u64() < expired["iat"].as_u64().map(|iat| iat + 7200));
}

/// Completes a shelf name.
fn complete_shelf(request: &CompletionRequest) -> Vec<String> {
    mcp_runtime::completion::prefix_matches(["fiction", "fantasy", "history"], request)
}

struct Library;

#[mcp_server(name = "library", version = "1.0.0", oauth = auth0)]
impl Library {
    /// The opening hours.
    #[mcp_resource(uri = "library://hours", mime_type = "text/plain")]
    async fn hours() -> String {
        "9 to 5".into()
    }

    /// The staff rota.
    #[mcp_resource(uri = "library://rota", scopes = "staff")]
    async fn rota() -> String {
        "Ann, Bo".into()
    }

    /// A shelf's books.
    #[mcp_resource(uri = "library://shelves/{shelf}", complete(shelf = complete_shelf))]
    async fn shelf(shelf: String) -> String {
        format!("books on {shelf}")
    }

    /// Recommends a book.
    #[mcp_prompt(complete(shelf = complete_shelf))]
    async fn recommend(
        /// Which shelf.
        shelf: String,
        /// For whom.
        reader: Option<String>,
    ) -> String {
        format!(
            "A book from {shelf} for {}",
            reader.as_deref().unwrap_or("you")
        )
    }
}

#[actix_web::test]
async fn resources_prompts_and_completions_come_back_typed() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Library
        .into_mcp_builder()
        .oauth(issuer.provider())
        .build()
        .expect("builds");
    let server = TestServer::start_with(server, &issuer).expect("starts");
    let client = server
        .client()
        .with_token(issuer.token().subject("reader").sign().expect("token"));

    let resources = client.list_resources().await.expect("resources/list");
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, ["library://hours", "library://rota"]);
    assert_eq!(resources[0].mime_type.as_deref(), Some("text/plain"));
    assert_eq!(
        resources[0].description.as_deref(),
        Some("The opening hours.")
    );
    let templates = client
        .list_resource_templates()
        .await
        .expect("resources/templates/list");
    assert_eq!(templates[0].uri_template, "library://shelves/{shelf}");

    let hours = client.read_resource("library://hours").await.expect("read");
    assert_eq!(hours.text(), "9 to 5");
    assert_eq!(hours.mime_type(), Some("text/plain"));
    let shelf = client
        .read_resource("library://shelves/fantasy")
        .await
        .expect("read a template");
    assert_eq!(shelf.text(), "books on fantasy");

    let prompts = client.list_prompts().await.expect("prompts/list");
    assert_eq!(prompts[0].name, "recommend");
    let arguments: Vec<(&str, bool)> = prompts[0]
        .arguments
        .iter()
        .map(|a| (a.name.as_str(), a.required))
        .collect();
    assert_eq!(arguments, [("shelf", true), ("reader", false)]);
    assert_eq!(
        prompts[0].arguments[1].description.as_deref(),
        Some("For whom.")
    );
    let got = client
        .get_prompt("recommend", json!({"shelf": "history", "reader": "Bo"}))
        .await
        .expect("prompts/get");
    assert_eq!(got.text(), "A book from history for Bo");

    let by_prompt = client
        .complete(CompletionRef::prompt("recommend"), "shelf", "f")
        .await
        .expect("complete a prompt argument");
    assert_eq!(by_prompt.values, ["fiction", "fantasy"]);
    let by_template = client
        .complete(
            CompletionRef::resource_template("library://shelves/{shelf}"),
            "shelf",
            "h",
        )
        .await
        .expect("complete a template variable");
    assert_eq!(by_template.values, ["history"]);

    client
        .subscribe("library://hours")
        .await
        .expect("subscribe");
    client
        .unsubscribe("library://hours")
        .await
        .expect("unsubscribe");
    match client.subscribe("library://rota").await {
        Err(ClientError::Forbidden { scopes, .. }) => assert_eq!(scopes, ["staff"]),
        other => panic!("a subscription needs the resource's scope: {other:?}"),
    }
}
