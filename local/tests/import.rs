//! `local-api import` against the test run's DynamoDB Local: lines validated as the create route
//! validates them, rejected ones reported with their reason, and every valid line written exactly
//! once across stops, a killed process and a lost state file.

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use local_api::import::{Options, Rejected, run};
use shared::domain::ids::BankId;
use shared::store::Store;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod support;
use support::{fresh_store, unique};

/// The customers in the table (a Scan: tests only), and how many distinct numbers they have.
async fn customers(store: &Store) -> (usize, usize) {
    let mut numbers = std::collections::HashSet::new();
    let mut count = 0;
    let mut start = None;
    loop {
        let out = store
            .client()
            .scan()
            .table_name(store.table())
            .filter_expression("sk = :c")
            .expression_attribute_values(":c", AttributeValue::S("CUSTOMER".into()))
            .projection_expression("customer_number")
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in out.items.unwrap_or_default() {
            count += 1;
            numbers.insert(item["customer_number"].as_s().unwrap().to_ascii_uppercase());
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return (count, numbers.len());
        }
    }
}

async fn number_items(store: &Store) -> i32 {
    store
        .client()
        .scan()
        .table_name(store.table())
        .filter_expression("sk = :n")
        .expression_attribute_values(":n", AttributeValue::S("NUMBER".into()))
        .select(Select::Count)
        .send()
        .await
        .expect("scan")
        .count
}

fn write_lines(dir: &Path, lines: &[String]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("customers.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    file
}

fn valid(i: usize) -> String {
    format!(r#"{{"legal_name": "Customer {i}", "customer_number": "IMP-{i}", "email": "c{i}@example.com"}}"#)
}

#[tokio::test]
async fn valid_lines_are_created_once_and_bad_ones_reported_with_their_reason() {
    let store = fresh_store("import").await;
    let mut lines: Vec<String> = (0..300).map(valid).collect();
    let bad = [
        (r#"{"legal_name": ""}"#, "legal_name"),
        ("not json", "body"),
        (r#"{"bank_id": "other-bank", "legal_name": "X"}"#, "bank_id"),
        (r#"{"legal_name": "X", "nickname": "x"}"#, "nickname"),
        (r#"{"legal_name": "X", "email": "nope"}"#, "email"),
        // Four eyes: a granted limit is an approved order's, on this path as on the route.
        (
            r#"{"legal_name": "X", "credit_limit": {"cur": "EUR", "num": "5000.00"}}"#,
            "credit_limit: forbidden: four-eyes rule",
        ),
        (r#"{"legal_name": "Twin", "customer_number": "imp-7"}"#, "already used"),
    ];
    // Spread among the valid lines, and one blank line.
    let mut bad_lines = Vec::new();
    for (i, (line, _)) in bad.iter().enumerate() {
        let at = 40 * i + 20;
        lines.insert(at, (*line).to_owned());
        bad_lines.push(at as u64 + 1);
    }
    lines.insert(290, String::new());
    let dir = std::env::temp_dir().join(unique("import"));
    let file = write_lines(&dir, &lines);
    let mut options = Options::new(file, BankId::parse("bank-a").unwrap());
    options.parallel = 8;

    // Stopped part-way, as by a crash, then continued.
    options.stop_after = Some(120);
    let first = run(&store, &options).await.expect("first part");
    assert!(first.created > 0 && first.rejected > 0);
    options.stop_after = None;
    let rest = run(&store, &options).await.expect("the rest");
    assert_eq!(rest.resumed_from, 121, "continued after the stop");
    assert_eq!(first.created + rest.created, 300, "every valid line; of the twins, one");
    assert_eq!(first.rejected + rest.rejected, bad.len() as u64);
    assert_eq!(customers(&store).await, (300, 300));
    assert_eq!(number_items(&store).await, 300);

    let report: Vec<Rejected> = std::fs::read_to_string(&options.rejected)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(report.len(), bad.len(), "{report:?}");
    // The twin and the line of IMP-7 race for the number (case-insensitively): one of them wins.
    assert_eq!(
        report.iter().filter(|r| r.reason.contains("already used")).count(),
        1,
        "{report:?}"
    );
    for ((line, reason), at) in bad.iter().zip(&bad_lines).take(bad.len() - 1) {
        let r = report
            .iter()
            .find(|r| r.line == *at)
            .unwrap_or_else(|| panic!("{line} not reported"));
        assert!(r.reason.contains(reason), "{line}: {}", r.reason);
    }

    // The state file lost: every line is tried again and none is written twice.
    std::fs::remove_file(&options.state).unwrap();
    let again = run(&store, &options).await.expect("again");
    assert_eq!((again.created, again.already), (0, 300), "{again:?}");
    assert_eq!(customers(&store).await, (300, 300));
    std::fs::remove_dir_all(&dir).ok();
}

/// The real binary, killed (SIGKILL) part-way, then run again: exactly every line, once.
#[tokio::test]
async fn a_killed_import_resumes_and_leaves_exactly_one_customer_per_line() {
    let store = fresh_store("import").await;
    let lines: Vec<String> = (0..3000).map(valid).collect();
    let dir = std::env::temp_dir().join(unique("import-kill"));
    let file = write_lines(&dir, &lines);
    let state = PathBuf::from(format!("{}.import-state.json", file.display()));
    let command = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_local-api"));
        c.args(["import", file.to_str().unwrap(), "--bank", "bank-k"])
            .env("TABLE_NAME", store.table())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    let mut child = command().spawn().expect("local-api import");
    let started = Instant::now();
    let done_below = || local_api::import::done_below(&state).unwrap_or(0);
    while done_below() < 300 {
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("kill");
    child.wait().unwrap();
    let (partial, _) = customers(&store).await;
    assert!(partial < 3000, "killed part-way: {partial}");

    let status = command().status().expect("local-api import again");
    assert!(status.success());
    assert!(done_below() > 3000);
    assert_eq!(customers(&store).await, (3000, 3000));
    std::fs::remove_dir_all(&dir).ok();
}
