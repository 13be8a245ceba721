//! A database per test, created from the server's `postgres` database and dropped at the end.

use anyhow::Context;
use sqlx::{Connection, PgConnection, PgPool};

fn base_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_db(url: &str, db: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, rest)) => {
            let query = rest
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            format!("{server}/{db}{query}")
        }
        None => format!("{url}/{db}"),
    }
}

/// A database created for one test and dropped when it ends. Fails (never skips) when
/// Postgres is unreachable.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn create() -> anyhow::Result<Self> {
        let server = base_url();
        let admin = with_db(&server, "postgres");
        let mut conn = PgConnection::connect(&admin).await.with_context(|| {
            format!("Postgres must be running for the end-to-end tests ({admin}); start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`")
        })?;
        let name = format!("sy_e2e_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
        let url = with_db(&server, &name);
        let pool = switchyard_store::connect(&url, 8).await?;
        switchyard_store::MIGRATOR.run(&pool).await?;
        Ok(Self { name, url, pool })
    }

    pub async fn drop_db(self) {
        self.pool.close().await;
        if let Ok(mut conn) = PgConnection::connect(&with_db(&base_url(), "postgres")).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
        }
    }
}
