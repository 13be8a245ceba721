//! Shopify's payloads that the client reads itself (the rest passes through as JSON): the
//! cost extension every answer carries and the shapes of errors.

use serde::Deserialize;

/// `extensions.cost` of every Admin GraphQL answer.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub requested_query_cost: Option<f64>,
    pub actual_query_cost: Option<f64>,
    pub throttle_status: Option<ThrottleStatus>,
}

/// The server's leaky bucket as it stood after the request.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

/// One top-level error (`errors[]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GraphqlError {
    pub message: String,
    #[serde(default)]
    pub extensions: Option<serde_json::Value>,
}

impl GraphqlError {
    /// `extensions.code` (`THROTTLED`, `MAX_COST_EXCEEDED`, `undefinedField`...).
    pub fn code(&self) -> Option<&str> {
        self.extensions.as_ref()?.get("code")?.as_str()
    }
}

/// A mutation's `userErrors[]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserError {
    #[serde(default)]
    pub field: Option<Vec<String>>,
    pub message: String,
    #[serde(default)]
    pub code: Option<String>,
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(code) = &self.code {
            write!(f, "{code}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(field) = &self.field {
            write!(f, " (at {})", field.join("."))?;
        }
        Ok(())
    }
}

/// The body of any answer: `data`, `errors` and `extensions` are all optional; a 401's body
/// is `{"errors": "[API] Invalid API key ..."}` (a string, not a list).
#[derive(Debug, Clone, Deserialize)]
pub struct Response {
    #[serde(default)]
    pub data: Option<serde_json::Value>,
    #[serde(default)]
    pub errors: Option<Errors>,
    #[serde(default)]
    pub extensions: Option<Extensions>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Errors {
    List(Vec<GraphqlError>),
    Text(String),
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Extensions {
    pub cost: Option<Cost>,
}
