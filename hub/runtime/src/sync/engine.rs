//! One page of a sync: read what the partner confirmed of the page's items, skip unread those
//! whose feed mark holds (nothing they are built from changed since the confirmed input was
//! read), load the others, skip those whose input (item text and mapping) is the one the
//! partner's confirmed payload was mapped from, map the rest, hash the mapped payload, compare
//! with what the partner confirmed, push the ones that differ (in the adapter's batch form),
//! and say what to record. Nothing here commits: the caller writes the confirmations and the checkpoint in one
//! transaction ([`switchyard_store::sync::commit_page`]).
//!
//! Failures of one item never stop the page: a mapping error or a partner's refusal (a
//! permanent error) becomes a `sync.item` dead letter; a transient one (429, 5xx, timeout) is
//! retried within the page after the partner's `Retry-After`, and if it persists the page is
//! left unfinished (what was confirmed is kept) and the job retries later.

use super::config::Entity;
use super::digest::{content_hash, write_key, InputKey};
use super::item::SyncItem;
use super::source::{FeedEntry, ItemSource, SourceItem};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{
    Adapter, AdapterContext, BatchItem, OutboundDocument, Payload, Presence,
};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_mapping::{Mapping, RunState};
use switchyard_store::queue::{NewJob, Queue};
use switchyard_store::sync::{
    self as store, Confirmation, Confirmed, FeedMark, SyncKey, Unchanged,
};

/// Rounds in a row in which every remaining write failed transiently before the page is left
/// unfinished. A round in which some writes went through does not count: under a partner's
/// rate limit each round gets some through, and the page finishes at the partner's pace.
const TRANSIENT_ROUNDS: u32 = 6;
/// The longest pause between rounds: a partner asking for more gets the page left unfinished,
/// and the queue brings the job back at the time it named.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// The wait before the next round of transient failures, or `None` to leave the page
/// unfinished. When every refusal named its `Retry-After` the wait is exactly the longest of
/// them (a throttled item is not penalised with a backoff on top of what the partner asked);
/// otherwise a backoff growing with the rounds, never shorter than what was asked.
fn round_pause(longest_ask: Duration, every_refusal_asked: bool, round: u32) -> Option<Duration> {
    let wait = if every_refusal_asked {
        longest_ask
    } else {
        longest_ask.max(Duration::from_millis(200 << round.min(6)))
    };
    (wait <= MAX_PAUSE).then_some(wait)
}

/// Everything a sync needs to handle pages.
pub struct Syncer {
    pub key: SyncKey,
    pub entity: Entity,
    pub source: Arc<dyn ItemSource>,
    pub adapter: Arc<dyn Adapter>,
    /// The job's adapter context; each write gets its own idempotency key.
    pub ctx: AdapterContext,
    pub mapping: Arc<Mapping>,
    pub tombstone: Arc<Mapping>,
    pub document: String,
    pub queue: Queue,
}

/// A write to make: the item's mapped payload differs from what the partner confirmed.
#[derive(Debug, Clone)]
pub struct Write {
    pub sku: String,
    pub hash: [u8; 32],
    /// The item's confirmed generation; the write makes the next.
    pub generation: i64,
    pub tombstone: bool,
    pub body: Value,
    /// The input of the mapping, for a dead letter.
    pub input: Value,
    /// The input's hash, recorded with the confirmation (None: a tombstone).
    pub input_hash: Option<[u8; 32]>,
    /// Where the input was read (None: a tombstone, a replay).
    pub mark: Option<FeedMark>,
    /// Whether the partner had the item at its last confirmed write, which the adapter may
    /// use to write it as an update rather than a create ([`Presence`]).
    pub presence: Presence,
}

/// An item that cannot be pushed as it is.
#[derive(Debug, Clone)]
pub struct ItemFailure {
    pub sku: String,
    pub input: Value,
    pub tombstone: bool,
    /// `mapping` or `partner`.
    pub class: &'static str,
    /// The mapping's error, or the adapter's (which names the partner's status when it had
    /// one, e.g. "partner answered 422: …").
    pub message: String,
    pub status: Option<u16>,
}

/// What comparing a page found.
#[derive(Debug, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    pub skipped: i64,
    /// Skipped items whose input hash was not recorded yet (their mapped payload is the
    /// confirmed one): recorded with the page so the next run skips them without mapping.
    pub unchanged: Vec<Unchanged>,
    pub failures: Vec<ItemFailure>,
    /// Items run through a mapping (the rest were skipped on their input hash).
    pub mapped: i64,
}

/// What handling a page did.
#[derive(Debug, Default)]
pub struct PageResult {
    pub examined: i64,
    pub skipped: i64,
    /// Of the skipped: decided on their feed mark, without reading them.
    pub examined_fast: i64,
    /// Items read from the core (their canonical input built).
    pub built: i64,
    pub confirmations: Vec<Confirmation>,
    pub unchanged: Vec<Unchanged>,
    pub failed: i64,
    /// Set when some writes kept failing transiently: the page is not done.
    pub unfinished: Option<AdapterError>,
    /// How many writes that is (still open at the partner, or failing transiently).
    pub unfinished_items: i64,
}

/// Writes a push left unfinished: how many, and the error that asked for the longest wait.
#[derive(Debug)]
pub struct Unfinished {
    pub error: AdapterError,
    pub items: i64,
}

/// How a page's feed entries were read, which says how to read what the partner confirmed of
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// Entries in feed order (an incremental run): SKUs anywhere, looked up one by one.
    Scattered,
    /// Every SKU the feed knows from the first entry's to the last's, in SKU order (a full
    /// run's keyset page): read in one range.
    SkuRange,
}

/// Whether `entry` can be skipped without reading it: the partner confirmed a payload mapped
/// from a known input (its input hash), read while the item's feed entry held the seq it holds
/// now, through the mapping of `basis`, and `now` is before the instant the item could change
/// by the calendar alone. Every row an item is built from moves its feed entry when it changes
/// (the triggers of 0009, 0011, 0013), so the item is the very input the payload came from.
pub fn unread(
    entry: &FeedEntry,
    known: Option<&Confirmed>,
    basis: &[u8; 32],
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    !entry.deleted
        && known.is_some_and(|c| {
            c.input_hash.is_some() && c.mark.is_some_and(|m| m.holds(entry.seq, basis, now))
        })
}

impl Syncer {
    fn mapping_for(&self, tombstone: bool) -> &Mapping {
        if tombstone {
            &self.tombstone
        } else {
            &self.mapping
        }
    }

    /// Compare and, where the input changed, map and hash: pure CPU over what was read (the
    /// figure `bench sync` reports as change detection). An item whose input hash (its text
    /// and the mapping's identity) is the one recorded with the partner's confirmation is
    /// skipped without decoding or mapping it; any other is mapped and its payload's hash
    /// compared with the confirmed one, as before. `force` skips neither comparison's way.
    /// Each item read is marked with its feed entry's seq (read before the item was), so the
    /// next run can skip it unread ([`unread`]); a seq of 0 (a replay) marks nothing.
    pub fn plan(
        &self,
        entries: &[FeedEntry],
        items: &HashMap<String, SourceItem>,
        confirmed: &HashMap<String, Confirmed>,
        force: bool,
    ) -> Plan {
        let mut plan = Plan::default();
        // Hashed once per page: the mapping is the same for every item of it.
        let inputs = InputKey::new(&self.mapping);
        for entry in entries {
            let known = confirmed.get(&entry.sku);
            let tomb_input;
            let decoded;
            let mut mark = None;
            // Borrowed: an unchanged item (the usual case) is never copied.
            let (input, tombstone, input_hash): (&Value, bool, Option<[u8; 32]>) = match items
                .get(&entry.sku)
            {
                Some(item) => {
                    let input_hash = inputs.hash(item.text());
                    mark = (entry.seq > 0).then(|| FeedMark {
                        seq: entry.seq,
                        basis: inputs.basis(),
                        valid_until: item.changes_at(),
                    });
                    if let Some(c) = known.filter(|c| !force && c.input_hash == Some(input_hash)) {
                        plan.skipped += 1;
                        // Read again (its feed entry moved, or its mark was not recorded
                        // or ran out) and the same input: where it was read is recorded,
                        // so the next run skips it unread.
                        if mark.is_some() && c.mark != mark {
                            plan.unchanged.push(Unchanged {
                                sku: entry.sku.clone(),
                                input_hash,
                                mark,
                                payload_hash: c.hash,
                                payload_generation: c.generation,
                            });
                        }
                        continue;
                    }
                    decoded = match item.value() {
                        Ok(value) => value,
                        Err(e) => {
                            plan.failures.push(ItemFailure {
                                sku: entry.sku.clone(),
                                input: Value::String(item.text().to_owned()),
                                tombstone: false,
                                class: "mapping",
                                message: format!("the item is not JSON: {e}"),
                                status: None,
                            });
                            continue;
                        }
                    };
                    (&*decoded, false, Some(input_hash))
                }
                // Removed in the core and never at the partner: nothing to take back.
                None if known.is_none() => {
                    plan.skipped += 1;
                    continue;
                }
                // A tombstone's input is made of the confirmed row itself; tombstones
                // are few, so they are always mapped.
                None => {
                    tomb_input = json!({
                        "sku": entry.sku,
                        "entity": self.entity.as_str(),
                        "external_id": known.and_then(|c| c.external_id.clone()),
                    });
                    (&tomb_input, true, None)
                }
            };
            let mut state = RunState::default();
            plan.mapped += 1;
            let body = match self.mapping_for(tombstone).map_record(input, &mut state) {
                Ok(body) => body,
                Err(e) => {
                    plan.failures.push(ItemFailure {
                        sku: entry.sku.clone(),
                        input: input.clone(),
                        tombstone,
                        class: "mapping",
                        message: e.to_string(),
                        status: None,
                    });
                    continue;
                }
            };
            let hash = content_hash(&body);
            if !force {
                if let Some(c) = known.filter(|c| c.hash == hash) {
                    plan.skipped += 1;
                    if let Some(input_hash) = input_hash {
                        plan.unchanged.push(Unchanged {
                            sku: entry.sku.clone(),
                            input_hash,
                            mark,
                            payload_hash: hash,
                            payload_generation: c.generation,
                        });
                    }
                    continue;
                }
            }
            plan.writes.push(Write {
                sku: entry.sku.clone(),
                hash,
                generation: known.map_or(0, |c| c.generation),
                // After a confirmed tombstone the partner may have deleted the item: New.
                presence: if known.is_some_and(|c| !c.tombstone) {
                    Presence::Sent
                } else {
                    Presence::New
                },
                tombstone,
                body,
                input: input.clone(),
                input_hash,
                mark,
            });
        }
        plan
    }

    /// Read, compare and push one page of feed entries.
    pub async fn page(
        &self,
        entries: &[FeedEntry],
        span: Span,
        force: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<PageResult, AdapterError> {
        let pool = self.queue.pool();
        let confirmed = match (span, entries.first(), entries.last()) {
            (Span::SkuRange, Some(first), Some(last)) => {
                store::confirmed_between(pool, &self.key, &first.sku, &last.sku).await
            }
            _ => {
                let skus: Vec<String> = entries.iter().map(|e| e.sku.clone()).collect();
                store::confirmed(pool, &self.key, &skus).await
            }
        }
        .map_err(|e| AdapterError::transient(format!("database: {e}")))?;
        // Decided before anything is read: most items of a full sync did not change, and
        // building their canonical JSON in Postgres cost four times the rest of the page.
        let basis = InputKey::new(&self.mapping).basis();
        let to_read: Vec<FeedEntry> = entries
            .iter()
            .filter(|e| force || !unread(e, confirmed.get(&e.sku), &basis, now))
            .cloned()
            .collect();
        let examined_fast = (entries.len() - to_read.len()) as i64;
        let items = if to_read.is_empty() {
            HashMap::new()
        } else {
            let skus: Vec<String> = to_read.iter().map(|e| e.sku.clone()).collect();
            self.source
                .load(self.key.org, self.entity, &skus, now)
                .await?
        };
        let plan = self.plan(&to_read, &items, &confirmed, force);
        let mut result = PageResult {
            examined: entries.len() as i64,
            skipped: plan.skipped + examined_fast,
            examined_fast,
            built: items.len() as i64,
            ..PageResult::default()
        };
        let (confirmations, mut failures, unfinished) = self.push(plan.writes).await;
        let unfinished_items = unfinished.as_ref().map_or(0, |u| u.items);
        failures.extend(plan.failures);
        result.failed = failures.len() as i64;
        for failure in &failures {
            self.bury(failure).await?;
        }
        result.confirmations = confirmations;
        result.unchanged = plan.unchanged;
        result.unfinished = unfinished.map(|u| u.error);
        result.unfinished_items = unfinished_items;
        Ok(result)
    }

    /// Push writes in the adapter's batch form; retry the transient failures a few rounds.
    /// Returns the confirmations, the items the partner refused, and, if some writes never
    /// went through, how many with the last transient error.
    pub async fn push(
        &self,
        mut writes: Vec<Write>,
    ) -> (Vec<Confirmation>, Vec<ItemFailure>, Option<Unfinished>) {
        let mut confirmations = Vec::with_capacity(writes.len());
        let mut failures = Vec::new();
        let mut round = 0;
        while !writes.is_empty() {
            let batch: Vec<BatchItem> = writes
                .iter()
                .map(|w| BatchItem {
                    idempotency_key: write_key(
                        &self.key.partner,
                        self.entity.as_str(),
                        &w.sku,
                        w.generation,
                        &w.hash,
                    ),
                    doc: OutboundDocument {
                        document: self.document.clone(),
                        payload: Payload::Json {
                            body: w.body.clone(),
                        },
                    },
                    presence: w.presence,
                })
                .collect();
            let results = self.adapter.push_batch(&self.ctx, &batch).await;
            let mut again = Vec::new();
            let mut pause = Duration::ZERO;
            let mut every_refusal_asked = true;
            let before = writes.len();
            // The refusal that asked for the longest wait: what the job reports if the page
            // is left unfinished, so the queue comes back when the partner said.
            let mut last: Option<AdapterError> = None;
            for (write, result) in writes.into_iter().zip(results) {
                match result {
                    Ok(receipt) => confirmations.push(Confirmation {
                        sku: write.sku,
                        hash: write.hash,
                        generation: write.generation + 1,
                        // The id of the item at the partner stays the one its
                        // publication got: an unpublish answers with an id of its own, and the
                        // tombstone (whose input carries the id) must stay the same document.
                        external_id: if write.tombstone {
                            None
                        } else {
                            receipt.external_id
                        },
                        tombstone: write.tombstone,
                        input_hash: write.input_hash,
                        mark: write.mark,
                    }),
                    Err(e) if e.class.is_retryable() => {
                        let asked = e.class.retry_after();
                        every_refusal_asked &= asked.is_some();
                        let asked = asked.unwrap_or(Duration::ZERO);
                        if last.is_none() || asked > pause {
                            pause = asked;
                            last = Some(e);
                        }
                        again.push(write);
                    }
                    Err(e) => failures.push(ItemFailure {
                        sku: write.sku,
                        input: write.input,
                        tombstone: write.tombstone,
                        class: "partner",
                        message: e.message,
                        status: e.status,
                    }),
                }
            }
            writes = again;
            if writes.is_empty() {
                break;
            }
            round = if writes.len() < before { 1 } else { round + 1 };
            let left = writes.len() as i64;
            let unfinished =
                |last: Option<AdapterError>| last.map(|error| Unfinished { error, items: left });
            if round >= TRANSIENT_ROUNDS {
                return (confirmations, failures, unfinished(last));
            }
            let Some(wait) = round_pause(pause, every_refusal_asked, round) else {
                return (confirmations, failures, unfinished(last));
            };
            tokio::time::sleep(wait).await;
        }
        (confirmations, failures, None)
    }

    /// A `sync.item` dead letter: the item, the mapping's version, the partner's error.
    /// Keyed by the item's content, so a page handled again after a crash buries it once.
    pub async fn bury(&self, failure: &ItemFailure) -> Result<(), AdapterError> {
        let mapping = self.mapping_for(failure.tombstone);
        let payload = SyncItem {
            partner: self.key.partner.clone(),
            entity: self.entity,
            sku: failure.sku.clone(),
            mapping: mapping.name.clone(),
            mapping_hash: mapping.hash.clone(),
            tombstone: failure.tombstone,
            item: failure.input.clone(),
            error: failure.message.clone(),
            status: failure.status,
        };
        let item_hash = hex::encode(&content_hash(&failure.input)[..8]);
        let job = NewJob::new(
            self.key.org,
            SyncItem::KIND,
            serde_json::to_value(&payload).map_err(|e| AdapterError::permanent(e.to_string()))?,
        )
        .partner(self.key.partner.clone())
        .key(format!(
            "{}:{}:{}:{}:{item_hash}",
            self.key.partner,
            self.entity,
            failure.sku,
            &mapping.hash[..12.min(mapping.hash.len())]
        ));
        // With a status the adapter's message already names it ("partner answered 422: …",
        // adapters/http): adding it here again made "partner answered 422: partner answered
        // 422: …". Without one, the class says whether the mapping or the partner failed.
        let reason = match failure.status {
            Some(_) => format!("{} {}: {}", self.entity, failure.sku, failure.message),
            None => format!(
                "{} {}: {}: {}",
                self.entity, failure.sku, failure.class, failure.message
            ),
        };
        match self.queue.bury(job, &reason, failure.class).await {
            Ok(_) | Err(switchyard_store::StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(AdapterError::transient(format!("database: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::path::Path;
    use switchyard_core::adapter::{Capability, NullSink};
    use switchyard_core::ids::OrgId;

    struct NoPartner;

    #[async_trait]
    impl Adapter for NoPartner {
        fn kind(&self) -> &'static str {
            "none"
        }
        fn capabilities(&self) -> &[Capability] {
            &[]
        }
        async fn health(&self, _: &AdapterContext) -> Result<(), AdapterError> {
            Ok(())
        }
    }

    struct NoSource;

    #[async_trait]
    impl ItemSource for NoSource {
        async fn head(&self, _: OrgId) -> Result<i64, AdapterError> {
            Ok(0)
        }
        async fn changed(
            &self,
            _: OrgId,
            _: Entity,
            _: i64,
            _: i64,
            _: i64,
        ) -> Result<Vec<FeedEntry>, AdapterError> {
            Ok(Vec::new())
        }
        async fn all(
            &self,
            _: OrgId,
            _: Entity,
            _: &str,
            _: i64,
        ) -> Result<Vec<FeedEntry>, AdapterError> {
            Ok(Vec::new())
        }
        async fn load(
            &self,
            _: OrgId,
            _: Entity,
            _: &[String],
            _: chrono::DateTime<chrono::Utc>,
        ) -> Result<HashMap<String, SourceItem>, AdapterError> {
            Ok(HashMap::new())
        }
    }

    fn mapping(text: &str, name: &str) -> Arc<Mapping> {
        Arc::new(switchyard_mapping::compile_str(text, Path::new(name), name).expect("compiles"))
    }

    fn syncer() -> Syncer {
        // Planning touches no database: a pool that never connects is enough.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .expect("lazy pool");
        let org = OrgId::new();
        Syncer {
            key: SyncKey::new(org, "shop", "catalog"),
            entity: Entity::Catalog,
            source: Arc::new(NoSource),
            adapter: Arc::new(NoPartner),
            ctx: AdapterContext {
                org,
                job: None,
                idempotency_key: String::new(),
                correlation_id: "test".into(),
                attempt: 1,
                sink: Arc::new(NullSink),
            },
            mapping: mapping(
                "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\nhandle = { from = \"sku\", required = true }\ntitle = { from = \"name\", required = true }\n",
                "item",
            ),
            tombstone: mapping(
                "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\nhandle = { from = \"sku\" }\nid = \"external_id\"\nstatus = { const = \"archived\" }\n",
                "tomb",
            ),
            document: "catalog".into(),
            queue: Queue::new(pool, Arc::new(switchyard_core::clock::SystemClock)),
        }
    }

    #[test]
    fn a_round_waits_exactly_what_the_partner_asked_and_backs_off_only_when_it_did_not_say() {
        let secs = Duration::from_secs;
        // Every refusal named its Retry-After: exactly that, whatever the round.
        assert_eq!(round_pause(secs(1), true, 5), Some(secs(1)));
        assert_eq!(round_pause(Duration::ZERO, true, 5), Some(Duration::ZERO));
        // Some did not say: a backoff growing with the rounds, at least what was asked.
        assert_eq!(
            round_pause(Duration::ZERO, false, 1),
            Some(Duration::from_millis(400))
        );
        assert_eq!(
            round_pause(Duration::ZERO, false, 5),
            Some(Duration::from_millis(6400))
        );
        assert_eq!(round_pause(secs(9), false, 1), Some(secs(9)));
        // Longer than a page waits: leave it to the queue, which comes back at that time.
        assert_eq!(round_pause(secs(31), true, 1), None);
        assert_eq!(round_pause(MAX_PAUSE, true, 1), Some(MAX_PAUSE));
    }

    fn entry(sku: &str) -> FeedEntry {
        FeedEntry {
            seq: 1,
            sku: sku.into(),
            deleted: false,
        }
    }

    /// Items as the catalog loads them: JSON text, decoded only when mapped.
    fn items(list: &[(&str, Value)]) -> HashMap<String, SourceItem> {
        list.iter()
            .map(|(k, v)| (k.to_string(), SourceItem::raw(v.to_string())))
            .collect()
    }

    /// What the partner confirmed after `plan`'s writes (as `commit_page` records it), on top
    /// of `confirmed`, with the inputs of the unchanged items.
    fn confirm_all(plan: &Plan, confirmed: &mut HashMap<String, Confirmed>) {
        for w in &plan.writes {
            confirmed.insert(
                w.sku.clone(),
                Confirmed {
                    hash: w.hash,
                    generation: w.generation + 1,
                    external_id: Some(format!("ext-{}", w.sku)),
                    input_hash: w.input_hash,
                    mark: w.mark,
                    tombstone: w.tombstone,
                },
            );
        }
        for u in &plan.unchanged {
            if let Some(c) = confirmed.get_mut(&u.sku) {
                assert_eq!(
                    (c.hash, c.generation),
                    (u.payload_hash, u.payload_generation)
                );
                c.input_hash = Some(u.input_hash);
                c.mark = u.mark;
            }
        }
    }

    /// Two feed entries, A and B, and their items (B with `b_extra` on top of its name).
    fn two_items(b_extra: Value) -> (Vec<FeedEntry>, HashMap<String, SourceItem>) {
        let mut b = json!({"sku": "B", "name": "Bar"});
        if let (Some(fields), Value::Object(extra)) = (b.as_object_mut(), b_extra) {
            fields.extend(extra);
        }
        let entries = ["A", "B"].into_iter().map(entry).collect();
        (
            entries,
            items(&[("A", json!({"sku": "A", "name": "Plate"})), ("B", b)]),
        )
    }

    #[tokio::test]
    async fn an_item_whose_input_was_confirmed_is_skipped_without_running_the_mapping() {
        let s = syncer();
        let (entries, items) = two_items(json!({}));
        let mut confirmed = HashMap::new();
        let first = s.plan(&entries, &items, &confirmed, false);
        assert_eq!((first.writes.len(), first.mapped), (2, 2));
        assert!(first.writes.iter().all(|w| w.input_hash.is_some()));
        confirm_all(&first, &mut confirmed);

        // Same items, same mapping: nothing is mapped at all.
        let again = s.plan(&entries, &items, &confirmed, false);
        assert_eq!((again.skipped, again.mapped), (2, 0));
        assert!(again.writes.is_empty() && again.unchanged.is_empty());

        // A mapping that fails for every item, under the identity (name and content hash) of
        // the one the partner's payloads came from: it is never run, so nothing fails.
        let mut failing = syncer();
        let mut broken = switchyard_mapping::compile_str(
            "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\ntitle = { from = \"missing\", required = true }\n",
            Path::new("item"),
            "item",
        )
        .expect("compiles");
        broken.hash = s.mapping.hash.clone();
        failing.mapping = Arc::new(broken);
        let skipped = failing.plan(&entries, &items, &confirmed, false);
        assert_eq!((skipped.skipped, skipped.mapped), (2, 0));
        assert!(skipped.failures.is_empty());
        // Forced, it runs (and fails for both): force compares nothing.
        let forced = failing.plan(&entries, &items, &confirmed, true);
        assert_eq!((forced.mapped, forced.failures.len()), (2, 2));
    }

    #[tokio::test]
    async fn a_changed_mapping_maps_again_and_records_the_input_when_the_payload_is_the_same() {
        let s = syncer();
        let (entries, items) = two_items(json!({"lead": 3}));
        let mut confirmed = HashMap::new();
        confirm_all(&s.plan(&entries, &items, &confirmed, false), &mut confirmed);

        // A rows confirmed before input hashes existed: mapped, equal payload, input recorded.
        for c in confirmed.values_mut() {
            c.input_hash = None;
        }
        let recorded = s.plan(&entries, &items, &confirmed, false);
        assert_eq!((recorded.mapped, recorded.skipped), (2, 2));
        assert!(recorded.writes.is_empty());
        assert_eq!(recorded.unchanged.len(), 2);
        confirm_all(&recorded, &mut confirmed);
        assert_eq!(s.plan(&entries, &items, &confirmed, false).mapped, 0);

        // Another mapping file: every item is mapped again; only B's payload changes.
        let mut changed = syncer();
        changed.mapping = mapping(
            "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\nhandle = { from = \"sku\", required = true }\ntitle = { from = \"name\", required = true }\nlead = \"lead\"\n",
            "item",
        );
        let plan = changed.plan(&entries, &items, &confirmed, false);
        assert_eq!(plan.mapped, 2);
        assert_eq!(plan.writes.len(), 1);
        assert_eq!(
            (plan.writes[0].sku.as_str(), &plan.writes[0].body),
            ("B", &json!({"handle": "B", "title": "Bar", "lead": 3}))
        );
        // A's payload is the same: skipped, and its input under the new mapping recorded.
        assert_eq!(plan.unchanged.len(), 1);
        assert_eq!(plan.unchanged[0].sku, "A");
        confirm_all(&plan, &mut confirmed);
        assert_eq!(changed.plan(&entries, &items, &confirmed, false).mapped, 0);
    }

    /// `entries` (feed seq 1) without those [`unread`] skips at `now`.
    fn to_read(
        s: &Syncer,
        entries: &[FeedEntry],
        confirmed: &HashMap<String, Confirmed>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<String> {
        let basis = InputKey::new(&s.mapping).basis();
        entries
            .iter()
            .filter(|e| !unread(e, confirmed.get(&e.sku), &basis, now))
            .map(|e| e.sku.clone())
            .collect()
    }

    #[tokio::test]
    async fn an_item_is_skipped_unread_while_its_feed_entry_mapping_and_validity_hold() {
        let s = syncer();
        let now = chrono::Utc::now();
        let (entries, items) = two_items(json!({}));
        let mut confirmed = HashMap::new();
        assert_eq!(to_read(&s, &entries, &confirmed, now), ["A", "B"]);
        let first = s.plan(&entries, &items, &confirmed, false);
        assert!(first
            .writes
            .iter()
            .all(|w| w.mark.is_some_and(|m| m.seq == 1)));
        confirm_all(&first, &mut confirmed);
        // Same feed seq, same mapping, no validity: neither is read.
        assert!(to_read(&s, &entries, &confirmed, now).is_empty());

        // A's feed entry moved (a change that left its item the same): read, found to be the
        // confirmed input, and its new position recorded; nothing written.
        let mut moved = entries.clone();
        moved[0].seq = 7;
        assert_eq!(to_read(&s, &moved, &confirmed, now), ["A"]);
        let plan = s.plan(&moved[..1], &items, &confirmed, false);
        assert_eq!((plan.skipped, plan.mapped, plan.writes.len()), (1, 0, 0));
        assert_eq!(plan.unchanged.len(), 1);
        assert_eq!(plan.unchanged[0].mark.map(|m| m.seq), Some(7));
        confirm_all(&plan, &mut confirmed);
        assert!(to_read(&s, &moved, &confirmed, now).is_empty());

        // Removed in the core: its entry is a tombstone, always read (and mapped).
        moved[1].deleted = true;
        assert_eq!(to_read(&s, &moved, &confirmed, now), ["B"]);
        moved[1].deleted = false;

        // Without an input hash (a row from before 0015) the mark vouches for nothing.
        let mut unhashed = confirmed.clone();
        if let Some(c) = unhashed.get_mut("B") {
            c.input_hash = None;
        }
        assert_eq!(to_read(&s, &moved, &unhashed, now), ["B"]);

        // Another mapping: every item is read again.
        let mut other = syncer();
        other.mapping = mapping(
            "version = 1\nsource = { format = \"json\" }\ntarget = { format = \"json\" }\n[fields]\nhandle = { from = \"sku\", required = true }\n",
            "item",
        );
        assert_eq!(to_read(&other, &moved, &confirmed, now), ["A", "B"]);

        // An item the calendar changes (a price's validity boundary): skipped unread before
        // that instant, read from it on, and marked with its next one.
        let until = now + chrono::Duration::hours(1);
        let dated: HashMap<String, SourceItem> = items
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().valid_until(Some(until))))
            .collect();
        let mut dated_confirmed = HashMap::new();
        confirm_all(
            &s.plan(&entries, &dated, &dated_confirmed, false),
            &mut dated_confirmed,
        );
        assert!(to_read(&s, &entries, &dated_confirmed, now).is_empty());
        assert_eq!(to_read(&s, &entries, &dated_confirmed, until), ["A", "B"]);
        let later = until + chrono::Duration::days(1);
        let again: HashMap<String, SourceItem> = items
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().valid_until(Some(later))))
            .collect();
        let plan = s.plan(&entries, &again, &dated_confirmed, false);
        assert_eq!((plan.writes.len(), plan.unchanged.len()), (0, 2));
        confirm_all(&plan, &mut dated_confirmed);
        assert!(to_read(&s, &entries, &dated_confirmed, until).is_empty());

        // A replay reads no feed entry (seq 0): it marks nothing.
        let replay = [FeedEntry {
            seq: 0,
            ..entry("A")
        }];
        let plan = s.plan(&replay, &items, &HashMap::new(), false);
        assert_eq!(plan.writes[0].mark, None);
    }

    #[tokio::test]
    async fn a_page_is_planned_by_comparing_hashes_with_what_the_partner_confirmed() {
        let s = syncer();
        let items = items(&[
            ("SAME", json!({"sku": "SAME", "name": "Plate"})),
            ("NEW", json!({"sku": "NEW", "name": "Bar"})),
            ("CHANGED", json!({"sku": "CHANGED", "name": "Rod v2"})),
            ("BROKEN", json!({"sku": "BROKEN"})),
        ]);
        let confirmed_as = |body: Value, generation: i64| Confirmed {
            hash: content_hash(&body),
            generation,
            external_id: Some("ext-1".into()),
            input_hash: None,
            mark: None,
            tombstone: false,
        };
        let confirmed: HashMap<String, Confirmed> = [
            (
                "SAME",
                confirmed_as(json!({"handle": "SAME", "title": "Plate"}), 1),
            ),
            (
                "CHANGED",
                confirmed_as(json!({"handle": "CHANGED", "title": "Rod"}), 3),
            ),
            (
                "GONE",
                confirmed_as(json!({"handle": "GONE", "title": "Old"}), 1),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let entries: Vec<FeedEntry> = ["SAME", "NEW", "CHANGED", "BROKEN", "GONE", "NEVER"]
            .into_iter()
            .map(entry)
            .collect();

        let plan = s.plan(&entries, &items, &confirmed, false);
        // SAME: the partner has this content. NEVER: removed and never at the partner.
        assert_eq!(plan.skipped, 2);
        let writes: Vec<(&str, i64, bool)> = plan
            .writes
            .iter()
            .map(|w| (w.sku.as_str(), w.generation, w.tombstone))
            .collect();
        assert_eq!(
            writes,
            vec![("NEW", 0, false), ("CHANGED", 3, false), ("GONE", 1, true)]
        );
        assert_eq!(
            plan.writes[1].body,
            json!({"handle": "CHANGED", "title": "Rod v2"})
        );
        assert_eq!(plan.writes[1].hash, content_hash(&plan.writes[1].body));
        // The tombstone names the partner's id for the item.
        assert_eq!(
            plan.writes[2].body,
            json!({"handle": "GONE", "id": "ext-1", "status": "archived"})
        );
        assert_eq!(plan.failures.len(), 1);
        assert_eq!(
            (plan.failures[0].sku.as_str(), plan.failures[0].class),
            ("BROKEN", "mapping")
        );
        assert!(
            plan.failures[0].message.contains("title"),
            "{}",
            plan.failures[0].message
        );

        // Forced, the unchanged item is written again (under its next generation's key).
        let forced = s.plan(&entries, &items, &confirmed, true);
        assert_eq!(forced.skipped, 1);
        assert_eq!(forced.writes.len(), 4);
        assert_eq!(
            (forced.writes[0].sku.as_str(), forced.writes[0].generation),
            ("SAME", 1)
        );
    }

    #[tokio::test]
    async fn a_write_says_whether_the_partner_had_the_item_at_its_last_confirmed_write() {
        let s = syncer();
        let items = items(&[
            ("FRESH", json!({"sku": "FRESH", "name": "Bar"})),
            ("KEPT", json!({"sku": "KEPT", "name": "Rod v2"})),
            ("BACK", json!({"sku": "BACK", "name": "Plate again"})),
        ]);
        let confirmed_as = |tombstone: bool| Confirmed {
            hash: content_hash(&json!({"old": true})),
            generation: 2,
            external_id: None,
            input_hash: None,
            mark: None,
            tombstone,
        };
        // KEPT: published before; BACK: taken back before (the partner may have deleted it);
        // GONE: published before, now removed (its tombstone goes to an item the partner has).
        let confirmed: HashMap<String, Confirmed> = [
            ("KEPT", confirmed_as(false)),
            ("BACK", confirmed_as(true)),
            ("GONE", confirmed_as(false)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let entries: Vec<FeedEntry> = ["FRESH", "KEPT", "BACK", "GONE"]
            .into_iter()
            .map(entry)
            .collect();
        let plan = s.plan(&entries, &items, &confirmed, false);
        let presence: Vec<(&str, Presence)> = plan
            .writes
            .iter()
            .map(|w| (w.sku.as_str(), w.presence))
            .collect();
        assert_eq!(
            presence,
            vec![
                ("FRESH", Presence::New),
                ("KEPT", Presence::Sent),
                ("BACK", Presence::New),
                ("GONE", Presence::Sent),
            ]
        );
    }
}
