//! `notify.email`: one mail to one recipient, for one event (enqueued by the trigger on
//! `events`) or for a customer's digest (enqueued by `notify.digest`).
//!
//! The customer's preference is read when the job runs, so a change or an unsubscribe made
//! after the event is honoured: `off` sends nothing, `digest` keeps the event for the next
//! digest, `immediate` sends now. The mail's identity is the job's idempotency key
//! (`EVENT:customer:ID`); its Message-ID is derived from it, and once `email_messages` says it
//! was sent no retry or replay sends it again.

use super::templates::{Rendered, DIGEST};
use super::Settings;
use crate::context::JobContext;
use crate::job::{Job, JobKindSpec};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use switchyard_api::routes::notifications::unsubscribe_token;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{EventId, OrgId};
use switchyard_core::notify::{DeliveryMode, Notice};
use switchyard_core::JobPayload;
use switchyard_store::events::{self, EventRow};
use switchyard_store::notifications::{self as store, EmailAttempt, EmailStatus, Recipient};
use switchyard_store::queue::ClaimedJob;

/// Who gets the mail of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum To {
    /// `{"customer": "C-1"}`: the order's customer.
    Customer(String),
    /// `"purchaser"`: the organization's purchaser (`[email.purchasers]`).
    Purchaser,
}

/// The payload of `notify.email`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mail", rename_all = "snake_case")]
pub enum NotifyEmail {
    /// One event's mail.
    Event { event: EventId, recipient: To },
    /// A customer's digest of what was kept for it before `until`.
    Digest {
        customer: String,
        until: DateTime<Utc>,
    },
}

impl JobPayload for NotifyEmail {
    const KIND: &'static str = store::EMAIL_KIND;
}

struct Sender {
    settings: Option<Arc<Settings>>,
}

pub fn spec(settings: Option<Arc<Settings>>) -> JobKindSpec {
    JobKindSpec::typed(Sender { settings })
}

fn store_err(e: impl std::fmt::Display) -> AdapterError {
    AdapterError::transient(e.to_string())
}

/// A mail ready to go, and what its log row says.
struct Outgoing<'a> {
    to: Mailbox,
    notice: &'a str,
    event: Option<EventId>,
    customer_id: Option<&'a str>,
    rendered: Rendered,
}

#[async_trait]
impl Job for Sender {
    type Payload = NotifyEmail;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: NotifyEmail,
    ) -> Result<(), AdapterError> {
        let Some(settings) = &self.settings else {
            tracing::info!(job = %job.id, "no [email] section: notifications are off; nothing sent");
            return Ok(());
        };
        let key = job.effect_key();
        if store::already_sent(ctx.pool(), job.org_id, &key)
            .await
            .map_err(store_err)?
        {
            tracing::info!(%key, "mail already sent; not sending it again");
            return Ok(());
        }
        let out = match &p {
            NotifyEmail::Event { event, recipient } => {
                event_mail(ctx, settings, job.org_id, *event, recipient).await?
            }
            NotifyEmail::Digest { customer, until } => {
                digest_mail(ctx, settings, job.org_id, customer, &key, *until).await?
            }
        };
        let Some(out) = out else { return Ok(()) };
        send(ctx, settings, job, &key, out).await
    }
}

/// The mail of one event, or `None` when nobody is to get one now.
async fn event_mail<'a>(
    ctx: &JobContext,
    settings: &Settings,
    org: OrgId,
    event_id: EventId,
    to: &'a To,
) -> Result<Option<Outgoing<'a>>, AdapterError> {
    let Some(event) = events::get(ctx.pool(), org, event_id)
        .await
        .map_err(store_err)?
    else {
        tracing::info!(event = %event_id, "event gone (retention); no mail");
        return Ok(None);
    };
    let Some(notice) = Notice::of_event(&event.event_type, &event.data) else {
        return Ok(None);
    };
    match to {
        To::Purchaser => {
            let Some(address) = purchaser(ctx, settings, org).await? else {
                tracing::info!(%org, "no purchaser configured for the organization; low stock not mailed");
                return Ok(None);
            };
            let context = json!({
                "notice": notice.as_str(),
                "stock": event.data,
                "occurred_at": event.occurred_at,
            });
            let rendered = render(settings, notice.as_str(), &context)?;
            Ok(Some(Outgoing {
                to: address,
                notice: notice.as_str(),
                event: Some(event_id),
                customer_id: None,
                rendered,
            }))
        }
        To::Customer(customer_id) => {
            let Some(r) = store::recipient(ctx.pool(), org, customer_id)
                .await
                .map_err(store_err)?
            else {
                return Ok(None);
            };
            let Some(address) = mailbox_of(&r)? else {
                return Ok(None);
            };
            match r.mode(notice) {
                DeliveryMode::Off => {
                    tracing::info!(customer = %customer_id, %notice, "customer does not want this notice");
                    Ok(None)
                }
                DeliveryMode::Digest => {
                    store::queue_for_digest(
                        ctx.pool(),
                        org,
                        customer_id,
                        event_id,
                        notice,
                        ctx.now(),
                    )
                    .await
                    .map_err(store_err)?;
                    Ok(None)
                }
                DeliveryMode::Immediate => {
                    let context = customer_context(ctx, settings, org, &r, notice, &event).await?;
                    let rendered = render(settings, notice.as_str(), &context)?;
                    Ok(Some(Outgoing {
                        to: address,
                        notice: notice.as_str(),
                        event: Some(event_id),
                        customer_id: Some(customer_id.as_str()),
                        rendered,
                    }))
                }
            }
        }
    }
}

/// The customer's digest: the items kept before `until`, claimed for this mail (a retry
/// finds the same ones, a concurrent digest none of them).
async fn digest_mail<'a>(
    ctx: &JobContext,
    settings: &Settings,
    org: OrgId,
    customer_id: &'a str,
    key: &str,
    until: DateTime<Utc>,
) -> Result<Option<Outgoing<'a>>, AdapterError> {
    let pool = ctx.pool();
    let Some(r) = store::recipient(pool, org, customer_id)
        .await
        .map_err(store_err)?
    else {
        return Ok(None);
    };
    let Some(address) = mailbox_of(&r)? else {
        return Ok(None);
    };
    store::digest_claim(pool, org, customer_id, key, until)
        .await
        .map_err(store_err)?;
    let items = store::digest_items(pool, org, customer_id, key)
        .await
        .map_err(store_err)?;
    let mut entries = Vec::new();
    for item in &items {
        let Some(notice) = Notice::parse(&item.notice) else {
            continue;
        };
        // Unsubscribed (or switched to immediate... which already had its chance) since the
        // event was kept: an `off` notice is left out of the digest too.
        if r.mode(notice) == DeliveryMode::Off {
            continue;
        }
        let event = EventRow {
            id: item.event_id,
            org_id: org,
            event_type: item.event_type.clone(),
            occurred_at: item.occurred_at,
            data: item.data.clone(),
            sample_for: None,
        };
        let context = customer_context(ctx, settings, org, &r, notice, &event).await?;
        let subject = render(settings, notice.as_str(), &context)?.subject;
        let mut entry = context;
        entry["subject"] = json!(subject);
        entries.push(entry);
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let context = json!({
        "notice": DIGEST,
        "customer": customer_json(&r),
        "items": entries,
        "until": until,
    });
    let rendered = render(settings, DIGEST, &context)?;
    Ok(Some(Outgoing {
        to: address,
        notice: DIGEST,
        event: None,
        customer_id: Some(customer_id),
        rendered,
    }))
}

fn customer_json(r: &Recipient) -> Value {
    json!({ "id": r.customer_id, "name": r.name, "email": r.email })
}

/// What a customer's templates see: `customer`, `order` (the event's data), `tracking_url`
/// when carrier and number make one, `unsubscribe_url`, `notice`, `occurred_at`.
async fn customer_context(
    ctx: &JobContext,
    settings: &Settings,
    org: OrgId,
    r: &Recipient,
    notice: Notice,
    event: &EventRow,
) -> Result<Value, AdapterError> {
    let data = &event.data;
    let text = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default();
    let tracking_url = settings
        .tracking
        .link(text("carrier"), text("tracking_number"));
    let key = store::unsubscribe_key(ctx.pool(), org)
        .await
        .map_err(store_err)?
        .ok_or_else(|| AdapterError::permanent("the job's organization does not exist"))?;
    let token = unsubscribe_token(&key, org, &r.customer_id, notice);
    Ok(json!({
        "notice": notice.as_str(),
        "customer": customer_json(r),
        "order": data,
        "tracking_url": tracking_url,
        "unsubscribe_url": format!("{}/api/v1/notifications/unsubscribe?token={token}", settings.public_url),
        "occurred_at": event.occurred_at,
    }))
}

/// A template that does not render (a variable the event lacks) will not render on a retry
/// either: a dead letter, replayable once the template is fixed.
fn render(settings: &Settings, name: &str, ctx: &Value) -> Result<Rendered, AdapterError> {
    settings
        .templates
        .render(name, ctx)
        .map_err(|e| AdapterError::permanent(format!("template: {e}")))
}

fn mailbox_of(r: &Recipient) -> Result<Option<Mailbox>, AdapterError> {
    let Some(email) = &r.email else {
        return Ok(None);
    };
    email
        .parse::<Mailbox>()
        .map(|m| Some(Mailbox::new(Some(r.name.clone()), m.email)))
        .map_err(|e| {
            AdapterError::permanent(format!(
                "customer `{}`: email `{email}`: {e}",
                r.customer_id
            ))
        })
}

/// The purchaser of `org` (`[email.purchasers]` is keyed by slug).
async fn purchaser(
    ctx: &JobContext,
    settings: &Settings,
    org: OrgId,
) -> Result<Option<Mailbox>, AdapterError> {
    for (slug, address) in &settings.purchasers {
        let found = switchyard_store::orgs::by_slug(ctx.pool(), slug)
            .await
            .map_err(store_err)?;
        if found.is_some_and(|o| o.id == org) {
            return Ok(Some(address.clone()));
        }
    }
    Ok(None)
}

/// `<hash-of-org-and-key@sender-domain>`: the same for every attempt of one mail.
pub fn message_id(org: OrgId, key: &str, from: &Mailbox) -> String {
    let digest = Sha256::digest(format!("{}:{key}", org.0).as_bytes());
    format!("<{}@{}>", hex::encode(&digest[..16]), from.email.domain())
}

async fn send(
    ctx: &JobContext,
    settings: &Settings,
    job: &ClaimedJob,
    key: &str,
    out: Outgoing<'_>,
) -> Result<(), AdapterError> {
    let message_id = message_id(job.org_id, key, &settings.mailer.from);
    let recipient = out.to.to_string();
    let message = super::smtp::message(
        &settings.mailer.from,
        super::smtp::Mail {
            to: out.to,
            subject: &out.rendered.subject,
            text: out.rendered.text,
            html: out.rendered.html,
            message_id: &message_id,
        },
    )
    .map_err(|e| AdapterError::permanent(format!("building the mail: {e}")))?;
    let result = settings.mailer.send(message).await;
    let error = result
        .as_ref()
        .err()
        .map(|e| ctx.masker.mask_text(&e.to_string()));
    store::record_attempt(
        ctx.pool(),
        &EmailAttempt {
            org: job.org_id,
            key,
            job: Some(job.id),
            event: out.event,
            notice: out.notice,
            customer_id: out.customer_id,
            recipient: &recipient,
            subject: &out.rendered.subject,
            message_id: &message_id,
            status: if result.is_ok() {
                EmailStatus::Sent
            } else {
                EmailStatus::Failed
            },
            error: error.as_deref(),
            at: ctx.now(),
        },
    )
    .await
    .map_err(store_err)?;
    match &result {
        Ok(()) => tracing::info!(%key, %message_id, notice = out.notice, "mail sent"),
        Err(e) => tracing::warn!(%key, error = %e, "mail not sent"),
    }
    result
}
