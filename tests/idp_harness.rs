//! The loopback OpenID provider harness (`tests/node/idp.mjs`): it starts,
//! and its client_credentials tokens are JWTs for the requested resource.

mod support;

use support::{jwt_parts, start_idp};

#[tokio::test]
async fn idp_issues_resource_bound_jwt_access_tokens() {
    let resource = "http://127.0.0.1:1/mcp";
    for alg in ["RS256", "ES256"] {
        let idp = start_idp(alg, &[]);
        assert_eq!(idp.alg, alg);
        assert!(
            idp.issuer.starts_with("http://127.0.0.1:"),
            "{}",
            idp.issuer
        );
        assert!(
            idp.private_key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );

        let token = idp
            .client_credentials_token("machine", "machine-secret", "tasks:read", resource)
            .await;
        let (header, payload) = jwt_parts(&token);
        assert_eq!(header["alg"], alg, "{header}");
        assert_eq!(header["kid"], idp.kid.as_str(), "{header}");
        assert_eq!(header["typ"], "at+jwt", "{header}");
        assert_eq!(payload["aud"], resource, "{payload}");
        assert_eq!(payload["iss"], idp.issuer.as_str(), "{payload}");
        assert_eq!(payload["scope"], "tasks:read", "{payload}");
        assert_eq!(payload["client_id"], "machine", "{payload}");

        // The JWKS publishes the signing key under the same kid.
        let jwks: serde_json::Value = reqwest::get(&idp.jwks_uri)
            .await
            .expect("fetch the JWKS")
            .json()
            .await
            .expect("JWKS JSON");
        assert_eq!(jwks["keys"][0]["kid"], idp.kid.as_str(), "{jwks}");

        // Wrong secret: refused.
        let (status, body) = idp
            .token_request(
                "reader",
                "wrong",
                &[("grant_type", "client_credentials"), ("resource", resource)],
            )
            .await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"], "invalid_client", "{body}");
    }
}

#[test]
#[should_panic(expected = "invalid --alg: HS256")]
fn idp_startup_errors_carry_its_stderr() {
    let _idp = start_idp("HS256", &[]);
}
