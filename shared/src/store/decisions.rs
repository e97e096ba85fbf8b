//! A credit limit order's decision (four eyes). The caller has read the order and checked the
//! checker's right to decide it; an approval also reads the customer, whose limit it may set only
//! up to the requested amount and in the limit's currency. One transaction then records the
//! decision only on the versions that were read (and the decision's `Idempotency-Key` answer):
//! racing deciders end as one success, the others see the order decided.

use super::error::internal;
use super::idempotency::Record;
use super::keys::{self, ChildKind};
use super::{Part, Read, Store, StoreError, StoreResult, Tx, Versioned, VersionedUpdate, Versions};
use crate::domain::audit::Audit;
use crate::domain::credit_limit_order::{CreditLimitOrder, Outcome, Refusal};
use crate::domain::customer::{Amount, Customer};
use crate::domain::ids::{BankId, CustomerId};
use crate::domain::patch::Patch;

impl Store {
    /// Records `outcome` on `read`, an order of `customer` at `bank` that its checker may decide.
    /// 404 when the customer is missing; `Refused` when the grant is beyond the request or the
    /// order was decided since it was read.
    pub async fn decide_credit_limit_order(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        read: Versioned<CreditLimitOrder>,
        outcome: Outcome,
        record: Record<'_, Versioned<CreditLimitOrder>>,
        audit: &Audit,
    ) -> StoreResult<Versioned<CreditLimitOrder>> {
        let id = read.item.credit_limit_order_id.to_string();
        let checker = outcome.decision.decided_by.clone();
        let mut decision = Patch::default();
        decision.set(&["status"], outcome.status).map_err(internal)?;
        decision.set(&["decision"], &outcome.decision).map_err(internal)?;
        let key = keys::child(customer, ChildKind::CreditLimitOrder, &id);
        let mut order = VersionedUpdate::new(key, bank, &decision, audit)?;
        order.if_match(&Versions::new(vec![read.version]));
        let mut parts = vec![(Part::Record, order.transact_item(self.table())?)];
        if let Some(limit) = outcome.granted() {
            let current = self.customer_at(bank, customer, Read::Latest).await?;
            read.item
                .grants_within(&outcome, &current.item.credit_limit)
                .map_err(StoreError::Refused)?;
            let mut grant = Patch::default();
            grant.set(&["credit_limit"], limit).map_err(internal)?;
            let mut update = VersionedUpdate::new(keys::customer(customer), bank, &grant, audit)?;
            // The limit checked is the limit replaced.
            update.if_match(&Versions::new(vec![current.version]));
            parts.push((Part::Customer, update.transact_item(self.table())?));
        }
        let decided = Versioned {
            item: read.item.decided(outcome),
            version: read.version + 1,
        };
        parts.extend(self.record_item(record, &decided, customer)?);
        match self.transact(parts).await {
            Ok(()) => Ok(decided),
            Err(Tx::Failed(Part::IdempotencyKey)) => Err(StoreError::KeyInUse),
            // Decided since it was read, or the customer changed or went: the state now says which.
            Err(Tx::Failed(_)) => {
                let now = self.child::<CreditLimitOrder>(bank, customer, &id).await?;
                now.item.decidable_by(&checker).map_err(StoreError::Refused)?;
                self.customer_at(bank, customer, Read::Latest).await?;
                Err(StoreError::Conflict(
                    "the credit limit order or its customer changed while it was decided, retry".into(),
                ))
            }
            Err(Tx::Error(e)) => Err(e),
        }
    }

    /// Sets a customer's credit limit without an order: only to `within` the current one (lower,
    /// or zero in any currency), on the version whose limit was checked.
    pub async fn set_credit_limit(
        &self,
        bank: &BankId,
        id: &CustomerId,
        limit: &Amount,
        audit: &Audit,
        if_match: Option<&Versions>,
    ) -> StoreResult<Versioned<Customer>> {
        let current = self.customer_at(bank, id, Read::Latest).await?;
        if if_match.is_some_and(|v| !v.contains(current.version)) {
            return Err(StoreError::VersionMismatch);
        }
        if !limit.within(&current.item.credit_limit) {
            return Err(StoreError::Refused(Refusal::NoOrder));
        }
        let mut patch = Patch::default();
        patch.set(&["credit_limit"], limit).map_err(internal)?;
        let checked = Versions::new(vec![current.version]);
        match self.update_customer(bank, id, &patch, audit, Some(&checked)).await {
            Err(StoreError::VersionMismatch) if if_match.is_none() => Err(StoreError::Conflict(
                "the customer changed while its credit limit was set, retry".into(),
            )),
            other => other,
        }
    }
}
