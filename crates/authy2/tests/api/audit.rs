//! The audit log of API.md: which events a sequence of requests leaves, who may read them,
//! filters and pages, redaction on account deletion, retention, and no change without its record.

use authy2::http::views::AuditEventView;
use authy2_core::audit::{AuditEvent, AuditFilter, AuditScope, AuditTarget, REDACTED};
use authy2_core::{AuditAction, AuditOutcome, PageRequest, Timestamp, UserId};
use chrono::{Duration, SecondsFormat};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResponse, TestUser, unique_email};

const WRONG_PASSWORD: &str = "not the right passphrase 7f3a";
const NEW_PASSWORD: &str = "a brand new passphrase 42";
const REGISTER: &str = "/api/v1/auth/register";
const LOGIN: &str = "/api/v1/auth/login";
const ME: &str = "/api/v1/users/me";
const MY_LOG: &str = "/api/v1/users/me/audit-logs";
const ORGANIZATIONS: &str = "/api/v1/organizations";
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

/// The scripted sequence, oldest first: (action, request id, the request's status). A 401 is a
/// `failure`, anything else a `success`.
const SCRIPT: [(&str, &str, u16); 10] = [
    ("user.registered", "script-01-register", 201),
    ("auth.login", "script-02-wrong-password", 401),
    ("auth.login", "script-03-login", 200),
    ("user.password_changed", "script-04-password", 200),
    ("organization.created", "script-05-create-org", 201),
    ("user.registered", "script-06-register-member", 201),
    ("member.added", "script-07-add-member", 201),
    ("member.role_changed", "script-08-change-role", 200),
    ("member.removed", "script-09-remove-member", 200),
    ("organization.deleted", "script-10-delete-org", 200),
];

/// (action, outcome, request id) of one event.
type Triple = (String, String, String);

/// What the scripted sequence leaves behind.
struct Script {
    owner_token: String,
    member_token: String,
    /// Every session token handed out during the script.
    tokens: Vec<String>,
    /// The organization's log just before the organization was deleted.
    organization_log: TestResponse,
}

fn org_log(org: &str) -> String {
    format!("{ORGANIZATIONS}/{org}/audit-logs")
}

/// Sends a request with its own `X-Request-ID` (a `Null` body sends none); checks the status.
async fn tagged(
    app: &TestApp,
    request_id: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Value,
    status: u16,
) -> TestResponse {
    let mut request = app.request(method, path).header("x-request-id", request_id);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if !body.is_null() {
        request = request.json(&body);
    }
    app.send(request).await.expect(status)
}

/// Step `n` of [`SCRIPT`].
async fn step(
    app: &TestApp,
    n: usize,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> TestResponse {
    let (_, request_id, status) = SCRIPT[n];
    tagged(app, request_id, method, path, token, body, status).await
}

/// GET of an audit log with query parameters.
async fn audit_log(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    query: &[(&str, &str)],
) -> TestResponse {
    let mut encoded = form_urlencoded::Serializer::new(String::new());
    let query = encoded.extend_pairs(query).finish();
    app.get(&format!("{path}?{query}"), token).await
}

/// A log that must be readable.
async fn read_log(app: &TestApp, path: &str, token: &str, query: &[(&str, &str)]) -> TestResponse {
    audit_log(app, path, Some(token), query).await.expect(200)
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

fn user_id(user: &TestUser) -> UserId {
    user.id.parse().expect("user id is a UUID")
}

fn items(response: &TestResponse) -> &Vec<Value> {
    response.data().as_array().expect("data is a list")
}

fn total(response: &TestResponse) -> &Value {
    &response.body["meta"]["total"]
}

/// Every stored event, newest first.
async fn stored_events(app: &TestApp) -> Vec<AuditEvent> {
    let all = AuditFilter::scope(AuditScope::All);
    let page = PageRequest::new(1, 100);
    let events = app.state.store.list_audit_events(&all, page).await;
    events.expect("store lists events").items
}

/// (action, outcome, request id) of an event as the API shows it.
fn triple(event: &Value) -> Triple {
    let f = |key: &str| event[key].as_str().unwrap_or_default().to_owned();
    (f("action"), f("outcome"), f("request_id"))
}

/// A stored event as the API shows it.
fn view(event: &AuditEvent) -> Value {
    serde_json::to_value(AuditEventView::from(event.clone())).expect("serializes")
}

fn api_triples(response: &TestResponse) -> Vec<Triple> {
    items(response).iter().map(triple).collect()
}

fn store_triples(events: &[AuditEvent]) -> Vec<Triple> {
    events.iter().map(|event| triple(&view(event))).collect()
}

fn request_ids(response: &TestResponse) -> Vec<String> {
    api_triples(response).into_iter().map(|t| t.2).collect()
}

fn actions(response: &TestResponse) -> Vec<String> {
    api_triples(response).into_iter().map(|t| t.0).collect()
}

/// The script's events, newest first: all of them, or those of the steps in `only`.
fn expected(only: &[usize]) -> Vec<Triple> {
    let wanted = |n: &usize| only.is_empty() || only.contains(n);
    let of = |n: usize| {
        let (action, request_id, status) = SCRIPT[n];
        let outcome = if status == 401 { "failure" } else { "success" };
        (action.to_owned(), outcome.to_owned(), request_id.to_owned())
    };
    (0..SCRIPT.len()).rev().filter(wanted).map(of).collect()
}

/// Runs the scripted sequence, each request with its own request id.
async fn run_script(app: &TestApp) -> Script {
    let (owner, member) = (unique_email("owner"), unique_email("member"));
    let login = |password: &str| json!({ "email": owner, "password": password });

    let first = step(app, 0, POST, REGISTER, None, login(PASSWORD)).await;
    step(app, 1, POST, LOGIN, None, login(WRONG_PASSWORD)).await;
    let logged_in = step(app, 2, POST, LOGIN, None, login(PASSWORD)).await;
    let token = text(&logged_in.data()["session"]["token"]);
    let t = Some(token.as_str());
    let change = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    step(app, 3, POST, &format!("{ME}/password"), t, change).await;
    let name = json!({ "name": "Audit Co" });
    let org = text(&step(app, 4, POST, ORGANIZATIONS, t, name).await.data()["id"]);
    let body = json!({ "email": member, "password": PASSWORD });
    let joined = step(app, 5, POST, REGISTER, None, body).await;
    let member_id = text(&joined.data()["user"]["id"]);
    let members = format!("{ORGANIZATIONS}/{org}/members");
    let add = json!({ "email": member, "role": "member" });
    step(app, 6, POST, &members, t, add).await;
    let role_path = format!("{members}/{member_id}/role");
    let role = json!({ "role": "admin" });
    step(app, 7, PATCH, &role_path, t, role).await;
    let member_path = format!("{members}/{member_id}");
    step(app, 8, DELETE, &member_path, t, Value::Null).await;
    let organization_log = read_log(app, &org_log(&org), &token, &[]).await;
    let org_path = format!("{ORGANIZATIONS}/{org}");
    step(app, 9, DELETE, &org_path, t, Value::Null).await;

    let member_token = text(&joined.data()["session"]["token"]);
    let first_token = text(&first.data()["session"]["token"]);
    Script {
        tokens: vec![first_token, token.clone(), member_token.clone()],
        owner_token: token,
        member_token,
        organization_log,
    }
}

#[tokio::test]
async fn a_scripted_session_leaves_exactly_its_events_newest_first() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let script = run_script(&app).await;

    // Assert
    let mine = read_log(&app, MY_LOG, &script.owner_token, &[]).await;
    let all_but_the_members_registration = expected(&[0, 1, 2, 3, 4, 6, 7, 8, 9]);
    assert_eq!(api_triples(&mine), all_but_the_members_registration);
    assert_eq!(total(&mine), 9);

    let in_organization = expected(&[4, 6, 7, 8]);
    assert_eq!(api_triples(&script.organization_log), in_organization);
    assert_eq!(total(&script.organization_log), 4);

    let stored = store_triples(&stored_events(&app).await);
    assert_eq!(stored, expected(&[]));
}

#[tokio::test]
async fn no_password_token_or_hash_appears_anywhere_in_the_audit_log() {
    // Arrange
    let app = TestApp::spawn().await;
    let script = run_script(&app).await;

    // Act
    let mut outputs = vec![script.organization_log.body.to_string()];
    for token in [&script.owner_token, &script.member_token] {
        let log = read_log(&app, MY_LOG, token, &[]).await;
        assert!(!items(&log).is_empty());
        outputs.push(log.body.to_string());
    }
    for event in stored_events(&app).await {
        outputs.push(format!("{event:?}"));
        outputs.push(view(&event).to_string());
    }

    // Assert
    let mut secrets = vec![PASSWORD, WRONG_PASSWORD, NEW_PASSWORD, "$argon2", "$2b$"];
    secrets.extend(script.tokens.iter().map(String::as_str));
    assert_eq!(secrets.len(), 8);
    for output in &outputs {
        for secret in &secrets {
            assert!(!output.contains(secret), "{secret:?} found in {output}");
        }
    }
}

#[tokio::test]
async fn a_failed_login_shows_up_in_the_log_of_the_account_it_targeted() {
    // Arrange
    let app = TestApp::spawn().await;
    let ada = app.register(&unique_email("ada")).await;
    let bystander = app.register(&unique_email("bystander")).await;
    let tried = ada.email.to_uppercase();

    // Act
    let body = json!({ "email": tried, "password": WRONG_PASSWORD });
    tagged(&app, "failed-login", POST, LOGIN, None, body, 401).await;

    // Assert
    let filter = [("action", "auth.login")];
    let log = read_log(&app, MY_LOG, &ada.token, &filter).await;
    assert_eq!(items(&log).len(), 1, "{}", log.body);
    let event = &items(&log)[0];
    assert_eq!(event["outcome"], "failure");
    assert_eq!(event["request_id"], "failed-login");
    assert_eq!(event["target"], json!({ "type": "user", "id": ada.id }));
    assert_eq!(event["actor"]["user_id"], Value::Null);
    assert_eq!(event["actor"]["ip_address"], "127.0.0.1");
    assert_eq!(event["metadata"]["email"], tried.as_str());
    let other = read_log(&app, MY_LOG, &bystander.token, &filter).await;
    assert_eq!(total(&other), 0);
}

#[tokio::test]
async fn a_failed_login_for_an_unknown_email_records_the_address_and_the_failure() {
    // Arrange
    let app = TestApp::spawn().await;
    let nobody = unique_email("nobody");

    // Act
    let body = json!({ "email": nobody, "password": PASSWORD });
    tagged(&app, "unknown-login", POST, LOGIN, None, body, 401).await;

    // Assert
    let events = stored_events(&app).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.action, AuditAction::AuthLogin);
    assert_eq!(event.outcome, AuditOutcome::Failure);
    assert_eq!(event.subject_email.as_deref(), Some(nobody.as_str()));
    assert_eq!(event.request_id.as_deref(), Some("unknown-login"));
    assert_eq!((event.actor_user_id, event.target.as_ref()), (None, None));
    let view = serde_json::to_value(AuditEventView::from(event.clone()));
    assert_eq!(
        view.expect("serializes")["metadata"]["email"],
        nobody.as_str()
    );
}

#[tokio::test]
async fn only_owners_and_admins_may_read_an_organizations_log() {
    // Arrange
    let app = TestApp::spawn().await;
    let owner = app.register(&unique_email("owner")).await;
    let admin = app.register(&unique_email("admin")).await;
    let member = app.register(&unique_email("member")).await;
    let outsider = app.register(&unique_email("outsider")).await;
    let org = app.create_organization(&owner, "Readers").await;
    app.add_member(&org, &owner, &admin, "admin").await;
    app.add_member(&org, &owner, &member, "member").await;
    let path = org_log(&org);

    // Act
    let as_owner = app.get(&path, Some(&owner.token)).await;
    let as_admin = app.get(&path, Some(&admin.token)).await;
    let as_member = app.get(&path, Some(&member.token)).await;
    let as_outsider = app.get(&path, Some(&outsider.token)).await;
    let anonymous = app.get(&path, None).await;

    // Assert
    let expected = ["member.added", "member.added", "organization.created"];
    assert_eq!(actions(&as_owner.expect(200)), expected);
    assert_eq!(actions(&as_admin.expect(200)), expected);
    as_member.expect_error(403, "FORBIDDEN");
    as_outsider.expect_error(404, "NOT_FOUND");
    anonymous.expect_error(401, "AUTHENTICATION_REQUIRED");
}

#[tokio::test]
async fn the_log_filters_by_action_and_actor() {
    // Arrange
    let app = TestApp::spawn().await;
    let owner = app.register(&unique_email("owner")).await;
    let admin = app.register(&unique_email("admin")).await;
    let member = app.register(&unique_email("member")).await;
    let org = app.create_organization(&owner, "Filters").await;
    app.add_member(&org, &owner, &admin, "admin").await;
    app.add_member(&org, &owner, &member, "member").await;
    let role_path = format!("{ORGANIZATIONS}/{org}/members/{}/role", member.id);
    let (role, t) = (json!({ "role": "admin" }), Some(admin.token.as_str()));
    tagged(&app, "promote", PATCH, &role_path, t, role, 200).await;
    let (path, token) = (org_log(&org), owner.token.as_str());
    let added = ("action", "member.added");
    let by_admin = ("actor_id", admin.id.as_str());
    let by_owner = ("actor_id", owner.id.as_str());

    // Act
    let only_added = read_log(&app, &path, token, &[added]).await;
    let only_by_admin = read_log(&app, &path, token, &[by_admin]).await;
    let added_by_admin = read_log(&app, &path, token, &[added, by_admin]).await;
    let about_member = read_log(&app, MY_LOG, &member.token, &[]).await;
    let about_member_by_owner = read_log(&app, MY_LOG, &member.token, &[by_owner]).await;

    // Assert
    assert_eq!(actions(&only_added), ["member.added", "member.added"]);
    assert_eq!(actions(&only_by_admin), ["member.role_changed"]);
    assert_eq!(total(&added_by_admin), 0);
    let everything = ["member.role_changed", "member.added", "user.registered"];
    assert_eq!(actions(&about_member), everything);
    assert_eq!(actions(&about_member_by_owner), ["member.added"]);
    assert_eq!(total(&about_member_by_owner), 1);
}

#[tokio::test]
async fn the_log_filters_by_time_with_since_inclusive_and_until_exclusive() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("timely")).await;
    let t = Some(user.token.as_str());
    for (id, hours_later) in [("early", 2), ("late-1", 0), ("late-2", 0)] {
        tagged(&app, id, PATCH, ME, t, json!({ "name": id }), 200).await;
        app.clock.advance(Duration::hours(hours_later));
    }
    let events = stored_events(&app).await;
    let late_1 = events
        .iter()
        .find(|e| e.request_id.as_deref() == Some("late-1"));
    let at = late_1.expect("late-1 is stored").occurred_at;
    let rfc3339 = |at: Timestamp| at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let (exactly, just_after) = (rfc3339(at), rfc3339(at + Duration::microseconds(1)));
    let plus_two = chrono::FixedOffset::east_opt(2 * 3600).expect("offset");
    let in_plus_two = at
        .with_timezone(&plus_two)
        .to_rfc3339_opts(SecondsFormat::Micros, false);
    let (exactly, just_after, token) = (exactly.as_str(), just_after.as_str(), &user.token);

    // Act
    let since = read_log(&app, MY_LOG, token, &[("since", exactly)]).await;
    let since_offset = read_log(&app, MY_LOG, token, &[("since", &in_plus_two)]).await;
    let until = read_log(&app, MY_LOG, token, &[("until", exactly)]).await;
    let window = [("since", exactly), ("until", just_after)];
    let only_that_instant = read_log(&app, MY_LOG, token, &window).await;

    // Assert
    assert_eq!(request_ids(&since), ["late-2", "late-1"]);
    assert_eq!(request_ids(&since_offset), ["late-2", "late-1"]);
    assert_eq!(actions(&until), ["user.updated", "user.registered"]);
    assert_eq!(request_ids(&until)[0], "early");
    assert_eq!(request_ids(&only_that_instant), ["late-1"]);
}

#[tokio::test]
async fn the_log_is_paginated_with_a_total() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("pages")).await;
    let t = Some(user.token.as_str());
    for id in ["rename-1", "rename-2", "rename-3", "rename-4"] {
        tagged(&app, id, PATCH, ME, t, json!({ "name": id }), 200).await;
    }

    // Act
    let everything = read_log(&app, MY_LOG, &user.token, &[]).await;
    let mut pages = Vec::new();
    for page in ["1", "2", "3", "4"] {
        let query = [("page", page), ("per_page", "2")];
        pages.push(read_log(&app, MY_LOG, &user.token, &query).await);
    }

    // Assert
    let meta =
        |page: usize, per_page: u32| json!({ "page": page, "per_page": per_page, "total": 5 });
    assert_eq!(everything.body["meta"], meta(1, 20));
    let sizes: Vec<usize> = pages.iter().map(|page| items(page).len()).collect();
    assert_eq!(sizes, [2, 2, 1, 0]);
    for (n, page) in pages.iter().enumerate() {
        assert_eq!(page.body["meta"], meta(n + 1, 2));
    }
    let paged: Vec<String> = pages.iter().flat_map(request_ids).collect();
    assert_eq!(paged, request_ids(&everything));
    assert_eq!(paged[..4], ["rename-4", "rename-3", "rename-2", "rename-1"]);
}

#[tokio::test]
async fn bad_filters_are_validation_errors_naming_the_parameter() {
    // Arrange
    let app = TestApp::spawn().await;
    let owner = app.register(&unique_email("strict")).await;
    let org = app.create_organization(&owner, "Strict").await;
    let cases: [(&[(&str, &str)], &str); 12] = [
        (&[("action", "nope")], "action"),
        (&[("action", "")], "action"),
        (&[("actor_id", "123")], "actor_id"),
        (&[("since", "yesterday")], "since"),
        (&[("until", "2026-13-01T00:00:00Z")], "until"),
        (&[("until", "")], "until"),
        (&[("per_page", "0")], "per_page"),
        (&[("per_page", "101")], "per_page"),
        (&[("page", "")], "page"),
        (&[("page", "+2")], "page"),
        (&[("since", "2026-12-04 19:12:28Z")], "since"),
        (
            &[("actor_id", "550e8400e29b41d4a716446655440000")],
            "actor_id",
        ),
    ];

    for path in [MY_LOG.to_owned(), org_log(&org)] {
        for (query, parameter) in cases {
            // Act
            let response = audit_log(&app, &path, Some(&owner.token), query).await;

            // Assert
            let response = response.expect_error(400, "VALIDATION_ERROR");
            let details = response.body["error"]["details"].as_object();
            let details = details.expect("details");
            let names: Vec<&String> = details.keys().collect();
            assert_eq!(names, [parameter], "{path} {query:?}");
            assert!(details[parameter].as_array().is_some_and(|m| !m.is_empty()));
        }
    }
}

#[tokio::test]
async fn a_window_that_ends_before_it_starts_is_empty() {
    let app = TestApp::spawn().await;
    let user = app.register(&unique_email("backwards")).await;
    let backwards = [
        ("since", "2026-02-01T00:00:00Z"),
        ("until", "2026-01-01T00:00:00Z"),
    ];

    let response = audit_log(&app, MY_LOG, Some(&user.token), &backwards)
        .await
        .expect(200);

    assert_eq!(response.data().as_array().map(Vec::len), Some(0));
    assert_eq!(response.body["meta"]["total"], 0);
}

/// An owner with an organization, and a member of it who leaves a trail (a failed login, a
/// login, a profile change) and then deletes their account.
async fn delete_a_member_with_history(app: &TestApp) -> (TestUser, String, TestUser) {
    let owner = app.register(&unique_email("owner")).await;
    let org = app.create_organization(&owner, "Keeps History").await;
    let leaver = app.register(&unique_email("leaver")).await;
    app.add_member(&org, &owner, &leaver, "member").await;
    app.login(&leaver.email, WRONG_PASSWORD).await.expect(401);
    app.login(&leaver.email, PASSWORD).await.expect(200);
    let t = Some(leaver.token.as_str());
    let (name, password) = (json!({ "name": "Gone" }), json!({ "password": PASSWORD }));
    tagged(app, "rename", PATCH, ME, t, name, 200).await;
    tagged(app, "delete", DELETE, ME, t, password, 200).await;
    (owner, org, leaver)
}

#[tokio::test]
async fn a_deleted_accounts_events_stay_with_its_id_but_without_its_email_or_ip() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let (owner, org, leaver) = delete_a_member_with_history(&app).await;

    // Assert
    let (id, email) = (user_id(&leaver), leaver.email.to_lowercase());
    let events = stored_events(&app).await;
    let by_them = |e: &AuditEvent| e.actor_user_id == Some(id);
    let theirs = |e: &&AuditEvent| by_them(e) || e.target == Some(AuditTarget::user(id));
    let theirs: Vec<&AuditEvent> = events.iter().filter(theirs).collect();
    let actions: Vec<&str> = theirs.iter().map(|e| e.action.as_str()).collect();
    let logins = ["auth.login", "auth.login"];
    let (newest, oldest) = (
        ["user.deleted", "user.updated"],
        ["member.added", "user.registered"],
    );
    assert_eq!(actions, [&newest[..], &logins, &oldest].concat());
    for event in theirs.iter().filter(|e| by_them(e)) {
        assert_eq!(event.actor_ip.as_deref(), Some(REDACTED), "{event:?}");
    }
    let failed = theirs.iter().find(|e| e.outcome == AuditOutcome::Failure);
    let failed = failed.expect("the failed login stays");
    assert_eq!(failed.subject_email.as_deref(), Some(REDACTED));
    assert_eq!(failed.actor_ip.as_deref(), Some(REDACTED));
    let registered = theirs.last().expect("registration");
    assert_eq!(registered.subject_email.as_deref(), Some(REDACTED));
    for event in &events {
        let text = format!("{event:?}").to_lowercase();
        assert!(!text.contains(&email), "{event:?}");
    }

    // The remaining owner's organization log still names the account by id.
    let added = [("action", "member.added")];
    let log = read_log(&app, &org_log(&org), &owner.token, &added).await;
    assert_eq!(items(&log).len(), 1, "{}", log.body);
    let added = &items(&log)[0];
    assert_eq!(added["target"], json!({ "type": "user", "id": leaver.id }));
    assert_eq!(added["actor"]["user_id"], owner.id.as_str());
}

#[tokio::test]
async fn deleting_an_account_keeps_the_ip_of_other_people_who_acted_on_it() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let (owner, org, _) = delete_a_member_with_history(&app).await;

    // Assert: adding the member was the owner's act, from the owner's address.
    let log = read_log(&app, &org_log(&org), &owner.token, &[]).await;
    assert_eq!(actions(&log), ["member.added", "organization.created"]);
    for event in items(&log) {
        assert_eq!(event["actor"]["user_id"], owner.id.as_str());
        assert_eq!(event["actor"]["ip_address"], "127.0.0.1", "{event}");
    }
}

#[tokio::test]
async fn a_deleted_accounts_address_does_not_survive_in_its_rate_limit_events() {
    // Arrange
    let app = TestApp::spawn_with(|vars| {
        vars.insert("RATE_LIMIT_LOGIN_FAILURES".into(), "2".into());
    })
    .await;
    let user = app.register(&unique_email("limited")).await;
    for status in [401, 401, 429] {
        app.login(&user.email, WRONG_PASSWORD).await.expect(status);
    }
    let before = stored_events(&app).await;
    assert!(
        before
            .iter()
            .any(|e| e.action == AuditAction::AuthRateLimited)
    );

    // Act
    let (t, password) = (Some(user.token.as_str()), json!({ "password": PASSWORD }));
    tagged(&app, "delete", DELETE, ME, t, password, 200).await;

    // Assert
    let email = user.email.to_lowercase();
    for event in stored_events(&app).await {
        let text = format!("{event:?}").to_lowercase();
        assert!(!text.contains(&email), "{event:?}");
    }
}

#[tokio::test]
async fn events_past_the_retention_period_are_purged_and_newer_ones_stay() {
    // Arrange
    let app = TestApp::spawn_with(|vars| {
        vars.insert("AUDIT_RETENTION_DAYS".into(), "30".into());
    })
    .await;
    for (id, then_advance) in [("day-0", 2), ("day-2", 29), ("day-31", 0)] {
        let body = json!({ "email": unique_email(id), "password": PASSWORD });
        tagged(&app, id, POST, REGISTER, None, body, 201).await;
        app.clock.advance(Duration::days(then_advance));
    }

    // Act
    let stop = tokio_util::sync::CancellationToken::new();
    let purged = authy2::server::purge_audit_events(&app.state, &stop).await;

    // Assert
    assert_eq!(purged.expect("purge runs"), 1);
    let remaining = store_triples(&stored_events(&app).await);
    let ids: Vec<&str> = remaining.iter().map(|(_, _, id)| id.as_str()).collect();
    assert_eq!(ids, ["day-31", "day-2"]);
}

/// Makes every audit write fail, as a full disk or a revoked permission would.
async fn make_audit_table_unwritable(app: &TestApp) {
    use sqlx::Connection;
    let url = &app.vars["DATABASE_URL"];
    let rename = "ALTER TABLE audit_events RENAME TO audit_events_gone";
    if url.starts_with("postgres") {
        let mut connection = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query(rename)
            .execute(&mut connection)
            .await
            .expect("rename");
        connection.close().await.expect("close");
    } else {
        let mut connection = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query(rename)
            .execute(&mut connection)
            .await
            .expect("rename");
        connection.close().await.expect("close");
    }
}

#[track_caller]
fn assert_internal_error_without_sql(response: TestResponse) {
    let response = response.expect_error(500, "INTERNAL_ERROR");
    let body = response.body.to_string().to_lowercase();
    let leaks = ["audit_events", "insert", "relation", "no such table", "sql"];
    for leak in leaks {
        assert!(!body.contains(leak), "{leak:?} in {body}");
    }
}

#[tokio::test]
async fn no_change_happens_when_its_audit_record_cannot_be_written() {
    // Arrange
    let app = TestApp::spawn().await;
    let existing = app.register(&unique_email("existing")).await;
    let token = Some(existing.token.as_str());
    let newcomer = unique_email("newcomer");
    make_audit_table_unwritable(&app).await;

    // Act
    let account = json!({ "email": newcomer, "password": PASSWORD });
    let registration = app.post(REGISTER, None, account).await;
    let name = json!({ "name": "Unrecorded" });
    let rename = app.json(PATCH, ME, token, name.clone()).await;
    let organization = app.post(ORGANIZATIONS, token, name).await;

    // Assert
    assert_internal_error_without_sql(registration);
    let store = &app.state.store;
    let found = store.find_user_by_email(&newcomer).await.expect("lookup");
    assert!(found.is_none(), "{found:?}");
    assert_internal_error_without_sql(rename);
    let user = store.find_user(user_id(&existing)).await.expect("lookup");
    assert_eq!(user.expect("still there").name, None);
    assert_internal_error_without_sql(organization);
    let mine = app.get(&format!("{ME}/organizations"), token).await;
    assert_eq!(total(&mine.expect(200)), 0);
}

#[tokio::test]
async fn refusals_of_organization_changes_are_recorded_as_failures() {
    let app = TestApp::spawn().await;
    let owner = app.register(&unique_email("boss")).await;
    let member = app.register(&unique_email("climber")).await;
    let org = app.create_organization(&owner, "Refusals").await;
    app.add_member(&org, &owner, &member, "member").await;

    // A member tries to remove the owner; the owner, the last one, tries to step down.
    app.call(
        Method::DELETE,
        &format!("/api/v1/organizations/{org}/members/{}", owner.id),
        Some(&member.token),
    )
    .await
    .expect_error(403, "FORBIDDEN");
    app.json(
        PATCH,
        &format!("/api/v1/organizations/{org}/members/{}/role", owner.id),
        Some(&owner.token),
        json!({ "role": "member" }),
    )
    .await
    .expect_error(409, "CONFLICT");

    let log = audit_log(&app, &org_log(&org), Some(&owner.token), &[])
        .await
        .expect(200);
    let events = log.data().as_array().unwrap();
    let failures: Vec<(&str, &str, &str)> = events
        .iter()
        .filter(|e| e["outcome"] == "failure")
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["metadata"]["reason"].as_str().unwrap(),
                e["actor"]["user_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        [
            ("member.role_changed", "last_owner", owner.id.as_str()),
            ("member.removed", "forbidden", member.id.as_str()),
        ]
    );
}

#[tokio::test]
async fn a_refused_login_records_at_most_an_address_worth_of_what_was_typed() {
    let app = TestApp::spawn().await;
    let typed = format!("{}@example.com\u{0}\n", "z".repeat(10_000));
    app.login(&typed, WRONG_PASSWORD).await.expect(401);

    let events = app
        .state
        .store
        .list_audit_events(&AuditFilter::scope(AuditScope::All), PageRequest::default())
        .await
        .unwrap();
    let recorded = events.items[0].subject_email.clone().unwrap_or_default();
    assert_eq!(recorded.chars().count(), 254);
    assert!(!recorded.chars().any(char::is_control));
}

#[tokio::test]
async fn a_users_own_log_does_not_show_the_address_of_others_who_acted_on_them() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("TRUSTED_PROXIES".into(), "127.0.0.1".into());
    })
    .await;
    let owner = app.register(&unique_email("owner")).await;
    let member = app.register(&unique_email("member")).await;
    let org = app.create_organization(&owner, "Private Addresses").await;
    let add = app
        .request(
            Method::POST,
            &format!("/api/v1/organizations/{org}/members"),
        )
        .bearer_auth(&owner.token)
        .header("x-forwarded-for", "198.51.100.23")
        .header("user-agent", "owner-laptop")
        .json(&json!({ "email": member.email, "role": "member" }));
    app.send(add).await.expect(201);
    // An anonymous attempt against the member's account keeps its address.
    let attempt = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({ "email": member.email, "password": WRONG_PASSWORD }));
    app.send(attempt).await.expect(401);

    let mine = audit_log(&app, MY_LOG, Some(&member.token), &[])
        .await
        .expect(200);
    let events = mine.data().as_array().unwrap();
    let added = events
        .iter()
        .find(|e| e["action"] == "member.added")
        .unwrap();
    assert_eq!(added["actor"]["user_id"], owner.id.as_str());
    assert!(added["actor"]["ip_address"].is_null(), "{added}");
    assert!(added["actor"]["user_agent"].is_null(), "{added}");
    let refused = events.iter().find(|e| e["action"] == "auth.login").unwrap();
    assert_eq!(refused["actor"]["ip_address"], "203.0.113.9");

    // The organization's log, read by its owner, still says where the owner acted from.
    let log = audit_log(&app, &org_log(&org), Some(&owner.token), &[])
        .await
        .expect(200);
    let added = log
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "member.added")
        .cloned()
        .unwrap();
    assert_eq!(added["actor"]["ip_address"], "198.51.100.23");
}
