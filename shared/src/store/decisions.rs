//! A credit limit order's decision (four eyes): the order is read, the checker's right to decide it
//! checked, then one transaction records the decision only on the version that was read, and an
//! approval sets the customer's credit limit in it. Two round trips; racing deciders end as one
//! success, the others see the order decided.

use super::error::internal;
use super::keys::{self, ChildKind};
use super::{Part, Store, StoreError, StoreResult, Tx, Versioned, VersionedUpdate, Versions};
use crate::domain::audit::Audit;
use crate::domain::credit_limit_order::{CreditLimitOrder, Outcome, Refusal};
use crate::domain::ids::{BankId, CreditLimitOrderId, CustomerId};
use crate::domain::patch::Patch;

impl Store {
    /// Records `outcome` on order `id` of `customer` at `bank`. `Ok(Err(_))` when its checker may
    /// not decide it (the maker, or already decided); 404 when the order or customer is missing.
    pub async fn decide_credit_limit_order(
        &self,
        bank: &BankId,
        customer: &CustomerId,
        id: &CreditLimitOrderId,
        outcome: Outcome,
        audit: &Audit,
    ) -> StoreResult<Result<Versioned<CreditLimitOrder>, Refusal>> {
        let id = id.to_string();
        let checker = outcome.decision.decided_by.clone();
        let read = self.child::<CreditLimitOrder>(bank, customer, &id).await?;
        if let Err(refusal) = read.item.decidable_by(&checker) {
            return Ok(Err(refusal));
        }
        let mut decision = Patch::default();
        decision.set(&["status"], outcome.status).map_err(internal)?;
        decision.set(&["decision"], &outcome.decision).map_err(internal)?;
        let key = keys::child(customer, ChildKind::CreditLimitOrder, &id);
        let mut order = VersionedUpdate::new(key, bank, &decision, audit)?;
        order.if_match(&Versions::new(vec![read.version]));
        let mut parts = vec![(Part::Record, order.transact_item(self.table())?)];
        if let Some(limit) = outcome.granted() {
            let mut grant = Patch::default();
            grant.set(&["credit_limit"], limit).map_err(internal)?;
            let update = VersionedUpdate::new(keys::customer(customer), bank, &grant, audit)?;
            parts.push((Part::Customer, update.transact_item(self.table())?));
        }
        match self.transact(parts).await {
            Ok(()) => Ok(Ok(Versioned {
                item: read.item.decided(outcome),
                version: read.version + 1,
            })),
            Err(Tx::Failed(Part::Customer)) => Err(StoreError::NotFound("customer")),
            // Decided (or gone) since it was read: the order as it is now says which.
            Err(Tx::Failed(_)) => match self
                .child::<CreditLimitOrder>(bank, customer, &id)
                .await?
                .item
                .decidable_by(&checker)
            {
                Err(refusal) => Ok(Err(refusal)),
                Ok(()) => Err(StoreError::Conflict(
                    "the credit limit order changed while it was decided, retry".into(),
                )),
            },
            Err(Tx::Error(e)) => Err(e),
        }
    }
}
