//! What the Magento tests share: a fake store, secrets for its credentials, auth tables.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_core::adapter::{AdapterContext, OutboundDocument, Payload};
use switchyard_core::ids::PartnerName;
use switchyard_magento::fake::{FakeMagento, FakeStoreConfig};
use switchyard_magento::{MagentoAdapter, MagentoFactory};
use switchyard_runtime::testkit::doubles::{context, MapSecrets, RecordingSink};

pub struct Store {
    pub fake: FakeMagento,
    pub secrets: MapSecrets,
    pub factory: MagentoFactory,
}

impl Store {
    pub async fn start() -> Self {
        Self::with(FakeStoreConfig::default()).await
    }

    pub async fn with(config: FakeStoreConfig) -> Self {
        let fake = FakeMagento::start(config)
            .await
            .expect("the fake store starts");
        let c = fake.config().clone();
        let secrets = MapSecrets::new()
            .with("secret:mg-token", c.integration_token)
            .with("secret:mg-ck", c.consumer_key)
            .with("secret:mg-cs", c.consumer_secret)
            .with("secret:mg-at", c.access_token)
            .with("secret:mg-as", c.access_token_secret)
            .with("secret:mg-user", c.admin_username)
            .with("secret:mg-pass", c.admin_password)
            .with("secret:wrong", "not-the-right-value");
        Self {
            fake,
            secrets,
            factory: MagentoFactory::new().expect("http client"),
        }
    }

    pub fn config(&self, auth: Value) -> Value {
        self.fake.partner_config(auth)
    }

    pub fn adapter(&self, config: &Value) -> MagentoAdapter {
        self.factory
            .build_magento(&PartnerName::from("shop"), config, &self.secrets)
            .unwrap_or_else(|e| panic!("the config builds: {e}"))
    }

    /// Every credential value, for asserting none reaches a log.
    pub fn secret_values(&self) -> Vec<String> {
        let c = self.fake.config();
        vec![
            c.integration_token.clone(),
            c.consumer_key.clone(),
            c.consumer_secret.clone(),
            c.access_token.clone(),
            c.access_token_secret.clone(),
            c.admin_password.clone(),
        ]
    }
}

pub fn oauth(method: &str) -> Value {
    json!({"mode": "oauth", "consumer_key_ref": "secret:mg-ck", "consumer_secret_ref": "secret:mg-cs",
           "access_token_ref": "secret:mg-at", "access_token_secret_ref": "secret:mg-as",
           "signature_method": method})
}

pub fn admin() -> Value {
    json!({"mode": "admin", "username_ref": "secret:mg-user", "password_ref": "secret:mg-pass"})
}

pub fn integration_token() -> Value {
    json!({"mode": "integration_token", "token_ref": "secret:mg-token"})
}

pub fn ctx(key: &str) -> (AdapterContext, Arc<RecordingSink>) {
    let sink = RecordingSink::new();
    (context(key, sink.clone()), sink)
}

pub fn doc(document: &str, body: Value) -> OutboundDocument {
    OutboundDocument {
        document: document.to_owned(),
        payload: Payload::Json { body },
    }
}

pub fn product(sku: &str, name: &str) -> OutboundDocument {
    doc(
        "catalog",
        json!({"product": {"sku": sku, "name": name, "price": 10, "type_id": "simple"}}),
    )
}
