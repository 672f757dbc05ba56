//! The preset providers (Okta, Microsoft Entra ID, AWS Cognito, Zitadel,
//! Clerk, Descope, Better Auth, Scalekit), each against a loopback identity provider
//! shaped like the real one: its issuer and key paths, a discovery document
//! at the issuer, and tokens with its claim shapes and audience rule. Each
//! runs `cargo run --example presets` with `PROVIDER` and the provider's own
//! variables alone, then checks the caller's fields, a 200 and a 403 on
//! scoped tools, and 401 for another issuer, another audience and a key the
//! provider does not publish (and the provider's own traps: a Cognito ID
//! token, an Okta token for another client). Google and GitHub, whose
//! tokens are not JWTs, against loopback endpoints shaped like Google's
//! token information and GitHub's check-a-token API.

mod support;

use serde_json::{Value, json};
use support::example::Example;
use support::shaped_idp::{Layout, ShapedIdp, Signer, patch, sign};
use support::stateless_tool_call as call;

/// One preset: where its provider publishes, how it is configured, and
/// what its tokens look like.
struct Preset {
    provider: &'static str,
    layout: Layout,
    /// Its variables, `{base}` standing for the loopback provider's URL
    /// and `{url}` for the MCP server's.
    vars: &'static [(&'static str, &'static str)],
    /// A token's claims for a user with `scope` (the `iss`, `iat` and `exp`
    /// are added), `{url}` standing for the MCP server's URL.
    claims: fn(scope: &str) -> Value,
    /// The claim the audience is read from.
    audience_claim: &'static str,
    /// The caller's fields, as `get-user-info` shows them, with the
    /// `user:write` scope.
    user: fn() -> Value,
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

const PRESETS: &[Preset] = &[
    Preset {
        provider: "okta",
        layout: Layout {
            issuer_path: "/oauth2/default",
            jwks_path: "/oauth2/default/v1/keys",
            metadata_paths: &["/oauth2/default/.well-known/openid-configuration"],
            endpoints: &[
                ("authorization_endpoint", "/oauth2/default/v1/authorize"),
                ("token_endpoint", "/oauth2/default/v1/token"),
            ],
            keys: &[Signer::Rs256],
        },
        vars: &[
            ("MCP_OAUTH_OKTA_DOMAIN", "{base}"),
            ("MCP_OAUTH_OKTA_CLIENT_ID", "0oa1clientid"),
        ],
        claims: |scope| {
            json!({
                "ver": 1, "jti": "AT.x", "sub": "ada@example.com", "uid": "00u1userid",
                "cid": "0oa1clientid", "aud": "api://default",
                "scp": scope.split(' ').collect::<Vec<_>>(), "groups": ["Everyone", "ops"],
            })
        },
        audience_claim: "aud",
        user: || {
            json!({"user_id": "00u1userid", "username": "ada@example.com",
                "roles": ["Everyone", "ops"], "scopes": ["user:write"], "client_id": "0oa1clientid",
                "organization": null, "extra": {}})
        },
    },
    Preset {
        provider: "entra",
        layout: Layout {
            issuer_path: "/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            jwks_path: "/72f988bf-86f1-41af-91ab-2d7cd011db47/discovery/v2.0/keys",
            metadata_paths: &[
                "/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration",
            ],
            endpoints: &[
                (
                    "authorization_endpoint",
                    "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/authorize",
                ),
                (
                    "token_endpoint",
                    "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
                ),
            ],
            keys: &[Signer::Rs256],
        },
        vars: &[
            ("MCP_OAUTH_ENTRA_AUTHORITY", "{base}"),
            ("MCP_OAUTH_ENTRA_TENANT_ID", TENANT),
            (
                "MCP_OAUTH_ENTRA_CLIENT_ID",
                "6e74172b-be56-4843-9ff4-e66a39bb12e3",
            ),
            ("MCP_OAUTH_ENTRA_APP_ID_URI", "api://mcp.example.com"),
        ],
        claims: |scope| {
            json!({
                "ver": "2.0", "sub": "pairwise-sub", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
                "tid": TENANT, "aud": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
                "azp": "11111111-2222-3333-4444-555555555555", "scp": scope,
                "roles": ["Reports.Read"], "name": "Ada Lovelace", "preferred_username": "ada@contoso.com",
            })
        },
        audience_claim: "aud",
        user: || {
            json!({"user_id": "pairwise-sub", "name": "Ada Lovelace", "username": "ada@contoso.com",
                "roles": ["Reports.Read"], "scopes": ["user:write"],
                "client_id": "11111111-2222-3333-4444-555555555555",
                "organization": TENANT, "extra": {"oid": "00000000-0000-0000-66f3-3332eca7ea81"}})
        },
    },
    Preset {
        provider: "cognito",
        layout: Layout {
            issuer_path: "/eu-west-1_Test123",
            jwks_path: "/eu-west-1_Test123/.well-known/jwks.json",
            metadata_paths: &["/eu-west-1_Test123/.well-known/openid-configuration"],
            endpoints: &[
                ("authorization_endpoint", "/oauth2/authorize"),
                ("token_endpoint", "/oauth2/token"),
            ],
            keys: &[Signer::Rs256],
        },
        vars: &[
            ("MCP_OAUTH_COGNITO_ENDPOINT", "{base}"),
            ("MCP_OAUTH_COGNITO_REGION", "eu-west-1"),
            ("MCP_OAUTH_COGNITO_USER_POOL_ID", "eu-west-1_Test123"),
            ("MCP_OAUTH_COGNITO_CLIENT_ID", "1example23456789"),
        ],
        claims: |scope| {
            json!({
                "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "token_use": "access",
                "client_id": "1example23456789", "username": "ada", "scope": scope,
                "cognito:groups": ["admins-group"],
            })
        },
        audience_claim: "client_id",
        user: || {
            json!({"user_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "username": "ada",
                "roles": ["admins-group"], "scopes": ["user:write"], "client_id": "1example23456789",
                "organization": null, "extra": {}})
        },
    },
    Preset {
        provider: "zitadel",
        layout: Layout {
            issuer_path: "",
            jwks_path: "/oauth/v2/keys",
            metadata_paths: &["/.well-known/openid-configuration"],
            endpoints: &[
                ("authorization_endpoint", "/oauth/v2/authorize"),
                ("token_endpoint", "/oauth/v2/token"),
            ],
            keys: &[Signer::Rs256],
        },
        vars: &[
            ("MCP_OAUTH_ZITADEL_ISSUER", "{base}"),
            ("MCP_OAUTH_ZITADEL_PROJECT_ID", "263487229187965203"),
            ("MCP_OAUTH_ZITADEL_CLIENT_ID", "263487229187965204"),
        ],
        claims: |scope| {
            json!({
                "sub": "263487300000000001", "aud": ["263487229187965204", "263487229187965203"],
                "azp": "263487229187965204", "scope": scope, "preferred_username": "ada@acme.zitadel.cloud",
                "urn:zitadel:iam:org:project:roles": {"reporter": {"263487100000000001": "acme.zitadel.cloud"}},
                "urn:zitadel:iam:user:resourceowner:id": "263487100000000001",
                "urn:zitadel:iam:user:resourceowner:name": "ACME",
            })
        },
        audience_claim: "aud",
        user: || {
            json!({"user_id": "263487300000000001", "username": "ada@acme.zitadel.cloud",
                "roles": ["reporter"], "scopes": ["user:write"], "client_id": "263487229187965204",
                "organization": "263487100000000001",
                "extra": {"urn:zitadel:iam:user:resourceowner:name": "ACME"}})
        },
    },
    Preset {
        provider: "clerk",
        layout: Layout {
            issuer_path: "",
            jwks_path: "/.well-known/jwks.json",
            metadata_paths: &[
                "/.well-known/openid-configuration",
                "/.well-known/oauth-authorization-server",
            ],
            endpoints: &[
                ("authorization_endpoint", "/oauth/authorize"),
                ("token_endpoint", "/oauth/token"),
                ("registration_endpoint", "/oauth/register"),
            ],
            keys: &[Signer::Rs256],
        },
        vars: &[("MCP_OAUTH_CLERK_FRONTEND_API", "{base}")],
        claims: |scope| {
            json!({
                "sub": "user_2abc", "client_id": "oauthapp_1", "aud": "{url}", "scope": scope,
                "org_id": "org_2xyz", "jti": "oat_1",
            })
        },
        audience_claim: "aud",
        user: || {
            json!({"user_id": "user_2abc", "roles": [], "scopes": ["user:write"],
                "client_id": "oauthapp_1", "organization": "org_2xyz", "extra": {}})
        },
    },
    Preset {
        provider: "descope",
        layout: Layout {
            issuer_path: "/v1/apps/agentic/P2abc/MS2def",
            jwks_path: "/v2/keys/P2abc",
            metadata_paths: &["/v1/apps/agentic/P2abc/MS2def/.well-known/openid-configuration"],
            endpoints: &[
                ("authorization_endpoint", "/oauth2/v1/apps/authorize"),
                ("token_endpoint", "/oauth2/v1/apps/token"),
            ],
            keys: &[Signer::Rs256],
        },
        vars: &[(
            "MCP_OAUTH_DESCOPE_ISSUER",
            "{base}/v1/apps/agentic/P2abc/MS2def",
        )],
        claims: |scope| {
            json!({
                "sub": "U2user", "aud": ["{url}", "P2abc"], "azp": "TPclient", "scope": scope,
                "roles": ["viewer"], "permissions": ["read"], "dct": "T2tenant",
                "tenants": {"T2tenant": {"roles": ["tenant-admin"], "permissions": ["write"]},
                            "T9other": {"roles": ["owner"]}},
            })
        },
        audience_claim: "aud",
        user: || {
            json!({"user_id": "U2user", "roles": ["viewer", "tenant-admin"],
                "permissions": ["read", "write"], "scopes": ["user:write"], "client_id": "TPclient",
                "organization": "T2tenant", "extra": {}})
        },
    },
    Preset {
        provider: "better_auth",
        layout: Layout {
            issuer_path: "/api/auth",
            jwks_path: "/api/auth/jwks",
            metadata_paths: &[
                "/api/auth/.well-known/openid-configuration",
                "/.well-known/oauth-authorization-server/api/auth",
            ],
            endpoints: &[
                ("authorization_endpoint", "/api/auth/oauth2/authorize"),
                ("token_endpoint", "/api/auth/oauth2/token"),
                ("registration_endpoint", "/api/auth/oauth2/register"),
            ],
            keys: &[Signer::Rs256, Signer::Es256],
        },
        vars: &[("MCP_OAUTH_BETTER_AUTH_ISSUER", "{base}/api/auth")],
        claims: |scope| {
            json!({
                "sub": "ba-user-1", "aud": "{url}", "azp": "ba-client", "scope": scope,
                "sid": "ba-session-1",
            })
        },
        audience_claim: "aud",
        user: || {
            json!({"user_id": "ba-user-1", "roles": [], "scopes": ["user:write"],
                "client_id": "ba-client", "organization": null, "extra": {"sid": "ba-session-1"}})
        },
    },
    Preset {
        provider: "scalekit",
        layout: Layout {
            issuer_path: "",
            jwks_path: "/keys",
            metadata_paths: &[
                "/.well-known/openid-configuration",
                "/.well-known/oauth-authorization-server",
            ],
            endpoints: &[
                ("authorization_endpoint", "/oauth/authorize"),
                ("token_endpoint", "/oauth/token"),
                ("registration_endpoint", "/resources/res_123/register"),
            ],
            keys: &[Signer::Rs256],
        },
        vars: &[
            ("MCP_OAUTH_SCALEKIT_ENVIRONMENT_URL", "{base}"),
            ("MCP_OAUTH_SCALEKIT_AUDIENCE", "res_123"),
        ],
        claims: |scope| {
            json!({
                "sub": "usr_1", "aud": ["res_123"], "client_id": "skc_1", "scope": scope,
                "oid": "org_1", "sid": "ses_1", "roles": ["admin"], "permissions": ["users:read"],
                "xuid": "ext-user-1",
            })
        },
        audience_claim: "aud",
        user: || {
            json!({"user_id": "usr_1", "roles": ["admin"], "permissions": ["users:read"],
                "scopes": ["user:write"], "client_id": "skc_1", "organization": "org_1",
                "extra": {"sid": "ses_1", "xuid": "ext-user-1"}})
        },
    },
];

/// `value` with `{base}` and `{url}` filled in, in every string.
fn filled(value: Value, base: &str, url: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("{base}", base).replace("{url}", url)),
        Value::Array(items) => items.into_iter().map(|v| filled(v, base, url)).collect(),
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| (k, filled(v, base, url)))
            .collect(),
        other => other,
    }
}

/// The caller's fields `get-user-info` shows for `token`.
async fn user_info(url: &str, token: &str) -> Value {
    let reply = call(url, token, "get-user-info").await;
    assert_eq!(
        reply.status,
        200,
        "{} {}",
        reply.www_authenticate(),
        reply.body
    );
    reply.rpc().unwrap_or_default()["result"]["structuredContent"].clone()
}

/// `token` is refused with 401 invalid_token, saying `why`.
async fn refused(url: &str, token: &str, why: &str, case: &str) {
    let reply = call(url, token, "get-user-info").await;
    assert_eq!(reply.status, 401, "{case}: {}", reply.body);
    let challenge = reply.www_authenticate();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\"") && challenge.contains(why),
        "{case}: refused, but not because {why:?}: {challenge}"
    );
}

async fn check(preset: &Preset) {
    let idp = ShapedIdp::start(&preset.layout);
    let vars: Vec<(&str, String)> = std::iter::once(("PROVIDER", preset.provider.to_owned()))
        .chain(
            preset
                .vars
                .iter()
                .map(|(k, v)| (*k, v.replace("{base}", &idp.base))),
        )
        .collect();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let example = Example::start("presets", &vars);
    let url = example.url.as_str();
    let claims = |scope: &str| idp.claims(filled((preset.claims)(scope), &idp.base, url));
    let name = preset.provider;

    let writer = sign(Signer::Rs256, &claims("user:write"));
    let shown = user_info(url, &writer).await;
    let expected = (preset.user)();
    for (field, value) in expected.as_object().expect("an object") {
        assert_eq!(&shown[field], value, "{name}: `{field}` of {shown:#}");
    }
    let reply = call(url, &writer, "manage-users").await;
    assert_eq!(reply.status, 200, "{name}: {}", reply.body);
    let reply = call(url, &writer, "admin-action").await;
    assert_eq!(reply.status, 403, "{name}: {}", reply.body);
    let admin = sign(Signer::Rs256, &claims("admin"));
    let reply = call(url, &admin, "admin-action").await;
    assert_eq!(reply.status, 200, "{name}: {}", reply.body);

    let good = claims("user:write");
    let audience = preset.audience_claim;
    refused(
        url,
        &sign(
            Signer::Rs256,
            &patch(&good, json!({"iss": format!("{}/elsewhere", idp.base)})),
        ),
        "untrusted issuer",
        &format!("{name}: another issuer"),
    )
    .await;
    refused(
        url,
        &sign(
            Signer::Rs256,
            &patch(&good, json!({audience: "https://api.example.com"})),
        ),
        "not issued for this server",
        &format!("{name}: another audience"),
    )
    .await;
    refused(
        url,
        &sign(Signer::Stranger, &good),
        "signature is invalid",
        &format!("{name}: a key the provider does not publish"),
    )
    .await;
    match name {
        "cognito" => {
            let id_token = patch(&good, json!({"token_use": "id"}));
            refused(
                url,
                &sign(Signer::Rs256, &id_token),
                "`token_use` is not `access`",
                "cognito: an ID token",
            )
            .await;
        }
        "okta" => {
            let other_client = patch(&good, json!({"cid": "0oa2another"}));
            refused(
                url,
                &sign(Signer::Rs256, &other_client),
                "`cid` is not `0oa1clientid`",
                "okta: a token of another client",
            )
            .await;
        }
        "scalekit" => {
            // Clients are sent to the resource's own authorization server.
            let origin = url.strip_suffix("/mcp").expect("an /mcp endpoint");
            let resource: Value =
                reqwest::get(format!("{origin}/.well-known/oauth-protected-resource/mcp"))
                    .await
                    .expect("the server answers")
                    .json()
                    .await
                    .expect("JSON");
            assert_eq!(
                resource["authorization_servers"],
                json!([format!("{}/resources/res_123", idp.base)]),
                "{resource}"
            );
        }
        "zitadel" => {
            // Another client of the instance asking for this project.
            let other = patch(&good, json!({"azp": "999999999999999999"}));
            refused(
                url,
                &sign(Signer::Rs256, &other),
                "`azp` is not `263487229187965204`",
                "zitadel: a token of another project's client",
            )
            .await;
        }
        "entra" => {
            // Neither `scp` nor `roles`: an ID token, or an app granted nothing.
            let mut bare = good.clone();
            let claims = bare.as_object_mut().expect("claims");
            claims.remove("scp");
            claims.remove("roles");
            refused(
                url,
                &sign(Signer::Rs256, &bare),
                "carries none of `scp`, `roles`",
                "entra: a token granting nothing",
            )
            .await;
        }
        "better_auth" => {
            // Its documents name ES256 too: a key of either kind.
            let es = sign(Signer::Es256, &good);
            assert_eq!(user_info(url, &es).await["user_id"], "ba-user-1");
        }
        _ => {}
    }
}

#[actix_web::test]
async fn every_preset_against_a_provider_shaped_like_it() {
    for preset in PRESETS {
        check(preset).await;
    }
}

#[test]
fn a_preset_without_its_settings_says_what_to_set() {
    for (provider, needed) in [
        ("okta", "MCP_OAUTH_OKTA_DOMAIN"),
        ("entra", "MCP_OAUTH_ENTRA_TENANT_ID"),
        ("cognito", "MCP_OAUTH_COGNITO_REGION"),
        ("zitadel", "MCP_OAUTH_ZITADEL_ISSUER"),
        ("clerk", "MCP_OAUTH_CLERK_FRONTEND_API"),
        ("descope", "MCP_OAUTH_DESCOPE_ISSUER"),
        ("better_auth", "MCP_OAUTH_BETTER_AUTH_ISSUER"),
        ("scalekit", "MCP_OAUTH_SCALEKIT_ENVIRONMENT_URL"),
    ] {
        let (status, _, stderr) =
            support::example::run_to_exit("presets", &[("PROVIDER", provider)]);
        assert_eq!(status, Some(2), "{provider}: {stderr}");
        assert!(
            stderr.contains(&format!("{needed} is not set; set it like {needed}=")),
            "{provider}: {stderr}"
        );
    }
    let (status, _, stderr) = support::example::run_to_exit(
        "presets",
        &[
            ("PROVIDER", "okta"),
            ("MCP_OAUTH_OKTA_DOMAIN", "dev-1.okta.com"),
        ],
    );
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("MCP_OAUTH_OKTA_CLIENT_ID must name this server's application"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// Google and GitHub: opaque tokens, checked by asking the provider.

const GOOGLE_CLIENT: &str = "1234567890-abc.apps.googleusercontent.com";
const GITHUB_CLIENT: &str = "Iv1.0123456789abcdef";
const GITHUB_SECRET: &str = "github-app-secret";

/// Google's token information and GitHub's check-a-token API, on
/// loopback, knowing a few tokens; counts the questions.
struct OpaqueProviders {
    base: String,
    asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

fn opaque_providers() -> OpaqueProviders {
    use actix_web::{HttpRequest, HttpResponse, web};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let asked = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&asked);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || {
                let google = std::sync::Arc::clone(&counter);
                let github = std::sync::Arc::clone(&counter);
                actix_web::App::new()
                    .route(
                        "/tokeninfo",
                        web::post().to(move |form: web::Form<std::collections::HashMap<String, String>>| {
                            google.fetch_add(1, Ordering::SeqCst);
                            let exp = (support::shaped_idp::now() + 3600).to_string();
                            let info = |aud: &str, scope: &str| {
                                json!({"aud": aud, "azp": aud, "sub": "110169484474386276334",
                                    "email": "ada@gmail.com", "email_verified": "true",
                                    "scope": scope, "exp": exp, "expires_in": "3599",
                                    "access_type": "online"})
                            };
                            let answer = match form.get("access_token").map(String::as_str) {
                                Some("ya29.writer") => Some(info(GOOGLE_CLIENT, "openid email user:write")),
                                Some("ya29.admin") => Some(info(GOOGLE_CLIENT, "openid admin")),
                                Some("ya29.other-client") => Some(info("999-other.apps.googleusercontent.com", "user:write")),
                                _ => None,
                            };
                            async move {
                                match answer {
                                    Some(info) => HttpResponse::Ok().json(info),
                                    None => HttpResponse::BadRequest()
                                        .json(json!({"error": "invalid_token", "error_description": "Invalid Value"})),
                                }
                            }
                        }),
                    )
                    .route(
                        "/applications/{client_id}/token",
                        web::post().to(move |req: HttpRequest, body: web::Json<Value>| {
                            github.fetch_add(1, Ordering::SeqCst);
                            use base64::Engine as _;
                            let expected = format!(
                                "Basic {}",
                                base64::engine::general_purpose::STANDARD
                                    .encode(format!("{GITHUB_CLIENT}:{GITHUB_SECRET}"))
                            );
                            let authorized = req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                == Some(expected.as_str())
                                && req.match_info().get("client_id") == Some(GITHUB_CLIENT)
                                && req.headers().contains_key("user-agent");
                            let token = |scopes: &[&str]| {
                                json!({"id": 1, "scopes": scopes, "token": "gho_...",
                                    "app": {"client_id": GITHUB_CLIENT, "name": "mcp"},
                                    "user": {"login": "octocat", "id": 583231,
                                        "avatar_url": "https://avatars.githubusercontent.com/u/583231"},
                                    "expires_at": null})
                            };
                            let answer = match body["access_token"].as_str() {
                                Some("gho_writer") => Some(token(&["user:write", "read:user"])),
                                Some("gho_admin") => Some(token(&["admin"])),
                                _ => None,
                            };
                            async move {
                                match (authorized, answer) {
                                    (false, _) => HttpResponse::Unauthorized().json(json!({"message": "Bad credentials"})),
                                    (true, Some(token)) => HttpResponse::Ok().json(token),
                                    (true, None) => HttpResponse::NotFound().json(json!({"message": "Not Found"})),
                                }
                            }
                        }),
                    )
            })
            .workers(1)
            .listen(listener)
            .expect("listen")
            .run()
            .await
        })
    });
    OpaqueProviders { base, asked }
}

#[actix_web::test]
async fn google_and_github_tokens_are_checked_with_the_provider() {
    use std::sync::atomic::Ordering;
    let fake = opaque_providers();
    let tokeninfo = format!("{}/tokeninfo", fake.base);
    let google = Example::start(
        "presets",
        &[
            ("PROVIDER", "google"),
            ("MCP_OAUTH_GOOGLE_CLIENT_ID", GOOGLE_CLIENT),
            ("MCP_OAUTH_GOOGLE_CLIENT_SECRET", "google-secret"),
            ("MCP_OAUTH_GOOGLE_TOKENINFO_URL", &tokeninfo),
        ],
    );
    let url = google.url.as_str();
    let shown = user_info(url, "ya29.writer").await;
    assert_eq!(shown["user_id"], "110169484474386276334", "{shown}");
    assert_eq!(shown["email"], "ada@gmail.com");
    assert_eq!(shown["client_id"], GOOGLE_CLIENT);
    assert_eq!(call(url, "ya29.writer", "manage-users").await.status, 200);
    assert_eq!(call(url, "ya29.writer", "admin-action").await.status, 403);
    assert_eq!(call(url, "ya29.admin", "admin-action").await.status, 200);
    // Three calls with the writer's token, one question to Google.
    assert_eq!(fake.asked.load(Ordering::SeqCst), 2, "one per token");
    refused(
        url,
        "ya29.other-client",
        "not issued for this server",
        "google: another client's token",
    )
    .await;
    refused(
        url,
        "ya29.unknown",
        "does not know this token",
        "google: an unknown token",
    )
    .await;

    let github = Example::start(
        "presets",
        &[
            ("PROVIDER", "github"),
            ("MCP_OAUTH_GITHUB_CLIENT_ID", GITHUB_CLIENT),
            ("MCP_OAUTH_GITHUB_CLIENT_SECRET", GITHUB_SECRET),
            ("MCP_OAUTH_GITHUB_WEB_URL", &fake.base),
            ("MCP_OAUTH_GITHUB_API_URL", &fake.base),
        ],
    );
    let url = github.url.as_str();
    let shown = user_info(url, "gho_writer").await;
    assert_eq!(shown["user_id"], "583231", "{shown}");
    assert_eq!(shown["username"], "octocat");
    assert_eq!(shown["scopes"], json!(["user:write", "read:user"]));
    assert_eq!(call(url, "gho_writer", "manage-users").await.status, 200);
    assert_eq!(call(url, "gho_writer", "admin-action").await.status, 403);
    assert_eq!(call(url, "gho_admin", "admin-action").await.status, 200);
    refused(
        url,
        "gho_of_another_app",
        "does not know this token",
        "github: another app's token",
    )
    .await;
    // Proxy mode: clients are sent here, and on to GitHub's sign-in.
    let origin = url.strip_suffix("/mcp").expect("an /mcp endpoint");
    let resource: Value =
        reqwest::get(format!("{origin}/.well-known/oauth-protected-resource/mcp"))
            .await
            .expect("answers")
            .json()
            .await
            .expect("JSON");
    assert_eq!(resource["authorization_servers"], json!([origin]));

    // With the wrong secret GitHub answers 401: nothing is let through,
    // and the client is told to retry rather than sign in again.
    let misconfigured = Example::start(
        "presets",
        &[
            ("PROVIDER", "github"),
            ("MCP_OAUTH_GITHUB_CLIENT_ID", GITHUB_CLIENT),
            ("MCP_OAUTH_GITHUB_CLIENT_SECRET", "not-the-secret-4f9a"),
            ("MCP_OAUTH_GITHUB_WEB_URL", &fake.base),
            ("MCP_OAUTH_GITHUB_API_URL", &fake.base),
        ],
    );
    let reply = call(&misconfigured.url, "gho_writer", "get-user-info").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(reply.header("retry-after").is_some());
    assert!(
        !misconfigured.output().contains("wrong"),
        "the secret was printed"
    );
}
