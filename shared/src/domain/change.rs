//! A change of one object of the API as the table's stream shows it: which object, created,
//! updated or deleted, by whom, and every field's old and new value. A customer's history is made
//! of these; the events other systems receive carry the same facts with field names only, never
//! values (they may be personal data).

use crate::domain::ids::{BankId, ChangeId, CustomerId, UserId};
use crate::domain::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
}

/// The kinds of object a history holds (the seed's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Customer,
    CustomerAddress,
    SocialMediaHandle,
    TaxResidence,
    CreditLimitOrder,
    UserCustomerLink,
    CrmEvent,
}

impl Resource {
    pub const ALL: [Resource; 7] = [
        Resource::Customer,
        Resource::CustomerAddress,
        Resource::SocialMediaHandle,
        Resource::TaxResidence,
        Resource::CreditLimitOrder,
        Resource::UserCustomerLink,
        Resource::CrmEvent,
    ];

    /// The name in the API (`resource` of an entry, and of the history's filter).
    pub fn name(self) -> &'static str {
        match self {
            Resource::Customer => "customer",
            Resource::CustomerAddress => "customer_address",
            Resource::SocialMediaHandle => "social_media_handle",
            Resource::TaxResidence => "tax_residence",
            Resource::CreditLimitOrder => "credit_limit_order",
            Resource::UserCustomerLink => "user_customer_link",
            Resource::CrmEvent => "crm_event",
        }
    }

    pub fn parse(name: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The event's `DetailType`: one name per resource and operation. A customer and a CRM event
    /// are created and deleted; a customer's records and links are added to it and removed.
    pub fn event_name(self, operation: Operation) -> String {
        let subject = match self {
            Resource::Customer => "Customer",
            Resource::CustomerAddress => "CustomerAddress",
            Resource::SocialMediaHandle => "SocialMediaHandle",
            Resource::TaxResidence => "TaxResidence",
            Resource::CreditLimitOrder => "CreditLimitOrder",
            Resource::UserCustomerLink => "UserCustomerLink",
            Resource::CrmEvent => "CrmEvent",
        };
        let owned = matches!(self, Resource::Customer | Resource::CrmEvent);
        let verb = match (operation, owned) {
            (Operation::Create, true) => "Created",
            (Operation::Create, false) => "Added",
            (Operation::Update, _) => "Updated",
            (Operation::Delete, true) => "Deleted",
            (Operation::Delete, false) => "Removed",
        };
        format!("{subject}{verb}")
    }
}

/// One field of a change: its value before and after (`null` where the object did not exist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

impl FieldChange {
    /// The field's name without its values: what an erased customer's history keeps.
    pub fn without_values(&self) -> Self {
        Self {
            field: self.field.clone(),
            old: Value::Null,
            new: Value::Null,
        }
    }
}

/// What every change is: which object, what happened to it, who did it, in which request, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub change_id: ChangeId,
    pub bank_id: BankId,
    pub customer_id: CustomerId,
    pub resource: Resource,
    pub resource_id: String,
    pub operation: Operation,
    pub changed_by: UserId,
    pub request_id: String,
    pub changed_at: Timestamp,
}

/// One entry of a customer's history: the change and every changed field's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub change: Change,
    pub changes: Vec<FieldChange>,
}

impl HistoryEntry {
    /// The entry with field names only: what an erased customer's history keeps.
    pub fn without_values(&self) -> Self {
        Self {
            change: self.change.clone(),
            changes: self.changes.iter().map(FieldChange::without_values).collect(),
        }
    }
}

/// A page of a customer's history.
#[derive(Debug, Serialize)]
pub struct HistoryList {
    pub history: Vec<HistoryEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// What a change event tells: the change and the names of the changed fields, never their values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    #[serde(flatten)]
    pub change: Change,
    pub fields: Vec<String>,
}

impl HistoryEntry {
    pub fn event(&self) -> ChangeEvent {
        ChangeEvent {
            change: self.change.clone(),
            fields: self.changes.iter().map(|c| c.field.clone()).collect(),
        }
    }
}

/// The fields whose values differ between two versions of an object (either may be empty: a
/// creation or a deletion), in name order, leaving out `ignored` ones.
pub fn diff(old: &Map<String, Value>, new: &Map<String, Value>, ignored: &[&str]) -> Vec<FieldChange> {
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| !ignored.contains(&name.as_str()))
        .filter_map(|name| {
            let (before, after) = (old.get(name), new.get(name));
            (before != after).then(|| FieldChange {
                field: name.clone(),
                old: before.cloned().unwrap_or(Value::Null),
                new: after.cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_diff_names_every_changed_field_with_both_values() {
        let old = map(json!({"email": "a@x", "title": "Dr", "version": 1, "tags": ["a"]}));
        let new = map(json!({"email": "b@x", "title": "Dr", "version": 2, "tags": ["a", "b"], "city": "Bath"}));
        let changes = diff(&old, &new, &["version"]);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["city", "email", "tags"]);
        assert_eq!(
            changes[0],
            FieldChange {
                field: "city".into(),
                old: Value::Null,
                new: json!("Bath")
            }
        );
        assert_eq!((&changes[1].old, &changes[1].new), (&json!("a@x"), &json!("b@x")));
        assert!(diff(&Map::new(), &old, &["version"]).iter().all(|c| c.old.is_null()));
        assert!(diff(&old, &Map::new(), &[]).iter().all(|c| c.new.is_null()));
    }

    #[test]
    fn one_event_name_per_resource_and_operation() {
        let mut names: Vec<String> = Resource::ALL
            .iter()
            .flat_map(|r| [Operation::Create, Operation::Update, Operation::Delete].map(|o| r.event_name(o)))
            .collect();
        assert!(names.contains(&"CustomerCreated".to_owned()) && names.contains(&"CustomerAddressAdded".to_owned()));
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
        for r in Resource::ALL {
            assert_eq!(Resource::parse(r.name()), Some(r));
        }
    }
}
