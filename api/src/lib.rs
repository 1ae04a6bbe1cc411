//! docintel's HTTP façade: versioned routers over the backend, their OpenAPI documents,
//! Swagger UI, and the `docintel` binary's building blocks.

pub mod answers;
pub mod auth;
pub mod broker_routes;
pub mod context;
pub mod deliveries;
pub mod deprecation;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod launch;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod plot;
pub mod problems;
pub mod publishing;
pub mod ratelimit;
pub mod registry_routes;
pub mod role;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod traffic;
pub mod v1;
pub mod v2;
pub mod versions;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi, Url};

pub use error::{ApiError, Problem};
pub use launch::{Launch, LaunchError, Role, Running};
pub use state::AppState;

/// The whole application: every API version, its served OpenAPI document, Swagger UI at
/// `/docs`, health, and problem documents for unknown routes and methods.
pub fn app(state: AppState) -> Router {
    app_with(state, versions::VERSIONS)
}

/// [`app`] serving the versions of another table (a test adds a scratch version).
pub fn app_with(state: AppState, table: &'static [versions::ApiVersion]) -> Router {
    let mut router = Router::new();
    let mut urls = Vec::new();
    for version in table {
        let (routes, doc) = openapi::split(version);
        let json: Arc<str> = openapi::to_json(&doc).into();
        let path = format!("/openapi/{}.json", version.name);
        router = router.merge(routes).route(
            &path,
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        json.to_string(),
                    )
                }
            }),
        );
        urls.push(Url::new(version.name, Box::leak(path.into_boxed_str())));
    }
    let swagger: Router<AppState> = SwaggerUi::new("/docs")
        .config(SwaggerConfig::new(urls))
        .into();
    if let Some(path) = &state.registry_path {
        router = router.nest(path, registry_routes::router());
    }
    if let Some(path) = &state.broker_path {
        // Clients given `…/broker/` as the base URL ask for the index with the slash.
        let broker = broker_routes::state(&state);
        router = router
            .nest(path, docintel_broker::http::router(broker.clone()))
            .route(
                &format!("{path}/"),
                docintel_broker::http::index_route(broker.clone()),
            );
        if !path.starts_with("/pacts") {
            // The pact-broker CLI's get-pacts and provider-states drop the base URL's
            // path: serve their resources at the root too.
            router = router.merge(docintel_broker::http::root_router(broker));
        }
    }
    let router = router
        .merge(swagger)
        .merge(ops_routes())
        .route(problems::PATH, get(problems::index))
        .route(&format!("{}/{{code}}", problems::PATH), get(problems::show))
        .route(
            deprecation::CALENDAR_PATH,
            get(|| async {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/markdown; charset=utf-8"),
                    )],
                    deprecation::CALENDAR,
                )
            }),
        );
    finish(router, state)
}

/// What a worker process serves: health, readiness and metrics, and the embedded
/// registry over the shared database (unless `--registry` names another), which its own
/// relay registers and looks up the event schemas through with the process's own
/// credential: no worker needs an admin key.
pub fn ops_app(state: AppState) -> Router {
    let mut router = ops_routes();
    if let Some(path) = &state.registry_path {
        router = router.nest(path, registry_routes::router());
    }
    finish(router, state)
}

fn ops_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Problem documents for unknown routes and methods, and the per-request context.
fn finish(router: Router<AppState>, state: AppState) -> Router {
    router
        .fallback(|| async { ApiError::NotFound("no such route".to_owned()).into_response() })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed.into_response() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            context::request_context,
        ))
        .with_state(state)
}

/// Ready to serve: the database answers and the background workers are running.
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    let checks = state.readiness().await;
    let ready = checks.iter().all(|(_, ok)| *ok);
    let mut body = serde_json::json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": checks.iter().map(|(name, ok)| (name.to_string(), serde_json::json!(ok))).collect::<serde_json::Map<_, _>>(),
    });
    // Told, not required: documents wait for clamd (or go unscanned) rather than fail,
    // and an API process taken out of rotation would not bring clamd back.
    if let Some(scanner) = state
        .backend
        .scanner()
        .filter(|_| state.role.runs_background())
    {
        body["scanner"] = serde_json::json!({
            "clamd": scanner.addr().to_string(),
            "mode": scanner.config.mode.as_str(),
            "answers": scanner.ping().await,
        });
    }
    // What a code-execution bug in a parser would meet: said, so that a kernel without
    // Landlock or seccomp is seen, not assumed.
    if let Some(walls) = state
        .backend
        .parser_walls()
        .filter(|_| state.role.runs_background())
    {
        body["parser"] = serde_json::json!({
            "isolation": "process",
            "landlock": walls.landlock,
            "seccomp": walls.seccomp,
        });
    }
    let status = if ready {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    let text = state.metrics.render(&state.backend).await;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}
