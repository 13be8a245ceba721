//! Email notification preferences (`write:orders`, like the customer they belong to) and the
//! unsubscribe link every notification mail carries (no key: the signed token is the proof).
//!
//! The token is `ORG.NOTICE.CUSTOMER.MAC`: the organization's id, the notice, the customer id
//! (base64url) and an HMAC-SHA256 over the first three with the organization's unsubscribe
//! key (`switchyard_store::notifications::unsubscribe_key`, made on first use and kept in the
//! database so the worker that signs and every API process that verifies share it). A token
//! never expires: an unsubscribe link in an old mail must still work.

use crate::auth::{Scoped, WriteOrders};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::responses::{BadRequest, NotFound, UnprocessableEntity, UnsupportedMediaType};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;
use switchyard_core::ids::OrgId;
use switchyard_core::notify::{DeliveryMode, Notice};
use switchyard_store::notifications::{self as store, Recipient};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_preferences))
}

pub(crate) fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(unsubscribe))
}

fn mac(key: &[u8], signed: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(signed.as_bytes());
    mac
}

/// The unsubscribe token for `customer_id`'s `notice` mails of `org`, signed with `key`.
pub fn unsubscribe_token(key: &[u8], org: OrgId, customer_id: &str, notice: Notice) -> String {
    let signed = format!(
        "{}.{}.{}",
        org.0.simple(),
        notice.as_str(),
        URL_SAFE_NO_PAD.encode(customer_id)
    );
    let tag = URL_SAFE_NO_PAD.encode(mac(key, &signed).finalize().into_bytes());
    format!("{signed}.{tag}")
}

/// What a token names, before its signature is checked.
struct Claimed {
    org: OrgId,
    notice: Notice,
    customer_id: String,
    signed: String,
    tag: Vec<u8>,
}

fn parse_token(token: &str) -> Option<Claimed> {
    let (signed, tag) = token.rsplit_once('.')?;
    let mut parts = signed.splitn(3, '.');
    let org = Uuid::try_parse(parts.next()?).ok()?;
    let notice = Notice::parse(parts.next()?)?;
    let customer_id = String::from_utf8(URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()?;
    Some(Claimed {
        org: OrgId(org),
        notice,
        customer_id,
        signed: signed.to_owned(),
        tag: URL_SAFE_NO_PAD.decode(tag).ok()?,
    })
}

/// How a customer wants one notice (the API's face of [`DeliveryMode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Immediate,
    Digest,
    Off,
}

impl From<Mode> for DeliveryMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Immediate => DeliveryMode::Immediate,
            Mode::Digest => DeliveryMode::Digest,
            Mode::Off => DeliveryMode::Off,
        }
    }
}

impl From<DeliveryMode> for Mode {
    fn from(m: DeliveryMode) -> Self {
        match m {
            DeliveryMode::Immediate => Mode::Immediate,
            DeliveryMode::Digest => Mode::Digest,
            DeliveryMode::Off => Mode::Off,
        }
    }
}

/// One mode per notice; a notice left out keeps its mode (immediate when never set).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeModes {
    pub order_placed: Option<Mode>,
    pub order_accepted: Option<Mode>,
    pub order_rejected: Option<Mode>,
    pub order_fulfillment_started: Option<Mode>,
    pub order_shipped: Option<Mode>,
    pub order_status_changed: Option<Mode>,
}

impl NoticeModes {
    fn entries(&self) -> [(Notice, Option<Mode>); 6] {
        [
            (Notice::OrderPlaced, self.order_placed),
            (Notice::OrderAccepted, self.order_accepted),
            (Notice::OrderRejected, self.order_rejected),
            (
                Notice::OrderFulfillmentStarted,
                self.order_fulfillment_started,
            ),
            (Notice::OrderShipped, self.order_shipped),
            (Notice::OrderStatusChanged, self.order_status_changed),
        ]
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    /// The customer's address for notifications; `null` stops them all; absent keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[^@\s]+@[^@\s]+$", max_length = 254, required = false)]
    pub email: Option<Option<String>>,
    #[serde(default)]
    pub preferences: NoticeModes,
}

/// `Some(None)` for an explicit `null`, so it differs from a field left out.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesView {
    pub customer_id: String,
    pub email: Option<String>,
    /// Every customer notice with its mode.
    #[schema(value_type = BTreeMap<String, Mode>)]
    pub preferences: BTreeMap<&'static str, Mode>,
}

impl From<Recipient> for PreferencesView {
    fn from(r: Recipient) -> Self {
        PreferencesView {
            preferences: Notice::CUSTOMER
                .iter()
                .map(|n| (n.as_str(), r.mode(*n).into()))
                .collect(),
            customer_id: r.customer_id,
            email: r.email,
        }
    }
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Set a customer's notification address and, per notice, immediate mails, the daily digest
/// or none. Setting a notice again after an unsubscribe subscribes it again.
#[utoipa::path(put, path = "/customers/{customer_id}/notification-preferences", tag = "orders",
    params(("customer_id" = String, Path, min_length = 1, description = "our customer id")),
    request_body = PreferencesInput,
    responses((status = 200, body = PreferencesView), (status = 400, response = BadRequest),
        (status = 404, response = NotFound), (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableEntity)))]
async fn put_preferences(
    State(app): State<AppState>,
    Scoped(auth, _): Scoped<WriteOrders>,
    ApiPath(customer_id): ApiPath<String>,
    ApiJson(input): ApiJson<PreferencesInput>,
) -> Result<Json<PreferencesView>, ApiError> {
    if let Some(Some(email)) = &input.email {
        if !valid_email(email) {
            return Err(ApiError::validation(
                "email: must be an address like name@example.com",
            ));
        }
    }
    let modes: Vec<(Notice, DeliveryMode)> = input
        .preferences
        .entries()
        .into_iter()
        .filter_map(|(n, m)| Some((n, m?.into())))
        .collect();
    let email = input.email.as_ref().map(|e| e.as_deref());
    let stored = store::set_preferences(
        &app.api.pool,
        auth.org,
        &customer_id,
        email,
        &modes,
        app.api.queue.now(),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("customer"))?;
    Ok(Json(stored.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    /// The token of the mail's unsubscribe link.
    #[param(min_length = 1)]
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Unsubscribed {
    pub unsubscribed: bool,
    #[schema(value_type = String)]
    pub notice: &'static str,
    pub message: String,
}

/// Follow a notification mail's unsubscribe link: that kind of mail stops for that customer
/// (until its preferences set it again). No API key: the token is signed.
#[utoipa::path(get, path = "/notifications/unsubscribe", tag = "orders", security(()),
    params(UnsubscribeQuery),
    responses((status = 200, body = Unsubscribed), (status = 400, response = BadRequest),
        (status = 404, description = "the token is not valid (or its customer is gone)", body = ErrorBody)))]
async fn unsubscribe(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<UnsubscribeQuery>,
) -> Result<Json<Unsubscribed>, ApiError> {
    // One answer for every bad token, so a guesser learns nothing about what exists.
    let invalid = || ApiError::not_found("unsubscribe token");
    let claimed = parse_token(&q.token).ok_or_else(invalid)?;
    let key = store::unsubscribe_key(&app.api.pool, claimed.org)
        .await?
        .ok_or_else(invalid)?;
    mac(&key, &claimed.signed)
        .verify_slice(&claimed.tag)
        .map_err(|_| invalid())?;
    let done = store::unsubscribe(
        &app.api.pool,
        claimed.org,
        &claimed.customer_id,
        claimed.notice,
        app.api.queue.now(),
    )
    .await?;
    if !done {
        return Err(invalid());
    }
    Ok(Json(Unsubscribed {
        unsubscribed: true,
        notice: claimed.notice.as_str(),
        message: format!(
            "You will no longer receive `{}` emails.",
            claimed.notice.as_str().replace('_', " ")
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_what_it_was_made_for_and_a_changed_one_is_refused() {
        let key = [7u8; 32];
        let org = OrgId(Uuid::now_v7());
        let token = unsubscribe_token(&key, org, "acme.1/x", Notice::OrderShipped);
        let c = parse_token(&token).unwrap();
        assert_eq!(
            (c.org, c.notice, c.customer_id.as_str()),
            (org, Notice::OrderShipped, "acme.1/x")
        );
        assert!(mac(&key, &c.signed).verify_slice(&c.tag).is_ok());
        // Another notice under the same MAC does not verify.
        let forged = token.replacen("order_shipped", "order_placed", 1);
        let f = parse_token(&forged).unwrap();
        assert!(mac(&key, &f.signed).verify_slice(&f.tag).is_err());
        assert!(mac(&[8u8; 32], &c.signed).verify_slice(&c.tag).is_err());
    }
}
