//! A customer's export: every record, link and history entry, in pages, matching what the routes
//! answer; staff of the bank only.

use crate::common::{Api, Reply};
use serde_json::{Value, json};
use std::time::Duration;

const BANK: &str = "export-bank";

/// Every page of the export, `limit` items of the customer's partition each.
async fn export(api: &Api, customer: &str, limit: usize) -> Vec<Reply> {
    let first = format!("/v1/banks/{BANK}/customers/{customer}/export?limit={limit}");
    api.pages(&first, &api.staff(BANK)).await
}

/// A collection across every page.
fn all(pages: &[Reply], name: &str) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| {
            p.body[name]
                .as_array()
                .cloned()
                .unwrap_or_else(|| panic!("{name} on every page"))
        })
        .collect()
}

fn ids(items: &[Value], id: &str) -> Vec<String> {
    let mut ids: Vec<String> = items.iter().map(|i| i[id].as_str().expect("id").to_owned()).collect();
    ids.sort();
    ids
}

/// Every item of a list route (one page of 100).
async fn listed(api: &Api, path: &str, field: &str) -> Vec<Value> {
    let r = api.get(&format!("{path}?limit=100"), &api.staff(BANK)).await;
    r.expect(200);
    r.body[field].as_array().cloned().expect("a list")
}

// contract: C-LIFE-1
#[tokio::test]
async fn an_export_holds_every_record_link_and_history_entry_as_the_routes_answer_them() {
    let api = Api::start().await;
    let staff = api.staff(BANK);
    let id = api
        .create_customer(
            BANK,
            json!({"email": "ada@example.com", "credit_limit": {"cur": "EUR", "num": "0.00"}}),
        )
        .await;
    let base = format!("/v1/banks/{BANK}/customers/{id}");
    for i in 0..3 {
        api.post(
            &format!("/v1/customers/{id}/address"),
            &staff,
            &json!({"line_1": format!("{i} Main St"), "city": "Berlin", "country_code": "DE"}),
        )
        .await
        .expect(201);
        api.post(
            &format!("/v1/customers/{id}/social_media_handles"),
            &staff,
            &json!({"type": "twitter", "handle": format!("@ada{i}")}),
        )
        .await
        .expect(201);
        api.post(
            &format!("{base}/tax-residences"),
            &staff,
            &json!({"domain": "DE", "tax_number": format!("TAX-{i}")}),
        )
        .await
        .expect(201);
        let order = api
            .post(
                &format!("{base}/credit_limit/requests"),
                &staff,
                &json!({"requested_current_rate_amount1": format!("{}00.00", i + 1)}),
            )
            .await;
        order.expect(201);
        api.post(
            &format!("/v1/banks/{BANK}/user_customer_links"),
            &staff,
            &json!({"user_id": format!("user-{i}"), "customer_id": id}),
        )
        .await
        .expect(201);
        api.post(
            &format!("/v1/banks/{BANK}/crm-events"),
            &staff,
            &json!({"customer_id": id, "category": "call", "detail": format!("call {i}")}),
        )
        .await
        .expect(201);
    }
    let order = listed(&api, &format!("{base}/credit_limit/requests"), "result").await[0]["credit_limit_order_id"]
        .as_str()
        .expect("order id")
        .to_owned();
    api.post(
        &format!("{base}/credit_limit/request/{order}/approval"),
        &api.token("export-checker", &[BANK], crate::common::ALL_SCOPES),
        &json!({"credit_limit": {"cur": "EUR", "num": "100.00"}}),
    )
    .await
    .expect(200);
    // 1 customer + 18 creations + the approval's 2 updates.
    let history = {
        let mut history = Vec::new();
        for _ in 0..150 {
            history = listed(&api, &format!("{base}/history"), "history").await;
            if history.len() >= 21 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(history.len(), 21, "{history:#?}");
        history
    };

    let pages = export(&api, &id, 4).await;
    assert!(pages.len() > 5, "paged: {} pages", pages.len());
    let customer = api.get(&base, &staff).await;
    for page in &pages {
        page.expect(200);
        assert_eq!(page.body["export_version"], 1);
        assert_eq!(page.body["customer"], customer.body, "the customer as GET answers it");
        assert!(page.body["exported_at"]["seconds"].is_i64());
    }
    let addresses = listed(&api, &format!("{base}/addresses"), "addresses").await;
    let handles = listed(&api, &format!("{base}/social_media_handles"), "checks").await;
    let residences = listed(&api, &format!("{base}/tax-residences"), "result").await;
    let orders = listed(&api, &format!("{base}/credit_limit/requests"), "result").await;
    for (name, routed, id_field) in [
        ("customer_addresses", addresses, "customer_address_id"),
        ("social_media_handles", handles, "social_media_handle_id"),
        ("tax_residences", residences, "tax_residence_id"),
        ("credit_limit_orders", orders, "credit_limit_order_id"),
    ] {
        let exported = all(&pages, name);
        assert_eq!(exported.len(), 3, "{name}");
        assert_eq!(ids(&exported, id_field), ids(&routed, id_field), "{name}");
        for item in &routed {
            let twin = exported
                .iter()
                .find(|e| e[id_field] == item[id_field])
                .expect("exported");
            // The handles' list answers a check (the stored handle and the customer's number).
            let fields = twin.as_object().expect("an object");
            assert!(
                fields.iter().all(|(k, v)| item.get(k) == Some(v)),
                "{name}: {twin} exported as the route answers it: {item}"
            );
            if name != "social_media_handles" {
                assert_eq!(twin, item, "{name}");
            }
        }
    }
    let links = all(&pages, "user_customer_links");
    let mut users: Vec<&str> = links.iter().map(|l| l["user_id"].as_str().expect("user")).collect();
    users.sort();
    assert_eq!(users, ["user-0", "user-1", "user-2"]);
    assert!(
        links
            .iter()
            .all(|l| l["customer_id"] == id.as_str() && l["is_active"] == true)
    );
    let crm = listed(&api, &format!("/v1/banks/{BANK}/crm-events"), "crm_events").await;
    let exported_crm = all(&pages, "crm_events");
    assert_eq!(exported_crm.len(), 3);
    for event in &crm {
        assert!(
            exported_crm.contains(event),
            "{event} exported as the CRM events list answers it"
        );
    }
    let exported_history = all(&pages, "history");
    assert_eq!(ids(&exported_history, "change_id"), ids(&history, "change_id"));
    for entry in &history {
        assert!(
            exported_history.contains(entry),
            "{entry} exported as the history answers it"
        );
    }
}

// contract: C-LIFE-1
#[tokio::test]
async fn only_staff_of_the_bank_export_and_tokens_are_bound_to_the_customer() {
    let api = Api::start().await;
    let id = api.create_customer(BANK, json!({})).await;
    let other = api.create_customer(BANK, json!({})).await;
    let foreign = api.create_customer("export-other", json!({})).await;
    api.post(
        &format!("/v1/banks/{BANK}/user_customer_links"),
        &api.staff(BANK),
        &json!({"user_id": "linked", "customer_id": id}),
    )
    .await
    .expect(201);
    for i in 0..3 {
        api.post(
            &format!("/v1/customers/{id}/address"),
            &api.staff(BANK),
            &json!({"line_1": format!("{i} Main St"), "city": "Berlin", "country_code": "DE"}),
        )
        .await
        .expect(201);
    }
    let path = |c: &str| format!("/v1/banks/{BANK}/customers/{c}/export");
    let staff = api.staff(BANK);
    for (who, token, target, status) in [
        (
            "linked user",
            api.token("linked", &[], crate::common::ALL_SCOPES),
            path(&id),
            403,
        ),
        (
            "staff without customer.read",
            api.token("w", &[BANK], "customer.write"),
            path(&id),
            403,
        ),
        ("staff of another bank", api.staff("export-other"), path(&id), 403),
        ("a customer of another bank", staff.clone(), path(&foreign), 404),
        (
            "a missing customer",
            staff.clone(),
            path("0190a0b0-0000-7000-8000-00000000dead"),
            404,
        ),
        ("a bad limit", staff.clone(), format!("{}?limit=501", path(&id)), 400),
        (
            "a bad page token",
            staff.clone(),
            format!("{}?page_token=abc", path(&id)),
            400,
        ),
    ] {
        let r = api.get(&target, &token).await;
        assert_eq!(r.status, status, "{who}: {}", r.body);
    }
    let first = api.get(&format!("{}?limit=1", path(&id)), &staff).await;
    first.expect(200);
    let token = first.body["next_page_token"].as_str().expect("a next page").to_owned();
    api.get(&format!("{}?page_token={token}", path(&other)), &staff)
        .await
        .expect(400);
    api.get(&format!("{}?page_token={token}", path(&id)), &staff)
        .await
        .expect(200);
}

/// Links are exported by user id (byte order), the key of their copy in the customer's partition: not by
/// link id, which would need a key of their own or a sort of every link before the first page.
// contract: C-LIFE-1
#[tokio::test]
async fn links_are_exported_by_user_id_across_pages() {
    let api = Api::start().await;
    let id = api.create_customer(BANK, json!({})).await;
    // Created in the reverse of their users' order, so that creation (link id) order differs.
    for user in ["export-user-b", "export-user-a"] {
        api.post(
            &format!("/v1/banks/{BANK}/user_customer_links"),
            &api.staff(BANK),
            &json!({"user_id": user, "customer_id": id}),
        )
        .await
        .expect(201);
    }
    for limit in [1, 100] {
        let links = all(&export(&api, &id, limit).await, "user_customer_links");
        let users: Vec<&str> = links.iter().map(|l| l["user_id"].as_str().expect("user")).collect();
        assert_eq!(users, ["export-user-a", "export-user-b"], "limit {limit}");
        let link_ids: Vec<&str> = links
            .iter()
            .map(|l| l["user_customer_link_id"].as_str().expect("id"))
            .collect();
        assert!(link_ids[0] > link_ids[1], "not in link id order: {link_ids:?}");
    }
}

/// A link written before links had their copy under the customer: the migration copies it (once),
/// and the export then holds it.
// contract: C-LIFE-1
#[tokio::test]
async fn a_link_from_before_its_copy_is_exported_once_the_migration_copied_it() {
    let api = Api::start().await;
    let id = api.create_customer(BANK, json!({})).await;
    api.post(
        &format!("/v1/banks/{BANK}/user_customer_links"),
        &api.staff(BANK),
        &json!({"user_id": "early-user", "customer_id": id}),
    )
    .await
    .expect(201);
    let store = &api.state.store;
    let customer = shared::domain::ids::CustomerId::parse(&id).expect("id");
    let user = shared::domain::ids::UserId::parse("early-user").expect("user");
    // As the previous release wrote it: the link alone.
    store
        .client()
        .delete_item()
        .table_name(store.table())
        .set_key(Some(shared::store::keys::customer_link(&customer, &user).to_map()))
        .send()
        .await
        .expect("delete the copy");
    let links = |pages: Vec<Reply>| all(&pages, "user_customer_links");
    assert!(links(export(&api, &id, 100).await).is_empty());

    let migrate = || async {
        let mut copied = 0;
        for segment in 0..2 {
            let mut start = None;
            loop {
                let page = store.migrate_page(segment, 2, None, start).await.expect("migrate");
                copied += page.moved.copied;
                start = page.next;
                if start.is_none() {
                    break;
                }
            }
        }
        copied
    };
    assert_eq!(migrate().await, 1);
    assert_eq!(migrate().await, 0, "copied once");
    let exported = links(export(&api, &id, 100).await);
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0]["user_id"], "early-user");
    assert_eq!(exported[0]["customer_id"], id.as_str());
}
