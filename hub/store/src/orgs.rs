//! Tenants.

use crate::db::Result;
use sqlx::PgPool;
use switchyard_core::ids::OrgId;
use switchyard_core::model::Organization;
use uuid::Uuid;

/// The organization with this slug, created (named after the slug) if it does not exist yet.
pub async fn ensure(pool: &PgPool, slug: &str) -> Result<Organization> {
    let (id, slug, name): (Uuid, String, String) = sqlx::query_as(
        "INSERT INTO organizations (id, slug, name) VALUES ($1, $2, $2)
         ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
         RETURNING id, slug, name",
    )
    .bind(Uuid::now_v7())
    .bind(slug)
    .fetch_one(pool)
    .await?;
    Ok(Organization {
        id: OrgId(id),
        slug,
        name,
    })
}

pub async fn by_slug(pool: &PgPool, slug: &str) -> Result<Option<Organization>> {
    let row: Option<(Uuid, String, String)> =
        sqlx::query_as("SELECT id, slug, name FROM organizations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(id, slug, name)| Organization {
        id: OrgId(id),
        slug,
        name,
    }))
}

/// The organization with this id.
pub async fn by_id(pool: &PgPool, id: OrgId) -> Result<Option<Organization>> {
    let row: Option<(Uuid, String, String)> =
        sqlx::query_as("SELECT id, slug, name FROM organizations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(id, slug, name)| Organization {
        id: OrgId(id),
        slug,
        name,
    }))
}
