use crate::common::Api;
use futures::future::join_all;
use serde_json::{Value, json};

const SEED_CUSTOMER_FIELDS: [&str; 17] = [
    "id",
    "bank_id",
    "customer_number",
    "legal_name",
    "phone_number",
    "email",
    "face_image",
    "date_of_birth",
    "relationship_status",
    "credit_rating",
    "credit_limit",
    "highest_educational_attained",
    "employment_status",
    "kyc_status",
    "last_ok_data",
    "title",
    "branch_id",
];

const SEED_CREATE: &str = r#"{
    "bank_id": "string", "legal_name": "string", "mobile_phone_number": "string", "email": "string",
    "face_image": {"url": "string", "date": {"seconds": "int64", "nanos": "int32"}},
    "date_of_birth": {"seconds": "int64", "nanos": "int32"}, "relationship_status": "string",
    "dob_of_dependents": [{"seconds": "int64", "nanos": "int32"}], "credit_rating": {"rating": "string", "source": "string"},
    "credit_limit": {"cur": "string", "num": "string"}, "highest_education_attained": "string", "employment_status": "string",
    "last_ok_date": {"seconds": "int64", "nanos": "int32"}, "title": "string", "branchId": "string"}"#;
const SEED_DATA: &str = r#"{"bank_id": "string", "customer_id": "string",
    "face_image": {"url": "string", "date": {"seconds": "int64", "nanos": "int32"}},
    "relationship_status": "string", "dependants": "int32", "highest_education_attained": "string", "employment_status": "string"}"#;
const SEED_IDENTITY: &str = r#"{"bank_id": "string", "customer_id": "string", "legal_name": "string", "date_of_birth": "string", "title": "string"}"#;

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

// contract: C-TIME-3, C-TIME-4, C-TEXT-6, C-UPD-1, C-LOCK-1, C-SEED-2, C-SEED-3
#[tokio::test]
async fn create_get_update_get() {
    let api = Api::start().await;
    let staff = api.staff("bank-a");
    let created = api
        .post(
            "/v1/customers",
            &staff,
            &json!({
                "bank_id": "bank-a", "legal_name": "Ada Lovelace", "customer_number": "A-100",
                "mobile_phone_number": "+44 20 7946-0958", "email": "ada@example.com",
                "face_image": {"url": "https://img.example/ada.png", "date": {"seconds": 1700000000, "nanos": 5}},
                "date_of_birth": "1815-12-10", "relationship_status": "married",
                "dob_of_dependents": [{"seconds": "-4000000000"}],
                "credit_rating": {"rating": "AA", "source": "bureau"}, "credit_limit": {"cur": "GBP", "num": "0.00"},
                "highest_education_attained": "home", "employment_status": "employed",
                "last_ok_date": "2024-01-02T03:04:05Z", "title": "Countess", "branchId": "london-1"
            }),
        )
        .await;
    created.expect(201);
    assert_eq!(keys(&created.body), ["bank_id", "customer_id"]);
    let id = created.body["customer_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/banks/bank-a/customers/{id}");

    let got = api.get(&path, &staff).await;
    got.expect(200);
    let mut expected: Vec<String> = SEED_CUSTOMER_FIELDS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(keys(&got.body), expected);
    let c = &got.body;
    assert_eq!(c["id"], json!(id));
    assert_eq!(c["customer_number"], "A-100");
    assert_eq!(c["phone_number"], "+442079460958");
    assert_eq!(
        c["face_image"],
        json!({"url": "https://img.example/ada.png", "date": {"seconds": 1700000000, "nanos": 5}})
    );
    assert_eq!(c["date_of_birth"], json!({"seconds": -4861728000_i64, "nanos": 0}));
    assert_eq!(c["last_ok_data"], json!({"seconds": 1704164645, "nanos": 0}));
    assert_eq!(c["credit_limit"], json!({"cur": "GBP", "num": "0.00"}));
    assert_eq!(c["highest_educational_attained"], "home");
    assert_eq!(c["branch_id"], "london-1");
    assert_eq!(c["kyc_status"], false);
    assert_eq!(got.headers["etag"], "\"1\"");

    let updates = [
        ("branch", json!({"branch_id": "paris-2"}), "branch_id", json!("paris-2")),
        (
            "credit-limit",
            json!({"credit_limit": {"cur": "EUR", "num": "0"}}),
            "credit_limit",
            json!({"cur": "EUR", "num": "0"}),
        ),
        (
            "credit-rating-and-source",
            json!({"credit_rating": {"rating": "B"}}),
            "credit_rating",
            json!({"rating": "B", "source": "bureau"}),
        ),
        (
            "email",
            json!({"bank_id": "bank-a", "customer_id": id, "email": "ada@lovelace.org"}),
            "email",
            json!("ada@lovelace.org"),
        ),
        (
            "identity",
            json!({"legal_name": "Augusta Ada King", "date_of_birth": "1815-12-10T00:00:00Z"}),
            "legal_name",
            json!("Augusta Ada King"),
        ),
        (
            "mobile-number",
            json!({"mobile_phone_number": "+33 1 23 45 67 89"}),
            "phone_number",
            json!("+33123456789"),
        ),
        (
            "number",
            json!({"customer_number": "A-200"}),
            "customer_number",
            json!("A-200"),
        ),
        (
            "data",
            json!({"relationship_status": "widowed", "dependants": 3, "employment_status": "retired"}),
            "employment_status",
            json!("retired"),
        ),
    ];
    for (i, (route, body, field, value)) in updates.iter().enumerate() {
        let r = api.put(&format!("{path}/{route}"), &staff, body).await;
        r.expect(200);
        assert_eq!(keys(&r.body), ["customer"], "{route}");
        assert_eq!(r.body["customer"][*field], *value, "{route} answers the change");
        assert_eq!(
            r.headers["etag"],
            format!("\"{}\"", i + 2).as_str(),
            "{route} bumps the version"
        );
        let got = api.get(&path, &staff).await;
        assert_eq!(got.body[*field], *value, "{route} is visible on GET");
    }
    let got = api.get(&path, &staff).await;
    assert_eq!(got.body["title"], "Countess", "identity left title unchanged");
    assert_eq!(got.body["relationship_status"], "widowed");
    assert_eq!(got.body["email"], "ada@lovelace.org");
}

// contract: C-ID-8
#[tokio::test]
async fn get_by_customer_number() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({"customer_number": "N-1"})).await;
    let other = api.create_customer("b1", json!({"customer_number": "N-2"})).await;
    let r = api
        .get(&format!("/v1/banks/b1/customers/{id}/customer-number/N-1"), &staff)
        .await;
    r.expect(200);
    assert_eq!(r.body["id"], json!(id));
    api.get(&format!("/v1/banks/b1/customers/{id}/customer-number/N-2"), &staff)
        .await
        .expect(404);
    api.get(&format!("/v1/banks/b1/customers/{other}/customer-number/N-9"), &staff)
        .await
        .expect(404);
    let r = api
        .get(&format!("/v1/banks/b1/customers/{id}/customer-number/N%231"), &staff)
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["customer_number"]);
}

// contract: C-ID-5
#[tokio::test]
async fn server_assigns_unique_numbers() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let a = api.create_customer("b1", json!({})).await;
    let b = api.create_customer("b1", json!({})).await;
    let na = api.get(&format!("/v1/banks/b1/customers/{a}"), &staff).await.body["customer_number"].clone();
    let nb = api.get(&format!("/v1/banks/b1/customers/{b}"), &staff).await.body["customer_number"].clone();
    assert!(na.as_str().is_some_and(|n| n.len() == 12), "{na}");
    assert_ne!(na, nb);
}

// contract: C-ERR-5, C-AUTH-10, C-UPD-4
#[tokio::test]
async fn missing_customers_are_404_and_nothing_is_written() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let existing = api.create_customer("b1", json!({"customer_number": "X-1"})).await;
    let before = api.item_count().await;
    let missing = "0190a0b0-0000-7000-8000-0000000000ff";
    let base = format!("/v1/banks/b1/customers/{missing}");
    api.get(&base, &staff).await.expect(404);
    for (route, body) in [
        ("branch", json!({"branch_id": "x"})),
        ("credit-limit", json!({"credit_limit": {"cur": "EUR", "num": "1"}})),
        (
            "credit-rating-and-source",
            json!({"credit_rating": {"rating": "A", "source": "s"}}),
        ),
        ("email", json!({"email": "a@b.co"})),
        ("identity", json!({"legal_name": "X"})),
        ("mobile-number", json!({"mobile_phone_number": "+14155550100"})),
        ("number", json!({"customer_number": "X-2"})),
        ("data", json!({"dependants": 1})),
    ] {
        api.put(&format!("{base}/{route}"), &staff, &body).await.expect(404);
    }
    // A customer of another bank does not exist under this one.
    let other_staff = api.staff("b2");
    api.get(&format!("/v1/banks/b2/customers/{existing}"), &other_staff)
        .await
        .expect(404);
    api.put(
        &format!("/v1/banks/b2/customers/{existing}/email"),
        &other_staff,
        &json!({"email": "a@b.co"}),
    )
    .await
    .expect(404);
    assert_eq!(
        api.item_count().await,
        before,
        "no item created by updates of missing customers"
    );
}

// contract: C-BODY-4, C-ERR-2, C-ID-4, C-TEXT-1, C-TEXT-6, C-SEED-4
#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_writes_nothing() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({"customer_number": "K-1"})).await;
    let before = api.item_count().await;
    let long = "x".repeat(300);
    let cases: Vec<(&str, String, String, &str)> = vec![
        ("POST", "/v1/customers".into(), "{".into(), "body"),
        ("POST", "/v1/customers".into(), "".into(), "body"),
        ("POST", "/v1/customers".into(), "[]".into(), "body"),
        ("POST", "/v1/customers".into(), "null".into(), "body"),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1"}).to_string(),
            "legal_name",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": 5}).to_string(),
            "legal_name",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b#1", "legal_name": "x"}).to_string(),
            "bank_id",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": long}).to_string(),
            "legal_name",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": "x", "email": "nope"}).to_string(),
            "email",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": "x", "mobile_phone_number": "call me"}).to_string(),
            "mobile_phone_number",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": "x", "credit_limit": {"cur": "EURO", "num": "1"}}).to_string(),
            "credit_limit.cur",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": "x", "credit_limit": {"cur": "EUR", "num": 1}}).to_string(),
            "credit_limit.num",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": "x", "date_of_birth": {"seconds": 1, "nanos": -1}}).to_string(),
            "date_of_birth",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": "x", "last_ok_date": "yesterday"}).to_string(),
            "last_ok_date",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": "x", "customer_number": "K#2"}).to_string(),
            "customer_number",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": "x", "kyc_status": true}).to_string(),
            "kyc_status",
        ),
        (
            "POST",
            "/v1/customers".into(),
            json!({"bank_id": "b1", "legal_name": "x", "dob_of_dependents": "1990-01-01"}).to_string(),
            "dob_of_dependents",
        ),
        // The seed's own curl example bodies, placeholders and all, in the seed's field order.
        (
            "POST",
            "/v1/customers".into(),
            SEED_CREATE.into(),
            "face_image.date.seconds",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/data"),
            SEED_DATA.into(),
            "face_image.date.seconds",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/identity"),
            SEED_IDENTITY.into(),
            "date_of_birth",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/credit-limit"),
            json!({"credit_limit": {"cur": "string", "num": "string"}}).to_string(),
            "credit_limit.cur",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/email"),
            json!({"email": "string"}).to_string(),
            "email",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/email"),
            json!({"customer_id": "0190a0b0-0000-7000-8000-0000000000ff", "email": "a@b.co"}).to_string(),
            "customer_id",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/mobile-number"),
            json!({"mobile_phone_number": null}).to_string(),
            "mobile_phone_number",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/number"),
            json!({"customer_number": ""}).to_string(),
            "customer_number",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/data"),
            json!({"dependants": -1}).to_string(),
            "dependants",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/data"),
            json!({"dependants": 99999999999_i64}).to_string(),
            "dependants",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/branch"),
            json!({"branch_id": "a/b"}).to_string(),
            "branch_id",
        ),
        (
            "PUT",
            format!("/v1/banks/b1/customers/{id}/credit-rating-and-source"),
            json!({"credit_rating": {"rating": ["A"]}}).to_string(),
            "credit_rating.rating",
        ),
        (
            "GET",
            "/v1/banks/b1/customers/not-a-uuid".into(),
            String::new(),
            "customer_id",
        ),
        (
            "GET",
            "/v1/banks/b1/customers/0190a0b0-0000-7000-8000-00000000%2301".into(),
            String::new(),
            "customer_id",
        ),
        (
            "GET",
            "/v1/banks/b%231/customers/0190a0b0-0000-7000-8000-000000000001".into(),
            String::new(),
            "bank_id",
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, field) in &cases {
        let body = (!body.is_empty() || *method != "GET").then_some(body.as_str());
        let r = api.send(method.parse().unwrap(), path, Some(&staff), body).await;
        let ct = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if r.status != 400 || ct != "application/problem+json" || !r.fields().iter().any(|f| f == field) {
            failures.push(format!("{method} {path} {body:?}: {} {ct} {}", r.status, r.body));
        }
    }
    assert!(
        failures.is_empty(),
        "cases not answered 400 naming the field:\n{}",
        failures.join("\n")
    );
    assert_eq!(api.item_count().await, before, "rejected requests wrote nothing");
    let got = api.get(&format!("/v1/banks/b1/customers/{id}"), &staff).await;
    assert_eq!(got.body["customer_number"], "K-1");
    assert_eq!(got.headers["etag"], "\"1\"", "rejected updates changed nothing");
}

// contract: C-BODY-1, C-BODY-3
#[tokio::test]
async fn bodies_are_json_whatever_the_content_type_and_limited_in_size() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let r = api
        .http
        .post(format!("{}/v1/customers", api.base))
        .header("Authorization", format!("Bearer {staff}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(json!({"bank_id": "b1", "legal_name": "Curl User"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let huge = json!({"bank_id": "b1", "legal_name": "x".repeat(70 * 1024)}).to_string();
    api.send(reqwest::Method::POST, "/v1/customers", Some(&staff), Some(&huge))
        .await
        .expect(413);
}

// contract: C-ERR-6, C-ID-5
#[tokio::test]
async fn customer_numbers_are_unique_under_concurrent_creates() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let body = json!({"bank_id": "b1", "legal_name": "Racer", "customer_number": "RACE-1"});
    let replies = join_all((0..20).map(|_| api.post("/v1/customers", &staff, &body))).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (created, conflicts),
        (1, 19),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // The same number at another bank is fine.
    api.post(
        "/v1/customers",
        &api.staff("b2"),
        &json!({"bank_id": "b2", "legal_name": "X", "customer_number": "RACE-1"}),
    )
    .await
    .expect(201);
}

// contract: C-ID-5
#[tokio::test]
async fn customer_numbers_are_unique_under_concurrent_number_updates() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(api.create_customer("b1", json!({})).await);
    }
    let body = json!({"customer_number": "WIN-1"});
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/v1/banks/b1/customers/{id}/number"))
        .collect();
    let replies = join_all(paths.iter().map(|p| api.put(p, &staff, &body))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 9, "{statuses:?}");
    let winner = replies.iter().find(|r| r.status == 200).unwrap().body["customer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.get(
        &format!("/v1/banks/b1/customers/{winner}/customer-number/WIN-1"),
        &staff,
    )
    .await
    .expect(200);
    // Setting one's own number again is a no-op; the old number is free again after a change.
    api.put(&format!("/v1/banks/b1/customers/{winner}/number"), &staff, &body)
        .await
        .expect(200);
    api.put(
        &format!("/v1/banks/b1/customers/{winner}/number"),
        &staff,
        &json!({"customer_number": "WIN-2"}),
    )
    .await
    .expect(200);
    api.post(
        "/v1/customers",
        &staff,
        &json!({"bank_id": "b1", "legal_name": "Y", "customer_number": "WIN-1"}),
    )
    .await
    .expect(201);
    api.post(
        "/v1/customers",
        &staff,
        &json!({"bank_id": "b1", "legal_name": "Z", "customer_number": "WIN-2"}),
    )
    .await
    .expect(409);
}

// contract: C-LOCK-2
#[tokio::test]
async fn if_match_guards_updates() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let id = api.create_customer("b1", json!({})).await;
    let path = format!("/v1/banks/b1/customers/{id}/email");
    let put = |etag: &'static str, email: &'static str| {
        api.http
            .put(format!("{}{path}", api.base))
            .header("Authorization", format!("Bearer {staff}"))
            .header("If-Match", etag)
            .body(json!({"email": email}).to_string())
            .send()
    };
    assert_eq!(put("\"1\"", "a@b.co").await.unwrap().status(), 200);
    assert_eq!(put("\"1\"", "c@d.co").await.unwrap().status(), 412);
    assert_eq!(put("\"2\"", "c@d.co").await.unwrap().status(), 200);
    let got = api.get(&format!("/v1/banks/b1/customers/{id}"), &staff).await;
    assert_eq!(got.body["email"], "c@d.co");
    assert_eq!(got.headers["etag"], "\"3\"");
}
