//! `scripts/bench-deps.sh`, which `make bench` runs first: on a fresh machine it installs wrk (and zip
//! when python3 is missing too) with apt-get as root, as `make test` installs its tools, instead of
//! stopping. Run against stand-ins of `id`, `apt-get` and the tools, on a PATH of their own, so
//! the test installs nothing and does not depend on what this machine has.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory of stand-in commands.
struct Machine {
    bin: PathBuf,
    apt_log: PathBuf,
}

impl Machine {
    fn new(name: &str, uid: u32) -> Self {
        let dir = std::env::temp_dir().join(format!("bench-deps-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        let machine = Self {
            apt_log: dir.join("apt.log"),
            bin,
        };
        machine.command("id", &format!("echo {uid}"));
        machine
    }

    fn command(&self, name: &str, body: &str) {
        let path = self.bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// An apt-get that logs its arguments and, on install, provides `provides` (an absolute chmod
    /// is found where this test runs, not on the script's PATH).
    fn apt_get(&self, provides: &[&str]) {
        let chmod = which("chmod");
        let installs: String = provides
            .iter()
            .map(|tool| {
                let path = self.bin.join(tool);
                format!(
                    "printf '#!/bin/sh\\n' > {p}; {chmod} 755 {p}; ",
                    p = path.display(),
                    chmod = chmod.display()
                )
            })
            .collect();
        self.command(
            "apt-get",
            &format!(
                "echo \"$*\" >> {log}\ncase \"$1\" in install) {installs};; esac",
                log = self.apt_log.display()
            ),
        );
    }

    /// Runs the script with only the stand-ins on PATH: its status, stderr and apt-get's calls.
    fn run(&self) -> (bool, String, Vec<String>) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench-deps.sh");
        let out = Command::new(which("bash"))
            .arg(script)
            .env_clear()
            .env("PATH", &self.bin)
            .output()
            .expect("bash");
        let calls = std::fs::read_to_string(&self.apt_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            calls,
        )
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        if let Some(dir) = self.bin.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Where `name` is on this test's PATH.
fn which(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").expect("PATH"))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not on PATH"))
}

/// Defect: `make bench` stopped on a fresh machine with "wrk is needed … apt-get install -y wrk".
#[test]
fn as_root_it_updates_the_package_lists_then_installs_what_is_missing() {
    let machine = Machine::new("root", 0);
    machine.command("python3", "");
    machine.apt_get(&["wrk"]);
    let (ok, stderr, calls) = machine.run();
    assert!(ok, "{stderr}");
    assert_eq!(calls, ["update -qq", "install -y -qq wrk"], "{stderr}");

    let (ok, _, calls) = machine.run();
    assert!(ok);
    assert_eq!(calls.len(), 2, "nothing to install the second time: {calls:?}");
}

#[test]
fn zip_is_installed_only_when_python3_cannot_zip_either() {
    let machine = Machine::new("zip", 0);
    machine.apt_get(&["wrk", "zip"]);
    let (ok, stderr, calls) = machine.run();
    assert!(ok, "{stderr}");
    assert_eq!(calls, ["update -qq", "install -y -qq wrk zip"]);
}

#[test]
fn without_root_or_when_the_install_did_not_help_it_stops_and_says_what_to_run() {
    let user = Machine::new("user", 1000);
    user.command("python3", "");
    user.apt_get(&["wrk"]);
    let (ok, stderr, calls) = user.run();
    assert!(!ok);
    assert!(calls.is_empty(), "no apt-get without root: {calls:?}");
    assert!(stderr.contains("sudo apt-get install -y wrk"), "{stderr}");

    let broken = Machine::new("broken", 0);
    broken.command("python3", "");
    broken.apt_get(&[]);
    let (ok, stderr, _) = broken.run();
    assert!(!ok);
    assert!(stderr.contains("wrk is still not on PATH"), "{stderr}");
}
