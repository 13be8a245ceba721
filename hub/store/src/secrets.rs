//! Encrypted partner credentials: rows of `(org, name, nonce, ciphertext)`. Encryption and
//! decryption happen in the runtime (switchyard-runtime's `secrets`); this module only moves
//! the sealed bytes.

use crate::db::Result;
use sqlx::PgPool;
use switchyard_core::ids::OrgId;

/// One sealed secret.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedSecret {
    pub name: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// Store (or replace) a sealed secret of an organization.
pub async fn put(pool: &PgPool, org: OrgId, secret: &SealedSecret) -> Result<()> {
    sqlx::query(
        "INSERT INTO secrets (org_id, name, nonce, ciphertext) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, name) DO UPDATE SET nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, updated_at = now()",
    )
    .bind(org.0)
    .bind(&secret.name)
    .bind(&secret.nonce)
    .bind(&secret.ciphertext)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every sealed secret of an organization.
pub async fn all_of(pool: &PgPool, org: OrgId) -> Result<Vec<SealedSecret>> {
    Ok(
        sqlx::query_as("SELECT name, nonce, ciphertext FROM secrets WHERE org_id = $1")
            .bind(org.0)
            .fetch_all(pool)
            .await?,
    )
}

/// The slugs of the organizations that have stored secrets, in order.
pub async fn orgs_with_secrets(pool: &PgPool) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT o.slug FROM secrets s JOIN organizations o ON o.id = s.org_id ORDER BY 1",
    )
    .fetch_all(pool)
    .await?)
}
