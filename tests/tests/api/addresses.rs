//! Black-box tests of the addresses group.

use crate::common::{ALL_SCOPES, Api, Reply};
use reqwest::Method;
use serde_json::{Value, json};

const SEED_ADDRESS_FIELDS: [&str; 13] = [
    "city",
    "country_code",
    "county",
    "customer_address_id",
    "customer_id",
    "insert_date",
    "line_1",
    "line_2",
    "line_3",
    "postcode",
    "state",
    "status",
    "tags",
];

/// The seed's curl bodies, verbatim.
const SEED_CREATE: &str = r#"{
    "customer_id": "string", "line_1": "string", "line_2": "string", "line_3": "string", "city": "string",
    "county": "string", "state": "string", "postcode": "string", "country_code": "string", "tags": "[]string",
    "status": "string"}"#;
const SEED_UPDATE: &str = r#"{
    "bank_id": "string", "customer_id": "string", "customer_address_id": "string", "line_1": "string",
    "line_2": "string", "line_3": "string", "city": "string", "county": "string", "state": "string",
    "postcode": "string", "country_code": "string", "tags": "[]string", "status": "string"}"#;

const MISSING: &str = "0190a0b0-0000-7000-8000-0000000000ff";

fn minimal() -> Value {
    json!({"line_1": "1 Main St", "city": "Berlin", "country_code": "DE"})
}

fn add_path(customer: &str) -> String {
    format!("/v1/customers/{customer}/address")
}

fn list_path(bank: &str, customer: &str) -> String {
    format!("/v1/banks/{bank}/customers/{customer}/addresses")
}

fn address_path(bank: &str, customer: &str, address: &str) -> String {
    format!("/v1/banks/{bank}/customers/{customer}/addresses/{address}")
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .map(|a| a["customer_address_id"].as_str().expect("id").to_owned())
        .collect()
}

/// Adds an address as staff of `bank` and returns its id.
async fn add(api: &Api, bank: &str, customer: &str, body: Value) -> String {
    let r = api.post(&add_path(customer), &api.staff(bank), &body).await;
    r.expect(201);
    r.body["customer_address_id"].as_str().expect("id").to_owned()
}

/// A request with extra headers, which `Api::send` does not take.
async fn send_with(api: &Api, method: Method, path: &str, token: &str, body: Option<&Value>, if_match: &str) -> Reply {
    let mut req = api
        .http
        .request(method, format!("{}{path}", api.base))
        .header("Authorization", format!("Bearer {token}"))
        .header("If-Match", if_match);
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    };
    Reply { status, headers, body }
}

async fn delete(api: &Api, path: &str, token: Option<&str>) -> Reply {
    api.send(Method::DELETE, path, token, None).await
}

// contract: C-ID-1, C-OUT-1, C-OUT-2, C-UPD-2, C-LOCK-1, C-SEED-1
#[tokio::test]
async fn create_list_update_list() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let before = api.item_count().await;

    let body = json!({
        "customer_id": customer, "line_1": "Flat 3", "line_2": "10 Downing Street", "line_3": "Westminster",
        "city": "London", "county": "Greater London", "state": "England", "postcode": "SW1A 2AA",
        "country_code": "GB", "tags": ["home", "billing"], "status": "current"
    });
    let created = api.post(&add_path(&customer), &staff, &body).await;
    created.expect(201);
    assert_eq!(keys(&created.body), SEED_ADDRESS_FIELDS);
    let a = &created.body;
    let id = a["customer_address_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "7", "server ids are UUIDv7: {id}");
    assert_eq!(a["customer_id"], json!(customer));
    for field in [
        "line_1",
        "line_2",
        "line_3",
        "city",
        "county",
        "state",
        "postcode",
        "country_code",
        "tags",
        "status",
    ] {
        assert_eq!(a[field], body[field], "{field} is stored as given");
    }
    let seconds = a["insert_date"]["seconds"]
        .as_i64()
        .expect("insert_date.seconds is a number");
    assert!(seconds > 1_700_000_000, "{seconds}");
    assert!(a["insert_date"]["nanos"].is_i64());
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(created.headers["location"], address_path("b1", &customer, &id).as_str());
    assert_eq!(api.item_count().await, before + 1, "one item per address");

    // Absent values are "" and [], never omitted.
    let bare = api.post(&add_path(&customer), &staff, &minimal()).await;
    bare.expect(201);
    assert_eq!(keys(&bare.body), SEED_ADDRESS_FIELDS);
    for field in ["line_2", "line_3", "county", "state", "postcode", "status"] {
        assert_eq!(bare.body[field], "", "{field}");
    }
    assert_eq!(bare.body["tags"], json!([]));
    let bare_id = bare.body["customer_address_id"].as_str().unwrap().to_owned();

    let list = api.get(&list_path("b1", &customer), &staff).await;
    list.expect(200);
    assert_eq!(keys(&list.body), ["addresses"]);
    assert_eq!(ids(&list), [id.clone(), bare_id.clone()]);
    assert_eq!(
        list.body["addresses"][0], created.body,
        "the list answers what the create did"
    );
    assert_eq!(list.body["addresses"][1], bare.body);

    // Only what is given changes; "" clears an optional field.
    let path = address_path("b1", &customer, &id);
    let updated = api
        .put(
            &path,
            &staff,
            &json!({"city": "Manchester", "line_2": "", "tags": ["work"], "postcode": "M1 1AA"}),
        )
        .await;
    updated.expect(200);
    assert_eq!(keys(&updated.body), SEED_ADDRESS_FIELDS);
    assert_eq!(updated.headers["etag"], "\"2\"");
    let mut expected = created.body.clone();
    expected["city"] = json!("Manchester");
    expected["line_2"] = json!("");
    expected["tags"] = json!(["work"]);
    expected["postcode"] = json!("M1 1AA");
    assert_eq!(
        updated.body, expected,
        "everything else, insert_date included, is unchanged"
    );

    // The body may repeat the path's ids, in any spelling of the same UUID.
    let again = api
        .put(
            &path,
            &staff,
            &json!({"bank_id": "b1", "customer_id": customer.to_uppercase(), "customer_address_id": id, "status": "old"}),
        )
        .await;
    again.expect(200);
    assert_eq!(again.body["status"], "old");
    assert_eq!(again.headers["etag"], "\"3\"");

    let list = api.get(&list_path("b1", &customer), &staff).await;
    list.expect(200);
    expected["status"] = json!("old");
    assert_eq!(list.body["addresses"][0], expected, "the list shows the change");
    assert_eq!(list.body["addresses"][1], bare.body, "the other address is untouched");
    assert_eq!(api.item_count().await, before + 2, "updates create nothing");
}

// contract: C-BODY-5, C-PAGE-1, C-PAGE-2, C-PAGE-3, C-PAGE-4
#[tokio::test]
async fn lists_in_creation_order_with_pages() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let other = api.create_customer("b1", json!({})).await;
    let mut created = Vec::new();
    for i in 0..5 {
        let mut body = minimal();
        body["line_1"] = json!(format!("{i} Main St"));
        created.push(add(&api, "b1", &customer, body).await);
    }
    add(&api, "b1", &other, minimal()).await;

    let all = api.get(&list_path("b1", &customer), &staff).await;
    all.expect(200);
    assert_eq!(ids(&all), created, "creation order");
    assert!(all.body.get("next_page_token").is_none());

    let base = list_path("b1", &customer);
    let pages = api.pages(&format!("{base}?limit=2"), &staff).await;
    let sizes: Vec<usize> = pages.iter().map(|p| ids(p).len()).collect();
    let seen: Vec<String> = pages.iter().flat_map(ids).collect();
    let first_token = pages[0].body["next_page_token"].as_str().map(str::to_owned);
    assert_eq!(sizes, [2, 2, 1], "the last page has no token");
    assert_eq!(seen, created, "pages cover the list once, in order");

    // Exactly a page's worth: no empty trailing page.
    let five = api.get(&format!("{base}?limit=5"), &staff).await;
    assert_eq!(ids(&five), created);
    assert!(five.body.get("next_page_token").is_none());

    // A token is bound to its customer and bank.
    let token = first_token.expect("a first page token");
    let r = api
        .get(&format!("{}?page_token={token}", list_path("b1", &other)), &staff)
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["page_token"]);
    let b2_customer = api.create_customer("b2", json!({})).await;
    let r = api
        .get(
            &format!("{}?page_token={token}", list_path("b2", &b2_customer)),
            &api.staff("b2"),
        )
        .await;
    r.expect(400);
    assert_eq!(r.fields(), ["page_token"]);
    let tampered = format!("{}x", token);
    api.get(&format!("{base}?page_token={tampered}"), &staff)
        .await
        .expect(400);
    for (bad, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=two", "limit"),
        ("limit=1&limit=2", "limit"),
        ("page_token=garbage", "page_token"),
    ] {
        let r = api.get(&format!("{base}?{bad}"), &staff).await;
        r.expect(400);
        assert_eq!(r.fields(), [field], "{bad}");
    }
    let hundred = api.get(&format!("{base}?limit=100"), &staff).await;
    assert_eq!(ids(&hundred), created);
}

// contract: C-PAGE-7
#[tokio::test]
async fn a_customer_without_addresses_has_an_empty_list() {
    let api = Api::start().await;
    let customer = api.create_customer("b1", json!({})).await;
    let r = api.get(&list_path("b1", &customer), &api.staff("b1")).await;
    r.expect(200);
    assert_eq!(r.body, json!({"addresses": []}));
}

// contract: C-ERR-5, C-PAGE-7
#[tokio::test]
async fn missing_and_foreign_items_are_404_and_nothing_is_written() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let sibling = api.create_customer("b1", json!({})).await;
    let elsewhere = api.create_customer("b2", json!({})).await;
    let address = add(&api, "b1", &customer, minimal()).await;
    let foreign_address = add(&api, "b2", &elsewhere, minimal()).await;
    let before = api.item_count().await;
    let change = json!({"city": "Oxford"});

    // A missing customer.
    api.post(&add_path(MISSING), &staff, &minimal()).await.expect(404);
    api.get(&list_path("b1", MISSING), &staff).await.expect(404);
    api.put(&address_path("b1", MISSING, &address), &staff, &change)
        .await
        .expect(404);
    delete(&api, &address_path("b1", MISSING, &address), Some(&staff))
        .await
        .expect(404);
    // A customer of another bank, under this bank's path and via the bank-less POST.
    api.get(&list_path("b1", &elsewhere), &staff).await.expect(404);
    api.post(&add_path(&elsewhere), &staff, &minimal()).await.expect(404);
    api.put(&address_path("b1", &elsewhere, &foreign_address), &staff, &change)
        .await
        .expect(404);
    delete(&api, &address_path("b1", &elsewhere, &foreign_address), Some(&staff))
        .await
        .expect(404);
    // An address of another customer.
    api.put(&address_path("b1", &sibling, &address), &staff, &change)
        .await
        .expect(404);
    delete(&api, &address_path("b1", &sibling, &address), Some(&staff))
        .await
        .expect(404);
    // A missing address of an existing customer.
    api.put(&address_path("b1", &customer, MISSING), &staff, &change)
        .await
        .expect(404);
    delete(&api, &address_path("b1", &customer, MISSING), Some(&staff))
        .await
        .expect(404);
    assert_eq!(api.item_count().await, before, "no 404 wrote anything");

    // The real items are as they were.
    let mine = api.get(&list_path("b1", &customer), &staff).await;
    assert_eq!(ids(&mine), [address.as_str()]);
    assert_eq!(mine.body["addresses"][0]["city"], "Berlin");
    let theirs = api.get(&list_path("b2", &elsewhere), &api.staff("b2")).await;
    assert_eq!(ids(&theirs), [foreign_address]);
    assert_eq!(theirs.body["addresses"][0]["city"], "Berlin");
    let r = api.get(&list_path("b1", &sibling), &staff).await;
    assert_eq!(r.body["addresses"], json!([]));
}

// contract: C-ERR-5, C-OUT-1, C-UPD-4
#[tokio::test]
async fn delete_removes_one_address_once() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let other = api.create_customer("b1", json!({})).await;
    let a = add(&api, "b1", &customer, minimal()).await;
    let b = add(&api, "b1", &customer, minimal()).await;
    let c = add(&api, "b1", &customer, minimal()).await;
    let d = add(&api, "b1", &other, minimal()).await;
    let before = api.item_count().await;

    let r = delete(&api, &address_path("b1", &customer, &b), Some(&staff)).await;
    r.expect(204);
    assert_eq!(r.body, Value::Null, "a 204 has an empty body");
    assert_eq!(api.item_count().await, before - 1, "exactly one item is gone");
    delete(&api, &address_path("b1", &customer, &b), Some(&staff))
        .await
        .expect(404);
    api.put(&address_path("b1", &customer, &b), &staff, &json!({"city": "x"}))
        .await
        .expect(404);
    assert_eq!(
        api.item_count().await,
        before - 1,
        "a deleted address is not resurrected"
    );

    let r = api.get(&list_path("b1", &customer), &staff).await;
    assert_eq!(ids(&r), [a, c]);
    let r = api.get(&list_path("b1", &other), &staff).await;
    assert_eq!(ids(&r), [d]);
    api.get(&format!("/v1/banks/b1/customers/{customer}"), &staff)
        .await
        .expect(200);
}

// contract: C-LOCK-2
#[tokio::test]
async fn if_match_guards_update_and_delete() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let id = add(&api, "b1", &customer, minimal()).await;
    let path = address_path("b1", &customer, &id);
    let change = json!({"city": "Hamburg"});

    send_with(&api, Method::PUT, &path, &staff, Some(&change), "\"0\"")
        .await
        .expect(412);
    let r = send_with(&api, Method::PUT, &path, &staff, Some(&change), "\"1\"").await;
    r.expect(200);
    assert_eq!(r.headers["etag"], "\"2\"");
    send_with(
        &api,
        Method::PUT,
        &path,
        &staff,
        Some(&json!({"city": "Köln"})),
        "\"1\"",
    )
    .await
    .expect(412);
    let r = send_with(&api, Method::PUT, &path, &staff, Some(&change), "nonsense").await;
    r.expect(400);
    assert_eq!(r.fields(), ["If-Match"]);
    let list = api.get(&list_path("b1", &customer), &staff).await;
    assert_eq!(
        list.body["addresses"][0]["city"], "Hamburg",
        "a stale write changed nothing"
    );

    send_with(&api, Method::DELETE, &path, &staff, None, "\"1\"")
        .await
        .expect(412);
    send_with(&api, Method::DELETE, &path, &staff, None, "\"2\"")
        .await
        .expect(204);
    send_with(&api, Method::DELETE, &path, &staff, None, "\"2\"")
        .await
        .expect(404);
}

// contract: C-AUTH-7
#[tokio::test]
async fn who_may_do_what() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let unlinked = api.create_customer("b1", json!({})).await;
    let address = add(&api, "b1", &customer, minimal()).await;
    api.post(
        "/v1/banks/b1/user_customer_links",
        &staff,
        &json!({"user_id": "linked", "customer_id": customer}),
    )
    .await
    .expect(201);

    let linked = api.token("linked", &[], ALL_SCOPES);
    let linked_reader = api.token("linked", &[], "customer.read");
    let other_staff = api.staff("b2");
    let read_only_staff = api.token("reader", &["b1"], "customer.read");
    let no_scope_staff = api.token("nobody", &["b1"], "");
    let firehose_staff = api.token("hose", &["b1"], "customer.firehose");
    let list = list_path("b1", &customer);
    let path = address_path("b1", &customer, &address);
    let change = json!({"status": "checked"});
    let before = api.item_count().await;

    // (who, GET, PUT, DELETE, POST) statuses.
    let cases: [(&str, &str, u16, u16, u16, u16); 6] = [
        ("linked user", &linked, 200, 403, 403, 404),
        ("linked reader", &linked_reader, 200, 403, 403, 403),
        ("staff of another bank", &other_staff, 403, 403, 403, 404),
        ("read-only staff", &read_only_staff, 200, 403, 403, 403),
        ("staff without scopes", &no_scope_staff, 403, 403, 403, 403),
        ("firehose-only staff", &firehose_staff, 403, 403, 403, 403),
    ];
    for (who, token, get, put, del, post) in cases {
        let r = api.get(&list, token).await;
        r.expect(get);
        if get == 200 {
            assert_eq!(ids(&r), [address.as_str()], "{who}");
        }
        assert_eq!(api.put(&path, token, &change).await.status, put, "{who} PUT");
        assert_eq!(delete(&api, &path, Some(token)).await.status, del, "{who} DELETE");
        assert_eq!(
            api.post(&add_path(&customer), token, &minimal()).await.status,
            post,
            "{who} POST"
        );
    }
    // A linked user sees only the customers linked to them.
    api.get(&list_path("b1", &unlinked), &linked).await.expect(403);
    // No token at all.
    for (method, p, body) in [
        (Method::GET, list.as_str(), None),
        (Method::PUT, path.as_str(), Some(r#"{"status": "x"}"#)),
        (Method::DELETE, path.as_str(), None),
    ] {
        api.send(method, p, None, body).await.expect(401);
    }
    api.send(Method::POST, &add_path(&customer), None, Some(&minimal().to_string()))
        .await
        .expect(401);
    assert_eq!(api.item_count().await, before, "no refused request wrote anything");
    let r = api.get(&list, &staff).await;
    assert_eq!(
        r.body["addresses"][0]["status"], "",
        "no refused update changed anything"
    );

    // Staff with every scope may do everything.
    api.get(&list, &staff).await.expect(200);
    api.put(&path, &staff, &change).await.expect(200);
    let second = add(&api, "b1", &customer, minimal()).await;
    delete(&api, &address_path("b1", &customer, &second), Some(&staff))
        .await
        .expect(204);
    // A caller who is staff of both banks writes each bank's customers.
    let both = api.token("both", &["b1", "b2"], ALL_SCOPES);
    api.post(&add_path(&customer), &both, &minimal()).await.expect(201);
}

// contract: C-BODY-4, C-ERR-3, C-TEXT-1, C-TEXT-2, C-UPD-2, C-SEED-4
#[tokio::test]
async fn bad_input_is_400_naming_the_field_and_writes_nothing() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let address = add(&api, "b1", &customer, minimal()).await;
    let before = api.item_count().await;
    let long = "x".repeat(257);
    let with = |extra: Value| {
        let mut body = minimal();
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body.to_string()
    };

    let creates: Vec<(String, Vec<&str>)> = vec![
        ("{}".into(), vec!["line_1", "city", "country_code"]),
        (json!({"line_1": "a", "city": "b"}).to_string(), vec!["country_code"]),
        (with(json!({"country_code": "XX"})), vec!["country_code"]),
        (with(json!({"country_code": "de"})), vec!["country_code"]),
        (with(json!({"country_code": "DEU"})), vec!["country_code"]),
        (with(json!({"country_code": ""})), vec!["country_code"]),
        (with(json!({"country_code": 49})), vec!["country_code"]),
        (with(json!({"tags": "[]string"})), vec!["tags"]),
        (with(json!({"tags": {"a": "b"}})), vec!["tags"]),
        (with(json!({"tags": [1, 2]})), vec!["tags[0]", "tags[1]"]),
        (with(json!({"tags": ["ok", null]})), vec!["tags[1]"]),
        (with(json!({"tags": ["ok", ""]})), vec!["tags[1]"]),
        (with(json!({"tags": ["x".repeat(65)]})), vec!["tags[0]"]),
        (with(json!({"tags": vec!["t"; 21]})), vec!["tags"]),
        (with(json!({"tags": ["a\u{7}b"]})), vec!["tags[0]"]),
        (with(json!({"line_1": long})), vec!["line_1"]),
        (with(json!({"line_1": "   "})), vec!["line_1"]),
        (with(json!({"line_2": long})), vec!["line_2"]),
        (with(json!({"city": ""})), vec!["city"]),
        (with(json!({"county": "a\nb"})), vec!["county"]),
        (with(json!({"state": long})), vec!["state"]),
        (with(json!({"status": long})), vec!["status"]),
        (with(json!({"postcode": "1".repeat(33)})), vec!["postcode"]),
        (with(json!({"line_1": 5})), vec!["line_1"]),
        (with(json!({"bank_id": "b1"})), vec!["bank_id"]),
        (with(json!({"customer_id": MISSING})), vec!["customer_id"]),
        (with(json!({"customer_id": "not-a-uuid"})), vec!["customer_id"]),
        (r#"{line_1: "a"}"#.into(), vec!["body"]),
        // Cut short inside a value: the field being read is named.
        (r#"{"line_1": "a", "city": "#.into(), vec!["city"]),
        ("[]".into(), vec!["body"]),
        ("".into(), vec!["body"]),
        ("null".into(), vec!["body"]),
        (SEED_CREATE.into(), vec!["customer_id", "country_code", "tags"]),
    ];
    for (body, fields) in &creates {
        let r = api
            .send(Method::POST, &add_path(&customer), Some(&staff), Some(body))
            .await;
        r.expect(400);
        assert_eq!(r.fields(), *fields, "POST {body}");
    }

    let path = address_path("b1", &customer, &address);
    let updates: Vec<(String, Vec<&str>)> = vec![
        ("{}".into(), vec!["body"]),
        (
            json!({"bank_id": "b1", "customer_id": customer}).to_string(),
            vec!["body"],
        ),
        (json!({"bank_id": "b2", "city": "x"}).to_string(), vec!["bank_id"]),
        (
            json!({"customer_id": MISSING, "city": "x"}).to_string(),
            vec!["customer_id"],
        ),
        (
            json!({"customer_address_id": MISSING, "city": "x"}).to_string(),
            vec!["customer_address_id"],
        ),
        (json!({"line_1": ""}).to_string(), vec!["line_1"]),
        (json!({"city": " "}).to_string(), vec!["city"]),
        (json!({"country_code": "XX"}).to_string(), vec!["country_code"]),
        (json!({"country_code": ""}).to_string(), vec!["country_code"]),
        (json!({"tags": "home"}).to_string(), vec!["tags"]),
        (json!({"tags": [true]}).to_string(), vec!["tags[0]"]),
        (json!({"postcode": "1".repeat(33)}).to_string(), vec!["postcode"]),
        (json!({"line_3": long}).to_string(), vec!["line_3"]),
        (json!({"extra": 1}).to_string(), vec!["extra"]),
        (r#"{"city" "x"}"#.into(), vec!["body"]),
        (
            SEED_UPDATE.into(),
            vec!["bank_id", "customer_id", "customer_address_id", "country_code", "tags"],
        ),
    ];
    for (body, fields) in &updates {
        let r = api.send(Method::PUT, &path, Some(&staff), Some(body)).await;
        r.expect(400);
        assert_eq!(r.fields(), *fields, "PUT {body}");
    }
    assert_eq!(api.item_count().await, before, "no bad request wrote anything");
    let list = api.get(&list_path("b1", &customer), &staff).await;
    let mut expected = minimal();
    expected["customer_address_id"] = json!(address);
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(list.body["addresses"][0][k], *v, "{k} unchanged");
    }
    assert_eq!(list.body["addresses"][0]["tags"], json!([]));

    // Over 64 KiB is 413, not 400, and writes nothing either.
    let huge = with(json!({"status": "x".repeat(70 * 1024)}));
    api.send(Method::POST, &add_path(&customer), Some(&staff), Some(&huge))
        .await
        .expect(413);
    assert_eq!(api.item_count().await, before);
}

// contract: C-ID-2
#[tokio::test]
async fn ids_in_the_path_are_validated() {
    let api = Api::start().await;
    let staff = api.staff("b1");
    let customer = api.create_customer("b1", json!({})).await;
    let address = add(&api, "b1", &customer, minimal()).await;
    let before = api.item_count().await;
    let change = json!({"city": "x"}).to_string();
    let cases = [
        (Method::POST, add_path("abc%23def"), "customer_id"),
        (Method::POST, add_path("not-a-uuid"), "customer_id"),
        (Method::GET, list_path("b1", "CUSTOMER%23x"), "customer_id"),
        (Method::GET, list_path("b%231", &customer), "bank_id"),
        (
            Method::PUT,
            address_path("b1", &customer, "a%23b"),
            "customer_address_id",
        ),
        (
            Method::PUT,
            address_path("b1", &customer, "12345"),
            "customer_address_id",
        ),
        (Method::PUT, address_path("b1", "x%23y", &address), "customer_id"),
        (
            Method::DELETE,
            address_path("b1", &customer, "not-a-uuid"),
            "customer_address_id",
        ),
        (
            Method::DELETE,
            address_path("b1", &customer, &format!("{address}%23")),
            "customer_address_id",
        ),
    ];
    for (method, path, field) in cases {
        let body = matches!(method, Method::POST | Method::PUT).then_some(change.as_str());
        let r = api.send(method.clone(), &path, Some(&staff), body).await;
        r.expect(400);
        assert_eq!(r.fields(), [field], "{method} {path}");
    }
    assert_eq!(api.item_count().await, before);
    let r = api.get(&list_path("b1", &customer), &staff).await;
    assert_eq!(r.body["addresses"][0]["city"], "Berlin");
}
