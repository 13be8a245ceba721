//! What the WesellCellular tests share: a fake tenant, secrets for its credentials, documents.
#![allow(dead_code)]

use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_core::adapter::{AdapterContext, OutboundDocument, Payload};
use switchyard_core::ids::PartnerName;
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};
use switchyard_wesellcellular::fake::{FakeWesell, FakeWesellConfig};
use switchyard_wesellcellular::wire::{Quantity, StockItem};
use switchyard_wesellcellular::{WesellAdapter, WesellFactory};

pub struct Tenant {
    pub fake: FakeWesell,
    pub secrets: MapSecrets,
    pub factory: WesellFactory,
}

impl Tenant {
    pub async fn start() -> Self {
        Self::with(FakeWesellConfig::default()).await
    }

    pub async fn with(config: FakeWesellConfig) -> Self {
        let fake = FakeWesell::start(config)
            .await
            .expect("the fake tenant starts");
        let c = fake.config().clone();
        let secrets = MapSecrets::new()
            .with("secret:wsc-id", c.client_id)
            .with("secret:wsc-secret", c.client_secret)
            .with("secret:wrong", "not-the-right-secret");
        Self {
            fake,
            secrets,
            factory: WesellFactory::new().expect("http client"),
        }
    }

    pub fn config(&self) -> Value {
        self.fake.partner_config()
    }

    pub fn adapter_with(&self, config: &Value) -> WesellAdapter {
        self.factory
            .build_wesell(&PartnerName::from("wesell"), config, &self.secrets)
            .unwrap_or_else(|e| panic!("the config builds: {e}"))
    }

    pub fn adapter(&self) -> WesellAdapter {
        self.adapter_with(&self.config())
    }

    pub fn secret_values(&self) -> Vec<String> {
        let c = self.fake.config();
        vec![c.client_id.clone(), c.client_secret.clone()]
    }
}

pub fn ctx(key: &str) -> AdapterContext {
    context(key, RecordingSink::new())
}

pub fn ctx_recording(key: &str) -> (AdapterContext, Arc<RecordingSink>) {
    let sink = RecordingSink::new();
    (context(key, sink.clone()), sink)
}

/// A sales order body as `wesellcellular/order.out` writes it.
pub fn sales_order(reference: &str) -> OutboundDocument {
    OutboundDocument {
        document: "order".into(),
        payload: Payload::Json {
            body: json!({
                "buyerReference": reference,
                "items": [{"sku": "IPHONE12-64GB-A-GSMUNLOCKED", "quantity": 10, "unitPrice": 231.0}],
                "shipTo": {"name": "Westside Wireless", "city": "Chicago", "country": "US"},
            }),
        },
    }
}

pub fn stock_item(
    model: &str,
    grade: &str,
    warehouse: &str,
    quantity: Quantity,
    price: &str,
) -> StockItem {
    StockItem {
        item_id: None,
        model: model.into(),
        storage: "64GB".into(),
        grade: grade.into(),
        lock_status: "GSM Unlocked".into(),
        warehouse: warehouse.into(),
        quantity,
        price: price.parse::<Decimal>().unwrap(),
        currency: Some("USD".into()),
        parts_message: None,
    }
}
