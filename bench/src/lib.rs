//! `make bench`: measures the functions as Lambda runs them (package size, cold start, warm
//! latency, memory), what each route costs in DynamoDB, and the local API's throughput, each
//! against a baseline measured in the same run. `runtime-harness` runs it all; `hello` and
//! `ddb-baseline` are the baselines. See `scripts/bench.sh`.

pub mod capacity;
pub mod cpu;
pub mod fixture;
pub mod import;
pub mod peers;
pub mod proxy;
/// The project's one Runtime API implementation lives in the local stack.
pub use local_api::lambda::runtime;
pub mod stats;
