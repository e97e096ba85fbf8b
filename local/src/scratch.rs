//! Scratch directories that go away with their owner: tests and tools make keys, logs and build
//! folders in the temp dir, and a run must leave none of them behind (`make test` checks).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// `<temp dir>/<prefix>-<pid>-<n>`, removed with everything in it when dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_directory_is_gone_with_its_owner() {
        let scratch = Scratch::new("scratch-test").expect("scratch");
        let path = scratch.path().to_owned();
        std::fs::write(path.join("file"), b"x").expect("write");
        assert_ne!(Scratch::new("scratch-test").expect("another").path(), path);
        drop(scratch);
        assert!(!path.exists());
    }
}
