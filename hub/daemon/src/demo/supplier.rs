//! The demo's supplier part (issue #14): the organization's orders go to the PhoneX
//! middleware (`[suppliers.demo] partner = "phonex"`), played by the PhoneX crate's loopback
//! fake, and the customer hears about them by email, received by the test kit's SMTP sink.
//!
//! A customer with an address is created through the REST API and an order of theirs stored;
//! `POST /api/v1/orders/{id}/forward` places it at PhoneX (once: asking again is a 409). The
//! fake then sends its signed status webhooks to the daemon's `POST /webhooks/phonex` out of
//! order — `shipped` (with a UPS tracking number) before `accepted`, and `shipped` again. The
//! order ends `shipped` (the late `accepted` does not move it back), its tracking number is in
//! the `order.supplier_status_changed` event read through the API, and the sink holds the
//! customer's two mails: the order placed and shipped with the carrier's tracking link (the
//! supplier's first status, `pending`, repeats "order placed" and mails nothing).

use super::{wait_for_job, Api, Narrator};
use anyhow::{bail, ensure, Context};
use mail_parser::MessageParser;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::{Duration, Instant};
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::OrderStatus as Ours;
use switchyard_phonex::fake::{FakeConfig, FakePhonex};
use switchyard_phonex::wire::OrderStatus;
use switchyard_runtime::config::{Config, PartnerConfig};
use switchyard_runtime::supplier::config::{ForwardMode, SupplierAssignment};
use switchyard_runtime::testkit::smtp_sink::SmtpSink;
use switchyard_store::orders::{insert_order, NewOrder, OrderInsert};

pub(super) const PARTNER: &str = "phonex";
/// The scopes this step's calls need beyond the demo's others (events: `read:webhooks`).
pub(super) const SCOPES: [&str; 1] = ["read:webhooks"];
pub(super) const API_KEY_SECRET: &str = "phonex-api-key";
pub(super) const WEBHOOK_SECRET: &str = "phonex-webhook-secret";
/// The order mapping's own example, renumbered: the order the demo forwards.
const ORDER_EXAMPLE: &str = "fixtures/mappings/phonex/order.out/so-10077.input.json";
const ORDER_NUMBER: &str = "SO-DEMO-7001";
const CUSTOMER: &str = "C-2001";
const CUSTOMER_NAME: &str = "Westside Wireless";
const CUSTOMER_EMAIL: &str = "orders@westside-wireless.test";
const TRACKING: &str = "1Z999AA10123456784";
const CARRIER: &str = "UPS";
/// UPS is one of the carriers `[email]` knows a tracking page for.
const TRACKING_LINK: &str = "https://www.ups.com/track?tracknum=1Z999AA10123456784";
const WAIT: Duration = Duration::from_secs(30);
/// The customer's mails: the order placed (`order.created`) and shipped with the tracking
/// link. The supplier status `pending` the forward records says what "order placed" said, and
/// the late `accepted` changes nothing: neither mails anything.
pub(super) const MAILS: usize = 2;

/// Files that must exist for this step (checked before anything starts).
pub(super) fn needed_files() -> [&'static str; 2] {
    [ORDER_EXAMPLE, "templates/email/order_shipped.txt"]
}

/// The fake PhoneX and the SMTP sink, running.
pub(super) struct Supplier {
    pub fake: FakePhonex,
    pub sink: SmtpSink,
}

/// What the step saw, for the summary's checks.
pub(super) struct SupplierOutcome {
    pub orders_placed: usize,
    pub webhooks_sent: usize,
    pub status: String,
    pub tracking: Option<String>,
}

pub(super) async fn start() -> anyhow::Result<Supplier> {
    Ok(Supplier {
        fake: FakePhonex::start(FakeConfig::default()).await?,
        sink: SmtpSink::start().await?,
    })
}

impl Supplier {
    /// The credentials the partner's `secret:` references name, to store for the org.
    pub(super) fn secrets(&self) -> [(&'static str, String); 2] {
        let c = self.fake.config();
        [
            (API_KEY_SECRET, c.api_key.clone()),
            (WEBHOOK_SECRET, c.webhook_secret.clone()),
        ]
    }

    /// `[partners.phonex]`, `[suppliers.ORG]` and `[email]` as switchyard.toml would declare
    /// them. Forwarding is `manual` so the EDI step's orders stay with us: only the order this
    /// step forwards through the API goes to PhoneX.
    pub(super) fn configure(&self, config: &mut Config, org: &str) -> anyhow::Result<()> {
        // Written as TOML (not converted from the fake's JSON `partner_config`): serde_json's
        // arbitrary-precision numbers serialize as maps, which TOML reads as tables. `hex` is
        // how the fake (FakeConfig::default) signs.
        let settings: toml::Table = toml::from_str(&format!(
            "base_url = {:?}\napi_key = \"secret:{API_KEY_SECRET}\"\ntimeout_ms = 5000\n\
             webhooks = {{ secret = \"secret:{WEBHOOK_SECRET}\", encoding = \"hex\" }}\n",
            self.fake.base_url()
        ))?;
        config.partners.insert(
            PARTNER.into(),
            PartnerConfig::new(PARTNER, settings).org(org),
        );
        // A config's own suppliers would name partners the demo cleared.
        config.suppliers.clear();
        config.suppliers.insert(
            org.into(),
            SupplierAssignment {
                partner: PARTNER.into(),
                order_mapping: None,
                forward: ForwardMode::Manual,
            },
        );
        let email = toml::from_str::<toml::Table>(&format!(
            "host = {:?}\nport = {}\nsecurity = \"none\"\nfrom = \"Switchyard <notify@hub.test>\"\n\
             templates = \"templates/email\"\npublic_url = \"https://hub.test\"\n",
            self.sink.host(),
            self.sink.port()
        ))?;
        config
            .sections
            .insert("email".into(), toml::Value::Table(email));
        Ok(())
    }

    /// Once the API listens: where the fake sends its webhooks.
    pub(super) fn webhooks_to(&self, api_base: &str) {
        self.fake
            .set_webhook_url(format!("{api_base}/webhooks/{PARTNER}"));
    }

    pub(super) async fn shutdown(self) {
        self.fake.shutdown().await;
    }
}

pub(super) async fn run(
    n: &mut Narrator,
    api: &Api<'_>,
    pool: &PgPool,
    org: OrgId,
    s: &Supplier,
) -> anyhow::Result<SupplierOutcome> {
    n.step("A customer's order forwarded to the supplier, PhoneX, through the REST API");
    api.send_json(
        reqwest::Method::PUT,
        &format!("/api/v1/customers/{CUSTOMER}"),
        json!({ "name": CUSTOMER_NAME }),
    )
    .await?;
    api.send_json(
        reqwest::Method::PUT,
        &format!("/api/v1/customers/{CUSTOMER}/notification-preferences"),
        json!({ "email": CUSTOMER_EMAIL }),
    )
    .await?;
    n.say(format!(
        "customer {CUSTOMER} ({CUSTOMER_NAME}) with notifications to {CUSTOMER_EMAIL}"
    ));
    let order = store_order(pool, org).await?;
    n.say(format!(
        "order {ORDER_NUMBER} (the PhoneX order mapping's example, renumbered) stored as a sales channel stores one: the API creates no orders"
    ));
    let forward = format!("/api/v1/orders/{}/forward", order.0);
    let job = api.post(&forward, None, json!({})).await?;
    let job_id = job["id"].as_str().context("forward job id")?;
    wait_for_job(api, job_id, WAIT).await?;
    let placed = s
        .fake
        .order_by_number(ORDER_NUMBER)
        .context("the forward succeeded but PhoneX holds no such order")?;
    let supplier_id = placed.order.id.as_str().to_owned();
    n.say(format!(
        "POST {forward}: job {job_id} placed PhoneX order {supplier_id}, {} lines (one per SKU), idempotency key {}",
        placed.request.items.len(),
        placed.idempotency_key
    ));
    let again = api.post_status(&forward, None, json!({})).await?;
    ensure!(
        again == 409,
        "forwarding a forwarded order must answer 409, got {again}"
    );
    ensure!(
        s.fake.orders_placed() == 1,
        "PhoneX holds {} orders, expected exactly 1",
        s.fake.orders_placed()
    );
    n.say(format!(
        "asked again: HTTP {again} (forwarded already); PhoneX counts {} order placed",
        s.fake.orders_placed()
    ));

    n.step("PhoneX's status webhooks out of order: shipped before accepted, then shipped again");
    let advance = |status, tracking| {
        s.fake
            .advance(&supplier_id, status, tracking)
            .map_err(anyhow::Error::msg)
    };
    let accepted = advance(OrderStatus::Accepted, None)?;
    let shipped = advance(OrderStatus::Shipped, Some((TRACKING, Some(CARRIER))))?;
    let mut sent = 0;
    for (what, delivery, expected) in [
        ("shipped", &shipped, 202),
        ("accepted (late)", &accepted, 202),
        ("shipped (redelivered)", &shipped, 200),
    ] {
        let status = s.fake.deliver(delivery).await.map_err(anyhow::Error::msg)?;
        sent += 1;
        n.say(format!(
            "{what:<22} event {} signed X-PhoneX-Signature → HTTP {status}",
            delivery.event_id
        ));
        ensure!(
            status == expected,
            "webhook `{what}` answered {status}, expected {expected}"
        );
    }
    // Each stored delivery is processed by one `webhook.process`; the redelivery was answered
    // 200 and queued nothing.
    wait_for_succeeded(api, "webhook.process", 2).await?;
    let view = api.get(&format!("/api/v1/orders/{}", order.0)).await?;
    let status = view["status"].as_str().unwrap_or_default().to_owned();
    let events = api
        .get("/api/v1/events?type=order.supplier_status_changed&limit=500")
        .await?;
    let ours: Vec<&Value> = events["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|e| e["data"]["order_id"].as_str() == Some(&order.0.to_string()))
                .collect()
        })
        .unwrap_or_default();
    // Newest first: the order's latest supplier status.
    let latest = ours
        .first()
        .context("no order.supplier_status_changed event")?;
    let tracking = latest["data"]["tracking_number"]
        .as_str()
        .map(str::to_owned);
    n.say(format!(
        "GET /api/v1/orders/{}: status {status}; {} status event(s), the latest `{}` with tracking {} ({})",
        order.0,
        ours.len(),
        latest["data"]["status"].as_str().unwrap_or("?"),
        tracking.as_deref().unwrap_or("none"),
        latest["data"]["carrier"].as_str().unwrap_or("no carrier")
    ));
    ensure!(
        status == Ours::Shipped.as_str(),
        "order {ORDER_NUMBER} is `{status}`, expected `shipped` (the late `accepted` must not move it back)"
    );
    ensure!(
        tracking.as_deref() == Some(TRACKING),
        "order {ORDER_NUMBER}'s tracking is {tracking:?}, expected {TRACKING}"
    );
    ensure!(
        ours.iter()
            .all(|e| e["data"]["status"].as_str() != Some("accepted")),
        "the late `accepted` was applied after `shipped`"
    );

    n.step("The customer's emails, over real SMTP to the sink");
    let mails = s.sink.wait_for(MAILS, WAIT).await?;
    // A mail is in the sink a moment before its job is marked sent: the summary counts jobs.
    wait_for_succeeded(api, "notify.email", MAILS).await?;
    for m in &mails {
        let (subject, text) = read_mail(&m.data, &m.to)?;
        n.say(format!(
            "to {}: \"{subject}\"{}",
            m.to.join(", "),
            if text.contains(TRACKING_LINK) {
                format!(" — tracking link {TRACKING_LINK}")
            } else {
                String::new()
            }
        ));
    }
    let subjects: Vec<(String, String)> = mails
        .iter()
        .map(|m| read_mail(&m.data, &m.to))
        .collect::<anyhow::Result<_>>()?;
    let shipped_mail = format!("Order {ORDER_NUMBER} shipped");
    let mut got: Vec<&str> = subjects.iter().map(|(s, _)| s.as_str()).collect();
    got.sort_unstable();
    let mut expected = [
        format!("Order {ORDER_NUMBER} received"),
        shipped_mail.clone(),
    ];
    expected.sort_unstable();
    ensure!(
        got == expected,
        "the sink holds {got:?}, expected one mail each: {expected:?}"
    );
    let Some((_, text)) = subjects.iter().find(|(s, _)| *s == shipped_mail) else {
        bail!("no \"{shipped_mail}\" mail in the sink: {subjects:?}");
    };
    ensure!(
        text.contains(TRACKING) && text.contains(TRACKING_LINK),
        "the shipped mail lacks the tracking number or its link {TRACKING_LINK}:\n{text}"
    );
    Ok(SupplierOutcome {
        orders_placed: s.fake.orders_placed(),
        webhooks_sent: sent,
        status,
        tracking,
    })
}

/// The customer's order, as a sales channel (EDI, a shop) stores one: the REST API has no
/// route that creates orders, and this step is about what happens after.
async fn store_order(pool: &PgPool, org: OrgId) -> anyhow::Result<OrderId> {
    let mut canonical: Value = serde_json::from_str(&std::fs::read_to_string(ORDER_EXAMPLE)?)?;
    canonical["order_number"] = json!(ORDER_NUMBER);
    canonical["customer_id"] = json!(CUSTOMER);
    let new = NewOrder {
        org,
        order_number: ORDER_NUMBER.into(),
        customer_id: Some(CUSTOMER.into()),
        customer_po: format!("PO-{ORDER_NUMBER}"),
        status: Ours::Pending,
        canonical,
        source_message_id: None,
        partner: None,
        source_set: None,
        mapped: None,
        mapping_hash: None,
        review_errors: vec![],
        reply_to: None,
    };
    match insert_order(pool, &new).await? {
        OrderInsert::Stored(id) => Ok(id),
        OrderInsert::Existing(row) => bail!(
            "order {ORDER_NUMBER} exists already ({}) in a fresh demo database",
            row.id
        ),
    }
}

/// Waits until `n` jobs of `kind` succeeded, read through the API.
async fn wait_for_succeeded(api: &Api<'_>, kind: &str, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let page = api
            .get(&format!(
                "/api/v1/jobs?kind={kind}&state=succeeded&limit=500"
            ))
            .await?;
        let done = page["items"].as_array().map_or(0, Vec::len);
        if done >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{done} of {n} `{kind}` jobs succeeded after {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A received message's subject and text part, checked to be addressed to the customer.
fn read_mail(data: &[u8], envelope_to: &[String]) -> anyhow::Result<(String, String)> {
    let m = MessageParser::default()
        .parse(data)
        .context("an unparsable message in the SMTP sink")?;
    let to = m
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default();
    ensure!(
        to == CUSTOMER_EMAIL && envelope_to == [CUSTOMER_EMAIL],
        "a mail to {to} (envelope {envelope_to:?}), expected {CUSTOMER_EMAIL}"
    );
    Ok((
        m.subject().unwrap_or_default().to_owned(),
        m.body_text(0).unwrap_or_default().into_owned(),
    ))
}
