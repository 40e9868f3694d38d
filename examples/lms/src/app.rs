//! Building and running the whole app: database, attend service, HTTP server, background
//! worker, and (demo mode) the Zoom simulator and demo data.
//!
//! [`start`] is what `main` calls, and what the end-to-end tests call to get the same app
//! in-process on a free port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use attend_actix::AttendConfig;
use attend_core::join_token::JwtSecret;
use attend_core::service::{Attend, ReconcileOptions, WorkerOptions, ZoomAccount};
use attend_core::store::Backoff;
use attend_core::zoom::{S2SCredentials, ZoomClient, ZoomClientConfig};
use attend_diesel::{DieselStore, HostUsersTable, Options};
use attend_zoom_sim::{SimConfig, Simulator, WebhookTarget};
use tokio::sync::watch;

use crate::auth::Tokens;
use crate::config::{Config, Mode, Secret, base_str};
use crate::db;
use crate::demo::{self, Demo, DemoInfo};
use crate::state::Lms;

/// Where attend's scope is mounted.
pub const ATTEND_PREFIX: &str = "/attend";
/// Where the demo mounts the Zoom simulator inside the app.
pub const SIM_PREFIX: &str = "/zoom";
/// The attend account key of the app's one Zoom account.
pub const ACCOUNT_KEY: &str = "default";

/// Why the app could not start. Every variant says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address is taken or not allowed.
    #[error(
        "cannot listen on {addr} (ATTEND_BIND): {source}; is another copy running? \
         Pick another address, e.g. ATTEND_BIND=127.0.0.1:8081"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The database cannot be opened or migrated.
    #[error("cannot open the database (ATTEND_DATABASE_URL): {source}")]
    Database {
        /// The store error.
        #[source]
        source: attend_diesel::DieselStoreError,
    },
    /// A stored or configured secret is unusable.
    #[error("{0}")]
    Secret(String),
    /// The users table could not be described to attend (a programming error).
    #[error("the host users table is misconfigured: {0}")]
    Directory(#[from] attend_diesel::IdentifierError),
    /// The Zoom client could not be built.
    #[error("cannot build the Zoom client: {0}")]
    Zoom(#[source] attend_core::zoom::ZoomApiError),
    /// attend refused its configuration.
    #[error("attend refused its configuration: {0}")]
    Attend(#[from] attend_core::service::BuildError),
    /// The HTTP server could not start.
    #[error("cannot start the HTTP server: {0}")]
    Server(#[source] std::io::Error),
    /// Filling the demo data failed.
    #[error("cannot set up the demo data: {0}")]
    Demo(String),
}

/// A started app: the HTTP server, attend's background worker, and in demo mode the
/// simulator. Stop it with [`RunningApp::stop`].
#[derive(Debug)]
pub struct RunningApp {
    addr: SocketAddr,
    local_url: String,
    public_url: String,
    database_url: String,
    lms: Lms,
    attend: Attend,
    demo: Option<Arc<Demo>>,
    demo_info: Option<DemoInfo>,
    secrets: GeneratedSecrets,
    server: actix_web::dev::ServerHandle,
    server_task: tokio::task::JoinHandle<std::io::Result<()>>,
    stop_worker: watch::Sender<bool>,
    worker_task: tokio::task::JoinHandle<()>,
    metrics_served: bool,
}

/// Which secrets demo mode generated (and keeps in the database), for the printed guide.
#[derive(Clone, Debug, Default)]
struct GeneratedSecrets {
    jwt: Option<Secret>,
    webhook: Option<Secret>,
}

impl RunningApp {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: where this process reaches itself (tests use it).
    pub fn local_url(&self) -> &str {
        &self.local_url
    }

    /// The public base URL (personal join links start with it).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The attend service.
    pub fn attend(&self) -> &Attend {
        &self.attend
    }

    /// The LMS state (database, token issuer).
    pub fn lms(&self) -> &Lms {
        &self.lms
    }

    /// The Zoom simulator (demo mode only).
    pub fn simulator(&self) -> Option<&Simulator> {
        self.demo.as_deref().map(|d| &d.sim)
    }

    /// Where Zoom's webhooks go, with the app's webhook secret (demo mode only): hand it to
    /// the simulator's player.
    pub fn webhook_target(&self) -> Option<WebhookTarget> {
        self.demo.as_deref().map(|d| d.webhook_target.clone())
    }

    /// What the demo set up (demo mode with demo data only).
    pub fn demo_info(&self) -> Option<&DemoInfo> {
        self.demo_info.as_ref()
    }

    /// The guide printed on start: URLs, tokens, and how to play a simulated class.
    pub fn guide(&self) -> String {
        crate::guide::render(&crate::guide::GuideInput {
            local_url: &self.local_url,
            public_url: &self.public_url,
            database_url: &self.database_url,
            demo: self.demo_info.as_ref(),
            demo_mode: self.demo.is_some(),
            generated_jwt_secret: self.secrets.jwt.as_ref(),
            generated_webhook_secret: self.secrets.webhook.as_ref(),
            metrics: self.metrics_served,
        })
    }

    /// Stops accepting requests, finishes the requests and jobs in flight, and returns.
    pub async fn stop(self) {
        self.server.stop(true).await;
        let _ = self.stop_worker.send(true);
        let _ = self.worker_task.await;
        let _ = self.server_task.await;
    }
}

/// `addr` as a URL this host can connect to (an unspecified address becomes 127.0.0.1).
fn local_url_of(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Starts the app described by `config` on the current Tokio runtime.
///
/// # Errors
/// A [`StartError`] saying what failed (address taken, database unreachable, …).
pub async fn start(config: Config) -> Result<RunningApp, StartError> {
    let listener = std::net::TcpListener::bind(config.bind).map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    let addr = listener.local_addr().map_err(StartError::Server)?;
    let local_url = local_url_of(addr);
    let public_url = config
        .public_url
        .as_ref()
        .map(base_str)
        .unwrap_or_else(|| local_url.clone());

    let store = DieselStore::connect(&config.database_url, Options::new())
        .await
        .map_err(|source| StartError::Database { source })?;
    store
        .with_transaction(db::run_migrations)
        .await
        .map_err(|source| StartError::Database { source })?;

    // Secrets: configured, or (demo mode) generated once and kept in the database so tokens
    // and personal links survive a restart.
    let mut generated = GeneratedSecrets::default();
    let jwt_secret = match &config.jwt_secret {
        Some(s) => s.clone(),
        None => {
            let s = demo_secret(&store, "demo_jwt_secret").await?;
            generated.jwt = Some(s.clone());
            s
        }
    };
    let webhook_secret = match &config.webhook_secret {
        Some(s) => s.clone(),
        None => {
            let s = demo_secret(&store, "demo_webhook_secret").await?;
            generated.webhook = Some(s.clone());
            s
        }
    };
    let jwt = JwtSecret::new(jwt_secret.expose().as_bytes().to_vec())
        .map_err(|e| StartError::Secret(format!("ATTEND_JWT_SECRET: {e}")))?;

    // Zoom: the simulator mounted in this app (demo), or the real thing.
    let (zoom_config, credentials, simulator) = match &config.mode {
        Mode::Demo => {
            let seed = demo::sim_seed(&store).await?;
            let sim = Simulator::new(SimConfig {
                seed,
                public_url: Some(format!("{public_url}{SIM_PREFIX}")),
                ..SimConfig::default()
            });
            let creds = sim.credentials();
            let mount = format!("{local_url}{SIM_PREFIX}");
            let zoom_config = ZoomClientConfig {
                api_base: Simulator::api_base_at(&mount),
                oauth_url: Simulator::oauth_url_at(&mount),
                request_timeout: Duration::from_secs(10),
                ..ZoomClientConfig::default()
            };
            let credentials =
                S2SCredentials::new(creds.account_id, creds.client_id, creds.client_secret);
            (zoom_config, credentials, Some(sim))
        }
        Mode::Real(real) => (
            ZoomClientConfig {
                api_base: base_str(&real.api_base),
                oauth_url: real.oauth_url.as_str().to_owned(),
                ..ZoomClientConfig::default()
            },
            S2SCredentials::new(
                real.credentials.account_id.clone(),
                real.credentials.client_id.clone(),
                real.credentials.client_secret.expose().to_owned(),
            ),
            None,
        ),
    };
    let zoom_account_id = credentials.account_id.clone();
    let client = ZoomClient::new(zoom_config, credentials).map_err(StartError::Zoom)?;

    let users = HostUsersTable::new("users", "id", "email", "name")?.with_groups(
        "enrollments",
        "user_id",
        "course_id",
    )?;
    let mut builder = Attend::builder()
        .store(store.clone())
        .directory(store.user_directory(users))
        .zoom_account(
            ZoomAccount::new(ACCOUNT_KEY)
                .webhook_secret(webhook_secret.expose().to_owned())
                .zoom_account_id(zoom_account_id)
                .api(Arc::new(client)),
        )
        .public_url(public_url.clone())
        .mount_prefix(ATTEND_PREFIX)
        .jwt_secret(jwt);
    if config.mode.is_demo() {
        // The simulator's report is ready at once: pull it a few seconds after the end
        // (Zoom's own reports take minutes; keep attend's defaults in real mode).
        builder = builder
            .reconcile(ReconcileOptions {
                delay: Duration::from_secs(2),
                retry_for: Duration::from_secs(10 * 60),
                backoff: Backoff::new(
                    chrono::TimeDelta::seconds(2),
                    chrono::TimeDelta::seconds(30),
                    0.2,
                ),
                grace_without_report: Duration::from_secs(60),
                // A class whose end was lost is found ended within minutes, not hours; the
                // last check stays well after the slowest `play-class` (pace 3600: an hour).
                live_check_after: Some(Duration::from_secs(2 * 60)),
                live_check_for: Duration::from_secs(2 * 3600),
            })
            .worker(WorkerOptions {
                poll_interval: Duration::from_millis(250),
                ..WorkerOptions::default()
            });
    }
    let attend = builder.build()?;

    let tokens = Tokens::new(jwt_secret.expose().as_bytes());
    let demo = simulator.map(|sim| {
        Arc::new(Demo::new(
            sim,
            attend.clone(),
            WebhookTarget::new(
                format!("{local_url}{ATTEND_PREFIX}/webhooks/zoom"),
                webhook_secret.expose().to_owned(),
            ),
        ))
    });
    let lms = Lms {
        store: store.clone(),
        tokens: tokens.clone(),
        public_url: public_url.clone(),
        attend: attend.clone(),
        demo: demo.clone(),
    };

    let lms_data = web::Data::new(lms.clone());
    let tokens_data = web::Data::new(tokens.clone());
    let sim_for_server = demo.as_ref().map(|d| d.sim.clone());
    let metrics = if config.metrics {
        crate::prometheus::recorder()
    } else {
        None
    };
    let metrics_served = metrics.is_some();
    let attend_for_server = attend.clone();
    let server = HttpServer::new(move || {
        let sim = sim_for_server.clone();
        let metrics = metrics.clone();
        // One attend configuration per worker thread (it holds the authenticator).
        let attend_config = AttendConfig::builder(
            attend_for_server.clone(),
            Arc::new(tokens_data.authenticator()),
        )
        .swagger_ui(true)
        .build();
        App::new()
            .app_data(lms_data.clone())
            .app_data(tokens_data.clone())
            .app_data(attend_actix::error::json_config(256 * 1024))
            .service(attend_actix::scope(ATTEND_PREFIX, attend_config))
            .configure(move |cfg| {
                if let Some(sim) = sim {
                    cfg.service(web::scope(SIM_PREFIX).configure(move |c| sim.configure(c)));
                }
            })
            .configure(crate::routes::configure)
            .configure(move |cfg| {
                if let Some(handle) = metrics {
                    crate::prometheus::configure(cfg, handle);
                }
            })
    })
    // No `.workers(n)`: actix starts one worker thread per CPU. On two CPUs four workers
    // took 9 % off the webhook ingest maximum (more thread switching; BENCHMARKS.md,
    // "HTTP worker threads").
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)
    .map_err(StartError::Server)?
    .run();
    let server_handle = server.handle();
    let server_task = tokio::spawn(server);

    // attend's background worker: webhook processing, registrations, report pulls.
    let (stop_worker, mut stop_rx) = watch::channel(false);
    let worker_task = tokio::spawn(attend.clone().run_worker(async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    }));

    let mut app = RunningApp {
        addr,
        local_url,
        public_url,
        database_url: config.database_url.clone(),
        lms,
        attend,
        demo,
        demo_info: None,
        secrets: generated,
        server: server_handle,
        server_task,
        stop_worker,
        worker_task,
        metrics_served,
    };
    if let Some(d) = app.demo.clone() {
        match demo::set_up(&app.lms, &d, config.seed_demo_data).await {
            Ok(info) => app.demo_info = info,
            Err(e) => {
                app.stop().await;
                return Err(StartError::Demo(e));
            }
        }
    }
    Ok(app)
}

/// A demo secret kept in `lms_settings` (generated on first use).
async fn demo_secret(store: &DieselStore, key: &'static str) -> Result<Secret, StartError> {
    let value = store
        .with_transaction(move |conn| {
            db::get_or_init_setting(conn, key, || Secret::generate().expose().to_owned())
        })
        .await
        .map_err(|source| StartError::Database { source })?;
    Ok(Secret::new(value))
}
