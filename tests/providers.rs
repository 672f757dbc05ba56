//! Every built-in provider against a loopback identity provider shaped like
//! it: the provider's real paths under a base URL (JWK set and metadata
//! document), its signing algorithms, and tokens with its claim shapes,
//! signed with keys made for this test. Each provider is configured in code
//! (a server in this process) and from environment variables alone (its
//! example binary in a child process); the caller's fields come out right,
//! and tokens from another issuer or for another audience are refused.
//! Configuration errors name the variable, show an example, and never a secret.

mod support;

use mcp_runtime::testing::TestServer;

use support::stateless_tool_call as call;

#[path = "../examples/common/mod.rs"]
#[allow(dead_code)]
mod common;

use mcp_runtime::auth::{IntoOAuth, Mode};
use mcp_runtime::prelude::*;
use mcp_runtime::providers::{Auth0, Keycloak, Oidc, Supabase, WorkOs};
use serde_json::{Value, json};
use support::example::{Example, Vars, run_to_exit};
use support::shaped_idp::{Layout, ShapedIdp, Signer, now, patch, sign};

// ---------------------------------------------------------------------------
// Where each provider publishes its keys and metadata
// ---------------------------------------------------------------------------

const AUTH0: Layout = Layout {
    issuer_path: "/",
    jwks_path: "/.well-known/jwks.json",
    metadata_paths: &[
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ],
    endpoints: &[
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("registration_endpoint", "/oidc/register"),
        ("userinfo_endpoint", "/userinfo"),
    ],
    keys: &[Signer::Rs256],
};

const WORKOS: Layout = Layout {
    issuer_path: "",
    jwks_path: "/oauth2/jwks",
    metadata_paths: &[
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ],
    endpoints: &[
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("registration_endpoint", "/oauth2/register"),
    ],
    keys: &[Signer::Rs256],
};

const SUPABASE: Layout = Layout {
    issuer_path: "/auth/v1",
    jwks_path: "/auth/v1/.well-known/jwks.json",
    metadata_paths: &[
        "/.well-known/oauth-authorization-server/auth/v1",
        "/auth/v1/.well-known/openid-configuration",
    ],
    endpoints: &[
        ("authorization_endpoint", "/auth/v1/oauth/authorize"),
        ("token_endpoint", "/auth/v1/oauth/token"),
        ("registration_endpoint", "/auth/v1/oauth/clients/register"),
    ],
    // Projects may publish both an ES256 and an RS256 key.
    keys: &[Signer::Es256, Signer::Rs256],
};

const KEYCLOAK_REALM: &str = "acme";

const KEYCLOAK: Layout = Layout {
    issuer_path: "/realms/acme",
    jwks_path: "/realms/acme/protocol/openid-connect/certs",
    metadata_paths: &["/realms/acme/.well-known/openid-configuration"],
    endpoints: &[
        (
            "authorization_endpoint",
            "/realms/acme/protocol/openid-connect/auth",
        ),
        (
            "token_endpoint",
            "/realms/acme/protocol/openid-connect/token",
        ),
    ],
    keys: &[Signer::Rs256],
};

const CUSTOM: Layout = Layout {
    issuer_path: "",
    jwks_path: "/keys",
    metadata_paths: &["/.well-known/openid-configuration"],
    endpoints: &[],
    keys: &[Signer::Rs256, Signer::Es256],
};

// ---------------------------------------------------------------------------
// Talking to the MCP server
// ---------------------------------------------------------------------------

/// The structured result of `get-user-info` for `token`.
async fn user_info(url: &str, token: &str) -> Value {
    let reply = call(url, token, "get-user-info").await;
    let challenge = reply.www_authenticate();
    assert_eq!(reply.status, 200, "{challenge} {}", reply.body);
    let body = reply.rpc().unwrap_or_default();
    assert_ne!(body["result"]["isError"], true, "{}", reply.body);
    body["result"]["structuredContent"].clone()
}

/// The text of a successful call of `tool`.
async fn tool_text(url: &str, token: &str, tool: &str) -> String {
    let reply = call(url, token, tool).await;
    let challenge = reply.www_authenticate();
    assert_eq!(reply.status, 200, "{tool}: {challenge} {}", reply.body);
    let body = reply.rpc().unwrap_or_default();
    assert_ne!(body["result"]["isError"], true, "{}", reply.body);
    body["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `tool` answers 403 insufficient_scope naming `scope`.
async fn forbidden(url: &str, token: &str, tool: &str, scope: &str) {
    let reply = call(url, token, tool).await;
    assert_eq!(reply.status, 403, "{tool}: {}", reply.body);
    let challenge = reply.www_authenticate();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\""),
        "{tool}: {challenge}"
    );
    assert!(
        challenge.contains(&format!("scope=\"{scope}\"")),
        "{tool}: {challenge}"
    );
}

/// `token` is refused with 401 invalid_token, for the reason `why`.
async fn refused(url: &str, token: &str, why: &str, case: &str) {
    let reply = call(url, token, "get-user-info").await;
    assert_eq!(
        reply.status, 401,
        "{case}: accepted or wrongly refused: {}",
        reply.body
    );
    let challenge = reply.www_authenticate();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{case}: {challenge}"
    );
    assert!(
        challenge.contains(why) || reply.body.contains(why),
        "{case}: refused, but not because {why:?}: {challenge} {}",
        reply.body
    );
}

/// Each `(case, token, reason)` is refused with 401 for that reason.
async fn all_refused(url: &str, cases: &[(&str, String, &str)]) {
    for (case, token, why) in cases {
        refused(url, token, why, case).await;
    }
}

const WRONG_ISSUER: &str = "untrusted issuer";
const WRONG_AUDIENCE: &str = "not issued for this server";
const BAD_SIGNATURE: &str = "signature is invalid";
const WRONG_ALGORITHM: &str = "algorithm this server does not accept";
const NOT_ACCESS_TOKEN: &str = "not an access token";

/// In direct mode the protected resource names the provider, and its
/// metadata is served at this server's origin as the provider publishes it.
async fn discovery_points_at(url: &str, idp: &ShapedIdp) {
    let origin = url.strip_suffix("/mcp").expect("an /mcp endpoint");
    let get = |path: String| async move {
        let response = reqwest::get(&path).await.expect("the server answers");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        response.json::<Value>().await.expect("JSON")
    };
    let resource = get(format!("{origin}/.well-known/oauth-protected-resource/mcp")).await;
    assert_eq!(resource["resource"], url, "{resource}");
    assert_eq!(
        resource["authorization_servers"],
        json!([idp.issuer]),
        "{resource}"
    );
    let metadata = get(format!("{origin}/.well-known/oauth-authorization-server")).await;
    assert_eq!(metadata, idp.metadata);
}

/// A server in this process with the example tools and `provider`.
fn serve_in_process(provider: impl IntoOAuth) -> TestServer {
    let builder = McpServer::builder("providers-test", "1.0.0").oauth(provider);
    let server = common::with_tools(builder)
        .build()
        .expect("the server builds");
    TestServer::start(server).expect("the server starts")
}

// ---------------------------------------------------------------------------
// Auth0
// ---------------------------------------------------------------------------

const AUTH0_API: &str = "https://api.example.com";
const AUTH0_ROLES: &str = "https://example.com/roles";

/// An Auth0 access token's claims: RBAC permissions, an Action's namespaced
/// roles, and the API identifier plus the userinfo URL as audience.
fn auth0_claims(idp: &ShapedIdp, scope: &str) -> Value {
    idp.claims(json!({
        "sub": "auth0|64f1c0ffee",
        "aud": [AUTH0_API, format!("{}/userinfo", idp.base)],
        "azp": "dcr-client-1",
        "scope": scope,
        "permissions": ["read:reports", "user:write"],
        AUTH0_ROLES: ["editor", "support"],
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "nickname": "ada",
        "picture": "https://cdn.example.com/ada.png",
    }))
}

async fn auth0_scenario(url: &str, idp: &ShapedIdp) {
    let good = auth0_claims(idp, "openid profile email read:reports user:write");
    let token = sign(Signer::Rs256, &good);
    assert_eq!(
        user_info(url, &token).await,
        json!({
            "user_id": "auth0|64f1c0ffee",
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "username": null,
            "nickname": "ada",
            "picture": "https://cdn.example.com/ada.png",
            "roles": ["editor", "support"],
            "permissions": ["read:reports", "user:write"],
            "scopes": ["openid", "profile", "email", "read:reports", "user:write"],
            "client_id": "dcr-client-1",
            "organization": null,
            "extra": {},
        })
    );
    // The API identifier alone as audience (no openid scope) is accepted too.
    let api_only = sign(Signer::Rs256, &patch(&good, json!({"aud": AUTH0_API})));
    assert_eq!(
        user_info(url, &api_only).await["user_id"],
        "auth0|64f1c0ffee"
    );

    // Scopes guard the tools.
    assert_eq!(
        tool_text(url, &token, "manage-users").await,
        "auth0|64f1c0ffee may manage users"
    );
    forbidden(url, &token, "admin-action", "admin").await;
    let admin = sign(
        Signer::Rs256,
        &auth0_claims(idp, "openid read:reports admin"),
    );
    assert_eq!(
        tool_text(url, &admin, "admin-action").await,
        "admin-action done"
    );

    let rs = |patched: Value| sign(Signer::Rs256, &patch(&good, patched));
    let userinfo = format!("{}/userinfo", idp.base);
    all_refused(
        url,
        &[
            // Auth0's issuer ends with a slash: without it, it is another issuer.
            (
                "iss without the slash",
                rs(json!({"iss": idp.base})),
                WRONG_ISSUER,
            ),
            (
                "another tenant",
                rs(json!({"iss": "https://other-tenant.us.auth0.com/"})),
                WRONG_ISSUER,
            ),
            (
                "another API",
                rs(json!({"aud": ["https://other-api.example.com", userinfo]})),
                WRONG_AUDIENCE,
            ),
            (
                "userinfo audience only",
                rs(json!({"aud": userinfo})),
                WRONG_AUDIENCE,
            ),
            ("another key", sign(Signer::Stranger, &good), BAD_SIGNATURE),
            // Auth0 signs API tokens RS256: a token signed otherwise is not Auth0's.
            ("ES256", sign(Signer::Es256, &good), WRONG_ALGORITHM),
        ],
    )
    .await;
}

#[actix_web::test]
async fn auth0_configured_in_code() {
    let idp = ShapedIdp::start(&AUTH0);
    let server = serve_in_process(Auth0::new(&idp.base, AUTH0_API).roles_claim(AUTH0_ROLES));
    auth0_scenario(server.url(), &idp).await;
    discovery_points_at(server.url(), &idp).await;
}

#[actix_web::test]
async fn auth0_configured_from_the_environment_alone() {
    let idp = ShapedIdp::start(&AUTH0);
    let example = Example::start(
        "auth0",
        &[
            ("MCP_USE_OAUTH_AUTH0_DOMAIN", idp.base.as_str()),
            ("MCP_USE_OAUTH_AUTH0_AUDIENCE", AUTH0_API),
            ("MCP_USE_OAUTH_AUTH0_ROLES_CLAIM", AUTH0_ROLES),
        ],
    );
    auth0_scenario(&example.url, &idp).await;
    discovery_points_at(&example.url, &idp).await;
    example.printed_settings(
        &["MCP_USE_OAUTH_AUTH0_DOMAIN", "MCP_USE_OAUTH_AUTH0_AUDIENCE"],
        None,
    );

    // With an application's credentials (proxy mode) tokens are checked the same way.
    let secret = "auth0-client-secret-do-not-print";
    let example = Example::start(
        "auth0",
        &[
            ("MCP_USE_OAUTH_AUTH0_DOMAIN", idp.base.as_str()),
            ("MCP_USE_OAUTH_AUTH0_AUDIENCE", AUTH0_API),
            ("MCP_USE_OAUTH_AUTH0_ROLES_CLAIM", AUTH0_ROLES),
            ("MCP_USE_OAUTH_AUTH0_CLIENT_ID", "auth0-app-client"),
            ("MCP_USE_OAUTH_AUTH0_CLIENT_SECRET", secret),
        ],
    );
    auth0_scenario(&example.url, &idp).await;
    example.printed_settings(
        &["MCP_USE_OAUTH_AUTH0_CLIENT_ID=auth0-app-client"],
        Some(secret),
    );
}

// ---------------------------------------------------------------------------
// WorkOS
// ---------------------------------------------------------------------------

const WORKOS_CLIENT: &str = "client_01HENVIRONMENT";

/// An AuthKit access token: organization membership `role` and
/// `permissions`, `sid`, the requesting `client_id`, and `aud`.
fn workos_claims(idp: &ShapedIdp, aud: &str, scope: &str) -> Value {
    idp.claims(json!({
        "sub": "user_01HXYZUSER",
        "aud": aud,
        "org_id": "org_01HXYZORG",
        "role": "admin",
        "permissions": ["users:manage", "reports:read"],
        "sid": "session_01HXYZSESSION",
        "jti": "01HXYZTOKEN",
        "client_id": "client_01HDYNAMIC",
        "scope": scope,
    }))
}

/// `client_id`: the environment's client id, if configured.
async fn workos_scenario(url: &str, idp: &ShapedIdp, client_id: Option<&str>) {
    let good = workos_claims(idp, url, "openid profile email user:write");
    let token = sign(Signer::Rs256, &good);
    assert_eq!(
        user_info(url, &token).await,
        json!({
            "user_id": "user_01HXYZUSER",
            "email": null,
            "name": null,
            "username": null,
            "nickname": null,
            "picture": null,
            "roles": ["admin"],
            "permissions": ["users:manage", "reports:read"],
            "scopes": ["openid", "profile", "email", "user:write"],
            "client_id": "client_01HDYNAMIC",
            "organization": "org_01HXYZORG",
            "extra": {"sid": "session_01HXYZSESSION"},
        })
    );
    // Several roles: `roles` as well as `role`.
    let several = sign(
        Signer::Rs256,
        &patch(&good, json!({"roles": ["admin", "billing"]})),
    );
    assert_eq!(
        user_info(url, &several).await["roles"],
        json!(["admin", "billing"])
    );
    assert_eq!(
        tool_text(url, &token, "manage-users").await,
        "user_01HXYZUSER may manage users"
    );
    forbidden(url, &token, "admin-action", "admin").await;
    let admin = sign(Signer::Rs256, &workos_claims(idp, url, "admin"));
    assert_eq!(
        tool_text(url, &admin, "admin-action").await,
        "admin-action done"
    );

    // A token issued without a resource names the environment's client id.
    let for_client = sign(Signer::Rs256, &workos_claims(idp, WORKOS_CLIENT, "openid"));
    match client_id {
        Some(id) => {
            assert_eq!(id, WORKOS_CLIENT);
            assert_eq!(
                user_info(url, &for_client).await["user_id"],
                "user_01HXYZUSER"
            );
        }
        None => {
            refused(
                url,
                &for_client,
                WRONG_AUDIENCE,
                "client id audience, none configured",
            )
            .await
        }
    }

    let rs = |patched: Value| sign(Signer::Rs256, &patch(&good, patched));
    all_refused(
        url,
        &[
            (
                "another AuthKit",
                rs(json!({"iss": "https://other-app-9876.authkit.app"})),
                WRONG_ISSUER,
            ),
            (
                "issuer with a slash",
                rs(json!({"iss": format!("{}/", idp.base)})),
                WRONG_ISSUER,
            ),
            (
                "another MCP server",
                rs(json!({"aud": "https://other.example.com/mcp"})),
                WRONG_AUDIENCE,
            ),
            ("another key", sign(Signer::Stranger, &good), BAD_SIGNATURE),
        ],
    )
    .await;
}

#[actix_web::test]
async fn workos_configured_in_code() {
    let idp = ShapedIdp::start(&WORKOS);
    let server = serve_in_process(WorkOs::new(idp.base.as_str()));
    workos_scenario(server.url(), &idp, None).await;
    discovery_points_at(server.url(), &idp).await;

    let server =
        serve_in_process(WorkOs::new(idp.base.as_str()).client(WORKOS_CLIENT, "sk_test_in_code"));
    workos_scenario(server.url(), &idp, Some(WORKOS_CLIENT)).await;
}

#[actix_web::test]
async fn workos_configured_from_the_environment_alone() {
    let idp = ShapedIdp::start(&WORKOS);
    let example = Example::start(
        "workos",
        &[("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", idp.base.as_str())],
    );
    workos_scenario(&example.url, &idp, None).await;
    discovery_points_at(&example.url, &idp).await;
    example.printed_settings(&["MCP_USE_OAUTH_WORKOS_SUBDOMAIN"], None);

    let api_key = "sk_test_workos_api_key_do_not_print";
    let example = Example::start(
        "workos",
        &[
            ("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", idp.base.as_str()),
            ("MCP_USE_OAUTH_WORKOS_CLIENT_ID", WORKOS_CLIENT),
            ("MCP_USE_OAUTH_WORKOS_API_KEY", api_key),
        ],
    );
    workos_scenario(&example.url, &idp, Some(WORKOS_CLIENT)).await;
    example.printed_settings(&["MCP_USE_OAUTH_WORKOS_CLIENT_ID"], Some(api_key));
}

// ---------------------------------------------------------------------------
// Supabase
// ---------------------------------------------------------------------------

const SUPABASE_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// A Supabase Auth access token (from its OAuth 2.1 server: `client_id`).
fn supabase_claims(idp: &ShapedIdp) -> Value {
    idp.claims(json!({
        "sub": "6d1f1f8e-1111-4a4a-9b9b-0123456789ab",
        "aud": "authenticated",
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now()}],
        "session_id": "0e7f6c52-2222-4b4b-8c8c-0123456789ab",
        "is_anonymous": false,
        "email": "grace@example.com",
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {
            "full_name": "Grace Hopper",
            "avatar_url": "https://cdn.example.com/grace.png",
            "username": "grace",
            "email_verified": true,
        },
        "client_id": "9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d",
    }))
}

fn supabase_user() -> Value {
    json!({
        "user_id": "6d1f1f8e-1111-4a4a-9b9b-0123456789ab",
        "email": "grace@example.com",
        "name": "Grace Hopper",
        "username": "grace",
        "nickname": null,
        "picture": "https://cdn.example.com/grace.png",
        "roles": ["authenticated"],
        "permissions": [],
        "scopes": [],
        "client_id": "9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d",
        "organization": null,
        "extra": {
            "aal": "aal1",
            "session_id": "0e7f6c52-2222-4b4b-8c8c-0123456789ab",
            "is_anonymous": false,
        },
    })
}

/// Refusals common to both key kinds; `signer` is the one the project uses.
async fn supabase_refusals(url: &str, idp: &ShapedIdp, signer: Signer) {
    let good = supabase_claims(idp);
    let signed = |patched: Value| sign(signer, &patch(&good, patched));
    all_refused(
        url,
        &[
            // The project URL is not the issuer: `/auth/v1` is part of it.
            (
                "project URL as issuer",
                signed(json!({"iss": idp.base})),
                WRONG_ISSUER,
            ),
            (
                "another project",
                signed(json!({"iss": "https://otherproject12345.supabase.co/auth/v1"})),
                WRONG_ISSUER,
            ),
            // The anon key is a JWT of the same issuer, for the `anon` audience.
            (
                "anon audience",
                signed(json!({"aud": "anon", "role": "anon"})),
                WRONG_AUDIENCE,
            ),
            (
                "this server as audience",
                signed(json!({"aud": url})),
                WRONG_AUDIENCE,
            ),
        ],
    )
    .await;
}

async fn supabase_jwks_scenario(url: &str, idp: &ShapedIdp) {
    let good = supabase_claims(idp);
    for signer in [Signer::Es256, Signer::Rs256] {
        let token = sign(signer, &good);
        assert_eq!(user_info(url, &token).await, supabase_user(), "{signer:?}");
    }
    // Supabase tokens carry no `scope`: scoped tools stay closed.
    let token = sign(Signer::Es256, &good);
    forbidden(url, &token, "admin-action", "admin").await;
    supabase_refusals(url, idp, Signer::Es256).await;
    // With asymmetric keys, a token signed with a shared secret is refused.
    refused(
        url,
        &sign(Signer::Hs256(SUPABASE_SECRET), &good),
        WRONG_ALGORITHM,
        "HS256",
    )
    .await;
}

async fn supabase_secret_scenario(url: &str, idp: &ShapedIdp) {
    let good = supabase_claims(idp);
    let token = sign(Signer::Hs256(SUPABASE_SECRET), &good);
    assert_eq!(user_info(url, &token).await, supabase_user());
    let forged = Signer::Hs256("another-secret-of-32-characters-or-more");
    all_refused(
        url,
        &[
            ("another secret", sign(forged, &good), BAD_SIGNATURE),
            (
                "ES256 with a secret configured",
                sign(Signer::Es256, &good),
                WRONG_ALGORITHM,
            ),
        ],
    )
    .await;
    supabase_refusals(url, idp, Signer::Hs256(SUPABASE_SECRET)).await;
}

#[actix_web::test]
async fn supabase_configured_in_code() {
    let idp = ShapedIdp::start(&SUPABASE);
    let server = serve_in_process(Supabase::url(idp.base.as_str()));
    supabase_jwks_scenario(server.url(), &idp).await;
    discovery_points_at(server.url(), &idp).await;

    let server = serve_in_process(Supabase::url(idp.base.as_str()).jwt_secret(SUPABASE_SECRET));
    supabase_secret_scenario(server.url(), &idp).await;
}

#[actix_web::test]
async fn supabase_configured_from_the_environment_alone() {
    let idp = ShapedIdp::start(&SUPABASE);
    let example = Example::start(
        "supabase",
        &[("MCP_USE_OAUTH_SUPABASE_URL", idp.base.as_str())],
    );
    supabase_jwks_scenario(&example.url, &idp).await;
    discovery_points_at(&example.url, &idp).await;
    example.printed_settings(&["MCP_USE_OAUTH_SUPABASE_URL"], None);

    let example = Example::start(
        "supabase",
        &[
            ("MCP_USE_OAUTH_SUPABASE_URL", idp.base.as_str()),
            ("MCP_USE_OAUTH_SUPABASE_JWT_SECRET", SUPABASE_SECRET),
        ],
    );
    supabase_secret_scenario(&example.url, &idp).await;
    example.printed_settings(
        &["MCP_USE_OAUTH_SUPABASE_JWT_SECRET"],
        Some(SUPABASE_SECRET),
    );
}

// ---------------------------------------------------------------------------
// Keycloak
// ---------------------------------------------------------------------------

const KEYCLOAK_CLIENT: &str = "mcp-server";

/// A Keycloak access token: `aud` from an audience mapper (plus `account`),
/// realm roles, client roles for this client and for `account`.
fn keycloak_claims(idp: &ShapedIdp, aud: &str, scope: &str) -> Value {
    idp.claims(json!({
        "jti": "onrtac:4b8f0c7e-3333-4c4c-9d9d-0123456789ab",
        "aud": [aud, "account"],
        "sub": "f3c1b6a2-4444-4d4d-8e8e-0123456789ab",
        "typ": "Bearer",
        "azp": "mcp-inspector",
        "sid": "7a1d2c3b-5555-4e4e-9f9f-0123456789ab",
        "acr": "1",
        "allowed-origins": ["http://localhost:6274"],
        "realm_access": {"roles": ["default-roles-acme", "offline_access", "operator"]},
        "resource_access": {
            KEYCLOAK_CLIENT: {"roles": ["users:write", "reports:read"]},
            "account": {"roles": ["manage-account", "view-profile"]},
        },
        "scope": scope,
        "email_verified": true,
        "name": "Alan Turing",
        "preferred_username": "alan",
        "given_name": "Alan",
        "family_name": "Turing",
        "email": "alan@example.com",
    }))
}

/// `audience`: what tokens must name (the client id unless configured).
async fn keycloak_scenario(url: &str, idp: &ShapedIdp, audience: &str) {
    let good = keycloak_claims(idp, audience, "openid email profile user:write");
    let token = sign(Signer::Rs256, &good);
    assert_eq!(
        user_info(url, &token).await,
        json!({
            "user_id": "f3c1b6a2-4444-4d4d-8e8e-0123456789ab",
            "email": "alan@example.com",
            "name": "Alan Turing",
            "username": "alan",
            "nickname": null,
            "picture": null,
            "roles": ["default-roles-acme", "offline_access", "operator"],
            "permissions": ["users:write", "reports:read"],
            "scopes": ["openid", "email", "profile", "user:write"],
            "client_id": "mcp-inspector",
            "organization": null,
            "extra": {},
        })
    );
    assert_eq!(
        tool_text(url, &token, "manage-users").await,
        "f3c1b6a2-4444-4d4d-8e8e-0123456789ab may manage users"
    );
    forbidden(url, &token, "admin-action", "admin").await;
    let admin = sign(
        Signer::Rs256,
        &keycloak_claims(idp, audience, "openid admin"),
    );
    assert_eq!(
        tool_text(url, &admin, "admin-action").await,
        "admin-action done"
    );

    let rs = |patched: Value| sign(Signer::Rs256, &patch(&good, patched));
    let realm = |path: &str| format!("{}{path}", idp.base);
    all_refused(
        url,
        &[
            // Without an audience mapper Keycloak names only `account`.
            (
                "account audience only",
                rs(json!({"aud": "account"})),
                WRONG_AUDIENCE,
            ),
            (
                "another client",
                rs(json!({"aud": ["another-client", "account"]})),
                WRONG_AUDIENCE,
            ),
            (
                "another realm",
                rs(json!({"iss": realm("/realms/other")})),
                WRONG_ISSUER,
            ),
            (
                "the pre-17 /auth path",
                rs(json!({"iss": realm("/auth/realms/acme")})),
                WRONG_ISSUER,
            ),
            ("another key", sign(Signer::Stranger, &good), BAD_SIGNATURE),
            // Keycloak's ID token: same key, issuer and audience; only its
            // payload `typ` says what it is.
            ("an ID token", rs(json!({"typ": "ID"})), NOT_ACCESS_TOKEN),
            ("no payload typ", rs(json!({"typ": null})), NOT_ACCESS_TOKEN),
        ],
    )
    .await;
}

#[actix_web::test]
async fn keycloak_configured_in_code() {
    let idp = ShapedIdp::start(&KEYCLOAK);
    let server = serve_in_process(Keycloak::new(&idp.base, KEYCLOAK_REALM, KEYCLOAK_CLIENT));
    keycloak_scenario(server.url(), &idp, KEYCLOAK_CLIENT).await;

    // A configured audience replaces the client id.
    let audience = "https://mcp.example.com/mcp";
    let server = serve_in_process(
        Keycloak::new(&idp.base, KEYCLOAK_REALM, KEYCLOAK_CLIENT)
            .audience(audience)
            .client_secret("kc-in-code-secret"),
    );
    keycloak_scenario(server.url(), &idp, audience).await;
    let client_only = sign(
        Signer::Rs256,
        &keycloak_claims(&idp, KEYCLOAK_CLIENT, "openid"),
    );
    refused(
        server.url(),
        &client_only,
        WRONG_AUDIENCE,
        "client id, audience configured",
    )
    .await;

    // In direct mode the realm's metadata is served at this server's origin.
    let server = serve_in_process(
        Keycloak::new(&idp.base, KEYCLOAK_REALM, KEYCLOAK_CLIENT).mode(Mode::Direct),
    );
    discovery_points_at(server.url(), &idp).await;
}

#[actix_web::test]
async fn keycloak_configured_from_the_environment_alone() {
    let idp = ShapedIdp::start(&KEYCLOAK);
    let secret = "keycloak-client-secret-do-not-print";
    let settings = [
        ("MCP_USE_OAUTH_KEYCLOAK_SERVER_URL", idp.base.as_str()),
        ("MCP_USE_OAUTH_KEYCLOAK_REALM", KEYCLOAK_REALM),
        ("MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID", KEYCLOAK_CLIENT),
        ("MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET", secret),
    ];
    let example = Example::start("keycloak", &settings);
    keycloak_scenario(&example.url, &idp, KEYCLOAK_CLIENT).await;
    example.printed_settings(
        &[
            "MCP_USE_OAUTH_KEYCLOAK_REALM=acme",
            "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID=mcp-server",
        ],
        Some(secret),
    );

    let audience = "https://mcp.example.com/mcp";
    let mut with_audience = settings.to_vec();
    with_audience.push(("MCP_USE_OAUTH_KEYCLOAK_AUDIENCE", audience));
    let example = Example::start("keycloak", &with_audience);
    keycloak_scenario(&example.url, &idp, audience).await;
}

// ---------------------------------------------------------------------------
// A custom provider
// ---------------------------------------------------------------------------

fn custom_claims(idp: &ShapedIdp, aud: &str) -> Value {
    idp.claims(json!({
        "sub": "user-42",
        "aud": aud,
        "client_id": "cli-7",
        "scope": "user:write",
        "email": "lin@example.com",
        "name": "Lin",
        "preferred_username": "lin",
        "roles": ["ops"],
        "permissions": ["deploy"],
    }))
}

#[actix_web::test]
async fn a_custom_provider_configured_from_the_environment_alone() {
    let idp = ShapedIdp::start(&CUSTOM);
    let jwks = format!("{}{}", idp.base, CUSTOM.jwks_path);
    let expected = json!({
        "user_id": "user-42",
        "email": "lin@example.com",
        "name": "Lin",
        "username": "lin",
        "nickname": null,
        "picture": null,
        "roles": ["ops"],
        "permissions": ["deploy"],
        "scopes": ["user:write"],
        "client_id": "cli-7",
        "organization": null,
        "extra": {},
    });

    // Without an audience setting, tokens must name this server.
    let example = Example::start(
        "custom",
        &[
            ("OAUTH_ISSUER", idp.issuer.as_str()),
            ("OAUTH_JWKS_URL", jwks.as_str()),
        ],
    );
    let url = example.url.as_str();
    for signer in [Signer::Rs256, Signer::Es256] {
        let token = sign(signer, &custom_claims(&idp, url));
        assert_eq!(user_info(url, &token).await, expected, "{signer:?}");
    }
    let token = sign(Signer::Rs256, &custom_claims(&idp, url));
    assert_eq!(
        tool_text(url, &token, "manage-users").await,
        "user-42 may manage users"
    );
    forbidden(url, &token, "admin-action", "admin").await;
    let other = sign(
        Signer::Rs256,
        &custom_claims(&idp, "https://api.example.com"),
    );
    refused(url, &other, WRONG_AUDIENCE, "another audience").await;
    let foreign = patch(
        &custom_claims(&idp, url),
        json!({"iss": "https://id.example.com"}),
    );
    refused(
        url,
        &sign(Signer::Rs256, &foreign),
        WRONG_ISSUER,
        "another issuer",
    )
    .await;
    example.printed_settings(&["OAUTH_ISSUER", "OAUTH_JWKS_URL"], None);

    // With one, tokens must name it.
    let api = "https://api.example.com";
    let example = Example::start(
        "custom",
        &[
            ("OAUTH_ISSUER", idp.issuer.as_str()),
            ("OAUTH_JWKS_URL", jwks.as_str()),
            ("OAUTH_AUDIENCE", api),
        ],
    );
    let url = example.url.as_str();
    let token = sign(Signer::Rs256, &custom_claims(&idp, api));
    assert_eq!(user_info(url, &token).await, expected);
    let for_server = sign(Signer::Rs256, &custom_claims(&idp, url));
    refused(
        url,
        &for_server,
        WRONG_AUDIENCE,
        "the server's URL, audience configured",
    )
    .await;
}

// ---------------------------------------------------------------------------
// Configuration errors
// ---------------------------------------------------------------------------

#[test]
fn a_missing_variable_is_named_with_an_example() {
    let cases: [(&str, Vars, &str); 8] = [
        (
            "auth0",
            &[],
            "MCP_USE_OAUTH_AUTH0_DOMAIN=your-tenant.us.auth0.com",
        ),
        (
            "auth0",
            &[("MCP_USE_OAUTH_AUTH0_DOMAIN", "tenant.us.auth0.com")],
            "MCP_USE_OAUTH_AUTH0_AUDIENCE=https://api.example.com",
        ),
        (
            "workos",
            &[],
            "MCP_USE_OAUTH_WORKOS_SUBDOMAIN=your-app-1234",
        ),
        (
            "supabase",
            &[],
            "MCP_USE_OAUTH_SUPABASE_PROJECT_ID=abcdefghijklmnopqrst",
        ),
        (
            "keycloak",
            &[],
            "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL=https://keycloak.example.com",
        ),
        (
            "keycloak",
            &[
                (
                    "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL",
                    "https://keycloak.example.com",
                ),
                ("MCP_USE_OAUTH_KEYCLOAK_REALM", "acme"),
            ],
            "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID=mcp-server",
        ),
        ("custom", &[], "OAUTH_ISSUER=https://id.example.com"),
        (
            "custom",
            &[("OAUTH_ISSUER", "https://id.example.com")],
            "OAUTH_JWKS_URL=https://id.example.com/.well-known/jwks.json",
        ),
    ];
    for (example, vars, expected) in cases {
        let (code, stdout, stderr) = run_to_exit(example, vars);
        assert_eq!(code, Some(2), "{example} {vars:?}: {stdout}\n{stderr}");
        assert!(
            stderr.contains(expected),
            "{example} {vars:?}: the error must name the variable and show an example:\n{stderr}"
        );
    }
}

#[test]
fn malformed_settings_are_refused_with_the_variable_and_an_example() {
    let error = |result: Result<
        mcp_runtime::auth::Provider,
        mcp_runtime::providers::ConfigError,
    >| { result.expect_err("refused").to_string() };
    let cases = [
        (
            error(Auth0::new("http://tenant.example.com", AUTH0_API).build()),
            "MCP_USE_OAUTH_AUTH0_DOMAIN must use https",
            "MCP_USE_OAUTH_AUTH0_DOMAIN=your-tenant.us.auth0.com",
        ),
        (
            error(Auth0::new("https://tenant.example.com/?x=1", AUTH0_API).build()),
            "MCP_USE_OAUTH_AUTH0_DOMAIN must not have a query",
            "MCP_USE_OAUTH_AUTH0_DOMAIN=your-tenant.us.auth0.com",
        ),
        (
            error(Auth0::new("tenant.us.auth0.com", " ").build()),
            "audience",
            "MCP_USE_OAUTH_AUTH0_AUDIENCE=https://api.example.com",
        ),
        (
            error(WorkOs::new("http://auth.example.com").build()),
            "MCP_USE_OAUTH_WORKOS_SUBDOMAIN must use https",
            "MCP_USE_OAUTH_WORKOS_SUBDOMAIN=your-app-1234",
        ),
        (
            error(WorkOs::new("ftp://auth.example.com").build()),
            "MCP_USE_OAUTH_WORKOS_SUBDOMAIN must be an https URL",
            "MCP_USE_OAUTH_WORKOS_SUBDOMAIN=your-app-1234",
        ),
        (
            error(Supabase::url("http://supabase.example.com").build()),
            "MCP_USE_OAUTH_SUPABASE_URL must use https",
            "MCP_USE_OAUTH_SUPABASE_URL=https://supabase.example.com",
        ),
        (
            error(Supabase::project("abc/def").build()),
            "MCP_USE_OAUTH_SUPABASE_PROJECT_ID must be the project's id",
            "MCP_USE_OAUTH_SUPABASE_PROJECT_ID=abcdefghijklmnopqrst",
        ),
        (
            error(Keycloak::new("http://keycloak.example.com", "acme", "mcp-server").build()),
            "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL must use https",
            "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL=https://keycloak.example.com",
        ),
        (
            error(Keycloak::new("https://keycloak.example.com", "acme/evil", "mcp-server").build()),
            "MCP_USE_OAUTH_KEYCLOAK_REALM must be a realm name",
            "MCP_USE_OAUTH_KEYCLOAK_REALM=my-realm",
        ),
        (
            error(Keycloak::new("https://keycloak.example.com", "acme", " ").build()),
            "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID must not be empty",
            "MCP_USE_OAUTH_KEYCLOAK_CLIENT_ID=mcp-server",
        ),
    ];
    for (error, what, example) in cases {
        assert!(error.contains(what), "{error}");
        assert!(error.contains(example), "{error}");
    }

    // Loopback hosts may use plain http (how these tests reach their IdPs).
    for base in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"] {
        assert!(Auth0::new(base, AUTH0_API).build().is_ok(), "{base}");
    }
    // Through the environment, a malformed variable stops the example the same way.
    let (code, _, stderr) = run_to_exit(
        "supabase",
        &[("MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "not a project id")],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("MCP_USE_OAUTH_SUPABASE_PROJECT_ID=abcdefghijklmnopqrst"),
        "{stderr}"
    );
}

#[test]
fn secrets_never_appear_in_errors_or_output() {
    let secret = "s3cret-value-that-must-never-be-shown";

    // In code: refused settings next to a secret, and the builders' Debug.
    let auth0 = Auth0::new("http://tenant.example.com", AUTH0_API).client("app", secret);
    let workos = WorkOs::new("http://auth.example.com").client(WORKOS_CLIENT, secret);
    let supabase = Supabase::url("http://supabase.example.com").jwt_secret(secret);
    let keycloak =
        Keycloak::new("https://keycloak.example.com", "acme/x", "mcp-server").client_secret(secret);
    let shown = [
        format!("{auth0:?}"),
        format!("{workos:?}"),
        format!("{supabase:?}"),
        format!("{keycloak:?}"),
        auth0.clone().build().expect_err("http").to_string(),
        workos.clone().build().expect_err("http").to_string(),
        supabase.clone().build().expect_err("http").to_string(),
        keycloak.clone().build().expect_err("realm").to_string(),
        common::with_tools(McpServer::builder("t", "1").oauth(auth0))
            .build()
            .expect_err("http")
            .to_string(),
    ];
    for text in &shown {
        assert!(!text.contains(secret), "a secret is shown: {text}");
    }
    let built = [
        Auth0::new("tenant.us.auth0.com", AUTH0_API)
            .client("app", secret)
            .build(),
        WorkOs::new("your-app-1234")
            .client(WORKOS_CLIENT, secret)
            .build(),
        Supabase::project("abcdefghijklmnopqrst")
            .jwt_secret(secret)
            .build(),
        Keycloak::new("https://keycloak.example.com", "acme", "mcp-server")
            .client_secret(secret)
            .build(),
    ];
    for provider in built {
        let provider = provider.expect("valid settings");
        assert!(!format!("{provider:?}").contains(secret));
    }

    // From the environment: the examples refuse the setting, never the secret.
    let cases: [(&str, Vars, &str); 4] = [
        (
            "auth0",
            &[
                ("MCP_USE_OAUTH_AUTH0_DOMAIN", "http://tenant.example.com"),
                ("MCP_USE_OAUTH_AUTH0_AUDIENCE", AUTH0_API),
                ("MCP_USE_OAUTH_AUTH0_CLIENT_SECRET", secret),
            ],
            "MCP_USE_OAUTH_AUTH0_DOMAIN must use https",
        ),
        (
            "workos",
            &[
                ("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", "http://auth.example.com"),
                ("MCP_USE_OAUTH_WORKOS_API_KEY", secret),
            ],
            "MCP_USE_OAUTH_WORKOS_SUBDOMAIN must use https",
        ),
        (
            "supabase",
            &[
                ("MCP_USE_OAUTH_SUPABASE_URL", "http://supabase.example.com"),
                ("MCP_USE_OAUTH_SUPABASE_JWT_SECRET", secret),
            ],
            "MCP_USE_OAUTH_SUPABASE_URL must use https",
        ),
        (
            "keycloak",
            &[
                ("MCP_USE_OAUTH_KEYCLOAK_REALM", "acme"),
                ("MCP_USE_OAUTH_KEYCLOAK_CLIENT_SECRET", secret),
            ],
            "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL=https://keycloak.example.com",
        ),
    ];
    for (example, vars, expected) in cases {
        let (code, stdout, stderr) = run_to_exit(example, vars);
        assert_eq!(code, Some(2), "{example}: {stdout}\n{stderr}");
        assert!(stderr.contains(expected), "{example}: {stderr}");
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{example} printed a secret:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("<set, not shown>"), "{example}: {stdout}");
    }
}

// ---------------------------------------------------------------------------
// Any OpenID provider, found from its issuer
// ---------------------------------------------------------------------------

/// An OpenID provider publishing only its discovery document at the
/// standard path; its keys at a path only that document names.
const OIDC: Layout = Layout {
    issuer_path: "/tenant",
    jwks_path: "/tenant/keys-only-the-document-names",
    metadata_paths: &["/tenant/.well-known/openid-configuration"],
    endpoints: &[
        ("authorization_endpoint", "/tenant/authorize"),
        ("token_endpoint", "/tenant/token"),
    ],
    keys: &[Signer::Rs256, Signer::Es256],
};

const OIDC_AUDIENCE: &str = "https://mcp.example.com/mcp";

fn oidc_claims(idp: &ShapedIdp, scope: &str) -> Value {
    idp.claims(json!({
        "sub": "user-7",
        "aud": OIDC_AUDIENCE,
        "client_id": "cli-9",
        "scope": scope,
        "email": "grace@example.com",
        "name": "Grace Hopper",
        "preferred_username": "grace",
        "realm_access": {"roles": ["operator"]},
        "roles": ["viewer"],
    }))
}

async fn oidc_scenario(url: &str, idp: &ShapedIdp) {
    for signer in [Signer::Rs256, Signer::Es256] {
        let token = sign(signer, &oidc_claims(idp, "user:write"));
        assert_eq!(
            user_info(url, &token).await,
            json!({
                "user_id": "user-7",
                "email": "grace@example.com",
                "name": "Grace Hopper",
                "username": "grace",
                "nickname": null,
                "picture": null,
                "roles": ["viewer", "operator"],
                "permissions": [],
                "scopes": ["user:write"],
                "client_id": "cli-9",
                "organization": null,
                "extra": {},
            }),
            "{signer:?}"
        );
        assert_eq!(
            tool_text(url, &token, "manage-users").await,
            "user-7 may manage users"
        );
        forbidden(url, &token, "admin-action", "admin").await;
    }
    let admin = sign(Signer::Rs256, &oidc_claims(idp, "admin"));
    assert_eq!(
        tool_text(url, &admin, "admin-action").await,
        "admin-action done"
    );
    let good = oidc_claims(idp, "user:write");
    all_refused(
        url,
        &[
            (
                "another issuer",
                sign(
                    Signer::Rs256,
                    &patch(&good, json!({"iss": format!("{}/other", idp.base)})),
                ),
                WRONG_ISSUER,
            ),
            (
                "another audience",
                sign(
                    Signer::Rs256,
                    &patch(&good, json!({"aud": "https://api.example.com"})),
                ),
                WRONG_AUDIENCE,
            ),
            (
                "a key the provider does not publish",
                sign(Signer::Stranger, &good),
                BAD_SIGNATURE,
            ),
            (
                "an algorithm the document does not name",
                sign(Signer::Hs256(SUPABASE_SECRET), &good),
                WRONG_ALGORITHM,
            ),
        ],
    )
    .await;
}

#[actix_web::test]
async fn an_openid_provider_found_from_its_issuer_in_code() {
    let idp = ShapedIdp::start(&OIDC);
    let running = serve_in_process(
        Oidc::new(&idp.issuer)
            .audience(OIDC_AUDIENCE)
            .roles_claim("realm_access.roles"),
    );
    oidc_scenario(running.url(), &idp).await;
}

#[actix_web::test]
async fn an_openid_provider_found_from_its_issuer_from_the_environment_alone() {
    let idp = ShapedIdp::start(&OIDC);
    let example = Example::start(
        "oidc",
        &[
            ("MCP_OAUTH_OIDC_ISSUER", idp.issuer.as_str()),
            ("MCP_OAUTH_OIDC_AUDIENCE", OIDC_AUDIENCE),
            ("MCP_OAUTH_OIDC_ROLES_CLAIM", "realm_access.roles"),
        ],
    );
    oidc_scenario(&example.url, &idp).await;
    // Direct mode: clients are sent to the provider itself, and its
    // document (as fetched and checked) is served here too.
    discovery_points_at(&example.url, &idp).await;

    // Without an audience the example does not start, and says what to set.
    let (status, _, stderr) =
        run_to_exit("oidc", &[("MCP_OAUTH_OIDC_ISSUER", idp.issuer.as_str())]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("MCP_OAUTH_OIDC_AUDIENCE is not set")
            && stderr.contains("MCP_OAUTH_OIDC_AUDIENCE=https://"),
        "{stderr}"
    );
}

#[actix_web::test]
async fn a_provider_whose_document_names_another_issuer_is_refused() {
    // The document at `{base}/tenant/...` says it is `{base}`: the keys it
    // names are that other issuer's, so no token is accepted on its word.
    let idp = ShapedIdp::start(&Layout {
        issuer_path: "",
        ..OIDC
    });
    let claimed = format!("{}/tenant", idp.base);
    let running = serve_in_process(Oidc::new(&claimed).audience(OIDC_AUDIENCE));
    let token = sign(
        Signer::Rs256,
        &patch(&oidc_claims(&idp, "user:write"), json!({"iss": claimed})),
    );
    let reply = call(running.url(), &token, "get-user-info").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(reply.header("retry-after").is_some(), "{:?}", reply.headers);
    let ready = reqwest::get(running.url().replace("/mcp", "/readyz"))
        .await
        .expect("the server answers");
    assert_eq!(ready.status().as_u16(), 503);
}

#[actix_web::test]
async fn an_openid_provider_found_from_its_issuer_with_oidc_provider() {
    // The real oidc-provider: its discovery document, its ES256 keys, its
    // tokens for this server as a resource (RFC 8707).
    let idp = support::start_idp("ES256", &["--resource-scopes", "admin user:write"]);
    let port = support::free_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let example = Example::start_on(
        "oidc",
        &[
            ("MCP_OAUTH_OIDC_ISSUER", idp.issuer.as_str()),
            ("MCP_OAUTH_OIDC_AUDIENCE", url.as_str()),
        ],
        port,
    );
    assert_eq!(example.url, url);
    let writer = idp
        .client_credentials_token("machine", "machine-secret", "user:write", &url)
        .await;
    assert_eq!(
        tool_text(&url, &writer, "manage-users").await,
        "machine may manage users",
        "oidc-provider names the client as the subject of its own tokens"
    );
    assert_eq!(user_info(&url, &writer).await["client_id"], "machine");
    forbidden(&url, &writer, "admin-action", "admin").await;
    let admin = idp
        .client_credentials_token("machine", "machine-secret", "admin", &url)
        .await;
    assert_eq!(
        tool_text(&url, &admin, "admin-action").await,
        "admin-action done"
    );
    // A token of the same provider for another resource.
    let elsewhere = idp
        .client_credentials_token(
            "machine",
            "machine-secret",
            "admin",
            "https://api.example.com",
        )
        .await;
    refused(&url, &elsewhere, WRONG_AUDIENCE, "another resource").await;
}

#[actix_web::test]
async fn an_openid_provider_in_proxy_mode_signs_in_the_sdk_client() {
    // Proxy mode with nothing but the issuer and the client: the
    // authorization and token endpoints the sign-in goes to are the ones
    // oidc-provider's discovery document names.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let resource = format!("{base}/mcp");
    let idp = support::start_proxy_idp(&base);
    let oidc = Oidc::new(&idp.issuer)
        .audience(&resource)
        .scopes(["user:write"])
        .client("mcp-proxy", Some("mcp-proxy-secret".to_owned()));
    let builder = McpServer::builder("providers-test", "1.0.0").oauth(oidc);
    let server = common::with_tools(builder).build().expect("builds");
    let _running = TestServer::start_on(listener, server).expect("starts");

    let printed = support::sdk_sign_in(
        &resource,
        &support::loopback_redirect(),
        "manage-users",
        "{}",
        &[],
    );
    assert_eq!(
        printed["result"]["content"][0]["text"], "test-user may manage users",
        "{printed}"
    );
    assert_eq!(printed["consent_pages"], 1, "{printed}");
    assert!(
        support::signed_in_at(&printed, &idp),
        "the sign-in went to the provider's own endpoint: {printed}"
    );
}
