//! Micro benchmarks of bearer authentication (issue 8, item 1): JWT
//! verification with warm keys for RS256, ES256 and HS256, ours
//! (`JwtVerifier::verify_token`) beside the floor (`jsonwebtoken::decode`
//! with a `DecodingKey` built once), and the same with the `Authorization`
//! header parsed, through an in-process actix service: ours with the
//! `BearerMiddleware` middleware, the floor with a hand-written handler.
//!
//! ```text
//! cargo bench --bench verify
//! cargo bench --bench verify -- 'verify/RS256'    # one group
//! ```

// `criterion_main!` defines an undocumented `main`.
#![allow(missing_docs)]

use actix_web::dev::Service as _;
use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, test, web};
use aws_lc_rs::encoding::AsDer;
use base64::Engine as _;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mcp_runtime::auth::{BearerMiddleware, JwtVerifier, KeySource, SigningKey, StaticKeys};
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::Arc;

const ISSUER: &str = "https://issuer.bench";
const AUDIENCE: &str = "https://mcp.bench/mcp";
const SECRET: &[u8] = b"a shared secret of at least thirty-two bytes";

/// One algorithm's warm keys and a token signed with them.
struct Case {
    alg: Algorithm,
    token: String,
    ours: JwtVerifier,
    floor_key: DecodingKey,
}

fn claims() -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "bench-user",
        "scope": "bench:write", "iat": now, "exp": now + 3600,
    })
}

fn rsa_case() -> Case {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .expect("RSA key generation");
    let der = pair.as_der().expect("PKCS#8 export");
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM");
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("RSA JWK");
    jwk.common.key_id = Some("bench-rsa".into());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("bench-rsa".into());
    let token = jsonwebtoken::encode(&header, &claims(), &key).expect("RS256 token");
    let set = serde_json::to_value(JwkSet {
        keys: vec![jwk.clone()],
    })
    .expect("JWK set");
    Case {
        alg: Algorithm::RS256,
        token,
        ours: static_verifier(&set),
        floor_key: DecodingKey::from_jwk(&jwk).expect("RSA decoding key"),
    }
}

fn ec_case() -> Case {
    let key = SigningKey::generate().expect("ES256 key generation");
    let token = key.sign("at+jwt", &claims()).expect("ES256 token");
    let set = key.jwk_set();
    let jwk: Jwk = serde_json::from_value(set["keys"][0].clone()).expect("EC JWK");
    Case {
        alg: Algorithm::ES256,
        token,
        ours: static_verifier(&set),
        floor_key: DecodingKey::from_jwk(&jwk).expect("EC decoding key"),
    }
}

fn hmac_case() -> Case {
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(SECRET),
    )
    .expect("HS256 token");
    Case {
        alg: Algorithm::HS256,
        token,
        ours: JwtVerifier::new(ISSUER, KeySource::shared_secret(SECRET)).audiences([AUDIENCE]),
        floor_key: DecodingKey::from_secret(SECRET),
    }
}

fn static_verifier(set: &Value) -> JwtVerifier {
    let keys = StaticKeys::from_jwk_set(set).expect("static keys");
    JwtVerifier::new(ISSUER, KeySource::Static(Arc::new(keys))).audiences([AUDIENCE])
}

fn floor_validation(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation
}

/// Signature and claims checks alone: the token is already out of the header.
fn verify(c: &mut Criterion, cases: &[Case]) {
    for case in cases {
        let name = format!("verify/{:?}", case.alg);
        let mut group = c.benchmark_group(&name);
        group.bench_function("ours", |b| {
            b.iter(|| {
                // Static and shared-secret keys never wait: the future is
                // ready on its first poll.
                let auth = case
                    .ours
                    .verify_token(black_box(&case.token))
                    .now_or_never()
                    .expect("static keys verify without waiting");
                black_box(auth.expect("a valid token"))
            })
        });
        let validation = floor_validation(case.alg);
        group.bench_function("floor", |b| {
            b.iter(|| {
                let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(
                    black_box(&case.token),
                    &case.floor_key,
                    &validation,
                );
                black_box(data.expect("a valid token"))
            })
        });
        group.finish();
    }
}

/// The floor's handler: parse the header, verify, answer.
async fn floor_handler(
    req: HttpRequest,
    keys: web::Data<(DecodingKey, Validation)>,
) -> HttpResponse {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token.map(|t| jsonwebtoken::decode::<serde_json::Map<String, Value>>(t, &keys.0, &keys.1))
    {
        Some(Ok(_)) => HttpResponse::Ok().body("ok"),
        _ => HttpResponse::Unauthorized().finish(),
    }
}

/// Header parse and verification through an in-process actix service, so
/// the middleware's own work shows beside the floor's handler.
fn bearer(c: &mut Criterion, cases: &[Case]) {
    let system = actix_web::rt::System::new();
    for case in cases {
        let mut group = c.benchmark_group("bearer");
        let ours = system.block_on(test::init_service(
            App::new().service(
                web::scope("")
                    .wrap(BearerMiddleware::new(case.ours.clone()))
                    .route("/", web::get().to(|| async { "ok" })),
            ),
        ));
        let floor = system.block_on(test::init_service(
            App::new()
                .app_data(web::Data::new((
                    case.floor_key.clone(),
                    floor_validation(case.alg),
                )))
                .route("/", web::get().to(floor_handler)),
        ));
        let authorization = format!("Bearer {}", case.token);
        let request = || {
            test::TestRequest::get()
                .uri("/")
                .insert_header((header::AUTHORIZATION, authorization.as_str()))
                .to_request()
        };
        group.bench_function(BenchmarkId::new("ours", format!("{:?}", case.alg)), |b| {
            b.iter(|| {
                let response = system
                    .block_on(ours.call(request()))
                    .expect("the service answers");
                assert!(response.status().is_success(), "a valid token is accepted");
                black_box(response)
            })
        });
        group.bench_function(BenchmarkId::new("floor", format!("{:?}", case.alg)), |b| {
            b.iter(|| {
                let response = system
                    .block_on(floor.call(request()))
                    .expect("the service answers");
                assert!(response.status().is_success(), "a valid token is accepted");
                black_box(response)
            })
        });
        group.finish();
    }
}

fn benches(c: &mut Criterion) {
    let cases = [rsa_case(), ec_case(), hmac_case()];
    verify(c, &cases);
    bearer(c, &cases);
}

criterion_group!(auth, benches);
criterion_main!(auth);
