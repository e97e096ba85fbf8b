//! Where the CPU of a throughput run goes: user + system time of a process (all its threads), of
//! this process's waited-for children (a load generator run to completion), and of the machine.
//! On 2 cores everything in a run shares the same CPUs, so a ratio of throughputs is mostly a
//! ratio of CPU per request; these readings show whose.

use std::path::Path;

/// Clock ticks per second of `/proc`'s times (`getconf CLK_TCK`: 100 on every Linux we run on).
const TICKS_PER_SECOND: f64 = 100.0;

/// The fields after the command name of `/proc/<pid>/stat` (the name may hold spaces).
fn stat_fields(path: &Path) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // Non-numeric fields (the state letter) become 0: only the times are read.
    Some(rest.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect())
}

/// CPU seconds of process `pid` so far (utime + stime, fields 14 and 15).
pub fn process_seconds(pid: u32) -> Option<f64> {
    let f = stat_fields(&Path::new("/proc").join(pid.to_string()).join("stat"))?;
    Some((f.get(11)? + f.get(12)?) as f64 / TICKS_PER_SECOND)
}

/// CPU seconds of this process's children that have been waited for (cutime + cstime, fields 16
/// and 17): the delta around a child run to completion is that child's CPU, grandchildren it
/// waited for included.
pub fn children_seconds() -> Option<f64> {
    let f = stat_fields(Path::new("/proc/self/stat"))?;
    Some((f.get(13)? + f.get(14)?) as f64 / TICKS_PER_SECOND)
}

/// Busy and total CPU seconds of the whole machine (the `cpu` line of `/proc/stat`; idle and
/// iowait are not busy).
pub fn machine_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((
        (total - idle) as f64 / TICKS_PER_SECOND,
        total as f64 / TICKS_PER_SECOND,
    ))
}

/// CPU seconds spent during a run, by whom.
#[derive(Debug, Clone, Copy)]
pub struct Spent {
    /// The process under test (local-api), when it is not the load generator itself.
    pub server: Option<f64>,
    /// The load generator (wrk, or the GetItem baseline, which is also the SDK client).
    pub generator: Option<f64>,
    /// DynamoDB Local's JVM.
    pub dynamodb: Option<f64>,
    /// The machine: busy and total CPU seconds (every core).
    pub machine: Option<(f64, f64)>,
}

impl Spent {
    /// Nothing spent, every reading present: where a sum of runs starts.
    pub const ZERO: Spent = Spent {
        server: Some(0.0),
        generator: Some(0.0),
        dynamodb: Some(0.0),
        machine: Some((0.0, 0.0)),
    };

    pub fn add(&self, other: &Spent) -> Spent {
        let sum = |a: Option<f64>, b: Option<f64>| Some(a? + b?);
        Spent {
            server: sum(self.server, other.server),
            generator: sum(self.generator, other.generator),
            dynamodb: sum(self.dynamodb, other.dynamodb),
            machine: match (self.machine, other.machine) {
                (Some((b1, t1)), Some((b2, t2))) => Some((b1 + b2, t1 + t2)),
                _ => None,
            },
        }
    }
}

/// Readings taken before a run; `spent` takes them again and returns the differences.
pub struct Meter {
    server: Option<(u32, f64)>,
    dynamodb: Option<(u32, f64)>,
    children: Option<f64>,
    machine: Option<(f64, f64)>,
}

impl Meter {
    pub fn start(server: Option<u32>, dynamodb: Option<u32>) -> Meter {
        let reading = |pid: Option<u32>| pid.and_then(|p| Some((p, process_seconds(p)?)));
        Meter {
            server: reading(server),
            dynamodb: reading(dynamodb),
            children: children_seconds(),
            machine: machine_seconds(),
        }
    }

    pub fn spent(&self) -> Spent {
        let since = |start: Option<(u32, f64)>| start.and_then(|(pid, s)| Some(process_seconds(pid)? - s));
        Spent {
            server: since(self.server),
            generator: self.children.and_then(|s| Some(children_seconds()? - s)),
            dynamodb: since(self.dynamodb),
            machine: self
                .machine
                .and_then(|(b, t)| machine_seconds().map(|(b2, t2)| (b2 - b, t2 - t))),
        }
    }
}

/// The pid that `scripts/dynamodb-local.sh` recorded for the DynamoDB Local on `port`.
pub fn dynamodb_local_pid(root: &Path, port: u16) -> Option<u32> {
    std::fs::read_to_string(root.join(format!(".local/dynamodb-{port}.pid")))
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_and_the_machine() {
        let own = process_seconds(std::process::id()).expect("own /proc/<pid>/stat");
        assert!(own >= 0.0);
        // Burn some CPU in a child and see it land in the children's time.
        let before = children_seconds().expect("children");
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"])
            .status()
            .expect("sh");
        assert!(status.success());
        let after = children_seconds().expect("children");
        assert!(after > before, "a busy child's CPU shows: {before} -> {after}");
        let (busy, total) = machine_seconds().expect("/proc/stat");
        assert!(busy > 0.0 && total >= busy);
    }
}
