//! Graceful shutdown: in-flight requests finish, new connections are refused, and requests
//! still running when the grace period ends are dropped.

use std::time::Duration;

use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::helpers::TestApp;

async fn slow() -> authy2::http::envelope::ApiResponse<&'static str> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    authy2::http::envelope::ApiResponse::ok("finished", "done")
}

async fn never() -> &'static str {
    std::future::pending::<()>().await;
    "unreachable"
}

/// Serves the slow routes with the real middleware; returns the base URL and the server task.
async fn serve(
    app: &TestApp,
    stop: CancellationToken,
    grace: Duration,
) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let routes = axum::Router::new()
        .route("/slow", get(slow))
        .route("/never", get(never));
    let router = authy2::http::with_middleware(routes, app.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(authy2::server::serve(listener, router, stop, grace));
    (base, server)
}

#[tokio::test]
async fn in_flight_requests_finish_after_shutdown_begins() {
    let app = TestApp::spawn().await;
    let stop = CancellationToken::new();
    let (base, server) = serve(&app, stop.clone(), Duration::from_secs(10)).await;
    let client = reqwest::Client::new();

    let in_flight = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/slow");
        async move { client.get(url).send().await }
    });
    // Let the request reach the handler before stopping.
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.cancel();

    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(response.status(), 200);
    server.await.unwrap().unwrap();
    assert!(
        reqwest::Client::new()
            .get(format!("{base}/slow"))
            .send()
            .await
            .is_err(),
        "a new connection after shutdown must be refused"
    );
}

#[tokio::test]
async fn requests_still_running_after_the_grace_period_are_dropped() {
    let app = TestApp::spawn().await;
    let stop = CancellationToken::new();
    let (base, server) = serve(&app, stop.clone(), Duration::from_millis(200)).await;
    let hanging = tokio::spawn(async move { reqwest::get(format!("{base}/never")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.cancel();

    // The server returns although the request never finishes.
    server.await.unwrap().unwrap();
    hanging.abort();
}
