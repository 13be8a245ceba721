//! Scopes are data. The hub declares the scopes of its own routes ([`HUB_SCOPES`]); every
//! integration declares the scopes of its routes; a key may be given only declared scopes.
//! (A handler names the scope it needs as a type: `crate::auth::Scoped`.)

use crate::error::ApiError;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use switchyard_store::keys::Scope;
use utoipa::ToSchema;

/// A scope someone declared, with what it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScopeSpec {
    pub name: &'static str,
    pub about: &'static str,
}

/// The scopes of the hub's own routes.
pub const HUB_SCOPES: &[ScopeSpec] = &[
    ScopeSpec {
        name: "admin:keys",
        about: "create, change and revoke API keys",
    },
    ScopeSpec {
        name: "read:logs",
        about: "integration logs and their statistics",
    },
    ScopeSpec {
        name: "read:jobs",
        about: "jobs and the retry queue",
    },
    ScopeSpec {
        name: "write:jobs",
        about: "enqueue jobs, retry or skip waiting ones",
    },
    ScopeSpec {
        name: "read:dead-letters",
        about: "the dead-letter queue",
    },
    ScopeSpec {
        name: "write:dead-letters",
        about: "replay and delete dead letters",
    },
    ScopeSpec {
        name: "read:orders",
        about: "orders, customers and products",
    },
    ScopeSpec {
        name: "write:orders",
        about: "fix orders waiting for review; customers and products",
    },
    ScopeSpec {
        name: "read:catalog",
        about: "catalog products and variants, and the change feed",
    },
    ScopeSpec {
        name: "read:inventory",
        about: "stock levels, locations, availability and reservations",
    },
    ScopeSpec {
        name: "read:pricing",
        about: "the price each customer sees: one product, a cart",
    },
    ScopeSpec {
        name: "write:catalog",
        about: "upsert and delete catalog products; price lists, list prices, tiers, discounts, contracts, volume breaks, unit conversions",
    },
    ScopeSpec {
        name: "write:inventory",
        about: "stock levels and locations; reserve and release stock",
    },
    ScopeSpec {
        name: "read:webhooks",
        about: "outbound webhook endpoints, their delivery logs, and the domain events",
    },
    ScopeSpec {
        name: "write:webhooks",
        about: "create, change, pause, resume, test and delete outbound webhook endpoints; rotate their secrets",
    },
];

/// The declared scopes of this build.
#[derive(Debug, Clone)]
pub struct Scopes(Arc<Vec<ScopeSpec>>);

impl Scopes {
    /// The hub's own.
    pub fn hub() -> Self {
        Self(Arc::new(HUB_SCOPES.to_vec()))
    }

    /// The hub's and `more` (from the integrations); a scope declared twice counts once.
    pub fn with(&self, more: &[ScopeSpec]) -> Self {
        let mut all = self.0.as_ref().clone();
        for s in more {
            if !all.iter().any(|a| a.name == s.name) {
                all.push(*s);
            }
        }
        Self(Arc::new(all))
    }

    pub fn all(&self) -> &[ScopeSpec] {
        &self.0
    }

    pub fn is_declared(&self, name: &str) -> bool {
        self.0.iter().any(|s| s.name == name)
    }

    /// Parse scope names for a key: each must be well formed and declared (exactly: the
    /// document lists them as an enum); the error names the first that is not and lists the
    /// declared ones.
    pub fn parse_all<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<Scope>, ApiError> {
        names
            .iter()
            .map(|n| {
                let n = n.as_ref();
                if self.is_declared(n) {
                    Scope::parse(n).map_err(ApiError::from)
                } else {
                    let known: Vec<&str> = self.0.iter().map(|s| s.name).collect();
                    Err(ApiError::validation(format!(
                        "unknown scope `{n}` (known: {})",
                        known.join(", ")
                    ))
                    .with_details(json!({ "scope": n, "known": known })))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_get_only_declared_scopes() {
        let scopes = Scopes::hub().with(&[ScopeSpec {
            name: "read:probe",
            about: "a test integration's reads",
        }]);
        assert!(scopes.parse_all(&["read:probe", "write:jobs"]).is_ok());
        let e = scopes.parse_all(&["write:probe"]).unwrap_err();
        assert!(
            e.message.contains("unknown scope `write:probe`"),
            "{}",
            e.message
        );
        assert!(e.message.contains("read:probe"), "{}", e.message);
        assert!(Scopes::hub().parse_all(&["read:probe"]).is_err());
        // Declaring the same scope twice keeps one.
        assert_eq!(
            scopes.with(&[HUB_SCOPES[0]]).all().len(),
            HUB_SCOPES.len() + 1
        );
    }
}
