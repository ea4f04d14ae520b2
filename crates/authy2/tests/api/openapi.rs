//! The OpenAPI document: generated from the handlers, equal to the routes the server answers,
//! served with the docs page, and snapshotted so every contract change shows in review.

use std::collections::BTreeSet;

use reqwest::Method;

use crate::helpers::TestApp;

/// Every operation of API.md.
const CONTRACT: &[(&str, &str)] = &[
    ("GET", "/api/health"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/auth/sessions"),
    ("DELETE", "/api/v1/auth/sessions/{id}"),
    ("GET", "/api/v1/users/me"),
    ("PATCH", "/api/v1/users/me"),
    ("DELETE", "/api/v1/users/me"),
    ("POST", "/api/v1/users/me/password"),
    ("GET", "/api/v1/users/me/organizations"),
    ("GET", "/api/v1/users/me/audit-logs"),
    ("POST", "/api/v1/organizations"),
    ("GET", "/api/v1/organizations/{id}"),
    ("PATCH", "/api/v1/organizations/{id}"),
    ("DELETE", "/api/v1/organizations/{id}"),
    ("GET", "/api/v1/organizations/{id}/members"),
    ("POST", "/api/v1/organizations/{id}/members"),
    ("DELETE", "/api/v1/organizations/{id}/members/{user_id}"),
    ("PATCH", "/api/v1/organizations/{id}/members/{user_id}/role"),
    ("GET", "/api/v1/organizations/{id}/audit-logs"),
];

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn document() -> serde_json::Value {
    serde_json::to_value(authy2::http::openapi()).unwrap()
}

fn documented_operations(document: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method.to_lowercase()).is_some() {
                operations.insert((method.to_owned(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn the_document_describes_exactly_the_operations_of_the_contract() {
    let expected: BTreeSet<(String, String)> = CONTRACT
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(documented_operations(&document()), expected);
}

#[tokio::test]
async fn the_server_routes_exactly_the_documented_operations() {
    let app = TestApp::spawn().await;
    let document = document();
    let operations = documented_operations(&document);
    let any_id = uuid::Uuid::new_v4().to_string();
    for path in document["paths"].as_object().unwrap().keys() {
        let concrete = path.replace("{id}", &any_id).replace("{user_id}", &any_id);
        for method in METHODS {
            let request = app
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &concrete)
                .header("content-type", "application/json")
                .body("{}");
            let response = app.send(request).await;
            let is_documented = operations.contains(&(method.to_owned(), path.clone()));
            let reached_a_handler =
                response.status != 405 && response.body["message"] != "Route not found";
            assert_eq!(
                reached_a_handler, is_documented,
                "{method} {path} answered {} {}",
                response.status, response.body
            );
        }
    }
}

#[test]
fn every_operation_documents_its_failures_and_how_to_authenticate() {
    let document = document();
    for (method, path) in documented_operations(&document) {
        let operation = &document["paths"][&path][method.to_lowercase()];
        let responses = operation["responses"].as_object().unwrap();
        for status in ["4XX", "5XX"] {
            assert!(
                responses.contains_key(status),
                "{method} {path} lacks {status}"
            );
        }
        assert!(operation["tags"].is_array(), "{method} {path} has no tag");
        let public = matches!(
            path.as_str(),
            "/api/health" | "/api/v1/auth/register" | "/api/v1/auth/login"
        );
        assert_eq!(
            operation.get("security").is_none(),
            public,
            "{method} {path} security"
        );
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["cookie"]["in"], "cookie");
    assert_eq!(schemes["cookie"]["name"], "authy_session");
}

#[test]
fn request_bodies_carry_their_constraints() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let register = &schemas["RegisterRequest"];
    assert_eq!(register["properties"]["password"]["minLength"], 8);
    assert_eq!(register["properties"]["password"]["maxLength"], 128);
    assert_eq!(register["properties"]["name"]["maxLength"], 100);
    let required: Vec<&str> = register["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(required, ["email", "password"]);
    assert_eq!(register["additionalProperties"], false);
    let slug = &schemas["CreateOrganizationRequest"]["properties"]["slug"];
    assert_eq!(slug["minLength"], 3);
    assert_eq!(slug["maxLength"], 63);
}

#[test]
fn the_document_matches_its_snapshot() {
    insta::assert_json_snapshot!("openapi", document(), { ".info.version" => "[version]" });
}

#[tokio::test]
async fn the_document_and_the_docs_page_are_served() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();

    let served: serde_json::Value = client
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, document());

    let page = client
        .get(format!("{}/api/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui-bundle.js"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page must not load anything from elsewhere"
    );

    let script = client
        .get(format!("{}/api/docs/swagger-ui-bundle.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let initializer = client
        .get(format!("{}/api/docs/swagger-initializer.js", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(initializer.contains("/api/openapi.json"));
}
