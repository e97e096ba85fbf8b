//! Bulk onboarding in `make bench`: generated customers through `local-api import` (the release
//! binary) into a table of their own in DynamoDB Local, killed part-way (SIGKILL) and run again,
//! then counted: the throughput, and the proof that a resumed import leaves each line once.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct ImportRun {
    pub lines: u64,
    /// The line below which every line was done when the first run was killed.
    pub killed_at: u64,
    /// Both runs' time together.
    pub seconds: f64,
    /// Customers in the table afterwards.
    pub customers: u64,
    /// Creates in flight at once.
    pub parallel: usize,
    /// Lines the import rejected, and the first one's report line.
    pub rejected: u64,
    pub first_rejection: Option<String>,
}

impl ImportRun {
    pub fn rate(&self) -> f64 {
        self.lines as f64 / self.seconds.max(1e-9)
    }
}

/// A customer as a bank's export might hold it, in the create route's format.
fn line(i: u64) -> String {
    serde_json::json!({
        "customer_number": format!("IMP-{i:08}"),
        "legal_name": format!("Imported Customer {i}"),
        "mobile_phone_number": format!("+4915{:09}", i),
        "email": format!("customer{i}@example.com"),
        "face_image": {"url": format!("https://images.example.com/customers/{i}.png"), "date": "2024-05-01T09:30:00Z"},
        "date_of_birth": "1980-03-14T00:00:00Z",
        "relationship_status": "married",
        "dob_of_dependents": ["2012-06-01", "2015-09-30"],
        "credit_rating": {"rating": "AA", "source": "Experian"},
        // A new customer starts without credit (four eyes): a limit is an approved order's.
        "credit_limit": {"cur": "EUR", "num": "0.00"},
        "highest_education_attained": "Master",
        "employment_status": "employed",
        "last_ok_date": "2025-01-02T03:04:05Z",
        "title": "Dr",
        "branchId": "branch-1"
    })
    .to_string()
}

/// Customers in `table`: a Scan in pages of 1,000 items, each well inside the client's timeout.
async fn count_customers(client: &Client, table: &str) -> Result<u64, String> {
    let mut count = 0u64;
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .limit(1000)
            .filter_expression("sk = :c")
            .expression_attribute_values(":c", AttributeValue::S("CUSTOMER".into()))
            .select(Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("count: {e:?}"))?;
        count += out.count as u64;
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(count);
        }
    }
}

/// Imports `lines` customers with `parallel` creates in flight, killing the first run once a third
/// is done.
pub async fn run(
    local_api: &Path,
    work: &Path,
    client: &Client,
    endpoint: &str,
    table_definition: &serde_norway::Value,
    lines: u64,
    parallel: usize,
) -> Result<ImportRun, String> {
    let table = format!(
        "{}-import",
        work.file_name().and_then(|n| n.to_str()).unwrap_or("bench")
    );
    let _ = client.delete_table().table_name(&table).send().await;
    local_api::table::ensure_table(client, &table, table_definition)
        .await
        .map_err(|e| e.to_string())?;
    let dir = work.join("import");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("customers.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).map_err(|e| e.to_string())?);
    for i in 0..lines {
        writeln!(out, "{}", line(i)).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    let state = dir.join("customers.jsonl.import-state.json");
    let command = || {
        let mut c = Command::new(local_api);
        c.arg("import")
            .arg(&file)
            .args(["--bank", "bank-import", "--parallel", &parallel.to_string()])
            .env("TABLE_NAME", &table)
            .env("DYNAMODB_ENDPOINT", endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let done_below = || local_api::import::done_below(&state).unwrap_or(0);
    let started = Instant::now();
    let mut child = command().spawn().map_err(|e| format!("{}: {e}", local_api.display()))?;
    while done_below() < lines / 3 {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            return Err("the import ended before it could be killed".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().map_err(|e| e.to_string())?;
    child.wait().map_err(|e| e.to_string())?;
    let killed_at = done_below();
    let status = command().status().map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("the resumed import failed: {status}"));
    }
    let customers = count_customers(client, &table).await?;
    let rejections = std::fs::read_to_string(dir.join("customers.jsonl.rejected.jsonl")).unwrap_or_default();
    let _ = client.delete_table().table_name(&table).send().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ImportRun {
        lines,
        killed_at,
        seconds,
        customers,
        parallel,
        rejected: rejections.lines().count() as u64,
        first_rejection: rejections.lines().next().map(str::to_owned),
    })
}
