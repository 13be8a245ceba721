//! The partner's id for something we pushed to it (`partner_references`, migration 0032): a
//! Shopify fulfillment gid, a Magento shipment entity id. `partner.push` records the push
//! receipt's id under the job's `reference` and hands it to later pushes of the same
//! reference, which must address the partner's object (a tracking change).

use crate::db::Result;
use sqlx::PgPool;
use switchyard_core::ids::OrgId;

/// The id `partner` gave for `reference`, if a push recorded one.
pub async fn get(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    reference: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT external_id FROM partner_references
         WHERE org_id = $1 AND partner = $2 AND reference = $3",
    )
    .bind(org.0)
    .bind(partner)
    .bind(reference)
    .fetch_optional(pool)
    .await?)
}

/// Record `external_id` for `reference`; the first one recorded is kept (a later push of the
/// same reference answers the same object).
pub async fn record(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    reference: &str,
    document: &str,
    external_id: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO partner_references (org_id, partner, reference, document, external_id)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(org.0)
    .bind(partner)
    .bind(reference)
    .bind(document)
    .bind(external_id)
    .execute(pool)
    .await?;
    Ok(())
}
