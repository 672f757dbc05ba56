//! The load benchmark's floor (`bench/load.sh`): the least a server can do
//! for one authenticated MCP `tools/call`, written by hand with plain
//! actix-web, serde_json and jsonwebtoken, no framework. It verifies the
//! RS256 bearer JWT (signature, `iss`, `aud`, `exp`) with a `DecodingKey`
//! built once at start from the JWK set, parses the JSON-RPC body, and
//! writes the same JSON-RPC reply as `bench_server`.
//!
//! ```text
//! BENCH_ISSUER=https://issuer.bench \
//! BENCH_JWKS_URL=http://127.0.0.1:3199/jwks.json \
//! BENCH_AUDIENCE=http://127.0.0.1:3101/mcp PORT=3100 \
//! cargo run --release --example bench_floor
//! ```
//!
//! `BENCH_WORKERS` (default 1) sets the actix worker count. Like the server
//! under test, it refuses `echo_scoped` to tokens without `bench:write`, so
//! both pay for the same checks.
//!
//! `BENCH_AUTH=off` makes it the bare floor: no token is read or checked
//! (and no issuer, audience or JWK set is needed), only the body parsed
//! and the reply written: what a server without OAuth cannot go below.

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

fn setting(name: &str) -> std::io::Result<String> {
    std::env::var(name)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("set {name}")))
}

/// What every request needs, built once: the key and the claim checks, or
/// nothing for the bare floor.
struct Floor {
    verify: Option<(DecodingKey, Validation)>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
struct Call<'a> {
    #[serde(borrow)]
    id: &'a RawValue,
    method: &'a str,
    #[serde(borrow)]
    params: Params<'a>,
}

#[derive(Deserialize)]
struct Params<'a> {
    name: &'a str,
    arguments: Echo,
}

#[derive(Deserialize)]
struct Echo {
    text: String,
}

#[derive(Serialize)]
struct Reply<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    result: ToolResult,
}

/// Like the server under test, `isError` is left out when false.
#[derive(Serialize)]
struct ToolResult {
    content: [Text; 1],
}

#[derive(Serialize)]
struct Text {
    #[serde(rename = "type")]
    kind: &'static str,
    text: String,
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#))
        .finish()
}

async fn call(req: HttpRequest, body: web::Bytes, floor: web::Data<Floor>) -> HttpResponse {
    let claims = match &floor.verify {
        Some((key, validation)) => {
            let token = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            let Some(token) = token else {
                return unauthorized();
            };
            match jsonwebtoken::decode::<Claims>(token, key, validation) {
                Ok(data) => Some(data.claims),
                Err(_) => return unauthorized(),
            }
        }
        None => None,
    };
    let Ok(call) = serde_json::from_slice::<Call>(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    if call.method != "tools/call" {
        return HttpResponse::BadRequest().finish();
    }
    if let Some(claims) = &claims
        && call.params.name == "echo_scoped"
        && !claims
            .scope
            .as_deref()
            .is_some_and(|s| s.split(' ').any(|s| s == "bench:write"))
    {
        return HttpResponse::Forbidden().finish();
    }
    let reply = Reply {
        jsonrpc: "2.0",
        id: call.id,
        result: ToolResult {
            content: [Text {
                kind: "text",
                text: call.params.arguments.text,
            }],
        },
    };
    match serde_json::to_vec(&reply) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let invalid = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "3100".into())
        .parse()
        .map_err(|_| invalid("PORT must be a port number".into()))?;
    let workers: usize = std::env::var("BENCH_WORKERS")
        .unwrap_or_else(|_| "1".into())
        .parse()
        .map_err(|_| invalid("BENCH_WORKERS must be a number".into()))?;
    let verify = if std::env::var("BENCH_AUTH").is_ok_and(|v| v == "off") {
        None
    } else {
        let issuer = setting("BENCH_ISSUER")?;
        let audience = setting("BENCH_AUDIENCE")?;
        let jwks: JwkSet = reqwest::get(setting("BENCH_JWKS_URL")?)
            .await
            .map_err(|e| invalid(format!("cannot fetch the JWK set: {e}")))?
            .json()
            .await
            .map_err(|e| invalid(format!("the JWK set is not JSON: {e}")))?;
        let jwk = jwks
            .keys
            .first()
            .ok_or_else(|| invalid("the JWK set has no key".into()))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(format!("unusable JWK: {e}")))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        Some((key, validation))
    };
    let floor = web::Data::new(Floor { verify });
    eprintln!("bench_floor on http://127.0.0.1:{port}/mcp (workers={workers})");
    HttpServer::new(move || {
        App::new()
            .app_data(floor.clone())
            .route("/mcp", web::post().to(call))
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
