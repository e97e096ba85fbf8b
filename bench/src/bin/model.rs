//! `make model`: a partition load model of one bank of 10,000,000 customers.
//!
//! Every request of a load is turned into the DynamoDB partitions it touches, with the key
//! functions of `shared::store::keys` (the legacy ones for the design before sharding), and the
//! capacity units it spends there, from the item sizes `make bench` measured (bench/capacity.json).
//! The model simulates whole seconds of two loads: (a) a bulk onboarding of 5,000 creates/s and
//! (b) a day's mix of 2,000 requests/s, and prints for each kind of partition key (table and
//! index) the peak units per second of its hottest key against DynamoDB's per-partition limits
//! (1,000 WCU/s, 3,000 RCU/s), and each route's on-demand cost per million requests. It fails
//! when the sharded design puts any partition above half of a limit. Writes bench/model.md.

use serde::Deserialize;
use shared::domain::ids::{BankId, CrmEventId, CustomerId, CustomerNumber};
use shared::store::keys::{self, Shards};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::process::ExitCode;

const CUSTOMERS: u64 = 10_000_000;
const SECONDS: u32 = 10;
const WRITE_LIMIT: f64 = 1000.0;
const READ_LIMIT: f64 = 3000.0;
/// DynamoDB on-demand, standard table class, us-east-1 (the published price since 2024-11-01).
const USD_PER_MILLION_WRITE_UNITS: f64 = 0.625;
const USD_PER_MILLION_READ_UNITS: f64 = 0.125;
const FIREHOSE_PAGE: u64 = 500;
const CRM_PAGE: u64 = 20;
const RECORDS_PER_CUSTOMER: u64 = 3;
const LINKS_PER_USER: u64 = 2;

#[derive(Deserialize)]
struct Capacity {
    written: String,
    item_bytes: BTreeMap<String, u64>,
    routes: Vec<MeasuredRoute>,
}

#[derive(Deserialize)]
struct MeasuredRoute {
    route: String,
    rcu: f64,
    wcu: f64,
}

/// Item sizes in bytes, as DynamoDB counts them.
struct Sizes {
    customer: u64,
    number: u64,
    record: u64,
    link: u64,
    crm_event: u64,
    firehose_entry: u64,
}

impl Sizes {
    fn from(c: &Capacity) -> Result<Self, String> {
        let get = |name: &str| {
            c.item_bytes.get(name).copied().ok_or(format!(
                "bench/capacity.json has no item size of {name}: run make bench"
            ))
        };
        Ok(Self {
            customer: get("customer")?,
            number: get("customer_number")?,
            record: get("customer_address")?,
            link: get("user_customer_link")?,
            crm_event: get("crm_event")?,
            firehose_entry: get("firehose_entry")?,
        })
    }
}

fn wcu(bytes: u64) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Eventually consistent unless `strong`.
fn rcu(bytes: u64, strong: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if strong { units } else { units / 2.0 }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Design {
    /// One firehose partition per bank in `gsi1` (projection ALL), one CRM events partition.
    Before,
    /// Keys-only `firehose` index and CRM events over shards.
    Sharded(Shards),
}

impl Design {
    fn name(self) -> String {
        match self {
            Design::Before => "before (one partition per bank, gsi1 projection ALL)".into(),
            Design::Sharded(s) => format!("sharded ({} shards, keys-only firehose index)", s.count()),
        }
    }
}

/// Where a key lives (table or index) and what kind of key it is.
type KeyKind = (&'static str, &'static str);

/// Units per second of each partition key in one simulated second.
#[derive(Default)]
struct Second {
    /// Key → (WCU, RCU), by kind.
    keys: HashMap<KeyKind, HashMap<String, (f64, f64)>>,
}

impl Second {
    fn add(&mut self, space: &'static str, kind: &'static str, key: String, w: f64, r: f64) {
        let slot = self.keys.entry((space, kind)).or_default().entry(key).or_default();
        slot.0 += w;
        slot.1 += r;
    }
}

/// What one request spends, and where.
struct Request<'a> {
    second: &'a mut Second,
    units: (f64, f64),
}

impl Request<'_> {
    fn write(&mut self, space: &'static str, kind: &'static str, key: String, units: f64) {
        self.second.add(space, kind, key, units, 0.0);
        self.units.0 += units;
    }
    fn read(&mut self, space: &'static str, kind: &'static str, key: String, units: f64) {
        self.second.add(space, kind, key, 0.0, units);
        self.units.1 += units;
    }
}

const TABLE: &str = "table";
const GSI1: &str = "index gsi1";
const FIREHOSE: &str = "index firehose";

/// The routes of the loads, each as the partitions it touches.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Route {
    CreateCustomer,
    GetCustomer,
    UpdateCustomer,
    ChangeNumber,
    UserCustomers,
    ListRecords,
    CreateRecord,
    UpdateRecord,
    CreateLink,
    CreateCrmEvent,
    ListCrmEvents,
    FirehosePage,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::CreateCustomer => "POST /v1/customers",
            Route::GetCustomer => "GET /v1/banks/{BankID}/customers/{CustomerID}",
            Route::UpdateCustomer => "PUT /v1/banks/{BankID}/customers/{CustomerID}/email",
            Route::ChangeNumber => "PUT /v1/banks/{BankID}/customers/{CustomerID}/number",
            Route::UserCustomers => "GET /v1/users/current/customers",
            Route::ListRecords => "GET /v1/banks/{BankID}/customers/{CustomerID}/addresses",
            Route::CreateRecord => "POST /v1/customers/{CustomerID}/address",
            Route::UpdateRecord => "PUT /v1/banks/{BankID}/customers/{CustomerID}/addresses/{CustomerAddressID}",
            Route::CreateLink => "POST /v1/banks/{BankID}/user_customer_links",
            Route::CreateCrmEvent => "POST /v1/banks/{BankID}/crm-events",
            Route::ListCrmEvents => "GET /v1/banks/{BankID}/crm-events",
            Route::FirehosePage => "GET /v1/banks/{BankID}/firehose/customers",
        }
    }
}

/// A random existing customer: only its id's text matters (for its key and its shard).
fn some_customer() -> CustomerId {
    CustomerId::derived(&rand_u64().to_le_bytes())
}

fn rand_u64() -> u64 {
    let mut bytes = [0u8; 8];
    shared::domain::ids::random(&mut bytes);
    u64::from_le_bytes(bytes)
}

struct Model {
    design: Design,
    sizes: Sizes,
    bank: BankId,
}

impl Model {
    fn request(&self, route: Route, r: &mut Request<'_>) {
        let s = &self.sizes;
        let bank = &self.bank;
        match route {
            Route::CreateCustomer => {
                let id = CustomerId::new();
                let number = CustomerNumber::generate();
                // A transaction: each item's units twice.
                r.write(
                    TABLE,
                    "customer CUSTOMER#<id>",
                    keys::customer(&id).pk,
                    2.0 * wcu(s.customer),
                );
                r.write(
                    TABLE,
                    "number BANK#<bank>#NUMBER#<n>",
                    keys::customer_number(bank, &number).pk,
                    2.0 * wcu(s.number),
                );
                self.index_write(r, &id, 2.0);
            }
            Route::GetCustomer => {
                let id = some_customer();
                r.read(
                    TABLE,
                    "customer CUSTOMER#<id>",
                    keys::customer(&id).pk,
                    rcu(s.customer, true),
                );
            }
            Route::UpdateCustomer => {
                let id = some_customer();
                r.write(TABLE, "customer CUSTOMER#<id>", keys::customer(&id).pk, wcu(s.customer));
                if self.design == Design::Before {
                    // The index copy holds every attribute: an update rewrites it.
                    r.write(
                        GSI1,
                        "firehose BANK#<bank>#CUSTOMERS",
                        keys::legacy_bank_customers(bank),
                        wcu(s.customer),
                    );
                }
            }
            Route::ChangeNumber => {
                let id = some_customer();
                r.read(
                    TABLE,
                    "customer CUSTOMER#<id>",
                    keys::customer(&id).pk,
                    rcu(s.customer, true),
                );
                r.write(
                    TABLE,
                    "customer CUSTOMER#<id>",
                    keys::customer(&id).pk,
                    2.0 * wcu(s.customer),
                );
                for _ in 0..2 {
                    let number = CustomerNumber::generate();
                    r.write(
                        TABLE,
                        "number BANK#<bank>#NUMBER#<n>",
                        keys::customer_number(bank, &number).pk,
                        2.0 * wcu(s.number),
                    );
                }
                if self.design == Design::Before {
                    r.write(
                        GSI1,
                        "firehose BANK#<bank>#CUSTOMERS",
                        keys::legacy_bank_customers(bank),
                        2.0 * wcu(s.customer),
                    );
                }
            }
            Route::UserCustomers => {
                let user = shared::domain::ids::UserId::parse(&format!("user-{}", rand_u64() % CUSTOMERS)).unwrap();
                r.read(
                    TABLE,
                    "links USER#<user>",
                    keys::user_links_pk(&user),
                    rcu(LINKS_PER_USER * s.link, false),
                );
                for _ in 0..LINKS_PER_USER {
                    let id = some_customer();
                    r.read(
                        TABLE,
                        "customer CUSTOMER#<id>",
                        keys::customer(&id).pk,
                        rcu(s.customer, false),
                    );
                }
            }
            Route::ListRecords => {
                let id = some_customer();
                r.read(
                    TABLE,
                    "customer CUSTOMER#<id>",
                    keys::customer(&id).pk,
                    rcu(s.customer, false),
                );
                r.read(
                    TABLE,
                    "customer CUSTOMER#<id>",
                    keys::customer(&id).pk,
                    rcu(RECORDS_PER_CUSTOMER * s.record, false),
                );
            }
            Route::CreateRecord => {
                let id = some_customer();
                r.read(
                    TABLE,
                    "customer CUSTOMER#<id>",
                    keys::customer(&id).pk,
                    rcu(s.customer, true),
                );
                r.write(
                    TABLE,
                    "customer CUSTOMER#<id>",
                    keys::customer(&id).pk,
                    2.0 * wcu(s.record),
                );
            }
            Route::UpdateRecord => {
                let id = some_customer();
                r.write(TABLE, "customer CUSTOMER#<id>", keys::customer(&id).pk, wcu(s.record));
            }
            Route::CreateLink => {
                let user = shared::domain::ids::UserId::parse(&format!("user-{}", rand_u64() % CUSTOMERS)).unwrap();
                r.write(
                    TABLE,
                    "links USER#<user>",
                    keys::user_links_pk(&user),
                    2.0 * wcu(s.link),
                );
            }
            Route::CreateCrmEvent => {
                let customer = some_customer();
                r.read(
                    TABLE,
                    "customer CUSTOMER#<id>",
                    keys::customer(&customer).pk,
                    rcu(s.customer, true),
                );
                let id = CrmEventId::new();
                let (kind, pk) = match self.design {
                    Design::Before => ("CRM events BANK#<bank>#CRM_EVENTS", keys::legacy_crm_events_pk(bank)),
                    Design::Sharded(shards) => (
                        "CRM events BANK#<bank>#CRM_EVENTS#<shard>",
                        keys::crm_event(bank, shards, id).pk,
                    ),
                };
                r.write(TABLE, kind, pk, 2.0 * wcu(s.crm_event));
            }
            Route::ListCrmEvents => match self.design {
                Design::Before => r.read(
                    TABLE,
                    "CRM events BANK#<bank>#CRM_EVENTS",
                    keys::legacy_crm_events_pk(bank),
                    rcu((CRM_PAGE + 1) * s.crm_event, false),
                ),
                Design::Sharded(shards) => self.merged_read(
                    r,
                    shards,
                    s.crm_event,
                    (TABLE, "CRM events BANK#<bank>#CRM_EVENTS#<shard>", &|n| {
                        keys::crm_events_pk(bank, n)
                    }),
                    (
                        TABLE,
                        "CRM events BANK#<bank>#CRM_EVENTS",
                        keys::legacy_crm_events_pk(bank),
                    ),
                    CRM_PAGE + 1,
                ),
            },
            Route::FirehosePage => match self.design {
                Design::Before => r.read(
                    GSI1,
                    "firehose BANK#<bank>#CUSTOMERS",
                    keys::legacy_bank_customers(bank),
                    rcu((FIREHOSE_PAGE + 1) * s.customer, false),
                ),
                Design::Sharded(shards) => {
                    self.merged_read(
                        r,
                        shards,
                        s.firehose_entry,
                        (FIREHOSE, "firehose BANK#<bank>#CUSTOMERS#<shard>", &|n| {
                            keys::bank_customers(bank, n)
                        }),
                        (
                            GSI1,
                            "firehose BANK#<bank>#CUSTOMERS",
                            keys::legacy_bank_customers(bank),
                        ),
                        FIREHOSE_PAGE + 1,
                    );
                    for _ in 0..FIREHOSE_PAGE {
                        let id = some_customer();
                        r.read(
                            TABLE,
                            "customer CUSTOMER#<id>",
                            keys::customer(&id).pk,
                            rcu(s.customer, false),
                        );
                    }
                }
            },
        }
    }

    /// A merged list's reads: every shard's share of `need` items of `item_bytes` (as
    /// `store::merge` asks for them), and the legacy partition, empty once migrated.
    fn merged_read(
        &self,
        r: &mut Request<'_>,
        shards: Shards,
        item_bytes: u64,
        (space, kind, shard_pk): (&'static str, &'static str, &dyn Fn(u16) -> String),
        (legacy_space, legacy_kind, legacy_pk): (&'static str, &'static str, String),
        need: u64,
    ) {
        let share = shared::store::merge::share(need as usize, usize::from(shards.count()) + 1) as u64;
        for shard in shards.all() {
            r.read(space, kind, shard_pk(shard), rcu(share * item_bytes, false));
        }
        r.read(legacy_space, legacy_kind, legacy_pk, 0.5);
    }

    /// The index entry of a new customer.
    fn index_write(&self, r: &mut Request<'_>, id: &CustomerId, factor: f64) {
        let s = &self.sizes;
        match self.design {
            Design::Before => {
                // Sorted by creation time: every create appends to the end of the one partition.
                r.write(
                    GSI1,
                    "firehose BANK#<bank>#CUSTOMERS",
                    keys::legacy_bank_customers(&self.bank),
                    factor * wcu(s.customer),
                );
            }
            Design::Sharded(shards) => r.write(
                FIREHOSE,
                "firehose BANK#<bank>#CUSTOMERS#<shard>",
                keys::bank_customers(&self.bank, shards.of(id)),
                factor * wcu(s.firehose_entry),
            ),
        }
    }
}

/// A load: requests per second of each route.
struct Load {
    name: &'static str,
    /// A bulk onboarding: a bank may raise `Shards` for it (the day's mix must hold at the default).
    onboarding: bool,
    rates: Vec<(Route, u64)>,
}

fn loads() -> Vec<Load> {
    vec![
        Load {
            name: "(a) bulk onboarding: 5,000 creates/s",
            onboarding: true,
            rates: vec![(Route::CreateCustomer, 5000)],
        },
        Load {
            name: "(b) a day's mix: 2,000 requests/s",
            onboarding: false,
            rates: vec![
                (Route::GetCustomer, 700),
                (Route::UserCustomers, 100),
                (Route::UpdateCustomer, 300),
                (Route::ChangeNumber, 20),
                (Route::CreateCustomer, 40),
                (Route::ListRecords, 300),
                (Route::CreateRecord, 100),
                (Route::UpdateRecord, 40),
                (Route::CreateLink, 40),
                (Route::CreateCrmEvent, 200),
                (Route::ListCrmEvents, 60),
                // An export in 8 parallel segments (date windows), 12.5 pages of 500 per second each.
                (Route::FirehosePage, 100),
            ],
        },
    ]
}

/// The peak of one kind of key over the simulated seconds.
#[derive(Default, Clone)]
struct Peak {
    keys_per_second: usize,
    wcu: f64,
    wcu_key: String,
    rcu: f64,
    rcu_key: String,
}

struct Outcome {
    peaks: BTreeMap<KeyKind, Peak>,
    /// Route → (WCU, RCU) per request.
    per_request: BTreeMap<Route, (f64, f64)>,
}

impl Outcome {
    fn worst(&self) -> (f64, String) {
        self.peaks
            .iter()
            .flat_map(|((space, _), p)| {
                [
                    (
                        p.wcu / WRITE_LIMIT,
                        format!("{space} {} ({:.0} WCU/s)", p.wcu_key, p.wcu),
                    ),
                    (
                        p.rcu / READ_LIMIT,
                        format!("{space} {} ({:.0} RCU/s)", p.rcu_key, p.rcu),
                    ),
                ]
            })
            .fold((0.0, String::new()), |a, b| if b.0 > a.0 { b } else { a })
    }
}

fn simulate(model: &Model, load: &Load) -> Outcome {
    let mut peaks: BTreeMap<KeyKind, Peak> = BTreeMap::new();
    let mut per_request: BTreeMap<Route, (f64, f64, u64)> = BTreeMap::new();
    for _ in 0..SECONDS {
        let mut second = Second::default();
        for (route, rate) in &load.rates {
            for _ in 0..*rate {
                let mut request = Request {
                    second: &mut second,
                    units: (0.0, 0.0),
                };
                model.request(*route, &mut request);
                let slot = per_request.entry(*route).or_default();
                slot.0 += request.units.0;
                slot.1 += request.units.1;
                slot.2 += 1;
            }
        }
        for (kind, keys) in second.keys {
            let peak = peaks.entry(kind).or_default();
            peak.keys_per_second = peak.keys_per_second.max(keys.len());
            for (key, (w, r)) in keys {
                if w > peak.wcu {
                    peak.wcu = w;
                    peak.wcu_key = key.clone();
                }
                if r > peak.rcu {
                    peak.rcu = r;
                    peak.rcu_key = key;
                }
            }
        }
    }
    Outcome {
        peaks,
        per_request: per_request
            .into_iter()
            .map(|(route, (w, r, n))| (route, (w / n as f64, r / n as f64)))
            .collect(),
    }
}

fn percent(units: f64, limit: f64) -> String {
    format!("{:.0}%", 100.0 * units / limit)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("model: the sharded design puts a partition above half of a limit");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("model: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, String> {
    let root = std::path::PathBuf::from(std::env::var("BENCH_ROOT").unwrap_or_else(|_| ".".into()));
    let input = root.join("bench/capacity.json");
    let capacity: Capacity = serde_json::from_str(
        &std::fs::read_to_string(&input).map_err(|e| format!("{}: {e} (make bench writes it)", input.display()))?,
    )
    .map_err(|e| format!("{}: {e}", input.display()))?;
    let shards = match std::env::var("SHARDS") {
        Ok(v) => Shards::new(v.parse().map_err(|_| "SHARDS is not a number")?)?,
        Err(_) => Shards::DEFAULT,
    };
    let designs = [Design::Before, Design::Sharded(shards)];
    let bank = BankId::parse("bank-of-10-million").unwrap();

    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# Partition load model\n");
    let _ = writeln!(
        w,
        "Written by `make model` from the key functions of `shared/src/store/keys.rs` and the item sizes and route costs `make bench` measured ({}). One bank of {CUSTOMERS} customers; each load simulated for {SECONDS} s, request by request: every key is the one the code builds for a random customer, user, number or new id. Limits per partition key: {WRITE_LIMIT} WCU/s and {READ_LIMIT} RCU/s (with time-ordered sort keys, DynamoDB cannot split a partition key's writes further). The sharded design must keep every partition under half of both.\n",
        capacity.written
    );
    let sizes = Sizes::from(&capacity)?;
    let _ = writeln!(
        w,
        "Item sizes (bytes, measured): customer {}, customer number {}, record (address) {}, user customer link {}, CRM event {}, firehose index entry (keys only) {}.\n",
        sizes.customer, sizes.number, sizes.record, sizes.link, sizes.crm_event, sizes.firehose_entry
    );
    let model = |design: Design| -> Result<Model, String> {
        Ok(Model {
            design,
            sizes: Sizes::from(&capacity)?,
            bank: bank.clone(),
        })
    };
    let mut ok = true;
    let mut onboarding_shards = None;
    let mut costs: BTreeMap<Route, Vec<(f64, f64)>> = BTreeMap::new();
    for load in loads() {
        let _ = writeln!(w, "## {}\n", load.name);
        let rates: Vec<String> = load
            .rates
            .iter()
            .map(|(route, rate)| format!("{rate}/s `{}`", route.name()))
            .collect();
        let _ = writeln!(w, "{}\n", rates.join(", "));
        // Before; the deployed shard count; and, when that is not enough, the smallest that is.
        let mut shown = vec![Design::Before, Design::Sharded(shards)];
        let outcomes: Vec<(Design, Outcome)> = [1u16, 2, 4, 8, 16, 32, 64, 128, 256]
            .iter()
            .map(|n| Design::Sharded(Shards::new(*n).unwrap()))
            .map(|design| Ok::<_, String>((design, simulate(&model(design)?, &load))))
            .collect::<Result<_, _>>()?;
        let smallest = outcomes.iter().find(|(_, o)| o.worst().0 <= 0.5).map(|(d, _)| *d);
        match smallest {
            Some(Design::Sharded(n)) => {
                let _ = writeln!(
                    w,
                    "Smallest shard count that keeps every partition under half of its limits: **{}**.\n",
                    n.count()
                );
                if n.count() > shards.count() {
                    shown.push(Design::Sharded(n));
                    if load.onboarding {
                        onboarding_shards = Some(n);
                    } else {
                        ok = false;
                    }
                }
            }
            _ => {
                let _ = writeln!(
                    w,
                    "No shard count up to 256 keeps every partition under half of its limits.\n"
                );
                ok = false;
            }
        }
        for design in shown {
            let outcome = simulate(&model(design)?, &load);
            let (worst, at) = outcome.worst();
            let verdict = if worst > 1.0 {
                format!("**breaks**: {at} is {:.0}% of its limit", 100.0 * worst)
            } else if worst > 0.5 {
                format!("**over half**: {at} is {:.0}% of its limit", 100.0 * worst)
            } else {
                format!(
                    "holds: the hottest partition, {at}, is {:.0}% of its limit",
                    100.0 * worst
                )
            };
            let _ = writeln!(w, "### {}\n\n{verdict}\n", design.name());
            let _ = writeln!(
                w,
                "| partition key | where | keys touched per second | peak WCU/s (of 1,000) | peak RCU/s (of 3,000) | hottest key |"
            );
            let _ = writeln!(w, "|---|---|---|---|---|---|");
            for ((space, kind), p) in &outcome.peaks {
                let hottest = if p.wcu / WRITE_LIMIT >= p.rcu / READ_LIMIT {
                    &p.wcu_key
                } else {
                    &p.rcu_key
                };
                let _ = writeln!(
                    w,
                    "| `{kind}` | {space} | {} | {:.1} ({}) | {:.1} ({}) | `{hottest}` |",
                    p.keys_per_second,
                    p.wcu,
                    percent(p.wcu, WRITE_LIMIT),
                    p.rcu,
                    percent(p.rcu, READ_LIMIT)
                );
            }
            let _ = writeln!(w);
            for (route, units) in outcome.per_request {
                let slot = costs.entry(route).or_insert_with(|| vec![(0.0, 0.0); designs.len()]);
                if let Some(i) = designs.iter().position(|d| *d == design) {
                    slot[i] = units;
                }
            }
        }
    }

    let _ = writeln!(w, "## On-demand cost per million requests\n");
    let _ = writeln!(
        w,
        "DynamoDB on-demand, standard table class, us-east-1: ${USD_PER_MILLION_WRITE_UNITS} per million write request units, ${USD_PER_MILLION_READ_UNITS} per million read request units (AWS's published price since 2024-11-01). Units per request as the model counts them; the measured column is `make bench`'s DynamoDB Local `ConsumedCapacity` of the same route with its sample event (small fixture items, so reads of whole pages differ).\n"
    );
    let _ = writeln!(
        w,
        "| route | before: WCU · RCU per request | before: USD per million | sharded: WCU · RCU per request | sharded: USD per million | measured (bench, this code): WCU · RCU |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|");
    let usd = |(wu, ru): (f64, f64)| {
        format!(
            "{:.2}",
            wu * USD_PER_MILLION_WRITE_UNITS + ru * USD_PER_MILLION_READ_UNITS
        )
    };
    for (route, units) in &costs {
        let measured = capacity
            .routes
            .iter()
            .find(|m| m.route == route.name())
            // `+ 0.0` turns the -0.0 of an empty sum into 0.
            .map(|m| format!("{} · {}", m.wcu + 0.0, m.rcu + 0.0))
            .unwrap_or_else(|| "–".into());
        let _ = writeln!(
            w,
            "| `{}` | {:.1} · {:.1} | {} | {:.1} · {:.1} | {} | {measured} |",
            route.name(),
            units[0].0,
            units[0].1,
            usd(units[0]),
            units[1].0,
            units[1].1,
            usd(units[1]),
        );
    }
    if let Some(n) = onboarding_shards {
        let _ = writeln!(
            w,
            "\nThe deployed default ({} shards) holds the day's mix; a bulk onboarding at 5,000 creates/s needs {} (the template's `Shards`): raise it before the onboarding; raising needs no migration.",
            shards.count(),
            n.count()
        );
    }
    print!("{out}");
    let path = root.join("bench/model.md");
    std::fs::write(&path, &out).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("model: written to {}", path.display());
    Ok(ok)
}
