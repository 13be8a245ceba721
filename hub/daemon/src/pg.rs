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
