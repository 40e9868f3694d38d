//! The app's `GET /metrics` page: attend's metrics (the table in `attend_core::service`) and
//! the HTTP metrics of `attend_actix`, in Prometheus' text format.
//!
//! attend records through the `metrics` facade and leaves the exporter to its host. This app
//! installs `metrics-exporter-prometheus`'s recorder and serves the page from its own server
//! (the exporter's own HTTP listener is not built). A process has one global recorder, so the
//! first app started in a process installs it and later ones (the tests start many) share it.
//!
//! Histogram samples are folded into their summaries every [`UPKEEP_EVERY`] by a small
//! thread, so memory stays bounded whether or not anyone scrapes.

use std::sync::OnceLock;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// How often recorded histogram samples are folded into their summaries.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's recorder: installed on the first call. `None` when another recorder was
/// installed first (the page is then not served, and a warning says why).
pub fn recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => {
                let upkeep = handle.clone();
                let started = std::thread::Builder::new()
                    .name("metrics-upkeep".to_owned())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(UPKEEP_EVERY);
                            upkeep.run_upkeep();
                        }
                    });
                if let Err(error) = started {
                    // Without it, histograms are still folded at every scrape.
                    tracing::warn!(%error, "metrics: cannot start the upkeep thread");
                }
                Some(handle)
            }
            Err(error) => {
                tracing::warn!(%error, "metrics: a recorder is already installed; /metrics is not served");
                None
            }
        })
        .clone()
}

/// Mounts `GET /metrics` on the app, rendering `handle`.
pub fn configure(cfg: &mut web::ServiceConfig, handle: PrometheusHandle) {
    cfg.app_data(web::Data::new(handle))
        .route("/metrics", web::get().to(page));
}

async fn page(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}
