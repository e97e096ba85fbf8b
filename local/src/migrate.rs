//! `local-api migrate`: moves a table's customers and CRM events to their sharded keys under the
//! current `SHARDS` (`shared::store::migrate` says what moves and how). The table is scanned in
//! parallel segments; after each page, every segment's position is written to a state file, so a
//! run that stops (a crash, Ctrl-C, `--max-pages`) continues where it stopped. The state file is
//! removed when the scan is complete; a later run scans again and moves nothing already in place.
//!
//! The same code runs against a deployed table: `TABLE_NAME` the table's name, `AWS_REGION`,
//! credentials in the environment, and no `DYNAMODB_ENDPOINT`.

use serde::{Deserialize, Serialize};
use shared::store::Store;
use shared::store::migrate::Moved;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Options {
    /// Parallel Scan segments.
    pub segments: i32,
    /// Where the positions are kept between runs.
    pub state: PathBuf,
    /// Items per Scan page (DynamoDB's limit: 1 MB); smaller pages save the position more often.
    pub page_size: Option<i32>,
    /// Stop after this many pages per segment (a time-boxed run); `None`: until done.
    pub max_pages: Option<usize>,
    /// Print progress to stderr.
    pub progress: bool,
}

/// Where a segment's scan continues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Position {
    Start,
    /// The Scan's LastEvaluatedKey (the table's key attributes are strings).
    After(BTreeMap<String, String>),
    Done,
}

/// What the state file holds: the run it belongs to, and each segment's position.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    table: String,
    shards: u16,
    segments: i32,
    positions: Vec<Position>,
    moved: Totals,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Totals {
    pub scanned: u64,
    pub customers: u64,
    pub crm_events: u64,
    /// Links and CRM events given their copy under the customer (absent from state files of
    /// earlier runs).
    #[serde(default)]
    pub copied: u64,
}

impl Totals {
    fn add(&mut self, moved: Moved) {
        self.scanned += moved.scanned;
        self.customers += moved.customers;
        self.crm_events += moved.crm_events;
        self.copied += moved.copied;
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// What this run and the runs it continued moved.
    pub moved: Totals,
    /// Whether the whole table has been scanned (the state file is then gone).
    pub complete: bool,
    /// Whether this run continued an earlier one.
    pub resumed: bool,
}

pub async fn run(store: &Store, options: &Options) -> Result<Report, String> {
    if !(1..=64).contains(&options.segments) {
        return Err("--segments must be between 1 and 64".into());
    }
    let fresh = State {
        table: store.table().to_owned(),
        shards: store.shards().count(),
        segments: options.segments,
        positions: vec![Position::Start; options.segments as usize],
        moved: Totals::default(),
    };
    let (state, resumed) = match std::fs::read(&options.state) {
        Ok(bytes) => {
            let state: State =
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", options.state.display()))?;
            if (&state.table, state.shards, state.segments) != (&fresh.table, fresh.shards, fresh.segments) {
                return Err(format!(
                    "{} belongs to a run of table {} with {} shards and {} segments: finish it with those, or delete the file",
                    options.state.display(),
                    state.table,
                    state.shards,
                    state.segments
                ));
            }
            (state, true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (fresh, false),
        Err(e) => return Err(format!("{}: {e}", options.state.display())),
    };
    if let Some(dir) = options.state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let started = Instant::now();
    let state = std::cell::RefCell::new(state);
    let segment = |i: usize| {
        let state = &state;
        async move {
            let mut pages = 0;
            loop {
                let start = match &state.borrow().positions[i] {
                    Position::Done => return Ok::<(), String>(()),
                    Position::Start => None,
                    Position::After(key) => Some(
                        key.iter()
                            .map(|(k, v)| (k.clone(), aws_sdk_dynamodb::types::AttributeValue::S(v.clone())))
                            .collect(),
                    ),
                };
                if options.max_pages.is_some_and(|max| pages >= max) {
                    return Ok(());
                }
                let page = store
                    .migrate_page(i as i32, options.segments, options.page_size, start)
                    .await
                    .map_err(|e| e.to_string())?;
                pages += 1;
                let next = match page.next {
                    None => Position::Done,
                    Some(key) => Position::After(
                        key.into_iter()
                            .map(|(k, v)| match v {
                                aws_sdk_dynamodb::types::AttributeValue::S(s) => Ok((k, s)),
                                _ => Err(format!("the table's key attribute {k} is not a string")),
                            })
                            .collect::<Result<_, String>>()?,
                    ),
                };
                let mut s = state.borrow_mut();
                s.positions[i] = next;
                s.moved.add(page.moved);
                crate::state_file::save(&options.state, &*s)?;
                if options.progress {
                    let done = s.positions.iter().filter(|p| **p == Position::Done).count();
                    eprintln!(
                        "migrate: {} items scanned, {} customers and {} CRM events moved, {} copies under customers, {done}/{} segments done ({:.0} s)",
                        s.moved.scanned,
                        s.moved.customers,
                        s.moved.crm_events,
                        s.moved.copied,
                        s.segments,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }
    };
    futures::future::try_join_all((0..options.segments as usize).map(segment)).await?;
    let state = state.into_inner();
    let complete = state.positions.iter().all(|p| *p == Position::Done);
    if complete {
        std::fs::remove_file(&options.state).map_err(|e| format!("{}: {e}", options.state.display()))?;
    }
    Ok(Report {
        moved: state.moved,
        complete,
        resumed,
    })
}
