//! The local IAM check: every DynamoDB call of a function is allowed only by that function's policy
//! in `template.yaml`, so a permission missing from the template fails locally as on AWS.

use crate::common::Api;
use serde_json::json;

/// The template with `snippet` taken out of `function`'s definition (an action, a partition...).
fn template_without(function: &str, snippet: &str) -> local_api::template::Template {
    let text = std::fs::read_to_string(local_api::template_path().expect("the checkout")).expect("template");
    let start = text.find(&format!("\n  {function}:\n")).expect("the function");
    let end = start + text[start..].find("\n      Events:").expect("its events");
    let at = start + text[start..end].find(snippet).expect("the snippet in its definition");
    let changed = format!("{}{}", &text[..at], &text[at + snippet.len()..]);
    local_api::template::Template::parse(&changed).expect("the changed template")
}

/// `function`'s policy without `action`.
fn template_without_action(function: &str, action: &str) -> local_api::template::Template {
    template_without(function, &format!("                - {action}\n"))
}

async fn create_link(api: &Api, customer: &str, key: &str) -> crate::common::Reply {
    let res = api
        .http
        .post(format!("{}/v1/banks/iam-bank/user_customer_links", api.base))
        .header("Authorization", format!("Bearer {}", api.staff("iam-bank")))
        .header("Idempotency-Key", key)
        .body(json!({"user_id": "iam-user", "customer_id": customer}).to_string())
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or_default();
    crate::common::Reply { status, headers, body }
}

#[tokio::test]
async fn a_link_replay_reads_with_the_permission_the_template_grants() {
    let api = Api::start().await;
    let customer = api.create_customer("iam-bank", json!({})).await;
    let first = create_link(&api, &customer, "iam-replay").await;
    first.expect(201);
    let replay = create_link(&api, &customer, "iam-replay").await;
    replay.expect(201);
    assert_eq!(replay.body, first.body, "the replay answers the recorded link");
    let decisions = api.enforcer.decisions();
    let links: Vec<_> = decisions
        .iter()
        .filter(|d| d.function == "UserCustomerLinksFunction")
        .collect();
    assert!(
        links.iter().any(|d| d.check.action == "dynamodb:GetItem" && d.allowed),
        "the replay's GetItem went through the check: {links:?}"
    );
    assert!(decisions.iter().all(|d| d.allowed), "nothing denied: {decisions:?}");
}

// contract: C-ERR-8
#[tokio::test]
async fn without_get_item_in_its_policy_a_link_replay_fails_as_on_aws() {
    let api = Api::start_with(template_without_action("UserCustomerLinksFunction", "dynamodb:GetItem")).await;
    let customer = api.create_customer("iam-bank", json!({})).await;
    create_link(&api, &customer, "iam-denied").await.expect(201);
    let replay = create_link(&api, &customer, "iam-denied").await;
    replay.expect(500);
    let denied: Vec<_> = api.enforcer.decisions().into_iter().filter(|d| !d.allowed).collect();
    assert!(!denied.is_empty(), "the enforcer denied the replay's read");
    assert!(
        denied
            .iter()
            .all(|d| d.function == "UserCustomerLinksFunction" && d.check.action == "dynamodb:GetItem"),
        "{denied:?}"
    );
    assert!(
        denied[0]
            .check
            .resource
            .ends_with(&format!("table/{}", api.state.store.table())),
        "{denied:?}"
    );
}

#[tokio::test]
async fn without_query_on_the_index_the_firehose_fails_and_other_routes_do_not() {
    let text = std::fs::read_to_string(local_api::template_path().expect("the checkout")).expect("template");
    let changed = text.replacen("                - !Sub \"${Table.Arn}/index/firehose\"\n", "", 1);
    assert_ne!(changed, text, "the firehose's index resource is in the template");
    let api = Api::start_with(local_api::template::Template::parse(&changed).expect("template")).await;
    let id = api.create_customer("iam-bank", json!({})).await;
    let token = api.staff("iam-bank");
    api.get(&format!("/v1/banks/iam-bank/customers/{id}"), &token)
        .await
        .expect(200);
    api.get("/v1/banks/iam-bank/firehose/customers?limit=10", &token)
        .await
        .expect(500);
    let denied: Vec<_> = api.enforcer.decisions().into_iter().filter(|d| !d.allowed).collect();
    assert!(
        denied
            .iter()
            .any(|d| d.function == "FirehoseFunction" && d.check.resource.ends_with("/index/firehose")),
        "{denied:?}"
    );
}

/// Each data function may touch only the partitions its `dynamodb:LeadingKeys` list: without the
/// links' partition, a linked user's read of a customer's addresses is refused (as on AWS), while
/// staff, who need no link, still read them.
#[tokio::test]
async fn a_function_touches_only_the_partitions_its_policy_lists() {
    let api = Api::start_with(template_without("AddressesFunction", "\"USER#*\", ")).await;
    let bank = "iam-keys-bank";
    let customer = api.create_customer(bank, json!({})).await;
    api.post(
        &format!("/v1/banks/{bank}/user_customer_links"),
        &api.staff(bank),
        &json!({"user_id": "iam-keys-user", "customer_id": customer}),
    )
    .await
    .expect(201);
    let list = format!("/v1/banks/{bank}/customers/{customer}/addresses");
    api.get(&list, &api.staff(bank)).await.expect(200);
    let linked = api.token("iam-keys-user", &[], "customer.read");
    api.get(&list, &linked).await.expect(500);
    let denied: Vec<_> = api.enforcer.decisions().into_iter().filter(|d| !d.allowed).collect();
    assert!(!denied.is_empty(), "the link read was denied");
    assert!(
        denied
            .iter()
            .all(|d| d.function == "AddressesFunction" && d.check.leading_keys.iter().all(|k| k.starts_with("USER#"))),
        "{denied:?}"
    );
}

/// A statement for every service (`Action: "*"`) covers DynamoDB too: the local check applies it
/// (only statements that name another service outright are left to AWS).
#[tokio::test]
async fn a_wildcard_deny_applies_to_dynamodb() {
    let text = std::fs::read_to_string(local_api::template_path().expect("the checkout")).expect("template");
    let start = text.find("\n  AddressesFunction:\n").expect("the function");
    let at = start + text[start..].find("        - Statement:\n").expect("its policy") + "        - Statement:\n".len();
    let deny = "            - Effect: Deny\n              Action: \"*\"\n              Resource: \"*\"\n";
    let changed = format!("{}{deny}{}", &text[..at], &text[at..]);
    let api = Api::start_with(local_api::template::Template::parse(&changed).expect("template")).await;
    let bank = "iam-deny-bank";
    let customer = api.create_customer(bank, json!({})).await;
    api.get(
        &format!("/v1/banks/{bank}/customers/{customer}/addresses"),
        &api.staff(bank),
    )
    .await
    .expect(500);
    let denied: Vec<_> = api.enforcer.decisions().into_iter().filter(|d| !d.allowed).collect();
    assert!(
        !denied.is_empty() && denied.iter().all(|d| d.function == "AddressesFunction"),
        "{denied:?}"
    );
}
