//! The progress files of the resumable commands (`migrate`, `import`): written whole to a
//! neighbour, then renamed over the file, so a crash leaves the previous state or the new one,
//! never half of either.

use serde::Serialize;
use std::path::Path;

pub fn save(path: &Path, state: &impl Serialize) -> Result<(), String> {
    let text = serde_json::to_vec(state).map_err(|e| e.to_string())?;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}
