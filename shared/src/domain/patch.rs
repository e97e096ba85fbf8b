//! The changes of an update: attribute paths and their new values, as the domain decides them. The
//! store turns them into one UpdateItem.

use crate::domain::validate::Invalid;
use serde::Serialize;

/// Attribute updates of one item: `(attribute path, value)`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Patch {
    pub sets: Vec<(Vec<&'static str>, serde_json::Value)>,
}

impl Patch {
    pub fn set(&mut self, path: &[&'static str], value: impl Serialize) -> Result<(), Invalid> {
        // Only a map with non-string keys fails to serialise, and no domain type has one.
        let value = serde_json::to_value(value).map_err(|e| Invalid::field(path.join("."), e.to_string()))?;
        self.sets.push((path.to_vec(), value));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}
