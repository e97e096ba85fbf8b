//! Credit limit decisions under the four-eyes rule: the maker never decides their own order; a
//! checker (staff with `customer.approve`) approves it once, and the customer's credit limit and
//! ETag change in the same transaction, or rejects it; racing deciders end with one winner.

use crate::common::{Api, Reply};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

const CHECKER_SCOPES: &str = "customer.read customer.write customer.approve";

fn requests(bank: &str, customer: &str) -> String {
    format!("/v1/banks/{bank}/customers/{customer}/credit_limit/requests")
}

fn order_path(bank: &str, customer: &str, id: &str) -> String {
    format!("/v1/banks/{bank}/customers/{customer}/credit_limit/request/{id}")
}

fn approval(bank: &str, customer: &str, id: &str) -> String {
    format!("{}/approval", order_path(bank, customer, id))
}

fn rejection(bank: &str, customer: &str, id: &str) -> String {
    format!("{}/rejection", order_path(bank, customer, id))
}

fn limit(cur: &str, num: &str) -> Value {
    json!({"credit_limit": {"cur": cur, "num": num}})
}

/// A member of staff of `bank` who may decide orders.
fn checker(api: &Api, name: &str, bank: &str) -> String {
    api.token(name, &[bank], CHECKER_SCOPES)
}

/// An order requested by `maker` (a token), and its id.
async fn order(api: &Api, bank: &str, customer: &str, maker: &str) -> String {
    let r = api
        .post(
            &requests(bank, customer),
            maker,
            &json!({"requested_current_rate_amount1": "9000.00"}),
        )
        .await;
    r.expect(201);
    r.body["credit_limit_order_id"].as_str().expect("id").to_owned()
}

fn etag(r: &Reply) -> String {
    r.headers["etag"].to_str().expect("etag").to_owned()
}

/// The customer's credit limit and ETag.
async fn credit_limit(api: &Api, bank: &str, customer: &str) -> (Value, String) {
    let r = api
        .get(&format!("/v1/banks/{bank}/customers/{customer}"), &api.staff(bank))
        .await;
    r.expect(200);
    (r.body["credit_limit"].clone(), etag(&r))
}

// contract: C-FOUR-1, C-FOUR-2, C-FOUR-3
#[tokio::test]
async fn a_checker_approves_once_and_the_customer_gets_the_limit() {
    let api = Api::start().await;
    let maker = checker(&api, "maker", "b1");
    let customer = api.create_customer("b1", json!({})).await;
    let id = order(&api, "b1", &customer, &maker).await;
    let before = api.get(&order_path("b1", &customer, &id), &maker).await;
    before.expect(200);
    assert_eq!(before.body["credit_limit_order"]["status"], "PENDING");
    assert_eq!(before.body["credit_limit_order"]["requested_by"], "maker");
    assert!(before.body["credit_limit_order"].get("decision").is_none());
    let (limit_before, customer_etag) = credit_limit(&api, "b1", &customer).await;

    // The maker holds the approve scope, but four eyes forbid deciding their own order.
    for (path, body) in [
        (approval("b1", &customer, &id), limit("EUR", "9000.00")),
        (rejection("b1", &customer, &id), json!({})),
    ] {
        let own = api.post(&path, &maker, &body).await;
        own.expect(403);
        assert!(
            own.body["detail"].as_str().unwrap_or_default().contains("four-eyes"),
            "{}",
            own.body
        );
    }
    assert_eq!(
        credit_limit(&api, "b1", &customer).await,
        (limit_before, customer_etag.clone())
    );

    let approved = api
        .post(
            &approval("b1", &customer, &id),
            &checker(&api, "checker", "b1"),
            &json!({"credit_limit": {"cur": "EUR", "num": "7500.00"}, "reason": "payslips verified"}),
        )
        .await;
    approved.expect(200);
    let o = &approved.body["credit_limit_order"];
    assert_eq!(o["status"], "APPROVED");
    assert_eq!(o["requested_by"], "maker");
    assert_eq!(o["decision"]["decided_by"], "checker");
    assert_eq!(o["decision"]["reason"], "payslips verified");
    assert_eq!(o["decision"]["credit_limit"], json!({"cur": "EUR", "num": "7500.00"}));
    assert!(o["decision"]["decided_at"]["seconds"].as_i64().unwrap_or_default() > 1_700_000_000);
    assert_ne!(etag(&approved), etag(&before), "the order's ETag changes");

    let (limit_after, etag_after) = credit_limit(&api, "b1", &customer).await;
    assert_eq!(limit_after, json!({"cur": "EUR", "num": "7500.00"}));
    assert_ne!(etag_after, customer_etag, "the customer's version is bumped");

    // GET and the list show the decision as the approval answered it.
    let got = api.get(&order_path("b1", &customer, &id), &maker).await;
    got.expect(200);
    assert_eq!(got.body["credit_limit_order"], *o);
    assert_eq!(etag(&got), etag(&approved));
    let list = api.get(&requests("b1", &customer), &maker).await;
    list.expect(200);
    assert_eq!(list.body["result"][0], *o);

    // Deciding again is a conflict naming the state, whoever tries; nothing changes.
    let again = api
        .post(
            &approval("b1", &customer, &id),
            &checker(&api, "other", "b1"),
            &limit("EUR", "1.00"),
        )
        .await;
    again.expect(409);
    assert!(again.body["detail"].as_str().unwrap_or_default().contains("APPROVED"));
    api.post(
        &rejection("b1", &customer, &id),
        &checker(&api, "other", "b1"),
        &json!({}),
    )
    .await
    .expect(409);
    assert_eq!(credit_limit(&api, "b1", &customer).await, (limit_after, etag_after));
}

// contract: C-FOUR-2
#[tokio::test]
async fn a_rejection_leaves_the_customer_as_it_was() {
    let api = Api::start().await;
    let customer = api.create_customer("b1", json!({})).await;
    let id = order(&api, "b1", &customer, &api.staff("b1")).await;
    let before = credit_limit(&api, "b1", &customer).await;
    let rejected = api
        .post(
            &rejection("b1", &customer, &id),
            &checker(&api, "checker", "b1"),
            &json!({"reason": "income does not support it"}),
        )
        .await;
    rejected.expect(200);
    let o = &rejected.body["credit_limit_order"];
    assert_eq!(o["status"], "REJECTED");
    assert_eq!(o["decision"]["decided_by"], "checker");
    assert_eq!(o["decision"]["reason"], "income does not support it");
    assert!(o["decision"].get("credit_limit").is_none(), "{o}");
    assert_eq!(credit_limit(&api, "b1", &customer).await, before);
    // The reason is optional.
    let other = order(&api, "b1", &customer, &api.staff("b1")).await;
    let r = api
        .post(
            &rejection("b1", &customer, &other),
            &checker(&api, "checker", "b1"),
            &json!({}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.body["credit_limit_order"]["decision"]["reason"], "");
}

// contract: C-FOUR-4
#[tokio::test]
async fn racing_deciders_end_with_exactly_one_winner() {
    let api = Api::start().await;
    let customer = api.create_customer("b1", json!({})).await;
    for round in 0..3 {
        let id = order(&api, "b1", &customer, &api.staff("b1")).await;
        let checkers: Vec<String> = (0..10).map(|i| checker(&api, &format!("checker-{i}"), "b1")).collect();
        let replies = join_all(checkers.iter().enumerate().map(|(i, token)| {
            let customer = customer.clone();
            let id = id.clone();
            let api = &api;
            async move {
                if i % 2 == 0 {
                    let granted = format!("{}.00", 100 * (round * 10 + i + 1));
                    api.post(&approval("b1", &customer, &id), token, &limit("EUR", &granted))
                        .await
                } else {
                    api.post(&rejection("b1", &customer, &id), token, &json!({})).await
                }
            }
        }))
        .await;
        let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 9, "{statuses:?}");
        let winner = replies.iter().find(|r| r.status == 200).expect("a winner");
        let got = api.get(&order_path("b1", &customer, &id), &api.staff("b1")).await;
        assert_eq!(got.body["credit_limit_order"], winner.body["credit_limit_order"]);
        if winner.body["credit_limit_order"]["status"] == "APPROVED" {
            let (limit_now, _) = credit_limit(&api, "b1", &customer).await;
            assert_eq!(limit_now, winner.body["credit_limit_order"]["decision"]["credit_limit"]);
        }
    }
}

// contract: C-FOUR-5, C-AUTH-8
#[tokio::test]
async fn who_may_decide_and_what_a_refusal_writes() {
    let api = Api::start().await;
    let customer = api.create_customer("b1", json!({})).await;
    let foreign = api.create_customer("b2", json!({})).await;
    let id = order(&api, "b1", &customer, &api.staff("b1")).await;
    let foreign_order = order(&api, "b2", &foreign, &api.staff("b2")).await;
    api.post(
        "/v1/banks/b1/user_customer_links",
        &api.staff("b1"),
        &json!({"user_id": "linked", "customer_id": customer}),
    )
    .await
    .expect(201);
    let count = api.item_count().await;
    let body = limit("EUR", "5.00").to_string();
    let bad_body = json!({"credit_limit": {"cur": "E"}}).to_string();
    let cases: Vec<(&str, Option<String>, String, &str, u16)> = vec![
        ("no token", None, approval("b1", &customer, &id), &body, 401),
        (
            "staff without customer.approve",
            Some(api.token("s", &["b1"], "customer.read customer.write")),
            approval("b1", &customer, &id),
            &body,
            403,
        ),
        (
            "the same, with a bad body (403 before 400)",
            Some(api.token("s", &["b1"], "customer.read customer.write")),
            approval("b1", &customer, &id),
            &bad_body,
            403,
        ),
        (
            "a checker of another bank",
            Some(checker(&api, "c", "b2")),
            approval("b1", &customer, &id),
            &body,
            403,
        ),
        (
            "a linked user with every scope",
            Some(api.token("linked", &[], CHECKER_SCOPES)),
            approval("b1", &customer, &id),
            &body,
            403,
        ),
        (
            "a customer of another bank under this bank",
            Some(checker(&api, "c", "b1")),
            approval("b1", &foreign, &foreign_order),
            &body,
            404,
        ),
        (
            "an order of another customer",
            Some(checker(&api, "c", "b1")),
            approval("b1", &customer, &foreign_order),
            &body,
            404,
        ),
        (
            "a missing order",
            Some(checker(&api, "c", "b1")),
            approval("b1", &customer, "0190a0b0-0000-7000-8000-00000000beef"),
            &body,
            404,
        ),
        (
            "a malformed order id",
            Some(checker(&api, "c", "b1")),
            approval("b1", &customer, "not-an-id"),
            &body,
            400,
        ),
        (
            "a rejection of another bank's order",
            Some(checker(&api, "c", "b1")),
            rejection("b1", &foreign, &foreign_order),
            "{}",
            404,
        ),
    ];
    for (who, token, path, body, status) in cases {
        let r = api.send(Method::POST, &path, token.as_deref(), Some(body)).await;
        assert_eq!(r.status, status, "{who}: {}", r.body);
    }
    assert_eq!(api.item_count().await, count, "no refusal writes an item");
    let got = api.get(&order_path("b1", &customer, &id), &api.staff("b1")).await;
    assert_eq!(got.body["credit_limit_order"]["status"], "PENDING");
    assert_eq!(etag(&got), "\"1\"", "no refusal changes the order");
    let got = api
        .get(&order_path("b2", &foreign, &foreign_order), &api.staff("b2"))
        .await;
    assert_eq!(got.body["credit_limit_order"]["status"], "PENDING");
}

// contract: C-FOUR-6
#[tokio::test]
async fn a_bad_decision_is_a_400_naming_the_field() {
    let api = Api::start().await;
    let customer = api.create_customer("b1", json!({})).await;
    let id = order(&api, "b1", &customer, &api.staff("b1")).await;
    let token = checker(&api, "checker", "b1");
    let long = format!(r#"{{"reason": "{}"}}"#, "x".repeat(1025));
    let cases: Vec<(String, &str, Vec<&str>)> = vec![
        (approval("b1", &customer, &id), "{}", vec!["credit_limit"]),
        (
            approval("b1", &customer, &id),
            r#"{"credit_limit": null}"#,
            vec!["credit_limit"],
        ),
        (
            approval("b1", &customer, &id),
            r#"{"credit_limit": {"cur": "EUR"}}"#,
            vec!["credit_limit.num"],
        ),
        (
            approval("b1", &customer, &id),
            r#"{"credit_limit": {"cur": "eur", "num": "1e3"}}"#,
            vec!["credit_limit.cur", "credit_limit.num"],
        ),
        (
            approval("b1", &customer, &id),
            r#"{"credit_limit": {"cur": "EUR", "num": 5}}"#,
            vec!["credit_limit.num"],
        ),
        (
            approval("b1", &customer, &id),
            r#"{"credit_limit": {"cur": "EUR", "num": "5"}, "status": "APPROVED"}"#,
            vec!["status"],
        ),
        (approval("b1", &customer, &id), "[]", vec!["body"]),
        (approval("b1", &customer, &id), "", vec!["body"]),
        (rejection("b1", &customer, &id), &long, vec!["reason"]),
        (rejection("b1", &customer, &id), r#"{"reason": 1}"#, vec!["reason"]),
        (
            rejection("b1", &customer, &id),
            r#"{"credit_limit": {"cur": "EUR", "num": "5"}}"#,
            vec!["credit_limit"],
        ),
    ];
    for (path, body, fields) in cases {
        let r = api.send(Method::POST, &path, Some(&token), Some(body)).await;
        r.expect(400);
        assert_eq!(r.fields(), fields, "{body}: {}", r.body);
    }
    let got = api.get(&order_path("b1", &customer, &id), &token).await;
    assert_eq!(got.body["credit_limit_order"]["status"], "PENDING");
}

// contract: C-FOUR-7
#[tokio::test]
async fn a_limit_is_lowered_by_one_member_of_staff_and_raised_only_by_an_approved_order() {
    let api = Api::start().await;
    let maker = api.staff("b1");
    let path = |c: &str| format!("/v1/banks/b1/customers/{c}/credit-limit");
    // At creation: zero in any currency, nothing more.
    let refused = api
        .post(
            "/v1/customers",
            &maker,
            &json!({"bank_id": "b1", "legal_name": "X", "credit_limit": {"cur": "EUR", "num": "0.01"}}),
        )
        .await;
    refused.expect(403);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("credit limit order")
    );
    let customer = api
        .create_customer("b1", json!({"credit_limit": {"cur": "EUR", "num": "0.00"}}))
        .await;
    // The walk-around of the four-eyes rule: the maker sets the limit directly.
    let raise = api.put(&path(&customer), &maker, &limit("EUR", "999999.00")).await;
    raise.expect(403);
    assert!(raise.body["detail"].as_str().unwrap_or_default().contains("four-eyes"));
    let id = order(&api, "b1", &customer, &maker).await;
    api.post(
        &approval("b1", &customer, &id),
        &checker(&api, "checker", "b1"),
        &limit("EUR", "9000.00"),
    )
    .await
    .expect(200);
    let (granted, tag) = credit_limit(&api, "b1", &customer).await;
    assert_eq!(granted, json!({"cur": "EUR", "num": "9000.00"}));
    for (body, status) in [
        (limit("EUR", "9000.01"), 403),
        (limit("USD", "100.00"), 403),
        (limit("EUR", "999999.00"), 403),
    ] {
        let r = api.put(&path(&customer), &maker, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
    }
    assert_eq!(
        credit_limit(&api, "b1", &customer).await,
        (granted, tag),
        "nothing changed"
    );
    // Lowering, in the same currency or to zero in another, is one person's act.
    for (cur, num) in [("EUR", "9000"), ("EUR", "2500.50"), ("USD", "0")] {
        api.put(&path(&customer), &maker, &limit(cur, num)).await.expect(200);
        assert_eq!(
            credit_limit(&api, "b1", &customer).await.0,
            json!({"cur": cur, "num": num})
        );
    }
}

// contract: C-FOUR-7
#[tokio::test]
async fn an_approval_grants_at_most_the_request_in_the_limits_currency() {
    let api = Api::start().await;
    let maker = api.staff("b1");
    let checker = checker(&api, "checker", "b1");
    let customer = api.create_customer("b1", json!({})).await;
    let first = order(&api, "b1", &customer, &maker).await;
    api.post(&approval("b1", &customer, &first), &checker, &limit("GBP", "100.00"))
        .await
        .expect(200);
    let id = order(&api, "b1", &customer, &maker).await;
    let before = credit_limit(&api, "b1", &customer).await;
    for (body, field) in [
        (limit("GBP", "9000.01"), "credit_limit.num"),
        (limit("GBP", "90000"), "credit_limit.num"),
        (limit("EUR", "50.00"), "credit_limit.cur"),
    ] {
        let r = api.post(&approval("b1", &customer, &id), &checker, &body).await;
        r.expect(400);
        assert_eq!(r.fields(), vec![field], "{body}: {}", r.body);
    }
    assert_eq!(credit_limit(&api, "b1", &customer).await, before);
    let pending = api.get(&order_path("b1", &customer, &id), &maker).await;
    assert_eq!(pending.body["credit_limit_order"]["status"], "PENDING");
    api.post(&approval("b1", &customer, &id), &checker, &limit("GBP", "9000"))
        .await
        .expect(200);
}

// contract: C-IDEM-1, C-IDEM-2, C-IDEM-3
#[tokio::test]
async fn a_decision_honours_the_idempotency_key() {
    let api = Api::start().await;
    let maker = api.staff("b1");
    let checker = checker(&api, "checker", "b1");
    let customer = api.create_customer("b1", json!({})).await;
    for (i, decide) in [approval, rejection].into_iter().enumerate() {
        let id = order(&api, "b1", &customer, &maker).await;
        let path = decide("b1", &customer, &id);
        let body = if i == 0 {
            limit("EUR", "10.00")
        } else {
            json!({"reason": "no"})
        };
        let key = format!("decide-{i}");
        let first = api.post_keyed(&path, &checker, &key, &body).await;
        first.expect(200);
        // A client that timed out learns that its own decision went through.
        let again = api.post_keyed(&path, &checker, &key, &body).await;
        again.expect(200);
        assert_eq!((&again.body, etag(&again)), (&first.body, etag(&first)));
        api.post_keyed(&path, &checker, &key, &json!({"reason": "other"}))
            .await
            .expect(409);
        // Without the key, it is decided.
        api.post(&path, &checker, &body).await.expect(409);
        let empty = api.post_keyed(&path, &checker, "", &body).await;
        empty.expect(400);
        assert_eq!(empty.fields(), vec!["Idempotency-Key"]);
    }
}

// contract: C-FOUR-5
#[tokio::test]
async fn a_decision_is_refused_for_access_existence_and_state_before_its_body_is_read() {
    let api = Api::start().await;
    let maker = api.staff("b1");
    let checker = checker(&api, "checker", "b1");
    let customer = api.create_customer("b1", json!({})).await;
    let id = order(&api, "b1", &customer, &maker).await;
    let decided = order(&api, "b1", &customer, &maker).await;
    api.post(&rejection("b1", &customer, &decided), &checker, &json!({}))
        .await
        .expect(200);
    let missing = "0190a0b0-0000-7000-8000-00000000beef";
    for (who, token, order, status) in [
        ("the maker", &maker, id.as_str(), 403),
        ("a missing order", &checker, missing, 404),
        ("a decided order", &checker, decided.as_str(), 409),
    ] {
        for body in ["{}", "[]", r#"{"credit_limit": {"cur": "eur"}}"#] {
            let r = api
                .send(Method::POST, &approval("b1", &customer, order), Some(token), Some(body))
                .await;
            assert_eq!(r.status, status, "{who}, {body}: {}", r.body);
        }
    }
}
