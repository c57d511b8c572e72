//! What operators and their tools ask of a running server: `/healthz` (the
//! process answers), `/readyz` (the database answers, Redis too for one of
//! several nodes, and the server is not stopping: a balancer sends no new
//! clients otherwise), both cheap and
//! never logged, and Prometheus `/metrics`, served on `RTCA_METRICS_ADDR`
//! alone so it is never public by accident (`server::metrics`).

use std::future::Future;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::server::metrics;
use crate::server::state::AppState;

/// The routes the public address serves for operators.
pub fn routes() -> Router<AppState> {
    // `/health` is the name earlier versions answered to.
    Router::new().route("/healthz", get(alive)).route("/health", get(alive)).route("/readyz", get(ready))
}

async fn alive() -> &'static str {
    "ok"
}

async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.draining.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping");
    }
    if let Err(error) = state.store.ping().await {
        tracing::warn!(%error, "not ready: the database does not answer");
        return (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer");
    }
    // One of several nodes: its clients would miss the others' messages.
    if state.outbound.hears_other_nodes() == Some(false) {
        return (StatusCode::SERVICE_UNAVAILABLE, "Redis does not answer");
    }
    (StatusCode::OK, "ready")
}

/// Serves `/metrics` on `listener` until `shutdown`, folding the
/// histograms every `metrics::UPKEEP_EVERY` meanwhile.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    handle: PrometheusHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let upkeep = {
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(metrics::UPKEEP_EVERY);
            loop {
                ticks.tick().await;
                handle.run_upkeep();
            }
        })
    };
    let app = Router::new().route("/metrics", get(render)).with_state((state, handle));
    if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        tracing::warn!(%error, "the metrics address stopped serving");
    }
    upkeep.abort();
}

async fn render(State((state, handle)): State<(AppState, PrometheusHandle)>) -> impl IntoResponse {
    let (websocket, polling) = state.outbound.count_by_transport();
    metrics::connections(websocket, polling, state.presence.online_count());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render())
}
