//! The peers of the Rust customers function in `make bench`: the same GET customer as a Python
//! 3.11 function with boto3 and as a Node.js 20 function with the AWS SDK v3 (sources in
//! `bench/peers/`), each run through its official runtime interface client (`awslambdaric`,
//! `aws-lambda-ric`). `scripts/bench-peers.sh` installs them into `bench/peers/.build/<peer>/`
//! (git-ignored) with a `bootstrap` that starts the client, or leaves an `UNAVAILABLE` file there
//! saying why it could not.

use std::path::{Path, PathBuf};

pub struct Peer {
    pub name: &'static str,
    pub label: &'static str,
    /// The package: handler, dependencies, bootstrap.
    pub dir: PathBuf,
}

/// The peers that are installed, and (label, reason) of those that are not.
pub fn find(build_dir: &Path) -> (Vec<Peer>, Vec<(&'static str, String)>) {
    let all = [
        ("python", "GET customer: Python 3.11 + boto3 (awslambdaric)"),
        ("node", "GET customer: Node.js 20 + AWS SDK v3 (aws-lambda-ric)"),
    ];
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (name, label) in all {
        let dir = build_dir.join(name);
        if dir.join("bootstrap").is_file() {
            found.push(Peer { name, label, dir });
        } else {
            let why = std::fs::read_to_string(dir.join("UNAVAILABLE"))
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| format!("not installed in {} (scripts/bench-peers.sh)", dir.display()));
            missing.push((label, why));
        }
    }
    (found, missing)
}
