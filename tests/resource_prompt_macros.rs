//! `#[mcp_resource]` and `#[mcp_prompt]` inside `#[mcp_server]` and on free
//! functions: fixed and templated resources with typed URI parameters,
//! prompts with typed required and optional arguments, access keys enforced
//! with 403, the caller as `&Auth`/`Option<&Auth>`, and completion functions
//! named in `complete(...)`.

use mcp_runtime::completion::prefix_matches;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, TestClient, TestIssuer, TestServer};
use serde_json::{Value, json};

/// The text of the first content `client` reads at `uri`.
async fn read_text(client: &TestClient, uri: &str) -> Value {
    let read = client
        .read_resource(uri)
        .await
        .unwrap_or_else(|e| panic!("read {uri}: {e:?}"));
    read.contents[0]["text"].clone()
}

/// The text of the first message of prompt `name` with `arguments`.
async fn prompt_text(client: &TestClient, name: &str, arguments: Value) -> Value {
    let got = client
        .get_prompt(name, arguments)
        .await
        .unwrap_or_else(|e| panic!("prompt {name}: {e:?}"));
    got.messages[0]["content"]["text"].clone()
}

struct Library {
    greeting: String,
}

#[mcp_server(name = "library", version = "0.1.0", oauth = auth0)]
impl Library {
    /// The greeting.
    #[mcp_resource(uri = "lib://greeting", name = "greeting", mime_type = "text/plain")]
    async fn greeting(&self) -> String {
        self.greeting.clone()
    }

    /// A page of a book.
    #[mcp_resource(uri = "lib://books/{book}/pages/{page}", mime_type = "text/plain")]
    async fn page(book: String, page: u32, ctx: &RequestContext) -> String {
        let _ = ctx.request_id();
        format!("{book}, page {page}")
    }

    /// The logo.
    #[mcp_resource(uri = "lib://logo", mime_type = "image/png", scopes = "lib:secret")]
    async fn logo() -> Blob {
        Blob(vec![1, 2, 3])
    }

    /// Summarizes a book.
    #[mcp_prompt(name = "summarize")]
    async fn summarize(
        &self,
        /// The book.
        book: String,
        #[arg(description = "How many words")] words: Option<u32>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::user_text(format!(
            "{} Summarize {book} in {} words.",
            self.greeting,
            words.unwrap_or(100)
        ))]
    }

    /// A secret prompt.
    #[mcp_prompt(scopes = ["lib:secret"])]
    async fn secret_prompt() -> &'static str {
        "psst"
    }
}

#[actix_web::test]
async fn macro_resources_and_prompts_are_served() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Library {
        greeting: "Hello.".into(),
    }
    .into_mcp_builder()
    .oauth(issuer.provider())
    .build()
    .expect("builds");
    let server = TestServer::start_with(server, &issuer).expect("starts");
    let token = issuer.token().subject("u").sign().expect("token");
    let client = server.client().with_token(token);

    let listed = client.rpc("resources/list", json!({})).await.expect("list");
    assert_eq!(listed["resources"][0]["name"], "greeting");
    assert_eq!(listed["resources"][0]["description"], "The greeting.");
    let text = client.read_resource("lib://greeting").await.expect("read");
    assert_eq!(text.contents[0]["text"], "Hello.");
    assert_eq!(text.mime_type(), Some("text/plain"));
    let templates = client
        .rpc("resources/templates/list", json!({}))
        .await
        .expect("templates");
    assert_eq!(
        templates["resourceTemplates"][0]["uriTemplate"],
        "lib://books/{book}/pages/{page}"
    );
    assert_eq!(
        read_text(&client, "lib://books/dune/pages/3").await,
        "dune, page 3"
    );
    let bad = client
        .read_resource("lib://books/dune/pages/three")
        .await
        .expect_err("not a number");
    assert!(
        matches!(bad, ClientError::Rpc { code: -32602, .. }),
        "{bad:?}"
    );

    let prompts = client
        .rpc("prompts/list", json!({}))
        .await
        .expect("prompts");
    assert_eq!(
        prompts["prompts"][0],
        json!({
            "name": "summarize",
            "description": "Summarizes a book.",
            "arguments": [
                {"name": "book", "description": "The book.", "required": true},
                {"name": "words", "description": "How many words", "required": false}
            ]
        })
    );
    assert_eq!(
        prompt_text(&client, "summarize", json!({"book": "Dune", "words": "12"})).await,
        "Hello. Summarize Dune in 12 words."
    );
    let bad = client
        .get_prompt("summarize", json!({"book": "Dune", "words": "many"}))
        .await
        .expect_err("not a number");
    assert!(
        matches!(bad, ClientError::Rpc { code: -32602, .. }),
        "{bad:?}"
    );

    for (method, params) in [
        ("resources/read", json!({"uri": "lib://logo"})),
        ("prompts/get", json!({"name": "secret_prompt"})),
    ] {
        let refused = client.rpc(method, params).await.expect_err(method);
        assert!(
            matches!(&refused, ClientError::Forbidden { scopes, .. } if scopes == &["lib:secret"]),
            "{method}: {refused:?}"
        );
    }
}

/// Completion functions named in `complete(...)`.
fn complete_language(request: &CompletionRequest) -> Vec<String> {
    prefix_matches(["english", "french", "german"], request)
}

struct Notes;

#[mcp_server(name = "notes", version = "0.1.0", oauth = auth0)]
impl Notes {
    /// A note, read by its caller.
    #[mcp_resource(
        uri = "notes://{owner}/{id}",
        complete(owner = complete_language, id = Self::complete_id)
    )]
    async fn note(&self, owner: String, id: u32, auth: &Auth) -> String {
        format!("note {owner}/{id} for {}", auth.user.user_id)
    }

    /// Who is reading, if anyone.
    #[mcp_resource(uri = "notes://whoami")]
    async fn whoami(auth: Option<&Auth>) -> String {
        auth.map_or_else(|| "anonymous".to_owned(), |a| a.user.user_id.clone())
    }

    /// Greets the caller in a language.
    #[mcp_prompt(name = "greet", complete(language = complete_language))]
    async fn greet(&self, language: String, auth: &Auth) -> String {
        format!("Greet {} in {language}.", auth.user.user_id)
    }

    fn complete_id(request: &CompletionRequest) -> Vec<String> {
        prefix_matches(["1", "12", "2"], request)
    }
}

#[actix_web::test]
async fn auth_reaches_resources_and_prompts() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Notes
        .into_mcp_builder()
        .oauth(issuer.provider())
        .build()
        .expect("builds");
    let server = TestServer::start_with(server, &issuer).expect("starts");
    let alice = server
        .client()
        .with_token(issuer.token().subject("alice").sign().expect("token"));

    assert_eq!(
        read_text(&alice, "notes://bob/12").await,
        "note bob/12 for alice"
    );
    assert_eq!(read_text(&alice, "notes://whoami").await, "alice");
    assert_eq!(
        prompt_text(&alice, "greet", json!({"language": "french"})).await,
        "Greet alice in french."
    );

    // Without a token the endpoint refuses before any handler runs.
    let anonymous = server.client().without_token();
    for (method, params) in [
        ("resources/read", json!({"uri": "notes://bob/12"})),
        (
            "prompts/get",
            json!({"name": "greet", "arguments": {"language": "en"}}),
        ),
    ] {
        let refused = anonymous.rpc(method, params).await.expect_err(method);
        assert_eq!(refused.status(), Some(401), "{method}: {refused:?}");
    }
}

#[test]
fn auth_makes_the_caller_required() {
    // `&Auth` becomes part of the access rule, so the runtime refuses a
    // request without a caller (401 at the endpoint, then the dispatcher)
    // and a server that authenticates no one does not build.
    let Err(error) = Notes.into_mcp_builder().oauth(OAuth::none()).build() else {
        panic!("a server that authenticates no one serves no `&Auth` resource");
    };
    let error = error.to_string();
    assert!(error.contains("notes://{owner}/{id}"), "{error}");
    assert!(error.contains("greet"), "{error}");
    assert!(
        !error.contains("whoami"),
        "Option<&Auth> allows anonymous: {error}"
    );
}

#[actix_web::test]
async fn named_completion_functions_answer() {
    let issuer = TestIssuer::new().expect("issuer");
    let server = Notes
        .into_mcp_builder()
        .oauth(issuer.provider())
        .build()
        .expect("builds");
    let server = TestServer::start_with(server, &issuer).expect("starts");
    let client = server
        .client()
        .with_token(issuer.token().subject("u").sign().expect("token"));
    let complete = |reference: serde_json::Value, name: &str, value: &str| json!({"ref": reference, "argument": {"name": name, "value": value}});
    for (params, expected) in [
        (
            complete(
                json!({"type": "ref/prompt", "name": "greet"}),
                "language",
                "f",
            ),
            json!(["french"]),
        ),
        (
            complete(
                json!({"type": "ref/resource", "uri": "notes://{owner}/{id}"}),
                "id",
                "1",
            ),
            json!(["1", "12"]),
        ),
        (
            complete(
                json!({"type": "ref/resource", "uri": "notes://{owner}/{id}"}),
                "owner",
                "g",
            ),
            json!(["german"]),
        ),
    ] {
        let answer = client
            .rpc("completion/complete", params.clone())
            .await
            .expect("complete");
        assert_eq!(answer["completion"]["values"], expected, "{params}");
    }
}

/// The readme, for anyone.
#[mcp_resource(uri = "docs://readme", name = "readme", mime_type = "text/markdown")]
async fn readme(auth: Option<&Auth>) -> String {
    format!(
        "# Readme for {}",
        auth.map_or("anonymous", |a| a.user.user_id.as_str())
    )
}

/// A chapter of the manual.
#[mcp_resource(uri = "docs://chapters/{n}", complete(n = complete_chapter))]
async fn chapter(n: u32, auth: &Auth) -> String {
    format!("chapter {n} for {}", auth.user.user_id)
}

fn complete_chapter(request: &CompletionRequest) -> Vec<String> {
    prefix_matches(["1", "2", "3"], request)
}

/// Explains a topic.
#[mcp_prompt(name = "explain", complete(topic = complete_language))]
async fn explain(
    /// The topic.
    topic: String,
    level: Option<u8>,
) -> Vec<PromptMessage> {
    vec![PromptMessage::user_text(format!(
        "Explain {topic} at level {}.",
        level.unwrap_or(1)
    ))]
}

#[actix_web::test]
async fn free_function_resources_and_prompts() {
    // The functions stay callable.
    assert_eq!(readme::call(None).await, "# Readme for anonymous");
    assert_eq!(
        explain::call("rust".into(), Some(3)).await[0],
        PromptMessage::user_text("Explain rust at level 3.")
    );
    assert!(chapter.into_resource_template().access().needs_caller());
    assert!(!readme.into_resource().access().needs_caller());

    let issuer = TestIssuer::new().expect("issuer");
    let server = McpServer::builder("docs", "0.1.0")
        .oauth(issuer.provider())
        .resource(readme)
        .resource_template(chapter)
        .prompt(explain)
        .build()
        .expect("builds");
    let server = TestServer::start_with(server, &issuer).expect("starts");
    let client = server
        .client()
        .with_token(issuer.token().subject("carol").sign().expect("token"));

    let listed = client.rpc("resources/list", json!({})).await.expect("list");
    assert_eq!(
        listed["resources"],
        json!([{
            "uri": "docs://readme",
            "name": "readme",
            "description": "The readme, for anyone.",
            "mimeType": "text/markdown"
        }])
    );
    assert_eq!(
        read_text(&client, "docs://readme").await,
        "# Readme for carol"
    );
    assert_eq!(
        read_text(&client, "docs://chapters/2").await,
        "chapter 2 for carol"
    );
    assert_eq!(
        prompt_text(&client, "explain", json!({"topic": "tides"})).await,
        "Explain tides at level 1."
    );
    let prompts = client
        .rpc("prompts/list", json!({}))
        .await
        .expect("prompts");
    assert_eq!(
        prompts["prompts"][0]["arguments"],
        json!([
            {"name": "topic", "description": "The topic.", "required": true},
            {"name": "level", "description": "", "required": false}
        ])
    );
    let completed = client
        .rpc(
            "completion/complete",
            json!({
                "ref": {"type": "ref/resource", "uri": "docs://chapters/{n}"},
                "argument": {"name": "n", "value": "3"}
            }),
        )
        .await
        .expect("complete");
    assert_eq!(completed["completion"]["values"], json!(["3"]));
}

#[actix_web::test]
async fn free_function_resources_serve_anonymous_callers() {
    let server = McpServer::builder("docs", "0.1.0")
        .resource(readme)
        .build()
        .expect("builds");
    let server = TestServer::start(server).expect("starts");
    assert_eq!(
        read_text(&server.client(), "docs://readme").await,
        "# Readme for anonymous"
    );
    let Err(unreachable) = McpServer::builder("docs", "0.1.0")
        .resource_template(chapter)
        .build()
    else {
        panic!("`&Auth` needs OAuth");
    };
    let unreachable = unreachable.to_string();
    assert!(unreachable.contains("docs://chapters/{n}"), "{unreachable}");
}
