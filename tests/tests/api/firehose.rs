use crate::common::{Api, sharded};
use serde_json::json;

pub(crate) fn ids(r: &crate::common::Reply) -> Vec<String> {
    r.body["customers"]
        .as_array()
        .expect("customers")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

// contract: C-PAGE-6
async fn firehose_pages_through_a_banks_customers_in_creation_order(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let mut created = Vec::new();
    for _ in 0..7 {
        created.push(api.create_customer("b1", json!({})).await);
    }
    let _elsewhere = api.create_customer("b2", json!({})).await;

    let desc = api.get("/v1/banks/b1/firehose/customers", &staff).await;
    desc.expect(200);
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(
        ids(&desc),
        newest_first,
        "DESC by creation time by default, this bank only"
    );
    let asc = api
        .get("/v1/banks/b1/firehose/customers?sort_direction=ASC", &staff)
        .await;
    assert_eq!(ids(&asc), created);

    let pages = api
        .pages("/v1/banks/b1/firehose/customers?limit=3&sort_direction=ASC", &staff)
        .await;
    assert_eq!(pages.iter().flat_map(ids).collect::<Vec<_>>(), created);
    assert_eq!(pages.len(), 3);

    let offset = api
        .get("/v1/banks/b1/firehose/customers?sort_direction=ASC&offset=5", &staff)
        .await;
    assert_eq!(ids(&offset), created[5..]);
    let beyond = api.get("/v1/banks/b1/firehose/customers?offset=50", &staff).await;
    assert_eq!(ids(&beyond), Vec::<String>::new());
}
sharded!(firehose_pages_through_a_banks_customers_in_creation_order);

// contract: C-TIME-5, C-PAGE-6
async fn firehose_filters_by_creation_date(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let early = api.create_customer("b1", json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let cut = time_now_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let late = api.create_customer("b1", json!({})).await;

    let from = api
        .get(&format!("/v1/banks/b1/firehose/customers?from_date={cut}"), &staff)
        .await;
    assert_eq!(ids(&from), [late]);
    let to = api
        .get(&format!("/v1/banks/b1/firehose/customers?to_date={cut}"), &staff)
        .await;
    assert_eq!(ids(&to), std::slice::from_ref(&early));
    let both = api
        .get(
            &format!("/v1/banks/b1/firehose/customers?from_date=2000-01-01T00:00:00Z&to_date={cut}"),
            &staff,
        )
        .await;
    assert_eq!(ids(&both), [early]);
    api.get(
        &format!("/v1/banks/b1/firehose/customers?from_date={cut}&to_date=2000-01-01T00:00:00Z"),
        &staff,
    )
    .await
    .expect(400);
}
sharded!(firehose_filters_by_creation_date);

fn time_now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Whole seconds, UTC, RFC 3339: built by hand to keep the test free of a date crate.
    let days = secs / 86_400;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let (y, mo, d) = civil_from_days(days as i64);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

/// Days since 1970-01-01 to a proleptic Gregorian date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

// contract: C-BODY-5, C-PAGE-1, C-PAGE-2, C-PAGE-6
async fn firehose_rejects_bad_parameters_and_foreign_tokens(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    for _ in 0..3 {
        api.create_customer("b1", json!({})).await;
    }
    let first = api.get("/v1/banks/b1/firehose/customers?limit=1", &staff).await;
    let token = first.body["next_page_token"].as_str().expect("a next page").to_owned();
    let mut tampered = token.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let both_staff = api.token("both", &["b1", "b2"], crate::common::ALL_SCOPES);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("offset=10001", "offset"),
        ("offset=-1", "offset"),
        ("sort_direction=SIDEWAYS", "sort_direction"),
        ("from_date=yesterday", "from_date"),
        ("to_date=2024-13-01", "to_date"),
        ("limit=1&limit=2", "limit"),
        (&format!("page_token={tampered}") as &str, "page_token"),
        (&format!("page_token={token}&sort_direction=ASC"), "page_token"),
        (&format!("page_token={token}&offset=1"), "offset"),
    ] {
        let r = api
            .get(&format!("/v1/banks/b1/firehose/customers?{query}"), &staff)
            .await;
        r.expect(400);
        assert_eq!(r.fields(), [field], "{query}");
    }
    // Replayed against another bank, even by staff of both (a token of their own: tokens are bound
    // to the user too).
    let first = api.get("/v1/banks/b1/firehose/customers?limit=1", &both_staff).await;
    let token = first.body["next_page_token"].as_str().expect("a next page").to_owned();
    let r = api
        .get(
            &format!("/v1/banks/b2/firehose/customers?page_token={token}"),
            &both_staff,
        )
        .await;
    r.expect(400);
    // The token works where it belongs, for whom it was given to.
    api.get(
        &format!("/v1/banks/b1/firehose/customers?page_token={token}"),
        &both_staff,
    )
    .await
    .expect(200);
    // Staff without the firehose scope, and non-staff with it.
    api.get(
        "/v1/banks/b1/firehose/customers",
        &api.token("s", &["b1"], "customer.read customer.write"),
    )
    .await
    .expect(403);
    api.get(
        "/v1/banks/b1/firehose/customers",
        &api.token("s", &["b2"], "customer.firehose"),
    )
    .await
    .expect(403);
    api.get("/v1/banks/b%231/firehose/customers", &staff).await.expect(400);
}
sharded!(firehose_rejects_bad_parameters_and_foreign_tokens);

/// Enough customers that every shard holds several (or none, at 64 shards): at every shard count,
/// the merged list is exactly creation order, page by page and window by window.
// contract: C-PAGE-6, C-SCALE-1
async fn firehose_pages_and_offsets_merge_every_shard_in_creation_order(shards: u16) {
    let api = Api::start_sharded(shards).await;
    let staff = api.staff("b1");
    let mut created = Vec::new();
    for _ in 0..40 {
        created.push(api.create_customer("b1", json!({})).await);
    }
    let _elsewhere = api.create_customer("b2", json!({})).await;
    let mut newest_first = created.clone();
    newest_first.reverse();

    for (direction, expected) in [("ASC", &created), ("DESC", &newest_first)] {
        let all = api
            .get(
                &format!("/v1/banks/b1/firehose/customers?sort_direction={direction}&limit=500"),
                &staff,
            )
            .await;
        assert_eq!(&ids(&all), expected, "{direction}: one page");
        for limit in [1, 3, 7, 40] {
            let pages = api
                .pages(
                    &format!("/v1/banks/b1/firehose/customers?sort_direction={direction}&limit={limit}"),
                    &staff,
                )
                .await;
            assert_eq!(
                &pages.iter().flat_map(ids).collect::<Vec<_>>(),
                expected,
                "{direction}, pages of {limit}"
            );
            assert_eq!(pages.len(), 40usize.div_ceil(limit), "no empty last page");
        }
        for (offset, limit) in [(0, 5), (13, 4), (35, 10), (39, 1), (40, 3)] {
            let window = api
                .get(
                    &format!(
                        "/v1/banks/b1/firehose/customers?sort_direction={direction}&offset={offset}&limit={limit}"
                    ),
                    &staff,
                )
                .await;
            let end = (offset + limit).min(expected.len());
            assert_eq!(
                ids(&window),
                expected[offset..end],
                "{direction}, offset {offset}, limit {limit}"
            );
            assert_eq!(
                window.body.get("next_page_token").is_some(),
                end < expected.len(),
                "{direction}, offset {offset}: a token exactly when more follow"
            );
            // The token of an offset page continues right after it.
            if let Some(token) = window.body["next_page_token"].as_str() {
                let next = api
                    .get(
                        &format!("/v1/banks/b1/firehose/customers?sort_direction={direction}&limit={limit}&page_token={token}"),
                        &staff,
                    )
                    .await;
                let next_end = (end + limit).min(expected.len());
                assert_eq!(
                    ids(&next),
                    expected[end..next_end],
                    "{direction}, after offset {offset}"
                );
            }
        }
    }
}
sharded!(firehose_pages_and_offsets_merge_every_shard_in_creation_order);
