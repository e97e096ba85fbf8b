//! The DynamoDB baseline: the raw SDK `GetItem` of one customer, with the functions' own client
//! (`shared::config::dynamodb_client`: same endpoint, timeouts and retries), and nothing else. It is
//! the very read of `GET` customer, strongly consistent as that route's, so that a ratio to it
//! measures the route's own overhead rather than a different request.
//!
//! - As a Lambda (`AWS_LAMBDA_RUNTIME_API` set, no arguments): a `lambda_http` function that answers
//!   every request with the raw item of `BENCH_CUSTOMER_ID` in `TABLE_NAME`; the same runtime and
//!   event parsing as the functions, without their routing, access checks and mapping.
//!   `DDB_BASELINE_CONNECT_AT_INIT=true` makes one `GetItem` during init, which opens the connection
//!   and resolves credentials and the endpoint before the first invocation.
//! - `ddb-baseline latency N`: N sequential `GetItem`s after 100 warm-up ones; prints JSON with the
//!   latencies in microseconds.
//! - `ddb-baseline load CONCURRENCY SECONDS`: that many tasks sharing one client, each looping on
//!   `GetItem` for that long; prints JSON with requests, errors and latency percentiles.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use bench::stats;
use lambda_http::{Body, Error, Request, Response, service_fn};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Target {
    client: Client,
    table: String,
    pk: String,
    sk: String,
}

impl Target {
    async fn from_env() -> Result<Self, Error> {
        let id = std::env::var("BENCH_CUSTOMER_ID").map_err(|_| "BENCH_CUSTOMER_ID is required")?;
        Ok(Self {
            client: shared::config::dynamodb_client()?,
            table: std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is required")?,
            pk: format!("CUSTOMER#{id}"),
            sk: "CUSTOMER".to_owned(),
        })
    }

    /// One `GetItem`; the item's attribute count (0 when absent).
    async fn get(&self) -> Result<usize, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(self.pk.clone()))
            .key("sk", AttributeValue::S(self.sk.clone()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.map_or(0, |item| item.len()))
    }
}

// One thread in every mode: the functions' runtime as a Lambda, and local-api's as a load
// generator, where it also drove DynamoDB Local 3-4% harder than a multi-threaded runtime did.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(std::env::args().skip(1).collect()).await
}

async fn run(args: Vec<String>) -> Result<(), Error> {
    let target = Arc::new(Target::from_env().await?);
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => lambda(target).await,
        ["latency", n] => latency(&target, n.parse()?).await,
        ["load", concurrency, seconds] => load(target, concurrency.parse()?, seconds.parse()?).await,
        _ => Err("usage: ddb-baseline [latency N | load CONCURRENCY SECONDS]".into()),
    }
}

async fn lambda(target: Arc<Target>) -> Result<(), Error> {
    if std::env::var("DDB_BASELINE_CONNECT_AT_INIT").is_ok_and(|v| v == "true") {
        target.get().await?;
    }
    lambda_http::run(service_fn(move |_request: Request| {
        let target = target.clone();
        async move {
            let attributes = target.get().await?;
            let status = if attributes == 0 { 404 } else { 200 };
            Ok::<_, Error>(
                Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(Body::from(format!("{{\"attributes\":{attributes}}}")))?,
            )
        }
    }))
    .await
}

async fn latency(target: &Target, n: usize) -> Result<(), Error> {
    for _ in 0..100 {
        target.get().await?;
    }
    let mut micros = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        if target.get().await? == 0 {
            return Err("the baseline's customer is missing".into());
        }
        micros.push(start.elapsed().as_secs_f64() * 1e6);
    }
    println!("{}", serde_json::json!({ "micros": micros }));
    Ok(())
}

async fn load(target: Arc<Target>, concurrency: usize, seconds: u64) -> Result<(), Error> {
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let target = target.clone();
            tokio::spawn(async move {
                let (mut micros, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < until {
                    let start = Instant::now();
                    match target.get().await {
                        Ok(n) if n > 0 => micros.push(start.elapsed().as_secs_f64() * 1e6),
                        _ => errors += 1,
                    }
                }
                (micros, errors)
            })
        })
        .collect();
    let (mut micros, mut errors) = (Vec::new(), 0u64);
    for task in tasks {
        let (m, e) = task.await?;
        micros.extend(m);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let summary = stats::Summary::of(&mut micros);
    println!(
        "{}",
        serde_json::json!({
            "requests": micros.len() as u64 + errors,
            "errors": errors,
            "seconds": elapsed,
            "p50_us": summary.p50,
            "p99_us": summary.p99,
        })
    );
    Ok(())
}
