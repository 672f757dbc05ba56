//! Resources, prompts and completion against a loopback server with OAuth:
//! listings, reads (text, blob, templates), prompts with arguments and
//! content, completion, subscriptions, access rules that answer 403
//! before the handler runs, and listings paged with opaque cursors.

use mcp_runtime::completion::prefix_matches;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, TestClient, TestIssuer, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Setup {
    issuer: TestIssuer,
    server: TestServer,
    secret_reads: Arc<AtomicUsize>,
    secret_prompts: Arc<AtomicUsize>,
}

fn start() -> Setup {
    let issuer = TestIssuer::new().expect("an issuer");
    let secret_reads = Arc::new(AtomicUsize::new(0));
    let secret_prompts = Arc::new(AtomicUsize::new(0));
    let (reads, prompts) = (Arc::clone(&secret_reads), Arc::clone(&secret_prompts));
    let server = McpServer::builder("library", "0.1.0")
        .oauth(issuer.provider())
        .resource(
            Resource::new("docs://readme", |_| async { "Read me." })
                .name("readme")
                .mime_type("text/plain"),
        )
        .resource(
            Resource::new("docs://logo", |_| async { Blob(vec![0, 1, 2, 255]) })
                .name("logo")
                .mime_type("image/png"),
        )
        .resource(
            Resource::new("docs://secret", move |_| {
                reads.fetch_add(1, Ordering::SeqCst);
                async { "classified" }
            })
            .scopes(["docs:secret"]),
        )
        .resource_template(
            ResourceTemplate::new(
                "docs://books/{id}/pages/{page}",
                |req: ResourceRequest| async move {
                    let page: u32 = req.param_as("page")?;
                    Ok::<_, mcp_runtime::resources::ResourceError>(format!(
                        "book {} page {page}",
                        req.param("id").unwrap_or_default()
                    ))
                },
            )
            .name("page")
            .mime_type("text/plain")
            .complete("id", |req| prefix_matches(["dune", "dracula", "emma"], req)),
        )
        .prompt(
            Prompt::new("summarize", |req: PromptRequest| async move {
                let style = req.arg("style").unwrap_or("short");
                vec![
                    PromptMessage::user(Content::embedded_text(
                        req.arg("uri").unwrap_or_default(),
                        Some("text/plain"),
                        "the text",
                    )),
                    PromptMessage::user_text(format!("Summarize it, {style}.")),
                ]
            })
            .description("Summarizes a document.")
            .required_argument("uri", "The document")
            .optional_argument("style", "How")
            .complete("style", |req| {
                prefix_matches(["short", "long", "shouty"], req)
            }),
        )
        .prompt(
            Prompt::new("vault", move |_| {
                prompts.fetch_add(1, Ordering::SeqCst);
                async { "the vault" }
            })
            .description("Secret.")
            .scopes(["docs:secret"]),
        )
        .build()
        .expect("the library builds");
    let server = TestServer::start_with(server, &issuer).expect("the library starts");
    Setup {
        issuer,
        server,
        secret_reads,
        secret_prompts,
    }
}

impl Setup {
    fn client(&self, scopes: &[&str]) -> TestClient {
        let token = self
            .issuer
            .token()
            .subject("reader")
            .scopes(scopes.iter().copied());
        self.server
            .client()
            .with_token(token.sign().expect("a signed token"))
    }
}

#[actix_web::test]
async fn lists_and_reads_resources() {
    let setup = start();
    let client = setup.client(&[]);
    let listed = client.rpc("resources/list", json!({})).await.expect("list");
    let uris: Vec<&str> = listed["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["uri"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(uris, ["docs://readme", "docs://logo", "docs://secret"]);
    assert_eq!(listed["resources"][0]["name"], "readme");

    let text = client
        .read_resource("docs://readme")
        .await
        .expect("read text");
    assert_eq!(
        json!(text.contents),
        json!([{"uri": "docs://readme", "mimeType": "text/plain", "text": "Read me."}])
    );
    let blob = client
        .read_resource("docs://logo")
        .await
        .expect("read blob");
    assert_eq!(blob.contents[0]["blob"], "AAEC/w==");
    assert_eq!(blob.contents[0]["mimeType"], "image/png");

    let templates = client
        .rpc("resources/templates/list", json!({}))
        .await
        .expect("templates");
    assert_eq!(
        templates["resourceTemplates"][0]["uriTemplate"],
        "docs://books/{id}/pages/{page}"
    );
    let page = client
        .read_resource("docs://books/dune/pages/7")
        .await
        .expect("read template");
    assert_eq!(page.contents[0]["text"], "book dune page 7");
    assert_eq!(page.contents[0]["uri"], "docs://books/dune/pages/7");

    let bad = client
        .read_resource("docs://books/dune/pages/x")
        .await
        .expect_err("a page that is not a number");
    assert!(
        matches!(bad, ClientError::Rpc { code: -32602, .. }),
        "{bad:?}"
    );
    let missing = client
        .read_resource("docs://nothing")
        .await
        .expect_err("no such resource");
    match missing {
        ClientError::Rpc { code, data, .. } => {
            assert_eq!(code, -32602);
            assert_eq!(data, Some(json!({"uri": "docs://nothing"})));
        }
        other => panic!("expected -32602, got {other:?}"),
    }
    for method in ["resources/subscribe", "resources/unsubscribe"] {
        let answer = client
            .rpc(method, json!({"uri": "docs://readme"}))
            .await
            .expect(method);
        assert_eq!(answer, json!({}));
    }
}

#[actix_web::test]
async fn gets_prompts_and_completes() {
    let setup = start();
    let client = setup.client(&[]);
    let listed = client.rpc("prompts/list", json!({})).await.expect("list");
    assert_eq!(listed["prompts"][0]["name"], "summarize");
    assert_eq!(
        listed["prompts"][0]["arguments"],
        json!([
            {"name": "uri", "description": "The document", "required": true},
            {"name": "style", "description": "How", "required": false}
        ])
    );
    let got = client
        .get_prompt(
            "summarize",
            json!({"uri": "docs://readme", "style": "long"}),
        )
        .await
        .expect("get");
    let messages = &got.messages;
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"]["type"], "resource");
    assert_eq!(messages[0]["content"]["resource"]["uri"], "docs://readme");
    assert_eq!(
        messages[1]["content"],
        json!({"type": "text", "text": "Summarize it, long."})
    );
    let missing = client
        .get_prompt("summarize", ())
        .await
        .expect_err("uri is required");
    assert!(
        matches!(missing, ClientError::Rpc { code: -32602, .. }),
        "{missing:?}"
    );

    let complete = |reference: Value, name: &str, value: &str| {
        client.rpc(
            "completion/complete",
            json!({"ref": reference, "argument": {"name": name, "value": value}}),
        )
    };
    let style = complete(
        json!({"type": "ref/prompt", "name": "summarize"}),
        "style",
        "sh",
    )
    .await
    .expect("complete a prompt argument");
    assert_eq!(style["completion"]["values"], json!(["short", "shouty"]));
    let id = complete(
        json!({"type": "ref/resource", "uri": "docs://books/{id}/pages/{page}"}),
        "id",
        "d",
    )
    .await
    .expect("complete a template parameter");
    assert_eq!(id["completion"]["values"], json!(["dune", "dracula"]));
    let none = complete(
        json!({"type": "ref/prompt", "name": "summarize"}),
        "uri",
        "",
    )
    .await
    .expect("an argument without a completer");
    assert_eq!(none["completion"]["values"], json!([]));
}

#[actix_web::test]
async fn scoped_resources_and_prompts_answer_403_before_running() {
    let setup = start();
    let client = setup.client(&[]);
    for (method, params) in [
        ("resources/read", json!({"uri": "docs://secret"})),
        ("prompts/get", json!({"name": "vault"})),
    ] {
        let error = client.rpc(method, params).await.expect_err(method);
        assert!(
            matches!(&error, ClientError::Forbidden { scopes, .. } if scopes == &["docs:secret"]),
            "{method}: {error:?}"
        );
        assert_eq!(
            error.challenge_param("error").as_deref(),
            Some("insufficient_scope"),
            "{method}"
        );
    }
    assert_eq!(setup.secret_reads.load(Ordering::SeqCst), 0);
    assert_eq!(setup.secret_prompts.load(Ordering::SeqCst), 0);

    let allowed = setup.client(&["docs:secret"]);
    let read = allowed
        .read_resource("docs://secret")
        .await
        .expect("read with the scope");
    assert_eq!(read.contents[0]["text"], "classified");
    let got = allowed
        .get_prompt("vault", ())
        .await
        .expect("get with the scope");
    assert_eq!(got.messages[0]["content"]["text"], "the vault");
    assert_eq!(setup.secret_reads.load(Ordering::SeqCst), 1);
    assert_eq!(setup.secret_prompts.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn capabilities_advertise_resources_prompts_and_completions() {
    let setup = start();
    let info = setup.client(&[]).initialize().await.expect("initialize");
    assert_eq!(info.capabilities["resources"]["subscribe"], true);
    assert!(info.capabilities["prompts"].is_object());
    assert!(info.capabilities["completions"].is_object());

    let bare = McpServer::builder("bare", "0.1.0")
        .tool(Tool::new("noop", |_: NoArgs| async { "ok" }))
        .build()
        .expect("builds");
    let bare = TestServer::start(bare).expect("starts");
    let client = bare.client();
    let info = client.initialize().await.expect("initialize");
    for absent in ["resources", "prompts", "completions"] {
        assert!(info.capabilities.get(absent).is_none(), "{absent}");
    }
    let error = client
        .rpc("prompts/list", json!({}))
        .await
        .expect_err("no prompts");
    assert!(
        matches!(error, ClientError::Rpc { code: -32601, .. }),
        "{error:?}"
    );
}

#[test]
fn guarded_features_need_oauth() {
    let error = McpServer::builder("open", "0.1.0")
        .resource(Resource::new("x://locked", |_| async { "l" }).scopes(["s"]))
        .prompt(Prompt::new("p", |_| async { "p" }).roles(["r"]))
        .build()
        .expect_err("nobody could read them");
    let text = error.to_string();
    assert!(
        text.contains("resource x://locked") && text.contains("prompt p"),
        "{text}"
    );
}

#[test]
fn invalid_features_are_refused_at_build_time() {
    let error = McpServer::builder("bad", "0.1.0")
        .resource(Resource::new("x://a", |_| async { "a" }))
        .resource(Resource::new("x://a", |_| async { "b" }))
        .resource_template(ResourceTemplate::new("x://{a}{b}", |_| async { "c" }))
        .prompt(Prompt::new("p", |_| async { "p" }).complete("nope", |_| vec![]))
        .build()
        .expect_err("invalid");
    let text = error.to_string();
    assert!(
        text.contains("two resources have the URI `x://a`"),
        "{text}"
    );
    assert!(text.contains("two variables"), "{text}");
    assert!(text.contains("completes `nope`"), "{text}");
}

/// Walks every page of `method`, returning the entries under `key` in order
/// and how many pages there were.
async fn every_page(client: &TestClient, method: &str, key: &str) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let params = match &cursor {
            Some(cursor) => json!({ "cursor": cursor }),
            None => json!({}),
        };
        let page = client.rpc(method, params).await.expect(method);
        pages += 1;
        let entries = page[key].as_array().expect("entries");
        assert!(
            entries.len() <= 2,
            "{method}: a page larger than the page size"
        );
        for entry in entries {
            let id = entry["uri"]
                .as_str()
                .or(entry["uriTemplate"].as_str())
                .or(entry["name"].as_str())
                .expect("an id");
            seen.push(id.to_owned());
        }
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (seen, pages),
        }
        assert!(pages < 20, "{method}: the pages never end");
    }
}

fn many(hide_unauthorized: bool) -> (TestIssuer, TestServer) {
    let issuer = TestIssuer::new().expect("an issuer");
    let mut builder = McpServer::builder("many", "0.1.0")
        .oauth(issuer.provider())
        .page_size(2)
        .hide_unauthorized_tools(hide_unauthorized);
    for i in 0..5 {
        let resource = Resource::new(format!("many://r/{i}"), |_| async { "r" });
        let prompt = Prompt::new(format!("p{i}"), |_| async { "p" });
        // Every other one needs a scope the test's caller lacks.
        let (resource, prompt) = if i % 2 == 1 {
            (resource.scopes(["secret"]), prompt.scopes(["secret"]))
        } else {
            (resource, prompt)
        };
        builder = builder.resource(resource).prompt(prompt);
    }
    for i in 0..3 {
        builder = builder.resource_template(ResourceTemplate::new(
            format!("many://t{i}/{{id}}"),
            |_| async { "t" },
        ));
    }
    let server = builder.build().expect("builds");
    let server = TestServer::start_with(server, &issuer).expect("starts");
    (issuer, server)
}

#[actix_web::test]
async fn listings_page_with_opaque_cursors() {
    let (issuer, server) = many(false);
    let client = server
        .client()
        .with_token(issuer.token().subject("pager").sign().expect("token"));
    let (resources, pages) = every_page(&client, "resources/list", "resources").await;
    assert_eq!(
        resources,
        (0..5).map(|i| format!("many://r/{i}")).collect::<Vec<_>>()
    );
    assert_eq!(pages, 3);
    let (templates, pages) =
        every_page(&client, "resources/templates/list", "resourceTemplates").await;
    assert_eq!(
        templates,
        (0..3)
            .map(|i| format!("many://t{i}/{{id}}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(pages, 2);
    let (prompts, pages) = every_page(&client, "prompts/list", "prompts").await;
    assert_eq!(prompts, ["p0", "p1", "p2", "p3", "p4"]);
    assert_eq!(pages, 3);

    let first = client
        .rpc("prompts/list", json!({}))
        .await
        .expect("first page");
    let prompts_cursor = first["nextCursor"].as_str().expect("a cursor").to_owned();
    for (method, cursor) in [
        ("resources/list", "not a cursor".to_owned()),
        ("resources/templates/list", String::new()),
        ("prompts/list", "cHJvbXB0czo5OQ".to_owned()), // `prompts:99`, past the end
        // A cursor of one listing means nothing to another.
        ("resources/list", prompts_cursor.clone()),
        ("resources/templates/list", prompts_cursor),
    ] {
        let refused = client
            .rpc(method, json!({ "cursor": cursor }))
            .await
            .expect_err(method);
        assert!(
            matches!(refused, ClientError::Rpc { code: -32602, .. }),
            "{method} with {cursor:?}: {refused:?}"
        );
    }
}

#[actix_web::test]
async fn hidden_entries_leave_no_gaps_in_pages() {
    let (issuer, server) = many(true);
    let client = server
        .client()
        .with_token(issuer.token().subject("pager").sign().expect("token"));
    let (resources, _) = every_page(&client, "resources/list", "resources").await;
    assert_eq!(resources, ["many://r/0", "many://r/2", "many://r/4"]);
    let (prompts, pages) = every_page(&client, "prompts/list", "prompts").await;
    assert_eq!(prompts, ["p0", "p2", "p4"]);
    assert_eq!(pages, 2);
    let insider = server.client().with_token(
        issuer
            .token()
            .subject("insider")
            .scopes(["secret"])
            .sign()
            .expect("token"),
    );
    let (prompts, _) = every_page(&insider, "prompts/list", "prompts").await;
    assert_eq!(prompts, ["p0", "p1", "p2", "p3", "p4"]);
}
