//! `local-api serve [--lambda]` runs the API on 127.0.0.1:$PORT (the routers in-process, or the
//! built functions); `local-api invoke` runs one built function on one event (a Docker-free
//! `sam local invoke`); `local-api token ...` prints a dev token; `local-api seed` loads the demo
//! bank into the table.

use local_api::keys::{self, TokenRequest};
use std::path::PathBuf;
use std::process::ExitCode;

// local-api is a server under load (`make bench`): with mimalloc it served 10% more requests per
// second than with glibc's allocator, which spent a sixth of its time in malloc and free. The
// functions keep the system allocator: for them size and cold start count, not throughput.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage:
  local-api serve [--lambda]
                     --lambda: run the functions' built bootstraps (make build) through the local
                     Lambda service, as API Gateway calls them, instead of the routers in-process
  local-api invoke <LogicalId> <event.json | -> [--env-vars FILE]
                     run one built function once on an event, like `sam local invoke`: its answer
                     on stdout, its logs on stderr, a non-zero exit when it fails
  local-api token-event [token options]   a TOKEN authorizer event with a fresh dev token
  local-api functions
                     the template's functions, a line each: LogicalId and its group (the folder
                     under functions/ of its CodeUri), for scripts that need them
  local-api iam-report <LOCAL_IAM_USAGE_LOG file>
                     per function: the DynamoDB actions used, denied, and granted but unused
  local-api migrate [--segments N] [--state FILE] [--page-size N] [--max-pages N]
                     move TABLE_NAME's customers and CRM events to their sharded keys under SHARDS
                     (16) and copy older links and CRM events under their customer: a parallel Scan in N
                     segments (4), resumable from FILE
                     (LOCAL_DIR/migrate-<table>.json), pages of N items (up to 1 MB), at most N
                     pages per segment per run; the
                     same against a deployed table (no DYNAMODB_ENDPOINT; docs/scale.md)
  local-api import FILE.jsonl --bank B [--import-id ID] [--parallel N] [--stop-after LINE]
                     create the customers of FILE (one POST /v1/customers body per line) at bank B
                     in TABLE_NAME, validated as the route does, N at once (32), each line at most
                     once (its customer id derives from B, ID (the file's name) and its line number);
                     resumable from FILE.import-state.json, rejected lines and why in
                     FILE.rejected.jsonl; against a deployed table as migrate (docs/scale.md)
  local-api seed     load the demo bank (demo-bank: customers, their records, links) into TABLE_NAME;
                     idempotent (fixed ids: a second run creates nothing)
  local-api token [--sub S] [--bank B]... [--scope \"customer.read ...\"] [--ttl SECS]

environment: PORT (3000), TABLE_NAME (customer-api), LOCAL_DIR (.local), PAGE_TOKEN_SECRET
(else one kept in LOCAL_DIR), LOCAL_TEMPLATE and LOCAL_BUILD_DIR (template.yaml and .aws-sam/build of
the checkout it runs in: the nearest directory at or above this one holding template.yaml),
DYNAMODB_ENDPOINT, AWS_REGION and credentials for the SDK";

const ALL_SCOPES: &str = "customer.read customer.write customer.firehose customer.approve";

// One thread: on 2 cores shared with DynamoDB Local's JVM it served 15% more requests per second
// than the multi-threaded runtime, at less CPU per request.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let local_dir = PathBuf::from(std::env::var("LOCAL_DIR").unwrap_or_else(|_| ".local".into()));
    let result = match args.first().map(String::as_str) {
        Some("serve") if args.len() == 1 => serve(local_dir, false).await,
        Some("serve") if args.len() == 2 && args[1] == "--lambda" => serve(local_dir, true).await,
        Some("invoke") => return invoke(&local_dir, &args[1..]).await,
        Some("token") => token(&local_dir, &args[1..]),
        Some("token-event") => token_event(&local_dir, &args[1..]),
        Some("functions") if args.len() == 1 => functions(),
        Some("iam-report") if args.len() == 2 => iam_report(&args[1]),
        Some("seed") if args.len() == 1 => seed().await,
        Some("migrate") => migrate(&local_dir, &args[1..]).await,
        Some("import") => import(&args[1..]).await,
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-api: {e}");
            ExitCode::FAILURE
        }
    }
}

fn token(local_dir: &std::path::Path, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let dev_keys = keys::load_or_create(local_dir)?;
    println!("{}", dev_keys.mint(&token_request(args)?)?);
    Ok(())
}

/// The template's functions as the one parser of `template.yaml` reads them (scripts need them,
/// and must not read the YAML themselves).
fn functions() -> Result<(), Box<dyn std::error::Error>> {
    let template = local_api::template::Template::load(&local_api::template_path()?)?;
    for f in &template.functions {
        println!("{} {}", f.logical_id, f.group);
    }
    Ok(())
}

fn iam_report(log: &str) -> Result<(), Box<dyn std::error::Error>> {
    let template = local_api::template::Template::load(&local_api::template_path()?)?;
    let text = std::fs::read_to_string(log).map_err(|e| format!("{log}: {e}"))?;
    print!("{}", local_api::iam::usage_report(&template, &text)?);
    Ok(())
}

fn token_event(local_dir: &std::path::Path, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let dev_keys = keys::load_or_create(local_dir)?;
    let token = dev_keys.mint(&token_request(args)?)?;
    let arn = "arn:aws:execute-api:us-east-1:000000000000:local/api/GET/v1/users/current/customers";
    println!(
        "{}",
        local_api::proxy_event::token_event(&format!("Bearer {token}"), arn)
    );
    Ok(())
}

/// `local-api invoke`: exit 0 with the function's answer, 1 when it failed (its error document on
/// stdout, as `sam local invoke` prints it), 2 when it could not be run.
async fn invoke(local_dir: &std::path::Path, args: &[String]) -> ExitCode {
    shared::config::init_tracing();
    match local_api::invoke::run(local_dir, args).await {
        Ok((answer, ok)) => {
            println!("{answer}");
            if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e @ local_api::LocalError::Usage(_)) => {
            eprintln!("local-api invoke: {e}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("local-api invoke: {e}");
            ExitCode::from(2)
        }
    }
}

fn token_request(args: &[String]) -> Result<TokenRequest, String> {
    let mut request = TokenRequest::new("dev-user");
    request.scope = ALL_SCOPES.into();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--sub" => request.sub = value()?,
            "--bank" => request.bank_ids.push(value()?),
            "--scope" => request.scope = value()?,
            "--ttl" => request.ttl_seconds = value()?.parse().map_err(|_| format!("--ttl takes seconds\n{USAGE}"))?,
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    Ok(request)
}

/// A page token secret kept under `.local/` so tokens stay valid across restarts.
fn page_secret(local_dir: &std::path::Path) -> std::io::Result<String> {
    if let Ok(secret) = std::env::var("PAGE_TOKEN_SECRET") {
        return Ok(secret);
    }
    let path = local_dir.join("page-token-secret");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        return Ok(secret.trim().to_owned());
    }
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| std::io::Error::other("no system randomness"))?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(local_dir)?;
    std::fs::write(&path, &secret)?;
    Ok(secret)
}

/// Creates the table from the template if it is missing, then loads the demo bank into it.
async fn seed() -> Result<(), Box<dyn std::error::Error>> {
    let store = store_from_env()?;
    let template = local_api::template::Template::load(&local_api::template_path()?)?;
    if local_api::table::ensure_table(store.client(), store.table(), &template.table).await? {
        println!("seed: created table {}", store.table());
    }
    let report = local_api::seed::run(&store).await?;
    println!("{report}");
    let users: Vec<String> = local_api::seed::USERS
        .iter()
        .map(|(user, n)| format!("{user} ({n})"))
        .collect();
    println!(
        "users linked to demo customers: {}; a token: cargo run -q -p local-api -- token --sub alice",
        users.join(", ")
    );
    Ok(())
}

/// The table named by `TABLE_NAME` (customer-api) with the shard count of `SHARDS` (16).
fn store_from_env() -> Result<shared::store::Store, Box<dyn std::error::Error>> {
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "customer-api".into());
    Ok(shared::store::Store::new(shared::config::dynamodb_client()?, table).with_shards(shared::config::shards()?))
}

/// The value after a flag, parsed.
fn flag_value<T: std::str::FromStr>(flag: &str, value: Option<&String>) -> Result<T, String> {
    value
        .and_then(|v| v.parse().ok())
        .ok_or(format!("{flag} needs a valid value\n{USAGE}"))
}

async fn migrate(local_dir: &std::path::Path, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let store = store_from_env()?;
    let mut options = local_api::migrate::Options {
        segments: 4,
        state: local_dir.join(format!("migrate-{}.json", store.table())),
        page_size: None,
        max_pages: None,
        progress: true,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--segments" => options.segments = flag_value(flag, it.next())?,
            "--state" => options.state = flag_value(flag, it.next())?,
            "--max-pages" => options.max_pages = Some(flag_value(flag, it.next())?),
            "--page-size" => options.page_size = Some(flag_value(flag, it.next())?),
            other => return Err(format!("unknown option {other}\n{USAGE}").into()),
        }
    }
    let report = local_api::migrate::run(&store, &options).await?;
    let m = report.moved;
    println!(
        "migrate: table {}, {} shards: {} items scanned, {} customers and {} CRM events moved, {} copies under customers{}; {}",
        store.table(),
        store.shards().count(),
        m.scanned,
        m.customers,
        m.crm_events,
        m.copied,
        if report.resumed {
            " (with the runs it continued)"
        } else {
            ""
        },
        if report.complete {
            "complete".to_owned()
        } else {
            format!("stopped: run it again to continue from {}", options.state.display())
        }
    );
    Ok(())
}

async fn import(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let mut it = args.iter();
    let file = it.next().filter(|f| !f.starts_with("--")).ok_or(USAGE)?;
    let (mut bank, mut import_id, mut parallel, mut stop_after) = (None, None, None, None);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--bank" => bank = Some(flag_value::<String>(flag, it.next())?),
            "--import-id" => import_id = Some(flag_value::<String>(flag, it.next())?),
            "--parallel" => parallel = Some(flag_value::<usize>(flag, it.next())?),
            "--stop-after" => stop_after = Some(flag_value::<u64>(flag, it.next())?),
            other => return Err(format!("unknown option {other}\n{USAGE}").into()),
        }
    }
    let bank = shared::domain::ids::BankId::parse(bank.as_deref().ok_or(format!("--bank is required\n{USAGE}"))?)
        .map_err(|why| format!("--bank {why}"))?;
    let mut options = local_api::import::Options::new(PathBuf::from(file), bank);
    options.import_id = import_id.unwrap_or(options.import_id);
    options.parallel = parallel.unwrap_or(options.parallel);
    options.stop_after = stop_after;
    options.progress = true;
    let store = store_from_env()?;
    let r = local_api::import::run(&store, &options).await?;
    println!(
        "import: {} created, {} already imported, {} rejected (in {}){} in {:.1} s, {:.0} lines/s",
        r.created,
        r.already,
        r.rejected,
        options.rejected.display(),
        if r.resumed_from > 1 {
            format!(", from line {}", r.resumed_from)
        } else {
            String::new()
        },
        r.seconds,
        r.rate()
    );
    Ok(())
}

async fn serve(local_dir: PathBuf, lambda: bool) -> Result<(), Box<dyn std::error::Error>> {
    shared::config::init_tracing();
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "customer-api".into());
    let dev_keys = keys::load_or_create(&local_dir)?;
    let secret = page_secret(&local_dir)?;
    let state = shared::AppState::new(shared::config::dynamodb_client()?, table, secret.as_bytes())?
        .with_shards(shared::config::shards()?);
    let template = local_api::template::Template::load(&local_api::template_path()?)?;
    let mode = if lambda {
        local_api::Mode::Lambda(local_api::LambdaOptions {
            build_dir: local_api::build_dir()?,
            log_dir: local_dir.join("lambda-logs"),
            page_secret: secret,
        })
    } else {
        local_api::Mode::InProcess
    };
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").map_err(|_| local_api::LocalError::NoEndpoint)?;
    let stack = local_api::build_stack(template, &dev_keys, &state, mode, &endpoint, &local_dir).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;

    let mut demo = TokenRequest::new("dev-user");
    demo.scope = ALL_SCOPES.into();
    demo.bank_ids = vec!["demo-bank".into()];
    let token = dev_keys.mint(&demo)?;
    let how = if lambda {
        format!(
            "the built functions of {} through the local Lambda service; their logs in {}",
            local_api::build_dir()?.display(),
            local_dir.join("lambda-logs").display()
        )
    } else {
        "the functions' routers in-process".to_owned()
    };
    println!(
        "\nCustomer API listening on http://127.0.0.1:{port} (table {}; {how}; IAM checked locally)\n\n\
         A token for staff of bank demo-bank (valid 1 h; more: `cargo run -q -p local-api -- token --help`):\n\n\
         export TOKEN={token}\n\n\
         curl -s -X POST http://127.0.0.1:{port}/v1/customers -H \"Authorization: Bearer $TOKEN\" \\\n  \
         -d '{{\"bank_id\":\"demo-bank\",\"legal_name\":\"Ada Lovelace\",\"email\":\"ada@example.com\"}}'\n\n\
         Change events (the changes function reads the table's stream): tail -f {}\n",
        state.store.table(),
        stack.changes.events_file.display()
    );
    let app = stack
        .router
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
