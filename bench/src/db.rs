//! Direct database access for the suite: fresh databases, the webhook backlog (how many
//! stored deliveries still wait for processing), and the durability settings in force.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

/// Which database a run uses.
#[derive(Clone, Debug)]
pub enum Backend {
    /// A SQLite file.
    Sqlite {
        /// Its path.
        path: std::path::PathBuf,
    },
    /// A PostgreSQL database (created fresh by [`Backend::reset`]).
    Postgres {
        /// `postgres://user@host:port` without a database.
        server: String,
        /// The database name (a plain identifier).
        database: String,
        /// `ALTER DATABASE … SET synchronous_commit` after creating it (`None`: the server's
        /// setting). A diagnostic knob: `off` shows how much of the cost is the WAL flush.
        synchronous_commit: Option<String>,
    },
}

#[derive(QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Connections {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    tls: i64,
    #[diesel(sql_type = BigInt)]
    unix: i64,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

/// Stored webhook deliveries by status.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct WebhookCounts {
    /// Waiting for processing.
    pub received: i64,
    /// Processed (or flagged/failed): no longer waiting.
    pub done: i64,
}

#[derive(QueryableByName)]
struct KeyStatus {
    #[diesel(sql_type = Text)]
    dedupe_key: String,
    #[diesel(sql_type = Text)]
    status: String,
}

impl Backend {
    /// The backend an `ATTEND_DATABASE_URL` names (`sqlite://path` or `postgres://…/db`).
    ///
    /// # Errors
    /// A message for any other URL.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(Backend::Sqlite { path: path.into() });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (server, database) = url
                .rsplit_once('/')
                .filter(|(s, _)| {
                    s.contains("://") && s.find("://").is_some_and(|i| s.len() > i + 3)
                })
                .ok_or_else(|| format!("no database in {url:?}"))?;
            return Ok(Backend::Postgres {
                server: server.to_owned(),
                database: database.to_owned(),
                synchronous_commit: None,
            });
        }
        Err(format!("unsupported database URL {url:?}"))
    }

    /// Every stored delivery's dedupe key with its status.
    ///
    /// # Errors
    /// A message if the database cannot be read.
    pub fn webhook_statuses_by_key(
        &self,
    ) -> Result<std::collections::HashMap<String, String>, String> {
        let q = "SELECT dedupe_key, status FROM attend_webhooks";
        let rows: Vec<KeyStatus> = match self {
            Backend::Sqlite { path } => {
                let mut c = SqliteConnection::establish(&path.display().to_string())
                    .map_err(|e| e.to_string())?;
                c.batch_execute("PRAGMA busy_timeout = 5000;")
                    .map_err(|e| e.to_string())?;
                diesel::sql_query(q).load(&mut c)
            }
            Backend::Postgres { .. } => {
                let mut c = PgConnection::establish(&self.url()).map_err(|e| e.to_string())?;
                diesel::sql_query(q).load(&mut c)
            }
        }
        .map_err(|e| e.to_string())?;
        Ok(rows.into_iter().map(|r| (r.dedupe_key, r.status)).collect())
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }

    /// The `ATTEND_DATABASE_URL` for the app.
    pub fn url(&self) -> String {
        match self {
            Backend::Sqlite { path } => format!("sqlite://{}", path.display()),
            Backend::Postgres {
                server, database, ..
            } => format!("{server}/{database}"),
        }
    }

    /// Deletes and recreates the database (SQLite: removes the file and its WAL; PostgreSQL:
    /// `DROP DATABASE … WITH (FORCE)` + `CREATE DATABASE`, through the `postgres` database).
    ///
    /// # Errors
    /// A message if the database cannot be reset.
    pub fn reset(&self) -> Result<(), String> {
        match self {
            Backend::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let p = format!("{}{suffix}", path.display());
                    let _ = std::fs::remove_file(p);
                }
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            Backend::Postgres {
                server,
                database,
                synchronous_commit,
            } => {
                let mut conn = PgConnection::establish(&format!("{server}/postgres"))
                    .map_err(|e| format!("cannot connect to {server}/postgres: {e}"))?;
                // Two statements: a multi-statement string runs as one transaction block,
                // which PostgreSQL refuses for DROP/CREATE DATABASE.
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                    .map_err(|e| e.to_string())?;
                conn.batch_execute(&format!("CREATE DATABASE {database}"))
                    .map_err(|e| e.to_string())?;
                if let Some(level) = synchronous_commit {
                    if !["on", "off", "local", "remote_write", "remote_apply"]
                        .contains(&level.as_str())
                    {
                        return Err(format!("synchronous_commit: unknown level {level:?}"));
                    }
                    conn.batch_execute(&format!(
                        "ALTER DATABASE {database} SET synchronous_commit = {level}"
                    ))
                    .map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        }
    }

    /// The durability setting in force: SQLite's `synchronous` as the app sets it (the
    /// attend-diesel default the example app uses), PostgreSQL's `synchronous_commit`.
    ///
    /// # Errors
    /// A message if PostgreSQL cannot be asked.
    pub fn durability(&self) -> Result<String, String> {
        match self {
            Backend::Sqlite { .. } => Ok(
                "journal_mode=WAL, synchronous=NORMAL (attend-diesel default; the example app uses Options::new())"
                    .to_owned(),
            ),
            Backend::Postgres { .. } => {
                let mut conn = PgConnection::establish(&self.url()).map_err(|e| e.to_string())?;
                let v: Setting = diesel::sql_query(
                    "SELECT setting AS value FROM pg_settings WHERE name = 'synchronous_commit'",
                )
                .get_result(&mut conn)
                .map_err(|e| e.to_string())?;
                let f: Setting = diesel::sql_query(
                    "SELECT setting AS value FROM pg_settings WHERE name = 'fsync'",
                )
                .get_result(&mut conn)
                .map_err(|e| e.to_string())?;
                // How the app's connections reach the server: TLS over loopback costs both
                // sides CPU on every round trip (BENCHMARKS.md, "Two lanes").
                let c: Connections = diesel::sql_query(
                    "SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE s.ssl) AS tls, \
                     COUNT(*) FILTER (WHERE a.client_addr IS NULL) AS unix \
                     FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
                     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() \
                     AND a.backend_type = 'client backend'",
                )
                .get_result(&mut conn)
                .map_err(|e| e.to_string())?;
                Ok(format!(
                    "synchronous_commit={}, fsync={}; app connections: {} ({} with TLS, {} over a Unix socket)",
                    v.value, f.value, c.n, c.tls, c.unix
                ))
            }
        }
    }

    /// Webhook deliveries by status. Counts the whole table: a full scan, so
    /// [`waiting`](Self::waiting) is what to poll.
    ///
    /// # Errors
    /// A message if the database cannot be read.
    pub fn webhook_counts(&self) -> Result<WebhookCounts, String> {
        let rows: Vec<StatusCount> =
            self.load("SELECT status, COUNT(*) AS n FROM attend_webhooks GROUP BY status")?;
        let mut counts = WebhookCounts::default();
        for r in rows {
            if r.status == "received" {
                counts.received += r.n;
            } else {
                counts.done += r.n;
            }
        }
        Ok(counts)
    }

    /// Deliveries still waiting for processing: read from attend's index of waiting
    /// deliveries, so polling it does not scan the table (which, polled four times a second,
    /// took a noticeable share of PostgreSQL's CPU from the worker being measured).
    ///
    /// # Errors
    /// A message if the database cannot be read.
    pub fn waiting(&self) -> Result<i64, String> {
        let rows: Vec<Count> =
            self.load("SELECT COUNT(*) AS n FROM attend_webhooks WHERE status = 'received'")?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    fn load<T>(&self, q: &str) -> Result<Vec<T>, String>
    where
        T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
    {
        match self {
            Backend::Sqlite { path } => {
                let mut c = SqliteConnection::establish(&path.display().to_string())
                    .map_err(|e| e.to_string())?;
                c.batch_execute("PRAGMA busy_timeout = 5000;")
                    .map_err(|e| e.to_string())?;
                diesel::sql_query(q).load(&mut c)
            }
            Backend::Postgres { .. } => {
                let mut c = PgConnection::establish(&self.url()).map_err(|e| e.to_string())?;
                diesel::sql_query(q).load(&mut c)
            }
        }
        .map_err(|e| e.to_string())
    }
}
