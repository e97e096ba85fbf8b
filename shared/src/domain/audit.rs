//! Who made a write, in which request, and when: stored on every item of a customer, its records,
//! links and CRM events in the same write as the change itself, so that the table's stream (and
//! the history made from it) always knows the actor. A delete first stamps the item, so its last
//! image names who deleted it.

use crate::domain::ids::UserId;
use crate::domain::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// The caller's `sub` (or, for a tool's writes, what it names itself: `seed`, `import`).
    pub changed_by: UserId,
    /// The API Gateway request id (or the tool's run id).
    pub request_id: String,
    pub changed_at: Timestamp,
}

impl Audit {
    pub fn new(changed_by: UserId, request_id: impl Into<String>) -> Self {
        Self {
            changed_by,
            request_id: request_id.into(),
            changed_at: Timestamp::now(),
        }
    }

    /// A write made by one of the project's own tools rather than through the API.
    pub fn tool(name: &'static str, run: impl Into<String>) -> Self {
        Self::new(UserId::parse(name).expect("a tool's name is a valid user id"), run)
    }
}
