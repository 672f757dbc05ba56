//! The consent step of proxy mode: a dynamically registered client's
//! sign-in reaches the provider only once the user approved that client in
//! this browser; allow-listed redirect URIs, and servers that turn consent
//! off, skip it. Part of the `proxy_mode` test binary (its fixture and
//! helpers).

use super::*;

/// A loopback redirect URI registered with `client_name`.
async fn registered_as(base: &str, client_name: &str) -> String {
    registered_with(base, json!({"client_name": client_name})).await
}

/// Whether `hop` leaves for the provider.
fn to_provider(f: &Fixture, hop: &Hop) -> bool {
    hop.location
        .as_ref()
        .is_some_and(|l| l.as_str().starts_with(&f.idp.authorization_endpoint()))
}

#[actix_web::test]
async fn the_consent_page_shows_the_client_escaped_and_cannot_be_framed() {
    let f = fixture();
    let redirect = registered_as(&f.base, "<script>alert(1)</script>").await;
    let mut params = authorize_params(&redirect, "s", f.server.url());
    params.retain(|(k, _)| *k != "scope");
    params.push(("scope", "tasks:read <i>x</i>"));
    let page = get(&authorize_url(&f.base, &params)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.is_consent_page(), "{}", page.body);
    assert!(page.location.is_none(), "nothing goes to the provider yet");
    let header = |name: &str| page.headers[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("referrer-policy"), "no-referrer");

    // The name the client chose, escaped; never markup.
    assert!(
        page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert!(!page.body.contains("<i>"), "{}", page.body);
    assert!(page.body.contains("<code>&lt;i&gt;x&lt;/i&gt;</code>"));
    assert!(page.body.contains("<code>tasks:read</code>"));
    // Where the code would go: the host, and the full URI.
    let host = Url::parse(&redirect).unwrap();
    let host = format!("127.0.0.1:{}", host.port().unwrap());
    assert!(
        page.body
            .contains(&format!(r#"<span class="host">{host}</span>"#)),
        "{}",
        page.body
    );
    assert!(page.body.contains(&redirect));
    assert!(
        page.body.contains(&format!(
            r#"<form id="mcp-consent" method="post" action="{PROXY_CONSENT_PATH}">"#
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"name="decision" value="approve""#));
    assert!(page.body.contains(r#"name="decision" value="deny""#));
    assert!(!page.body.contains(CLIENT_SECRET));

    // The CSRF cookie: random, script-proof, same-site only, for the form.
    let cookie = page.set_cookie(CSRF_COOKIE).expect("the consent cookie");
    for attribute in [
        "; Path=/authorize/consent",
        "; HttpOnly",
        "; SameSite=Strict",
        "; Max-Age=600",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "http loopback: {cookie}");
    let other = get(&authorize_url(&f.base, &params)).await;
    assert_ne!(
        other.cookie(CSRF_COOKIE),
        page.cookie(CSRF_COOKIE),
        "a new browser gets its own value"
    );

    // An unnamed client is shown as such.
    let redirect = registered_redirect(&f.base).await;
    let page = get(&authorize_url(
        &f.base,
        &authorize_params(&redirect, "s", f.server.url()),
    ))
    .await;
    assert!(
        page.body.contains("An unnamed application"),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn consent_is_remembered_per_browser_and_redirect_uri() {
    let f = fixture();
    let first = registered_as(&f.base, "first app").await;
    let params = authorize_params(&first, "s1", f.server.url());
    let (_, approved) = approve(f, &params).await;
    assert_eq!(approved.status, 302, "{}", approved.body);
    assert!(to_provider(f, &approved), "{:?}", approved.location);
    let remember = approved
        .set_cookie(REMEMBER_COOKIE)
        .expect("the approval is remembered");
    for attribute in [
        "; Path=/authorize",
        "; HttpOnly",
        "; SameSite=Lax",
        "; Max-Age=2592000",
    ] {
        assert!(remember.contains(attribute), "{attribute} in {remember}");
    }
    // The browser keeps its secret and the approvals bound to it.
    let secret = approved
        .cookie(BROWSER_COOKIE)
        .expect("the browser's secret");
    let jar = format!("{secret}; {}", approved.cookie(REMEMBER_COOKIE).unwrap());

    // The same browser, the same client: straight on to the provider.
    let hop = get_with_cookie(&authorize_url(&f.base, &params), Some(&jar)).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    assert!(to_provider(f, &hop), "{:?}", hop.location);
    // Another browser is asked, even with the approvals cookie planted in it.
    let hop = get(&authorize_url(&f.base, &params)).await;
    assert!(hop.is_consent_page(), "{}", hop.status);
    let planted = approved.cookie(REMEMBER_COOKIE).unwrap();
    let hop = get_with_cookie(&authorize_url(&f.base, &params), Some(&planted)).await;
    assert!(hop.is_consent_page(), "{}", hop.status);
    // Another redirect URI is asked, even in the same browser.
    let second = registered_as(&f.base, "second app").await;
    let params2 = authorize_params(&second, "s2", f.server.url());
    let page = get_with_cookie(&authorize_url(&f.base, &params2), Some(&jar)).await;
    assert!(page.is_consent_page(), "{} {}", page.status, page.body);
    assert!(page.body.contains("second app"));

    // Approving it adds it to the browser's list: both now go straight on.
    let csrf = page.cookie(CSRF_COOKIE).unwrap();
    let hop = post_consent(
        &f.base,
        &[
            ("consent_token", &page.consent_token()),
            ("decision", "approve"),
        ],
        Some(&format!("{csrf}; {jar}")),
        &[],
    )
    .await;
    assert!(to_provider(f, &hop), "{} {}", hop.status, hop.body);
    let jar = format!(
        "{secret}; {}",
        hop.cookie(REMEMBER_COOKIE).expect("an updated list")
    );
    for params in [&params, &params2] {
        let hop = get_with_cookie(&authorize_url(&f.base, params), Some(&jar)).await;
        assert!(to_provider(f, &hop), "{} {}", hop.status, hop.body);
    }
    // A tampered list counts for nothing.
    let mut tampered = jar.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let hop = get_with_cookie(&authorize_url(&f.base, &params), Some(&tampered)).await;
    assert!(hop.is_consent_page(), "{}", hop.status);
}

#[actix_web::test]
async fn deny_sends_access_denied_to_the_client_and_nothing_to_the_provider() {
    let f = fixture();
    let redirect = registered_as(&f.base, "an app").await;
    let params = authorize_params(&redirect, "deny-state", f.server.url());
    let page = get(&authorize_url(&f.base, &params)).await;
    let csrf = page.cookie(CSRF_COOKIE).expect("the consent cookie");
    let token = page.consent_token();
    let hop = post_consent(
        &f.base,
        &[("consent_token", &token), ("decision", "deny")],
        Some(&csrf),
        &[],
    )
    .await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    assert!(!to_provider(f, &hop));
    assert_eq!(hop.set_cookie(REMEMBER_COOKIE), None, "nothing remembered");
    let location = hop.location.expect("to the client");
    assert!(location.as_str().starts_with(&redirect), "{location}");
    let query = query_of(&location);
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "deny-state");
    assert_eq!(query["iss"], f.base);
    assert!(!query.contains_key("code"));

    // The answered form cannot be approved afterwards.
    let hop = post_consent(
        &f.base,
        &[("consent_token", &token), ("decision", "approve")],
        Some(&csrf),
        &[],
    )
    .await;
    assert_eq!(hop.status, 400, "{}", hop.body);
    assert!(hop.location.is_none());
}

#[actix_web::test]
async fn forged_tampered_and_replayed_consent_posts_are_refused() {
    let f = fixture();
    let redirect = registered_as(&f.base, "an app").await;
    let params = authorize_params(&redirect, "s", f.server.url());
    let page = get(&authorize_url(&f.base, &params)).await;
    let csrf = page.cookie(CSRF_COOKIE).expect("the consent cookie");
    let token = page.consent_token();
    let approve_with = |token: String| {
        vec![
            ("consent_token".to_owned(), token),
            ("decision".to_owned(), "approve".to_owned()),
        ]
    };
    let refused = |hop: &Hop, status: u16, why: &str| {
        assert_eq!(hop.status, status, "{why}: {}", hop.body);
        assert!(hop.location.is_none(), "{why}: never redirected");
        assert_eq!(hop.set_cookie(REMEMBER_COOKIE), None, "{why}");
        let body: Value = serde_json::from_str(&hop.body).expect("JSON");
        assert!(body["error"].is_string(), "{why}");
    };
    let post = |form: Vec<(String, String)>,
                cookie: Option<String>,
                headers: Vec<(&'static str, &'static str)>| {
        let base = f.base.clone();
        async move {
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            post_consent(&base, &form, cookie.as_deref(), &headers).await
        }
    };

    // CSRF: without the cookie, with another browser's, or from another site.
    let hop = post(approve_with(token.clone()), None, vec![]).await;
    refused(&hop, 403, "no cookie");
    let other = get(&authorize_url(&f.base, &params)).await;
    let hop = post(
        approve_with(token.clone()),
        other.cookie(CSRF_COOKIE),
        vec![],
    )
    .await;
    refused(&hop, 403, "another browser's cookie");
    let hop = post(
        approve_with(token.clone()),
        Some(format!("{csrf}; {}", other.cookie(CSRF_COOKIE).unwrap())),
        vec![],
    )
    .await;
    refused(&hop, 403, "two cookies");
    let hop = post(
        approve_with(token.clone()),
        Some(csrf.clone()),
        vec![("sec-fetch-site", "cross-site")],
    )
    .await;
    refused(&hop, 403, "cross-site");
    let hop = post(
        approve_with(token.clone()),
        Some(csrf.clone()),
        vec![("origin", "https://evil.example")],
    )
    .await;
    refused(&hop, 403, "another origin");

    // Tampered anywhere, or not a consent token at all.
    for position in [10, token.len() / 2, token.len() - 3] {
        let mut bytes = token.clone().into_bytes();
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        let hop = post(approve_with(tampered), Some(csrf.clone()), vec![]).await;
        refused(&hop, 400, &format!("tampered at {position}"));
    }
    let state = forwarded_state(f, &redirect, "x").await;
    let hop = post(approve_with(state), Some(csrf.clone()), vec![]).await;
    refused(&hop, 400, "a signed state is no consent token");
    for bogus in ["", "not-a-jwt", "a.b.c"] {
        let hop = post(approve_with(bogus.to_owned()), Some(csrf.clone()), vec![]).await;
        refused(&hop, 400, bogus);
    }
    let hop = post(
        vec![
            ("consent_token".to_owned(), token.clone()),
            ("decision".to_owned(), "maybe".to_owned()),
        ],
        Some(csrf.clone()),
        vec![],
    )
    .await;
    refused(&hop, 400, "no decision");
    let wrong_method = get(&format!("{}{PROXY_CONSENT_PATH}", f.base)).await;
    assert_eq!(wrong_method.status, 405);

    // None of that spent the genuine token: the user's approval goes through,
    // once; a replay is refused.
    let hop = post(approve_with(token.clone()), Some(csrf.clone()), vec![]).await;
    assert!(to_provider(f, &hop), "{} {}", hop.status, hop.body);
    let hop = post(approve_with(token.clone()), Some(csrf.clone()), vec![]).await;
    refused(&hop, 400, "replayed");
    // (Expired tokens are refused too: the runtime's unit tests sign one.)
}

#[actix_web::test]
async fn allow_listed_redirects_and_servers_without_consent_skip_it() {
    let f = fixture();
    // The operator's own redirect URI needs no consent.
    let params = authorize_params(ALLOWED_REDIRECT, "s", f.server.url());
    let hop = get(&authorize_url(&f.base, &params)).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    assert!(to_provider(f, &hop));
    assert_eq!(hop.set_cookie(CSRF_COOKIE), None);

    // A server with `oauth_proxy_consent(false)` forwards registered clients
    // straight away, after the same checks.
    let server = no_consent_server();
    let base = server.base_url();
    let redirect = registered_as(&base, "an app").await;
    let params = authorize_params(&redirect, "s", server.url());
    let hop = get(&authorize_url(&base, &params)).await;
    assert_eq!(hop.status, 302, "{}", hop.body);
    assert!(to_provider(f, &hop), "{:?}", hop.location);
    let query = query_of(hop.location.as_ref().unwrap());
    assert_eq!(
        query["redirect_uri"],
        format!("{base}{PROXY_CALLBACK_PATH}")
    );
    assert_eq!(query["code_challenge"], CHALLENGE);
    let params = with(&[("code_challenge_method", "plain")], params);
    let mut url = Url::parse(&format!("{base}/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs(&params);
    let hop = get(url.as_str()).await;
    assert!(!to_provider(f, &hop), "still checked first");
}
