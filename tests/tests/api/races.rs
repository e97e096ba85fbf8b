//! Concurrent writers: uniqueness, `If-Match` and deletes hold when requests really overlap. Every
//! race fires all its requests at once (`join_all`) and then checks that exactly one won, that the
//! losers got the right error as problem+json, and that the stored state is the winner's, with no
//! lost update and nothing leaked in the table.

use crate::auth::{not_problem, reply_of};
use crate::common::{Api, Reply};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

const BANK: &str = "b1";

fn customer_path(id: &str) -> String {
    format!("/v1/banks/{BANK}/customers/{id}")
}

async fn send_if_match(api: &Api, method: Method, path: &str, body: Option<&Value>, if_match: &str) -> Reply {
    let mut req = api
        .http
        .request(method, format!("{}{path}", api.base))
        .header("Authorization", format!("Bearer {}", api.staff(BANK)))
        .header("If-Match", if_match);
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    reply_of(req.send().await.expect("request")).await
}

/// The statuses of a race, and the one winner (with its index) when there is exactly one.
fn tally(replies: &[Reply], win: u16, lose: u16) -> (usize, Vec<String>) {
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    let winners: Vec<usize> = (0..replies.len()).filter(|i| statuses[*i] == win).collect();
    let mut problems = Vec::new();
    if winners.len() != 1 {
        problems.push(format!(
            "{} winners ({win}), want exactly one: {statuses:?}",
            winners.len()
        ));
    }
    for (i, r) in replies.iter().enumerate() {
        if r.status != win
            && let Some(why) = not_problem(r, lose)
        {
            problems.push(format!("request {i}: {why}"));
        }
    }
    (winners.first().copied().unwrap_or(usize::MAX), problems)
}

fn etag(r: &Reply) -> String {
    r.headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// (a) 50 customers all take the same new number at once: one 200, 49 409.
// contract: C-ID-5
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_customers_race_for_one_number() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    // The racers, made ten at a time: the race is the PUTs below, not these creates.
    let mut ids = Vec::new();
    for tens in 0..5 {
        let numbers = (0..10).map(|i| json!({"customer_number": format!("OLD-{}", tens * 10 + i)}));
        ids.extend(join_all(numbers.map(|n| api.create_customer(BANK, n))).await);
    }
    let before = api.item_count().await;
    let paths: Vec<String> = ids.iter().map(|id| format!("{}/number", customer_path(id))).collect();
    let body = json!({"customer_number": "RACE-N"});
    let replies = join_all(paths.iter().map(|p| api.put(p, &staff, &body))).await;
    let (winner, problems) = tally(&replies, 200, 409);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let winner_id = ids[winner].as_str();
    assert_eq!(replies[winner].body["customer"]["id"], json!(winner_id));
    assert_eq!(replies[winner].body["customer"]["customer_number"], "RACE-N");

    // The lookup finds the winner, and only the winner.
    let r = api
        .get(&format!("{}/customer-number/RACE-N", customer_path(winner_id)), &staff)
        .await;
    r.expect(200);
    assert_eq!(r.body["id"], json!(winner_id));
    assert_eq!(r.body["customer_number"], "RACE-N");
    // The losers keep their numbers and their versions; the winner's old number is free again.
    let customer_paths: Vec<String> = ids.iter().map(|id| customer_path(id)).collect();
    let got = join_all(customer_paths.iter().map(|p| api.get(p, &staff))).await;
    for (i, g) in got.iter().enumerate() {
        g.expect(200);
        if i == winner {
            assert_eq!(g.body["customer_number"], "RACE-N");
            assert_eq!(etag(g), "\"2\"", "the winner changed once");
        } else {
            assert_eq!(
                g.body["customer_number"],
                format!("OLD-{i}"),
                "loser {i} kept its number"
            );
            assert_eq!(etag(g), "\"1\"", "loser {i} was not written");
            api.get(&format!("{}/customer-number/RACE-N", customer_path(&ids[i])), &staff)
                .await
                .expect(404);
        }
    }
    assert_eq!(
        api.item_count().await,
        before,
        "the number moved: nothing leaked from the losers"
    );
    api.post(
        "/v1/customers",
        &staff,
        &json!({"bank_id": BANK, "legal_name": "X", "customer_number": format!("OLD-{winner}")}),
    )
    .await
    .expect(201);
    api.post(
        "/v1/customers",
        &staff,
        &json!({"bank_id": BANK, "legal_name": "X", "customer_number": "RACE-N"}),
    )
    .await
    .expect(409);
}

/// (b) 20 PUT email with the same If-Match: one 200, 19 412, the winner's email, the version bumped once.
// contract: C-LOCK-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_email_updates_with_one_etag() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let id = api.create_customer(BANK, json!({"email": "start@example.com"})).await;
    let path = customer_path(&id);
    let current = api.get(&path, &staff).await;
    current.expect(200);
    let tag = etag(&current);
    assert_eq!(tag, "\"1\"");
    let before = api.item_count().await;

    let bodies: Vec<Value> = (0..20)
        .map(|i| json!({"email": format!("racer-{i}@example.com")}))
        .collect();
    let email_path = format!("{path}/email");
    let replies = join_all(
        bodies
            .iter()
            .map(|b| send_if_match(&api, Method::PUT, &email_path, Some(b), &tag)),
    )
    .await;
    let (winner, problems) = tally(&replies, 200, 412);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let won = &replies[winner];
    assert_eq!(won.body["customer"]["email"], bodies[winner]["email"]);
    assert_eq!(etag(won), "\"2\"");

    let after = api.get(&path, &staff).await;
    after.expect(200);
    assert_eq!(
        after.body["email"], bodies[winner]["email"],
        "the winner's email is stored"
    );
    assert_eq!(etag(&after), "\"2\"", "exactly one write happened");
    let mut expected = current.body.clone();
    expected["email"] = bodies[winner]["email"].clone();
    assert_eq!(after.body, expected, "nothing else changed");
    assert_eq!(api.item_count().await, before);
    // The losers' ETag is stale for good.
    send_if_match(&api, Method::PUT, &email_path, Some(&bodies[0]), &tag)
        .await
        .expect(412);
}

/// (c) 20 address PUTs with the same If-Match: one 200, 19 412, the winner's city, version 2.
// contract: C-LOCK-2
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_address_updates_with_one_etag() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let customer = api.create_customer(BANK, json!({})).await;
    let created = api
        .post(
            &format!("/v1/customers/{customer}/address"),
            &staff,
            &json!({"line_1": "1 Main St", "city": "Berlin", "country_code": "DE"}),
        )
        .await;
    created.expect(201);
    let tag = etag(&created);
    assert_eq!(tag, "\"1\"");
    let address = created.body["customer_address_id"].as_str().unwrap().to_owned();
    let path = format!("{}/addresses/{address}", customer_path(&customer));
    let before = api.item_count().await;

    let bodies: Vec<Value> = (0..20).map(|i| json!({"city": format!("City {i}")})).collect();
    let replies = join_all(
        bodies
            .iter()
            .map(|b| send_if_match(&api, Method::PUT, &path, Some(b), &tag)),
    )
    .await;
    let (winner, problems) = tally(&replies, 200, 412);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(replies[winner].body["city"], bodies[winner]["city"]);
    assert_eq!(etag(&replies[winner]), "\"2\"");

    let list = api
        .get(&format!("{}/addresses", customer_path(&customer)), &staff)
        .await;
    list.expect(200);
    let mut expected = created.body.clone();
    expected["city"] = bodies[winner]["city"].clone();
    assert_eq!(
        list.body["addresses"],
        json!([expected]),
        "the winner's city, nothing else"
    );
    assert_eq!(api.item_count().await, before);
    // Version 2 exactly: "1" and "3" are stale, "2" is current.
    send_if_match(&api, Method::PUT, &path, Some(&bodies[0]), "\"1\"")
        .await
        .expect(412);
    send_if_match(&api, Method::PUT, &path, Some(&bodies[0]), "\"3\"")
        .await
        .expect(412);
    let r = send_if_match(&api, Method::PUT, &path, Some(&bodies[0]), "\"2\"").await;
    r.expect(200);
    assert_eq!(etag(&r), "\"3\"");
}

/// (d) 20 concurrent DELETEs of one address: one 204, 19 404, one item gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_deletes_of_one_address() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let customer = api.create_customer(BANK, json!({})).await;
    let mut ids = Vec::new();
    for city in ["Berlin", "Paris"] {
        let r = api
            .post(
                &format!("/v1/customers/{customer}/address"),
                &staff,
                &json!({"line_1": "1 Main St", "city": city, "country_code": "DE"}),
            )
            .await;
        r.expect(201);
        ids.push(r.body["customer_address_id"].as_str().unwrap().to_owned());
    }
    let path = format!("{}/addresses/{}", customer_path(&customer), ids[0]);
    let before = api.item_count().await;

    let replies = join_all((0..20).map(|_| api.send(Method::DELETE, &path, Some(&staff), None))).await;
    let (winner, problems) = tally(&replies, 204, 404);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(replies[winner].body, Value::Null, "a 204 has no body");
    assert_eq!(api.item_count().await, before - 1, "exactly one item is gone");
    let list = api
        .get(&format!("{}/addresses", customer_path(&customer)), &staff)
        .await;
    let left: Vec<&str> = list.body["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .filter_map(|a| a["customer_address_id"].as_str())
        .collect();
    assert_eq!(left, [ids[1].as_str()], "the other address is untouched");
}

/// Deletes racing updates of one address: the address ends up gone, and no update resurrects it.
// contract: C-UPD-4
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn updates_racing_deletes_never_resurrect_an_address() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let customer = api.create_customer(BANK, json!({})).await;
    let r = api
        .post(
            &format!("/v1/customers/{customer}/address"),
            &staff,
            &json!({"line_1": "1 Main St", "city": "Berlin", "country_code": "DE"}),
        )
        .await;
    r.expect(201);
    let path = format!(
        "{}/addresses/{}",
        customer_path(&customer),
        r.body["customer_address_id"].as_str().unwrap()
    );
    let before = api.item_count().await;
    let change = json!({"city": "Zombie"});
    let change_text = change.to_string();
    let requests = (0..20).map(|i| {
        if i % 2 == 0 {
            api.send(Method::DELETE, &path, Some(&staff), None)
        } else {
            api.send(Method::PUT, &path, Some(&staff), Some(&change_text))
        }
    });
    let replies = join_all(requests).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    let deletes: Vec<u16> = statuses.iter().step_by(2).copied().collect();
    let puts: Vec<u16> = statuses.iter().skip(1).step_by(2).copied().collect();
    assert_eq!(deletes.iter().filter(|s| **s == 204).count(), 1, "{statuses:?}");
    assert!(deletes.iter().all(|s| *s == 204 || *s == 404), "{statuses:?}");
    assert!(puts.iter().all(|s| *s == 200 || *s == 404), "{statuses:?}");
    assert_eq!(api.item_count().await, before - 1, "the address is gone for good");
    let list = api
        .get(&format!("{}/addresses", customer_path(&customer)), &staff)
        .await;
    assert_eq!(list.body["addresses"], json!([]));
    api.put(&path, &staff, &change).await.expect(404);
    assert_eq!(api.item_count().await, before - 1);
}
