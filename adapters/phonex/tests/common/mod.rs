//! What the PhoneX tests share: a fake PhoneX, secrets for its credentials, orders.
#![allow(dead_code)]

use serde_json::{json, Value};
use switchyard_core::adapter::{OutboundDocument, Payload};
use switchyard_core::ids::PartnerName;
use switchyard_phonex::config::SignatureEncoding;
use switchyard_phonex::fake::{FakeConfig, FakePhonex};
use switchyard_phonex::{PhonexAdapter, PhonexFactory};
use switchyard_runtime::testkit::doubles::MapSecrets;

pub const KEY_REF: &str = "secret:px-key";
pub const WEBHOOK_REF: &str = "secret:px-webhooks";

pub struct Px {
    pub fake: FakePhonex,
    pub secrets: MapSecrets,
    pub factory: PhonexFactory,
}

impl Px {
    pub async fn start() -> Self {
        Self::with(SignatureEncoding::Hex).await
    }

    pub async fn with(encoding: SignatureEncoding) -> Self {
        let fake = FakePhonex::start(FakeConfig {
            encoding,
            ..FakeConfig::default()
        })
        .await
        .expect("the fake PhoneX starts");
        let c = fake.config().clone();
        let secrets = MapSecrets::new()
            .with(KEY_REF, c.api_key)
            .with(WEBHOOK_REF, c.webhook_secret)
            .with("secret:wrong", "px_live_not-the-key");
        Self {
            fake,
            secrets,
            factory: PhonexFactory::new().expect("http client"),
        }
    }

    pub fn config(&self) -> Value {
        self.fake.partner_config(KEY_REF, WEBHOOK_REF)
    }

    pub fn adapter_with(&self, config: &Value) -> PhonexAdapter {
        self.factory
            .build_phonex(&PartnerName::from("phonex"), config, &self.secrets)
            .unwrap_or_else(|e| panic!("the config builds: {e}"))
    }

    pub fn adapter(&self) -> PhonexAdapter {
        self.adapter_with(&self.config())
    }

    pub fn secret_values(&self) -> Vec<String> {
        let c = self.fake.config();
        vec![c.api_key.clone(), c.webhook_secret.clone()]
    }
}

/// An order as `phonex/order.out` maps ours.
pub fn order_body(order_id: &str) -> Value {
    json!({
        "supplier": "wesellcellular",
        "order_id": order_id,
        "customer_id": "worldtech-1734",
        "items": [
            {"sku": "IPHONE12-64GB-A", "quantity": 10, "unit_price": 231.00},
            {"sku": "SGS23-256-GRN-B", "quantity": 2, "unit_price": 389.5}
        ],
        "shipping_address": {"name": "WorldTech", "street": "1 Main St", "city": "Dallas",
                             "state": "TX", "zip": "75201", "country": "US"},
        "metadata": {"source": "switchyard"}
    })
}

pub fn order(body: Value) -> OutboundDocument {
    OutboundDocument {
        document: "order".into(),
        payload: Payload::Json { body },
    }
}

/// `n` stock lines (`PX-000`, `PX-001`...).
pub fn stock(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"sku": format!("px-{i:03}"), "description": format!("item {i}"),
                   "available": i * 10, "price": format!("{i}.50"), "currency": "USD",
                   "updated_at": "2026-11-30T18:06:39Z"})
        })
        .collect()
}

/// An `order.status_updated` body.
pub fn status_body(supplier_order_id: &str, status: &str, updated_at: &str) -> Value {
    json!({"event": "order.status_updated", "order_id": "PXSTKL0000347",
           "supplier_order_id": supplier_order_id, "status": status,
           "tracking_number": "1Z999AA10123456784", "carrier": "UPS",
           "updated_at": updated_at})
}
