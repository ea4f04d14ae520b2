//! `GET /api/health`.

use std::collections::HashMap;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_is_ok_when_every_store_answers() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/health", None).await.expect(200);
    let data = response.data();
    assert_eq!(data["status"], "ok");
    assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(data["checks"]["database"], "ok");
    assert_eq!(data["checks"]["session_store"], "ok");
}

#[tokio::test]
async fn health_is_degraded_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.database.close().await;
    let response = app
        .get("/api/health", None)
        .await
        .expect_error(503, "SERVICE_UNAVAILABLE");
    let details = &response.body["error"]["details"];
    assert_eq!(details["status"], "degraded");
    assert_eq!(details["checks"]["database"], "error");
}

#[tokio::test]
async fn health_is_degraded_when_redis_cannot_be_reached() {
    let app = TestApp::spawn_with(|vars: &mut HashMap<String, String>| {
        // Nothing listens on port 1.
        vars.insert("REDIS_URL".into(), "redis://127.0.0.1:1".into());
    })
    .await;
    let response = app
        .get("/api/health", None)
        .await
        .expect_error(503, "SERVICE_UNAVAILABLE");
    let checks = &response.body["error"]["details"]["checks"];
    assert_eq!(checks["session_store"], "error");
    assert_eq!(checks["database"], "ok");
}
