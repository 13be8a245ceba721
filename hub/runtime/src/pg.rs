//! Talking about Postgres when it is not there.

use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;

/// What to tell a user whose Postgres does not answer.
pub fn unreachable_hint(url: &str) -> String {
    let target = PgConnectOptions::from_str(url)
        .map(|o| format!("{}:{}", o.get_host(), o.get_port()))
        .unwrap_or_else(|_| url.to_owned());
    format!(
        "cannot connect to Postgres at {target}. Start the local server with \
         `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
         or point DATABASE_URL / SWITCHYARD_DATABASE__URL at a reachable one"
    )
}

/// The URL of the same server's maintenance database (to create and drop databases).
pub fn admin_url(url: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(url)?;
    u.set_path("/postgres");
    Ok(u.to_string())
}

/// The URL with another database name.
pub fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(url)?;
    u.set_path(&format!("/{database}"));
    Ok(u.to_string())
}

/// Creates the database `url` names when the server does not have it yet, so `switchyard run`
/// and `migrate` work on a fresh server. Two processes starting at once may both try; the
/// loser's "already exists" (42P04) is success.
pub async fn ensure_database(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let database = url::Url::parse(url)?
        .path()
        .trim_start_matches('/')
        .to_owned();
    if database.is_empty() || database == "postgres" {
        return Ok(());
    }
    let mut conn = sqlx::PgConnection::connect(&admin_url(url)?)
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n{}", unreachable_hint(url)))?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&database)
        .fetch_optional(&mut conn)
        .await?;
    if exists.is_none() {
        let created = sqlx::query(&format!(
            "CREATE DATABASE \"{}\"",
            database.replace('"', "\"\"")
        ))
        .execute(&mut conn)
        .await;
        match created {
            Ok(_) => tracing::info!(database, "created the database"),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    conn.close().await?;
    Ok(())
}

/// Drop and create `database` on the server of `url` (the demo's fresh database).
pub async fn recreate_database(url: &str, database: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&admin_url(url)?)
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n{}", unreachable_hint(url)))?;
    sqlx::query(&format!(
        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
    ))
    .execute(&mut conn)
    .await?;
    sqlx::query(&format!("CREATE DATABASE \"{database}\""))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    with_database(url, database)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_switch_database() {
        assert_eq!(
            admin_url("postgres://postgres@127.0.0.1:5432/switchyard").unwrap(),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        assert_eq!(
            with_database("postgres://u@h/x?sslmode=disable", "demo").unwrap(),
            "postgres://u@h/demo?sslmode=disable"
        );
        assert!(unreachable_hint("postgres://u@db.example:6543/x").contains("db.example:6543"));
    }
}
