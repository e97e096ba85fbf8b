//! `local-api import FILE.jsonl --bank B`: a bank's existing customers, one create-customer body
//! per line (`POST /v1/customers`'s format), validated as the route validates them and written as it
//! writes them (the customer and its number's uniqueness record in one transaction), many at once.
//!
//! Exactly once: a line's customer id is derived from (bank, import id, line number), so a line
//! written before a crash, or by an earlier run, cannot be written again: its second create finds
//! the id taken and counts as done. A state file keeps the line below which every line is done
//! (updated as lines finish, in any order), so a resumed run starts there instead of at line 1.
//! Rejected lines (their number and the reason) go to a JSON-lines file beside the input; a line
//! whose `bank_id` is absent gets the bank, one naming another bank is rejected.
//!
//! The same code runs against a deployed table: `TABLE_NAME` the table's name, `AWS_REGION`,
//! credentials in the environment, and no `DYNAMODB_ENDPOINT`.

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use shared::domain::audit::Audit;
use shared::domain::customer::CreateCustomerBody;
use shared::domain::ids::{BankId, CustomerId};
use shared::http::body::{MAX_BODY_BYTES, parse_json};
use shared::http::error::ApiError;
use shared::store::{Read, Store, StoreError};
use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Options {
    pub file: PathBuf,
    pub bank: BankId,
    /// Names this import: with the bank and a line's number, it makes the line's customer id.
    pub import_id: String,
    /// Creates in flight at once.
    pub parallel: usize,
    /// Where the position is kept between runs.
    pub state: PathBuf,
    /// Where rejected lines are reported.
    pub rejected: PathBuf,
    /// Stop after this many lines (from the start of the file), as a crash would; `None`: all.
    pub stop_after: Option<u64>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

/// How the lines of a run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Report {
    pub created: u64,
    /// Lines whose customer an earlier run (or this one, before a retry) had already written.
    pub already: u64,
    pub rejected: u64,
    /// Lines skipped because the state file says they were done.
    pub resumed_from: u64,
    pub seconds: f64,
}

impl Report {
    pub fn rate(&self) -> f64 {
        (self.created + self.already + self.rejected) as f64 / self.seconds.max(1e-9)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct State {
    file: String,
    bank: String,
    import_id: String,
    /// Every line numbered below this one is done.
    done_below: u64,
}

/// A rejected line, as reported.
#[derive(Debug, Serialize, Deserialize)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

enum Outcome {
    /// An empty line: nothing to import.
    Blank,
    Created,
    Already,
    Rejected(String),
}

impl Options {
    /// The default state and rejected files of `file`: beside it.
    pub fn new(file: PathBuf, bank: BankId) -> Self {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let with = |suffix: &str| file.with_file_name(format!("{name}.{suffix}"));
        Self {
            state: with("import-state.json"),
            rejected: with("rejected.jsonl"),
            import_id: name,
            file,
            bank,
            parallel: 32,
            stop_after: None,
            progress: false,
        }
    }

    fn customer_id(&self, line: u64) -> CustomerId {
        let seed = format!("import\n{}\n{}\n{line}", self.bank, self.import_id);
        CustomerId::derived(seed.as_bytes())
    }
}

fn describe(error: ApiError) -> String {
    match error {
        ApiError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Where the import whose state file is `state` stands: every line below this one is done.
pub fn done_below(state: &std::path::Path) -> Option<u64> {
    let bytes = std::fs::read(state).ok()?;
    serde_json::from_slice::<State>(&bytes).ok().map(|s| s.done_below)
}

fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// Tries of a line while DynamoDB is unavailable (0.4 s, 0.8 s, 1.6 s, 3.2 s apart).
const UNAVAILABLE_ATTEMPTS: u32 = 5;

/// One line, as the create route would take it.
async fn import_line(store: &Store, options: &Options, number: u64, line: &str) -> Result<Outcome, String> {
    if line.len() > MAX_BODY_BYTES {
        return Ok(Outcome::Rejected(format!("longer than {MAX_BODY_BYTES} bytes")));
    }
    let mut body: CreateCustomerBody = match parse_json(line.as_bytes()) {
        Ok(body) => body,
        Err(e) => return Ok(Outcome::Rejected(describe(e))),
    };
    match body.bank_id.as_deref() {
        None => body.bank_id = Some(options.bank.to_string()),
        Some(b) if b == options.bank.as_str() => {}
        Some(_) => return Ok(Outcome::Rejected(format!("bank_id: is not {}", options.bank))),
    }
    let mut new = match body.validate() {
        Ok(new) => new,
        Err(invalid) => return Ok(Outcome::Rejected(describe(invalid.into()))),
    };
    if !new.starts_without_credit() {
        let refusal = ApiError::from(shared::domain::credit_limit_order::Refusal::NoOrder);
        return Ok(Outcome::Rejected(format!("credit_limit: {refusal}")));
    }
    let id = options.customer_id(number);
    new.customer.id = id;
    let audit = Audit::tool("import", options.import_id.clone());
    // A moment of throttling or unavailability is waited out, a line at a time, rather than ending
    // the run: the line's id makes a retry safe (a write that landed is a conflict, then `Already`).
    let mut attempt = 1;
    let created = loop {
        match store.create_customer(new.clone(), None, &audit).await {
            Err(StoreError::Unavailable) if attempt < UNAVAILABLE_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                attempt += 1;
            }
            other => break other,
        }
    };
    match created {
        Ok(_) => Ok(Outcome::Created),
        // The id is taken: this line was written before. Or the number is another customer's.
        Err(StoreError::Conflict(why)) => match store.get_customer(&id, Read::Latest).await {
            Ok(Some(_)) => Ok(Outcome::Already),
            Ok(None) => Ok(Outcome::Rejected(why)),
            Err(e) => Err(format!("line {number}: {e}")),
        },
        Err(e) => Err(format!("line {number}: {e}")),
    }
}

/// A terminal progress bar on stderr.
fn draw(done: u64, total: u64, rejected: u64, started: Instant) {
    let width = 30;
    let filled = (done * width / total.max(1)) as usize;
    let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let eta = (total - done) as f64 / rate.max(1e-9);
    eprint!(
        "\rimport [{}{}] {done}/{total} lines · {rate:.0}/s · {rejected} rejected · {eta:.0} s left ",
        "#".repeat(filled),
        "-".repeat(width as usize - filled)
    );
}

pub async fn run(store: &Store, options: &Options) -> Result<Report, String> {
    let started = Instant::now();
    let state = State {
        file: options.file.display().to_string(),
        bank: options.bank.to_string(),
        import_id: options.import_id.clone(),
        done_below: 1,
    };
    let resumed_from = match std::fs::read(&options.state) {
        Ok(bytes) => {
            let saved: State =
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", options.state.display()))?;
            if (&saved.bank, &saved.import_id) != (&state.bank, &state.import_id) {
                return Err(format!(
                    "{} belongs to import {} of bank {}: finish it, or delete the file",
                    options.state.display(),
                    saved.import_id,
                    saved.bank
                ));
            }
            saved.done_below
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 1,
        Err(e) => return Err(io(&options.state)(e)),
    };
    // Rejections of lines a resumed run does again are reported again: keep only the others.
    let mut kept = Vec::new();
    if resumed_from > 1
        && let Ok(text) = std::fs::read_to_string(&options.rejected)
    {
        kept = text
            .lines()
            .filter(|l| serde_json::from_str::<Rejected>(l).is_ok_and(|r| r.line < resumed_from))
            .map(str::to_owned)
            .collect();
    }
    let mut rejected_file = std::fs::File::create(&options.rejected).map_err(io(&options.rejected))?;
    for line in &kept {
        writeln!(rejected_file, "{line}").map_err(io(&options.rejected))?;
    }

    let file = std::fs::File::open(&options.file).map_err(io(&options.file))?;
    let total = std::io::BufReader::new(&file).lines().count() as u64;
    let file = std::fs::File::open(&options.file).map_err(io(&options.file))?;
    let lines = std::io::BufReader::new(file)
        .lines()
        .enumerate()
        .map(|(i, line)| (i as u64 + 1, line))
        .skip(resumed_from as usize - 1)
        .take_while(|(n, _)| options.stop_after.is_none_or(|stop| *n <= stop));

    let mut report = Report {
        resumed_from,
        ..Report::default()
    };
    // Lines finished above the contiguous done range; the state moves up as the gaps fill.
    let mut finished = BTreeSet::new();
    let mut done_below = resumed_from;
    let mut last_save = Instant::now();
    let save = |done_below: u64| -> Result<(), String> {
        let state = State {
            done_below,
            file: state.file.clone(),
            bank: state.bank.clone(),
            import_id: state.import_id.clone(),
        };
        crate::state_file::save(&options.state, &state)
    };
    let mut results = futures::stream::iter(lines)
        .map(|(number, line)| async move {
            let outcome = match line {
                Ok(line) if line.trim().is_empty() => Ok(Outcome::Blank),
                Ok(line) => import_line(store, options, number, &line).await,
                Err(e) => Ok(Outcome::Rejected(format!("unreadable: {e}"))),
            };
            (number, outcome)
        })
        .buffer_unordered(options.parallel.max(1));
    while let Some((number, outcome)) = results.next().await {
        match outcome? {
            Outcome::Blank => {}
            Outcome::Created => report.created += 1,
            Outcome::Already => report.already += 1,
            Outcome::Rejected(reason) => {
                report.rejected += 1;
                let record = serde_json::to_string(&Rejected { line: number, reason }).map_err(|e| e.to_string())?;
                writeln!(rejected_file, "{record}").map_err(io(&options.rejected))?;
            }
        }
        finished.insert(number);
        while finished.remove(&done_below) {
            done_below += 1;
        }
        if last_save.elapsed() > Duration::from_millis(500) {
            rejected_file.flush().map_err(io(&options.rejected))?;
            save(done_below)?;
            last_save = Instant::now();
            if options.progress {
                draw(done_below - 1, total, report.rejected, started);
            }
        }
    }
    rejected_file.flush().map_err(io(&options.rejected))?;
    save(done_below)?;
    if options.progress {
        draw(done_below - 1, total, report.rejected, started);
        eprintln!();
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
