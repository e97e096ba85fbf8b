//! The generated client against a running API (`make clients` runs it against `make run`):
//! create customers, read one, update it with `If-Match`, add and update an address, page
//! through the firehose with `page_token`, get a 400 and a 412 as the client's error type, and
//! see a malformed id refused before any request is made.
//! Asserts what it gets; exits non-zero on the first surprise.
//!
//! Environment: CUSTOMER_API_URL, CUSTOMER_API_TOKEN (staff of CUSTOMER_API_BANK with every
//! scope), CUSTOMER_API_BANK (a bank with no customers yet).

use customer_api_client::{Client, Error, ResponseValue, types};
use std::{collections::BTreeSet, num::NonZeroU64};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let (url, token, bank) = (
        var("CUSTOMER_API_URL")?,
        var("CUSTOMER_API_TOKEN")?,
        var("CUSTOMER_API_BANK")?,
    );
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse()?);
    let client = Client::new_with_client(&url, reqwest::Client::builder().default_headers(headers).build()?);

    // Three customers, so that the firehose has pages of two.
    let mut created = Vec::new();
    for n in 1..=3 {
        let email = types::Email::try_from(format!("client{n}@example.com"))?;
        let body = types::CreateCustomerRequest::builder()
            .bank_id(bank.as_str())
            .legal_name(format!("Rust Client {n}"))
            .email(Some(email.into()));
        let answer = client.create_customer().body(body).send().await?;
        assert_eq!(answer.status(), 201);
        created.push(answer.into_inner().customer_id);
    }
    let id = created[0];

    let read = client
        .get_customer_by_customer_id()
        .bank_id(bank.as_str())
        .customer_id(id)
        .send()
        .await?;
    let first_version = etag(&read)?;
    let customer = read.into_inner();
    assert_eq!((customer.id, customer.legal_name.as_str()), (id, "Rust Client 1"));
    assert_eq!(customer.email, "client1@example.com");

    let update_email = |email: &'static str, if_match: &str| {
        let body = types::UpdateCustomerEmailRequest::builder().email(email);
        client
            .update_customer_email()
            .bank_id(bank.as_str())
            .customer_id(id)
            .if_match(if_match)
            .body(body)
            .send()
    };
    let updated = update_email("renamed@example.com", &first_version).await?;
    assert_ne!(etag(&updated)?, first_version, "an update gives a new ETag");
    assert_eq!(updated.into_inner().customer.email, "renamed@example.com");

    // The version read before the update no longer matches: 412, parsed as a problem.
    let stale = update_email("stale@example.com", &first_version).await;
    assert_eq!(problem(stale)?.status, 412);

    let address = client
        .add_address_to_customer()
        .customer_id(id)
        .body(
            types::AddAddressRequest::builder()
                .line_1("12 St James Square")
                .city("London")
                .country_code(types::CountryCode::Gb),
        )
        .send()
        .await?;
    let address_version = etag(&address)?;
    let address_id = address.into_inner().customer_address_id;
    let moved = client
        .update_customer_address()
        .bank_id(bank.as_str())
        .customer_id(id)
        .customer_address_id(address_id)
        .if_match(address_version.as_str())
        .body(types::UpdateAddressRequest::builder().city(Some("Bath".try_into()?)))
        .send()
        .await?
        .into_inner();
    assert_eq!(
        (moved.city.as_str(), moved.line_1.as_str()),
        ("Bath", "12 St James Square")
    );

    // The client's types check patterns before sending: no request is made with a malformed id.
    let malformed = types::CreateCustomerRequest::builder()
        .bank_id("not a bank id")
        .legal_name("Never Sent");
    let refused_here = client.create_customer().body(malformed).send().await;
    assert!(
        matches!(refused_here, Err(Error::InvalidRequest(_))),
        "{refused_here:?}"
    );

    // Every customer of the bank, two per page, each exactly once (the malformed one was not sent).
    let (mut seen, mut pages, mut page_token) = (Vec::new(), 0, None::<types::NextPageToken>);
    loop {
        let mut request = client
            .get_firehose_customer()
            .bank_id(bank.as_str())
            .limit(NonZeroU64::new(2).expect("2 > 0"));
        if let Some(token) = page_token {
            request = request.page_token(token.to_string());
        }
        let page = request.send().await?.into_inner();
        pages += 1;
        seen.extend(page.customers.iter().map(|c| c.id));
        page_token = page.next_page_token;
        if page_token.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 3, "each customer once: {seen:?}");
    assert_eq!(BTreeSet::from_iter(seen), BTreeSet::from_iter(created));
    assert!(pages >= 2, "3 customers in pages of 2 take 2 pages, took {pages}");

    // An update naming no field passes the client's types (every field is optional) and is
    // refused by the server: a 400 problem naming what is wrong.
    let empty = client
        .update_customer_address()
        .bank_id(bank.as_str())
        .customer_id(id)
        .customer_address_id(address_id)
        .body(types::UpdateAddressRequest::builder())
        .send()
        .await;
    let refused = problem(empty)?;
    assert_eq!(refused.status, 400);
    assert!(
        !refused.errors.is_empty(),
        "a 400 names the rejected fields: {refused:?}"
    );
    println!(
        "rust client: create, read, If-Match update (and a 412), address add and update, firehose in {pages} pages, a 400 problem: all as expected"
    );
    Ok(())
}

fn etag<T>(answer: &ResponseValue<T>) -> Result<String> {
    let value = answer.headers().get(reqwest::header::ETAG).ok_or("no ETag header")?;
    Ok(value.to_str()?.to_owned())
}

/// The problem body of an error answer; anything else is a failure.
fn problem<T: std::fmt::Debug>(answer: Result<ResponseValue<T>, Error<types::Problem>>) -> Result<types::Problem> {
    match answer {
        Err(Error::ErrorResponse(problem)) => Ok(problem.into_inner()),
        other => Err(format!("expected a problem answer, got {other:?}").into()),
    }
}
