//! One page of a sync: load the items, map each, hash the mapped payload, compare with what the
//! partner confirmed, push the ones that differ (in the adapter's batch form), and say what to
//! record. Nothing here commits: the caller writes the confirmations and the checkpoint in one
//! transaction ([`switchyard_store::sync::commit_page`]).
//!
//! Failures of one item never stop the page: a mapping error or a partner's refusal (a
//! permanent error) becomes a `sync.item` dead letter; a transient one (429, 5xx, timeout) is
//! retried within the page after the partner's `Retry-After`, and if it persists the page is
//! left unfinished (what was confirmed is kept) and the job retries later.

use super::config::Entity;
use super::digest::{content_hash, write_key};
use super::item::SyncItem;
use super::source::{FeedEntry, ItemSource};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, AdapterContext, BatchItem, OutboundDocument, Payload};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_mapping::{Mapping, RunState};
use switchyard_store::queue::{NewJob, Queue};
use switchyard_store::sync::{self as store, Confirmation, Confirmed, SyncKey};

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
    pub failures: Vec<ItemFailure>,
}

/// What handling a page did.
#[derive(Debug, Default)]
pub struct PageResult {
    pub examined: i64,
    pub skipped: i64,
    pub confirmations: Vec<Confirmation>,
    pub failed: i64,
    /// Set when some writes kept failing transiently: the page is not done.
    pub unfinished: Option<AdapterError>,
}

impl Syncer {
    fn mapping_for(&self, tombstone: bool) -> &Mapping {
        if tombstone {
            &self.tombstone
        } else {
            &self.mapping
        }
    }

    /// Map, hash and compare: pure CPU over what was read (the figure `bench sync` reports as
    /// change detection).
    pub fn plan(
        &self,
        entries: &[FeedEntry],
        items: &HashMap<String, Value>,
        confirmed: &HashMap<String, Confirmed>,
        force: bool,
    ) -> Plan {
        let mut plan = Plan::default();
        for entry in entries {
            let known = confirmed.get(&entry.sku);
            let tomb_input;
            // Borrowed: an unchanged item (the usual case) is never copied.
            let (input, tombstone): (&Value, bool) = match items.get(&entry.sku) {
                Some(item) => (item, false),
                // Removed in the core and never at the partner: nothing to take back.
                None if known.is_none() => {
                    plan.skipped += 1;
                    continue;
                }
                None => {
                    tomb_input = json!({
                        "sku": entry.sku,
                        "entity": self.entity.as_str(),
                        "external_id": known.and_then(|c| c.external_id.clone()),
                    });
                    (&tomb_input, true)
                }
            };
            let mut state = RunState::default();
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
            if !force && known.is_some_and(|c| c.hash == hash) {
                plan.skipped += 1;
                continue;
            }
            plan.writes.push(Write {
                sku: entry.sku.clone(),
                hash,
                generation: known.map_or(0, |c| c.generation),
                tombstone,
                body,
                input: input.clone(),
            });
        }
        plan
    }

    /// Read, compare and push one page of feed entries.
    pub async fn page(
        &self,
        entries: &[FeedEntry],
        force: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<PageResult, AdapterError> {
        let skus: Vec<String> = entries.iter().map(|e| e.sku.clone()).collect();
        let items = self
            .source
            .load(self.key.org, self.entity, &skus, now)
            .await?;
        let confirmed = store::confirmed(self.queue.pool(), &self.key, &skus)
            .await
            .map_err(|e| AdapterError::transient(format!("database: {e}")))?;
        let plan = self.plan(entries, &items, &confirmed, force);
        let mut result = PageResult {
            examined: entries.len() as i64,
            skipped: plan.skipped,
            ..PageResult::default()
        };
        let (confirmations, mut failures, unfinished) = self.push(plan.writes).await;
        failures.extend(plan.failures);
        result.failed = failures.len() as i64;
        for failure in &failures {
            self.bury(failure).await?;
        }
        result.confirmations = confirmations;
        result.unfinished = unfinished;
        Ok(result)
    }

    /// Push writes in the adapter's batch form; retry the transient failures a few rounds.
    /// Returns the confirmations, the items the partner refused, and the last transient error
    /// if some writes never went through.
    pub async fn push(
        &self,
        mut writes: Vec<Write>,
    ) -> (Vec<Confirmation>, Vec<ItemFailure>, Option<AdapterError>) {
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
            if round >= TRANSIENT_ROUNDS {
                return (confirmations, failures, last);
            }
            let Some(wait) = round_pause(pause, every_refusal_asked, round) else {
                return (confirmations, failures, last);
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
        ) -> Result<HashMap<String, Value>, AdapterError> {
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

    #[tokio::test]
    async fn a_page_is_planned_by_comparing_hashes_with_what_the_partner_confirmed() {
        let s = syncer();
        let items: HashMap<String, Value> = [
            ("SAME", json!({"sku": "SAME", "name": "Plate"})),
            ("NEW", json!({"sku": "NEW", "name": "Bar"})),
            ("CHANGED", json!({"sku": "CHANGED", "name": "Rod v2"})),
            ("BROKEN", json!({"sku": "BROKEN"})),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let confirmed_as = |body: Value, generation: i64| Confirmed {
            hash: content_hash(&body),
            generation,
            external_id: Some("ext-1".into()),
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
}
