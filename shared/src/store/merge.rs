//! Lists of a bank-wide collection spread over shards (the firehose, CRM events): every shard, and
//! the legacy unsharded partition, is queried in parallel and the answers are merged by sort key,
//! so the list has the order, bounds and offsets of one partition. A page ends at a sort key, and
//! the next one starts after it in every shard: sort keys are unique (they end with the item's id),
//! so that one key is each shard's position.

use super::error::{StoreResult, internal, sdk_error};
use super::page::Key;
use super::{Item, Store};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// One partition of the collection: a table or index partition, sorted by `sk_attr`.
pub(crate) struct Source {
    pub index: Option<&'static str>,
    pub pk_attr: &'static str,
    pub sk_attr: &'static str,
    pub pk: String,
}

/// What a merged list reads.
pub(crate) struct Merge {
    pub sources: Vec<Source>,
    /// Inclusive bounds on the sort key.
    pub lower: Option<String>,
    pub upper: Option<String>,
    pub descending: bool,
    /// The sort key of the previous page's last item: this page starts after it.
    pub after: Option<String>,
    /// Read only these attributes (the keys that locate the items), not whole items.
    pub projection: Option<&'static [&'static str]>,
}

/// A merged page: items in order with their sort keys, and whether more follow.
pub(crate) struct Merged {
    pub items: Vec<(String, Item)>,
    pub more: bool,
}

impl Merged {
    /// The key the next page starts after (its sort key, under `attribute`), if there is one.
    pub fn next(&self, attribute: &str) -> Option<Key> {
        let (sk, _) = self.items.last().filter(|_| self.more)?;
        Some(Key::from([(attribute.to_owned(), AttributeValue::S(sk.clone()))]))
    }
}

/// What one source has given so far.
struct Read {
    items: Vec<(String, Item)>,
    /// DynamoDB's LastEvaluatedKey: the source has more when it is set.
    next: Option<Key>,
    started: bool,
}

impl Read {
    fn done(&self) -> bool {
        self.started && self.next.is_none()
    }
}

impl Merge {
    fn ordered(&self, a: &str, b: &str) -> bool {
        if self.descending { a >= b } else { a <= b }
    }

    fn key_condition(&self, values: &mut HashMap<String, AttributeValue>) -> String {
        // The previous page's last key narrows the bound on its side; it is itself dropped later.
        let tighter = |bound: &Option<String>, after: &Option<String>, pick_max: bool| match (bound, after) {
            (Some(b), Some(a)) => Some(if (a > b) == pick_max { a.clone() } else { b.clone() }),
            (b, a) => b.clone().or_else(|| a.clone()),
        };
        let (lower, upper) = if self.descending {
            (self.lower.clone(), tighter(&self.upper, &self.after, false))
        } else {
            (tighter(&self.lower, &self.after, true), self.upper.clone())
        };
        let mut condition = "#pk = :pk".to_owned();
        match (lower, upper) {
            (Some(l), Some(u)) => {
                condition.push_str(" AND #sk BETWEEN :lower AND :upper");
                values.insert(":lower".into(), AttributeValue::S(l));
                values.insert(":upper".into(), AttributeValue::S(u));
            }
            (Some(l), None) => {
                condition.push_str(" AND #sk >= :lower");
                values.insert(":lower".into(), AttributeValue::S(l));
            }
            (None, Some(u)) => {
                condition.push_str(" AND #sk <= :upper");
                values.insert(":upper".into(), AttributeValue::S(u));
            }
            (None, None) => {}
        }
        condition
    }
}

/// How many items a merged list asks of each of `sources` partitions when it needs `need`: a little
/// more than an even share, so that one parallel round is almost always enough.
pub fn share(need: usize, sources: usize) -> usize {
    (need.div_ceil(sources.max(1)) * 2 + 8).min(need)
}

impl Store {
    /// The merged list's items from position `skip`, `take` of them. Each source is asked for a
    /// little more than its share of `skip + take + 1` items; a source is read again only when the
    /// merge cannot yet tell the page's items (rare: the shards fill evenly), so a page is usually
    /// one parallel round of queries.
    pub(crate) async fn merged(&self, merge: &Merge, skip: usize, take: usize) -> StoreResult<Merged> {
        let need = skip + take + 1;
        let limit = share(need, merge.sources.len()) as i32;
        let mut reads: Vec<Read> = merge
            .sources
            .iter()
            .map(|_| Read {
                items: Vec::new(),
                next: None,
                started: false,
            })
            .collect();
        loop {
            let queries = merge
                .sources
                .iter()
                .zip(&reads)
                .filter(|(_, read)| !read.done())
                .map(|(source, read)| self.query_source(merge, source, read.next.clone(), limit));
            let answers = futures::future::join_all(queries).await;
            for (read, answer) in reads.iter_mut().filter(|r| !r.done()).zip(answers) {
                let (items, next) = answer?;
                read.items.extend(items);
                read.next = next;
                read.started = true;
            }
            // Every item up to the least advanced unfinished source is known, in order.
            let frontier = merge
                .sources
                .iter()
                .zip(&reads)
                .filter_map(|(source, read)| read.next.as_ref().map(|k| sort_key(k, source.sk_attr)))
                .collect::<StoreResult<Vec<String>>>()?
                .into_iter()
                .reduce(|a, b| if merge.ordered(&a, &b) { a } else { b });
            let known = |sk: &str| frontier.as_deref().is_none_or(|f| merge.ordered(sk, f));
            let settled = reads.iter().flat_map(|r| &r.items).filter(|(sk, _)| known(sk)).count();
            if settled < need && frontier.is_some() {
                continue;
            }
            let mut items: Vec<(String, Item)> = reads
                .into_iter()
                .flat_map(|r| r.items)
                .filter(|(sk, _)| known(sk))
                .collect();
            items.sort_by(|a, b| if merge.descending { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) });
            // An item moved by the migration while it was read can be seen in both places.
            items.dedup_by(|a, b| a.0 == b.0);
            let more = items.len() > skip + take;
            let items = items.into_iter().skip(skip).take(take).collect();
            return Ok(Merged { items, more });
        }
    }

    /// One page of one source, without the previous page's last item.
    async fn query_source(
        &self,
        merge: &Merge,
        source: &Source,
        start: Option<Key>,
        limit: i32,
    ) -> StoreResult<(Vec<(String, Item)>, Option<Key>)> {
        let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(source.pk.clone()))]);
        let condition = merge.key_condition(&mut values);
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .set_index_name(source.index.map(str::to_owned))
            .key_condition_expression(&condition)
            .expression_attribute_names("#pk", source.pk_attr)
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!merge.descending)
            .limit(limit)
            .set_exclusive_start_key(start);
        if condition.contains("#sk") {
            query = query.expression_attribute_names("#sk", source.sk_attr);
        }
        if let Some(attributes) = merge.projection {
            let mut names = Vec::new();
            for (i, attribute) in attributes.iter().chain([&source.sk_attr]).enumerate() {
                query = query.expression_attribute_names(format!("#p{i}"), *attribute);
                names.push(format!("#p{i}"));
            }
            query = query.projection_expression(names.join(", "));
        }
        let out = query.send().await.map_err(sdk_error)?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| Ok((sort_key(&item, source.sk_attr)?, item)))
            .filter(|item| !matches!(item, Ok((sk, _)) if Some(sk) == merge.after.as_ref()))
            .collect::<StoreResult<_>>()?;
        Ok((items, out.last_evaluated_key))
    }
}

fn sort_key(item: &Item, attribute: &str) -> StoreResult<String> {
    match item.get(attribute) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(internal(format!("an item of a merged list has no {attribute}"))),
    }
}
