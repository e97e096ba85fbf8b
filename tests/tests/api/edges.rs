//! The edges a careful client hits: conflicts it did not ask for, partial nested updates, expired
//! tokens behind a cached Allow, `If-Match` lists and weak tags, invisible text, the order of 403
//! and 400, timestamp ranges, the case of numbers and ids, and the order of a user's customers.
//! Each test runs through the gateway and the real authorizer (and the release bootstraps in lambda
//! mode).

use crate::auth::reply_of;
use crate::common::{ALL_SCOPES, Api, Reply};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

fn customer_path(bank: &str, id: &str) -> String {
    format!("/v1/banks/{bank}/customers/{id}")
}

async fn send_with(api: &Api, method: Method, path: &str, token: &str, body: &Value, if_match: &str) -> Reply {
    let req = api
        .http
        .request(method, format!("{}{path}", api.base))
        .header("Authorization", format!("Bearer {token}"))
        .header("If-Match", if_match)
        .body(body.to_string());
    reply_of(req.send().await.expect("request")).await
}

fn etag(r: &Reply) -> String {
    r.headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Defect: a number PUT without `If-Match` was 409 whenever another PUT of the customer landed
/// between its read and its write.
// contract: C-LOCK-5
#[tokio::test]
async fn a_number_put_without_if_match_never_conflicts_with_other_fields() {
    let api = Api::start().await;
    let bank = "edge-number-race";
    let staff = api.staff(bank);
    let id = api.create_customer(bank, json!({})).await;
    let path = customer_path(bank, &id);
    for trial in 0..5 {
        let email_path = format!("{path}/email");
        let email_bodies: Vec<Value> = (0..8)
            .map(|i| json!({"email": format!("t{trial}-{i}@example.com")}))
            .collect();
        let emails = email_bodies.iter().map(|body| api.put(&email_path, &staff, body));
        let number = format!("RACE-{trial}");
        let (number_path, number_body) = (format!("{path}/number"), json!({"customer_number": number}));
        let number_put = api.put(&number_path, &staff, &number_body);
        let (emails, number_reply) = futures::join!(join_all(emails), number_put);
        for r in &emails {
            r.expect(200);
        }
        number_reply.expect(200);
        assert_eq!(number_reply.body["customer"]["customer_number"], number.as_str());
        // The answer's ETag is the version it shows.
        let now = api.get(&path, &staff).await;
        now.expect(200);
        assert_eq!(now.body["customer_number"], number.as_str());
    }
    // 409 still means a taken number.
    let other = api.create_customer(bank, json!({"customer_number": "TAKEN-1"})).await;
    assert_ne!(other, id);
    api.put(
        &format!("{path}/number"),
        &staff,
        &json!({"customer_number": "TAKEN-1"}),
    )
    .await
    .expect(409);
}

/// Defect: `PUT .../data` with only `face_image.date` set `face_image.url` to `""`.
// contract: C-UPD-3
#[tokio::test]
async fn a_member_left_out_of_a_nested_object_stays_unchanged() {
    let api = Api::start().await;
    let bank = "edge-nested";
    let staff = api.staff(bank);
    let id = api
        .create_customer(
            bank,
            json!({"face_image": {"url": "https://img.example/a.png", "date": "2020-01-01"},
                   "credit_rating": {"rating": "AA", "source": "agency"}}),
        )
        .await;
    let path = customer_path(bank, &id);
    let r = api
        .put(
            &format!("{path}/data"),
            &staff,
            &json!({"face_image": {"date": "2021-02-02"}}),
        )
        .await;
    r.expect(200);
    let image = &r.body["customer"]["face_image"];
    assert_eq!(image["url"], "https://img.example/a.png", "{image}");
    assert_eq!(image["date"]["seconds"], 1_612_224_000);
    let r = api
        .put(
            &format!("{path}/data"),
            &staff,
            &json!({"face_image": {"url": "https://img.example/b.png"}}),
        )
        .await;
    r.expect(200);
    let image = &r.body["customer"]["face_image"];
    assert_eq!(image["url"], "https://img.example/b.png");
    assert_eq!(image["date"]["seconds"], 1_612_224_000, "{image}");
    // The other nested object of the customer PUTs keeps what is left out too.
    let r = api
        .put(
            &format!("{path}/credit-rating-and-source"),
            &staff,
            &json!({"credit_rating": {"rating": "B"}}),
        )
        .await;
    r.expect(200);
    assert_eq!(
        r.body["customer"]["credit_rating"],
        json!({"rating": "B", "source": "agency"})
    );
    let stored = api.get(&path, &staff).await;
    assert_eq!(stored.body["face_image"]["url"], "https://img.example/b.png");
}

/// Defect: with the gateway's cached Allow, a token past `exp` + 60 s still got 200. The token
/// here expired 59 s ago: the authorizer allows it (leeway) and the gateway caches that Allow for
/// 300 s; two seconds later the function must refuse it although the cache still allows it.
// contract: C-AUTH-3
#[tokio::test]
async fn an_expired_token_is_refused_even_behind_a_cached_allow() {
    let api = Api::start().await;
    let bank = "edge-exp";
    let id = api.create_customer(bank, json!({})).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let claims = json!({
        "sub": "edge-user", "iss": local_api::keys::LOCAL_ISSUER, "aud": local_api::keys::LOCAL_AUDIENCE,
        "exp": now - 58, "nbf": now - 600, "iat": now - 600, "scope": ALL_SCOPES, "bank_ids": [bank],
    });
    let token = api.signed(jsonwebtoken::Algorithm::ES256, Some(api.keys.kid()), claims);
    let path = customer_path(bank, &id);
    api.get(&path, &token).await.expect(200);
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let r = api.get(&path, &token).await;
    r.expect(401);
    assert_eq!(
        r.headers.get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Bearer error=\"invalid_token\""),
        "as the gateway's own 401 (RFC 6750)"
    );
    // Nothing is written with it either.
    api.put(&format!("{path}/email"), &token, &json!({"email": "late@example.com"}))
        .await
        .expect(401);
    assert_eq!(api.get(&path, &api.staff(bank)).await.body["email"], "");
}

/// Defect: `If-Match` compared weakly, accepted an unquoted version and refused lists.
// contract: C-LOCK-3, C-LOCK-4
#[tokio::test]
async fn if_match_compares_strongly_and_evaluates_lists() {
    let api = Api::start().await;
    let bank = "edge-if-match";
    let staff = api.staff(bank);
    let id = api.create_customer(bank, json!({})).await;
    let path = format!("{}/email", customer_path(bank, &id));
    let current = etag(&api.get(&customer_path(bank, &id), &staff).await);
    assert_eq!(current, "\"1\"");
    let body = json!({"email": "a@example.com"});
    // Weak tags and foreign tags never match: 412, nothing written.
    for tag in ["W/\"1\"", "\"x\"", "\"2\", W/\"1\""] {
        send_with(&api, Method::PUT, &path, &staff, &body, tag)
            .await
            .expect(412);
    }
    // Malformed: 400 naming the header.
    for tag in ["1", "'1'", "\"1", "*, \"1\"", "w/\"1\""] {
        let r = send_with(&api, Method::PUT, &path, &staff, &body, tag).await;
        r.expect(400);
        assert_eq!(r.fields(), ["If-Match"], "{tag}");
    }
    assert_eq!(etag(&api.get(&customer_path(bank, &id), &staff).await), "\"1\"");
    // A list matches when one member does; `*` matches any existing version.
    let r = send_with(&api, Method::PUT, &path, &staff, &body, "\"7\", \"1\"").await;
    r.expect(200);
    assert_eq!(etag(&r), "\"2\"");
    send_with(&api, Method::PUT, &path, &staff, &body, "*")
        .await
        .expect(200);
    // The same rules on a record's update and delete, and on the number change.
    let address = api
        .post(
            &format!("/v1/customers/{id}/address"),
            &staff,
            &json!({"line_1": "1 Main St", "city": "Springfield", "country_code": "US"}),
        )
        .await;
    address.expect(201);
    let address_path = format!(
        "{}/addresses/{}",
        customer_path(bank, &id),
        address.body["customer_address_id"].as_str().expect("id")
    );
    send_with(
        &api,
        Method::PUT,
        &address_path,
        &staff,
        &json!({"city": "X"}),
        "W/\"1\"",
    )
    .await
    .expect(412);
    send_with(&api, Method::DELETE, &address_path, &staff, &json!({}), "1")
        .await
        .expect(400);
    let number_path = format!("{}/number", customer_path(bank, &id));
    send_with(
        &api,
        Method::PUT,
        &number_path,
        &staff,
        &json!({"customer_number": "IM-1"}),
        "W/\"3\"",
    )
    .await
    .expect(412);
    send_with(
        &api,
        Method::PUT,
        &number_path,
        &staff,
        &json!({"customer_number": "IM-1"}),
        "\"9\", \"3\"",
    )
    .await
    .expect(200);
    send_with(&api, Method::DELETE, &address_path, &staff, &json!({}), "\"5\", \"1\"")
        .await
        .expect(204);
}

/// Defect: invisible text (`"\u200b"`, bidi overrides, `\ufeff`) was accepted as content.
// contract: C-TEXT-3, C-TEXT-4, C-TEXT-5
#[tokio::test]
async fn invisible_and_bidi_text_is_refused_and_text_is_stored_in_nfc() {
    let api = Api::start().await;
    let bank = "edge-text";
    let staff = api.staff(bank);
    for (field, value) in [
        ("legal_name", "\u{200b}"),
        ("legal_name", "\u{feff}"),
        ("legal_name", "\u{200b} \u{2060}"),
        ("legal_name", "\u{202e}evil"),
        ("legal_name", "Ada\u{2066}"),
        ("title", "\u{200b}"),
        ("relationship_status", "\u{202a}x"),
    ] {
        let mut body = json!({"bank_id": bank, "legal_name": "Ada"});
        body[field] = json!(value);
        let r = api.post("/v1/customers", &staff, &body).await;
        r.expect(400);
        assert_eq!(r.fields(), [field], "{value:?}");
    }
    let id = api.create_customer(bank, json!({"legal_name": "Rene\u{301}e"})).await;
    let stored = api.get(&customer_path(bank, &id), &staff).await;
    assert_eq!(stored.body["legal_name"], "Ren\u{e9}e");
    for (field, value) in [
        ("line_1", "\u{200b}"),
        ("city", "\u{feff}"),
        ("line_2", "\u{200e}2nd floor"),
        ("state", "\u{3164}"),
    ] {
        let mut body = json!({"line_1": "1 Main St", "city": "Springfield", "country_code": "US"});
        body[field] = json!(value);
        let r = api.post(&format!("/v1/customers/{id}/address"), &staff, &body).await;
        r.expect(400);
        assert_eq!(r.fields(), [field], "{value:?}");
    }
    let r = api
        .post(
            &format!("/v1/customers/{id}/social_media_handles"),
            &staff,
            &json!({"type": "twitter", "handle": "\u{200b}"}),
        )
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["handle"]);
    let r = api
        .put(
            &format!("{}/identity", customer_path(bank, &id)),
            &staff,
            &json!({"legal_name": "\u{200b}\u{200c}"}),
        )
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["legal_name"]);
    assert_eq!(
        api.get(&customer_path(bank, &id), &staff).await.body["legal_name"],
        "Ren\u{e9}e"
    );
}

/// Defect: on the child lists a caller without access got 400 for a bad `page_token` or `limit`.
// contract: C-AUTH-11
#[tokio::test]
async fn access_is_checked_before_the_page_on_every_list() {
    let api = Api::start().await;
    let bank = "edge-order";
    let id = api.create_customer(bank, json!({})).await;
    // Staff of the bank, but without the scope any list needs.
    let no_scope = api.token("edge-no-scope", &[bank], "customer.write");
    let stranger = api.token("edge-stranger", &["another-bank"], ALL_SCOPES);
    let unlinked = api.token("edge-unlinked", &[], ALL_SCOPES);
    let lists = [
        format!("{}/addresses", customer_path(bank, &id)),
        format!("{}/social_media_handles", customer_path(bank, &id)),
        format!("{}/tax-residences", customer_path(bank, &id)),
        format!("{}/credit_limit/requests", customer_path(bank, &id)),
        format!("/v1/banks/{bank}/crm-events"),
        format!("/v1/banks/{bank}/firehose/customers"),
        "/v1/users/current/customers".to_owned(),
        format!("/v1/banks/{bank}/customers"),
    ];
    let mut failures = Vec::new();
    for list in &lists {
        for query in ["limit=0", "limit=abc", "page_token=forged", "limit=1000&page_token=x.y"] {
            let url = format!("{list}?{query}");
            for (who, token) in [
                ("no list scope", &no_scope),
                ("other bank", &stranger),
                ("unlinked", &unlinked),
            ] {
                let r = api.get(&url, token).await;
                // The caller's own lists are theirs to read: there, the bad page is what is wrong.
                let own = list.starts_with("/v1/users/") || list.ends_with(&format!("/banks/{bank}/customers"));
                let want = if own && who != "no list scope" { 400 } else { 403 };
                if r.status != want {
                    failures.push(format!("{who} GET {url}: {} (want {want}) {}", r.status, r.body));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Defect: `{"seconds":1,"seconds":2}` was accepted and `"0000-01-01"` too, while
/// `"0000-01-01T00:00:00Z"` was 400.
// contract: C-TIME-1, C-TIME-2
#[tokio::test]
async fn every_timestamp_form_has_one_range_and_no_duplicate_members() {
    let api = Api::start().await;
    let bank = "edge-time";
    let staff = api.staff(bank);
    for dob in [
        json!({"seconds": 1, "seconds": 2}),
        json!("0000-01-01"),
        json!("0000-01-01T00:00:00Z"),
        json!({"seconds": -62_135_596_801_i64}),
        json!("10000-01-01"),
    ] {
        // serde_json's `json!` keeps only the last duplicate: send the text itself.
        let text = if dob.get("seconds").is_some_and(|s| s == 2) {
            r#"{"seconds": 1, "seconds": 2}"#.to_owned()
        } else {
            dob.to_string()
        };
        let body = format!(r#"{{"bank_id": "{bank}", "legal_name": "Ada", "date_of_birth": {text}}}"#);
        let r = api.send(Method::POST, "/v1/customers", Some(&staff), Some(&body)).await;
        r.expect(400);
        assert_eq!(r.fields(), ["date_of_birth"], "{text}");
    }
    for (dob, seconds) in [
        (json!("0001-01-01"), -62_135_596_800_i64),
        (json!("0001-01-01T00:00:00Z"), -62_135_596_800),
        (json!({"seconds": -62_135_596_800_i64}), -62_135_596_800),
        (json!("9999-12-31T23:59:59Z"), 253_402_300_799),
    ] {
        let id = api.create_customer(bank, json!({"date_of_birth": dob})).await;
        let r = api.get(&customer_path(bank, &id), &staff).await;
        assert_eq!(r.body["date_of_birth"]["seconds"], seconds, "{dob}");
    }
}

/// Defect: a no-break space split scopes, so `customer.write\u{a0}customer.read` could read.
// contract: C-AUTH-5
#[tokio::test]
async fn only_the_ascii_space_separates_scopes() {
    let api = Api::start().await;
    let bank = "edge-scope";
    let id = api.create_customer(bank, json!({})).await;
    for scope in ["customer.write\u{a0}customer.read", "customer.write\tcustomer.read"] {
        let token = api.token("edge-scope-user", &[bank], scope);
        api.get(&customer_path(bank, &id), &token).await.expect(403);
    }
    let token = api.token("edge-scope-user", &[bank], "customer.write  customer.read");
    api.get(&customer_path(bank, &id), &token).await.expect(200);
}

/// Decision: customer numbers are unique per bank whatever their case; ids in bodies are read as in
/// paths (a UUID in upper case is the same id).
// contract: C-ID-3, C-ID-6
#[tokio::test]
async fn numbers_ignore_case_and_body_ids_read_as_path_ids() {
    let api = Api::start().await;
    let bank = "edge-case";
    let staff = api.staff(bank);
    let id = api.create_customer(bank, json!({"customer_number": "ACME-1"})).await;
    let r = api
        .post(
            "/v1/customers",
            &staff,
            &json!({"bank_id": bank, "legal_name": "B", "customer_number": "acme-1"}),
        )
        .await;
    r.expect(409);
    let other = api.create_customer(bank, json!({"customer_number": "ACME-2"})).await;
    api.put(
        &format!("{}/number", customer_path(bank, &other)),
        &staff,
        &json!({"customer_number": "Acme-1"}),
    )
    .await
    .expect(409);
    // The lookup by number and the handle's number check ignore case too.
    api.get(&format!("{}/customer-number/acme-1", customer_path(bank, &id)), &staff)
        .await
        .expect(200);
    api.post(
        &format!("/v1/customers/{id}/social_media_handles"),
        &staff,
        &json!({"type": "twitter", "handle": "@acme", "customer_number": "acme-1"}),
    )
    .await
    .expect(201);
    // A customer may change the case of its own number; the number stays its own.
    let r = api
        .put(
            &format!("{}/number", customer_path(bank, &id)),
            &staff,
            &json!({"customer_number": "acme-1", "customer_id": id.to_uppercase(), "bank_id": bank}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["customer"]["customer_number"], "acme-1");
    api.put(
        &format!("{}/number", customer_path(bank, &other)),
        &staff,
        &json!({"customer_number": "ACME-1"}),
    )
    .await
    .expect(409);
    // Upper-case ids in every kind of body.
    let upper = id.to_uppercase();
    api.put(
        &format!("{}/email", customer_path(bank, &id)),
        &staff,
        &json!({"email": "a@example.com", "customer_id": upper}),
    )
    .await
    .expect(200);
    api.post(
        &format!("{}/tax-residences", customer_path(bank, &id)),
        &staff,
        &json!({"domain": "DE", "tax_number": "DE123", "customer_id": upper}),
    )
    .await
    .expect(201);
    api.post(
        &format!("/v1/customers/{id}/address"),
        &staff,
        &json!({"line_1": "1 Main St", "city": "Springfield", "country_code": "US", "customer_id": upper}),
    )
    .await
    .expect(201);
    let r = api
        .put(
            &format!("{}/email", customer_path(bank, &id)),
            &staff,
            &json!({"email": "a@example.com", "customer_id": other}),
        )
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["customer_id"]);
}

/// Decision: a user's customers across banks are ordered by bank id, then customer id (not by when
/// they were linked); within one bank that is the customers' creation order.
// contract: C-PAGE-5
#[tokio::test]
async fn a_users_customers_are_ordered_by_bank_then_customer() {
    let api = Api::start().await;
    let user = format!("edge-order-user-{}", shared::domain::ids::CustomerId::new());
    let mut expected = Vec::new();
    // Linked newest bank first and newest customer first: the answer must not follow link order.
    for bank in ["edge-z-bank", "edge-a-bank"] {
        let first = api.create_customer(bank, json!({})).await;
        let second = api.create_customer(bank, json!({})).await;
        for customer in [&second, &first] {
            api.post(
                &format!("/v1/banks/{bank}/user_customer_links"),
                &api.staff(bank),
                &json!({"user_id": user, "customer_id": customer}),
            )
            .await
            .expect(201);
        }
        expected.push((bank, first, second));
    }
    expected.sort();
    let want: Vec<String> = expected.into_iter().flat_map(|(_, a, b)| [a, b]).collect();
    let token = api.token(&user, &[], "customer.read");
    let pages = api.pages("/v1/users/current/customers?limit=1", &token).await;
    let got: Vec<String> = pages
        .iter()
        .flat_map(|p| p.body["customers"].as_array().expect("customers").clone())
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(got, want);
}

/// With CORS on, the gateway's own answers (here a 401 without a token, and a 404 of an unknown
/// route) carry the allowed origin, so that a browser sees the error rather than a CORS failure.
#[tokio::test]
async fn gateway_answers_carry_the_cors_origin_when_cors_is_on() {
    let text = std::fs::read_to_string(local_api::template_path().expect("the checkout")).expect("template");
    let at = text.find("  CorsAllowedOrigins:").expect("the parameter");
    let default = at + text[at..].find("Default: \"\"").expect("its default");
    let changed = format!(
        "{}Default: \"https://app.bank.example\"{}",
        &text[..default],
        &text[default + "Default: \"\"".len()..]
    );
    let api = Api::start_with(local_api::template::Template::parse(&changed).expect("template")).await;
    for path in ["/v1/users/current/customers", "/v1/nowhere"] {
        let r = api.send(Method::GET, path, None, None).await;
        assert!(r.status == 401 || r.status == 404, "{path}: {}", r.status);
        assert_eq!(
            r.headers
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok()),
            Some("https://app.bank.example"),
            "{path}"
        );
    }
    let plain = Api::start().await;
    let r = plain.send(Method::GET, "/v1/users/current/customers", None, None).await;
    r.expect(401);
    assert!(r.headers.get("access-control-allow-origin").is_none());
}
