//! Every list's page token continues the list only for the user it was given to: another member of
//! staff of the same bank, with the same rights, replaying it gets 400, as for a token of another list.

use crate::common::{ALL_SCOPES, Api};
use serde_json::json;
use std::time::Duration;

const BANK: &str = "pages-bank";

/// Defect: history and export tokens were bound to the customer only, so a colleague replaying
/// someone's token read on (200); the other lists are held to the same rule here.
// contract: C-PAGE-2, C-HIST-2, C-LIFE-1
#[tokio::test]
async fn a_page_token_replayed_by_another_member_of_staff_is_400_on_every_list() {
    let api = Api::start().await;
    let (ada, bob) = (
        api.token("pages-ada", &[BANK], ALL_SCOPES),
        api.token("pages-bob", &[BANK], ALL_SCOPES),
    );
    let id = api.create_customer(BANK, json!({})).await;
    let second = api.create_customer(BANK, json!({})).await;
    let base = format!("/v1/banks/{BANK}/customers/{id}");
    // Two of everything, so that a page of one has a next page.
    for i in 0..2 {
        for (path, body) in [
            (
                format!("/v1/customers/{id}/address"),
                json!({"line_1": format!("{i} Main St"), "city": "Berlin", "country_code": "DE"}),
            ),
            (
                format!("/v1/customers/{id}/social_media_handles"),
                json!({"type": "twitter", "handle": format!("@pages{i}")}),
            ),
            (
                format!("{base}/tax-residences"),
                json!({"domain": "DE", "tax_number": format!("TAX-{i}")}),
            ),
            (
                format!("{base}/credit_limit/requests"),
                json!({"requested_current_rate_amount1": format!("{}00.00", i + 1)}),
            ),
            (format!("/v1/banks/{BANK}/crm-events"), json!({"customer_id": id})),
        ] {
            api.post(&path, &ada, &body).await.expect(201);
        }
    }
    for customer in [&id, &second] {
        for user in ["pages-ada", "pages-bob"] {
            api.post(
                &format!("/v1/banks/{BANK}/user_customer_links"),
                &ada,
                &json!({"user_id": user, "customer_id": customer}),
            )
            .await
            .expect(201);
        }
    }
    let lists = [
        format!("{base}/addresses"),
        format!("{base}/social_media_handles"),
        format!("{base}/tax-residences"),
        format!("{base}/credit_limit/requests"),
        format!("/v1/banks/{BANK}/crm-events"),
        format!("/v1/banks/{BANK}/firehose/customers"),
        "/v1/users/current/customers".to_owned(),
        format!("/v1/banks/{BANK}/customers"),
        format!("{base}/history"),
        format!("{base}/export"),
    ];
    for list in &lists {
        // History entries are written from the stream, shortly after the writes.
        let mut first = api.get(&format!("{list}?limit=1"), &ada).await;
        for _ in 0..100 {
            if first.status != 200 || first.body.get("next_page_token").is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            first = api.get(&format!("{list}?limit=1"), &ada).await;
        }
        first.expect(200);
        let token = first.body["next_page_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{list}: a next page"))
            .to_owned();
        let next = format!("{list}?limit=1&page_token={token}");
        let replayed = api.get(&next, &bob).await;
        assert_eq!(
            replayed.status, 400,
            "{list} replayed by a colleague: {}",
            replayed.body
        );
        replayed.expect(400);
        assert_eq!(replayed.fields(), ["page_token"], "{list}");
        api.get(&next, &ada).await.expect(200);
    }
}
