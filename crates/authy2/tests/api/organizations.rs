//! Organizations and their members over HTTP: API.md's "Organizations", `GET
//! /users/me/organizations`, the "at least one owner" invariant, account deletion of owners, and
//! tenancy between organizations.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResponse, TestUser, unique_email};

const MY_ORGANIZATIONS: &str = "/api/v1/users/me/organizations";
const ME: &str = "/api/v1/users/me";

/// One organization of a test, with the requests the tests make on it.
struct Org<'a> {
    app: &'a TestApp,
    id: String,
}

impl<'a> Org<'a> {
    fn at(app: &'a TestApp, id: &str) -> Org<'a> {
        Org {
            app,
            id: id.to_owned(),
        }
    }

    async fn create(app: &'a TestApp, owner: &TestUser, name: &str) -> Org<'a> {
        let id = app.create_organization(owner, name).await;
        Org { app, id }
    }

    fn path(&self, rest: &str) -> String {
        format!("/api/v1/organizations/{}{rest}", self.id)
    }

    async fn send(
        &self,
        method: Method,
        rest: &str,
        by: &TestUser,
        body: Option<Value>,
    ) -> TestResponse {
        let (path, token) = (self.path(rest), Some(by.token.as_str()));
        match body {
            Some(body) => self.app.json(method, &path, token, body).await,
            None => self.app.call(method, &path, token).await,
        }
    }

    async fn get(&self, by: &TestUser) -> TestResponse {
        self.send(Method::GET, "", by, None).await
    }

    async fn patch(&self, by: &TestUser, body: Value) -> TestResponse {
        self.send(Method::PATCH, "", by, Some(body)).await
    }

    async fn delete(&self, by: &TestUser) -> TestResponse {
        self.send(Method::DELETE, "", by, None).await
    }

    async fn list(&self, by: &TestUser, query: &str) -> TestResponse {
        self.send(Method::GET, &format!("/members{query}"), by, None)
            .await
    }

    /// Every member as `(user id, role)`, in the order the server lists them.
    async fn members(&self, viewer: &TestUser) -> Vec<(String, String)> {
        let response = self.list(viewer, "?per_page=100").await.expect(200);
        let list = response.data().as_array().expect("a list");
        list.iter()
            .map(|m| pair(&m["user"]["id"], &m["role"]))
            .collect()
    }

    async fn owner_count(&self, viewer: &TestUser) -> usize {
        let members = self.members(viewer).await;
        members.iter().filter(|(_, role)| role == "owner").count()
    }

    async fn add(&self, by: &TestUser, body: Value) -> TestResponse {
        self.send(Method::POST, "/members", by, Some(body)).await
    }

    async fn remove(&self, by: &TestUser, user_id: &str) -> TestResponse {
        let rest = format!("/members/{user_id}");
        self.send(Method::DELETE, &rest, by, None).await
    }

    async fn set_role(&self, by: &TestUser, user_id: &str, role: &str) -> TestResponse {
        let rest = format!("/members/{user_id}/role");
        self.send(Method::PATCH, &rest, by, Some(json!({ "role": role })))
            .await
    }
}

fn pair(id: &Value, role: &Value) -> (String, String) {
    let text = |value: &Value| value.as_str().expect("a string").to_owned();
    (text(id), text(role))
}

fn meta(page: u32, per_page: u32, total: u32) -> Value {
    json!({ "page": page, "per_page": per_page, "total": total })
}

#[track_caller]
fn not_found(response: TestResponse) {
    response.expect_error(404, "NOT_FOUND");
}

#[track_caller]
fn conflict(response: TestResponse) -> TestResponse {
    response.expect_error(409, "CONFLICT")
}

/// Asserts that an error's details name `field`.
#[track_caller]
fn names_field(response: TestResponse, field: &str) {
    let details = &response.body["error"]["details"];
    assert!(details[field].is_array(), "{field}: {}", response.body);
}

/// Asserts a 400 `VALIDATION_ERROR` naming `field`.
#[track_caller]
fn invalid(response: TestResponse, field: &str) {
    names_field(response.expect_error(400, "VALIDATION_ERROR"), field);
}

/// `(user id, role)` as [`Org::members`] lists it.
fn with_role(user: &TestUser, role: &str) -> (String, String) {
    (user.id.clone(), role.to_owned())
}

async fn create(app: &TestApp, owner: &TestUser, body: Value) -> TestResponse {
    app.post("/api/v1/organizations", Some(&owner.token), body)
        .await
}

/// The caller's organizations as `(id, role)`.
async fn my_organizations(app: &TestApp, user: &TestUser) -> Vec<(String, String)> {
    let response = app.get(MY_ORGANIZATIONS, Some(&user.token)).await;
    let response = response.expect(200);
    let list = response.data().as_array().expect("a list");
    list.iter()
        .map(|org| pair(&org["id"], &org["role"]))
        .collect()
}

async fn delete_account(app: &TestApp, user: &TestUser) -> TestResponse {
    let body = json!({ "password": PASSWORD });
    app.json(Method::DELETE, ME, Some(&user.token), body).await
}

async fn register(app: &TestApp, prefix: &str) -> TestUser {
    app.register(&unique_email(prefix)).await
}

#[tokio::test]
async fn creating_an_organization_makes_the_caller_its_owner() {
    let app = TestApp::spawn().await;
    let owner = register(&app, "owner").await;

    let response = create(&app, &owner, json!({ "name": "Acme Corp", "slug": "acme" })).await;

    let response = response.expect(201);
    let data = response.data();
    assert_eq!(data["name"], "Acme Corp");
    assert_eq!(data["slug"], "acme");
    for field in ["id", "created_at", "updated_at"] {
        assert!(data[field].is_string(), "{field}: {data}");
    }
    let org = Org::at(&app, data["id"].as_str().expect("id"));
    assert_eq!(org.members(&owner).await, [with_role(&owner, "owner")]);
    let mine = my_organizations(&app, &owner).await;
    assert_eq!(mine, [(org.id.clone(), "owner".to_owned())]);
    assert_eq!(org.get(&owner).await.expect(200).data(), data);
}

#[tokio::test]
async fn creating_an_organization_needs_a_session() {
    let app = TestApp::spawn().await;
    let body = json!({ "name": "Acme Corp" });
    let response = app.post("/api/v1/organizations", None, body).await;
    response.expect_error(401, "AUTHENTICATION_REQUIRED");
}

#[tokio::test]
async fn a_derived_slug_is_made_unique_with_a_suffix() {
    let app = TestApp::spawn().await;
    let first = register(&app, "first").await;
    let second = register(&app, "second").await;
    let taken = json!({ "name": "Taken", "slug": "acme-corp-3" });
    create(&app, &second, taken).await.expect(201);

    let mut slugs = Vec::new();
    for (owner, name) in [
        (&first, "Acme Corp"),
        (&second, "Acme Corp"),
        (&first, "ACME corp!"),
    ] {
        let response = create(&app, owner, json!({ "name": name })).await;
        slugs.push(response.expect(201).data()["slug"].clone());
    }

    assert_eq!(slugs, ["acme-corp", "acme-corp-2", "acme-corp-4"]);
}

#[tokio::test]
async fn organizations_created_at_once_with_one_name_get_distinct_slugs() {
    let app = TestApp::spawn().await;
    let owner = register(&app, "owner").await;

    let attempts = (0..5).map(|_| create(&app, &owner, json!({ "name": "Acme Corp" })));
    let responses = futures_util::future::join_all(attempts).await;

    let mut slugs = Vec::new();
    for response in responses {
        let response = response.expect(201);
        slugs.push(response.data()["slug"].as_str().expect("slug").to_owned());
    }
    slugs.sort();
    let suffixed = (2..=5).map(|n| format!("acme-corp-{n}"));
    let expected: Vec<String> = std::iter::once("acme-corp".to_owned())
        .chain(suffixed)
        .collect();
    assert_eq!(slugs, expected);
}

#[tokio::test]
async fn a_given_slug_that_is_taken_is_a_conflict() {
    let app = TestApp::spawn().await;
    let owner = register(&app, "owner").await;
    Org::create(&app, &owner, "Acme Corp").await;
    let globex = json!({ "name": "Globex", "slug": "globex" });
    create(&app, &owner, globex).await.expect(201);

    // Taken by a derived slug or by a given one: a slug the client chose is never suffixed.
    for slug in ["acme-corp", "globex"] {
        let body = json!({ "name": "Other", "slug": slug });
        names_field(conflict(create(&app, &owner, body).await), "slug");
    }

    assert_eq!(my_organizations(&app, &owner).await.len(), 2);
}

#[tokio::test]
async fn names_and_slugs_are_validated_per_field() {
    let app = TestApp::spawn().await;
    let owner = register(&app, "owner").await;
    let unknown_field = json!({ "name": "Acme", "id": uuid::Uuid::new_v4() });
    let cases = [
        (json!({ "name": "Acme", "slug": "Acme" }), "slug"),
        (json!({ "name": "Acme", "slug": "ab" }), "slug"),
        (json!({ "name": "Acme", "slug": "x".repeat(64) }), "slug"),
        (json!({ "name": "Acme", "slug": "-acme" }), "slug"),
        (json!({ "name": "Acme", "slug": "acme-" }), "slug"),
        (json!({ "name": "Acme", "slug": "acme corp" }), "slug"),
        (json!({ "name": "" }), "name"),
        (json!({ "name": "   " }), "name"),
        (json!({ "name": "n".repeat(101) }), "name"),
        (json!({}), "name"),
        (unknown_field, "id"),
    ];

    for (body, field) in cases {
        invalid(create(&app, &owner, body).await, field);
    }

    let mine = my_organizations(&app, &owner).await;
    assert!(mine.is_empty(), "nothing was created: {mine:?}");
    let longest = json!({ "name": "n".repeat(100), "slug": "x".repeat(63) });
    create(&app, &owner, longest).await.expect(201);
}

/// An owner and a plain member in one organization.
async fn owner_and_member(app: &TestApp) -> (TestUser, TestUser, Org<'_>) {
    let owner = register(app, "owner").await;
    let member = register(app, "member").await;
    let org = Org::create(app, &owner, "Acme Corp").await;
    app.add_member(&org.id, &owner, &member, "member").await;
    (owner, member, org)
}

#[tokio::test]
async fn an_organization_can_be_renamed_and_given_a_new_slug() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;

    let renamed = org.patch(&owner, json!({ "name": "Acme Inc" })).await;
    let reslugged = org.patch(&owner, json!({ "slug": "acme-inc" })).await;

    let (renamed, reslugged) = (renamed.expect(200), reslugged.expect(200));
    assert_eq!(renamed.data()["name"], "Acme Inc");
    assert_eq!(renamed.data()["slug"], "acme-corp");
    assert_eq!(reslugged.data()["name"], "Acme Inc");
    assert_eq!(reslugged.data()["slug"], "acme-inc");
    assert_eq!(org.get(&member).await.expect(200).data(), reslugged.data());
}

#[tokio::test]
async fn an_empty_invalid_or_conflicting_patch_changes_nothing() {
    let app = TestApp::spawn().await;
    let (owner, _, org) = owner_and_member(&app).await;
    let other = Org::create(&app, &owner, "Globex").await;
    let before = org.get(&owner).await.expect(200);

    let empty = org.patch(&owner, json!({})).await.expect(200);
    invalid(org.patch(&owner, json!({ "slug": "Bad" })).await, "slug");
    invalid(org.patch(&owner, json!({ "name": "" })).await, "name");
    let taken = org
        .patch(&owner, json!({ "name": "New", "slug": "globex" }))
        .await;

    names_field(conflict(taken), "slug");
    assert_eq!(empty.data(), before.data());
    assert_eq!(org.get(&owner).await.expect(200).data(), before.data());
    // An organization's own slug is not taken from itself.
    let same = other.patch(&owner, json!({ "slug": "globex" })).await;
    same.expect(200);
}

#[tokio::test]
async fn deleting_an_organization_removes_every_membership() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;

    org.delete(&owner).await.expect(200);

    for user in [&owner, &member] {
        not_found(org.get(user).await);
        not_found(org.list(user, "").await);
        assert!(my_organizations(&app, user).await.is_empty());
    }
    // The slug is free again.
    let again = json!({ "name": "Acme Corp", "slug": "acme-corp" });
    create(&app, &member, again).await.expect(201);
}

#[tokio::test]
async fn members_are_listed_oldest_first_in_pages() {
    let app = TestApp::spawn().await;
    let owner = register(&app, "owner").await;
    let org = Org::create(&app, &owner, "Acme Corp").await;
    let mut expected = vec![owner.id.clone()];
    for i in 0..4 {
        let user = register(&app, &format!("member{i}")).await;
        app.add_member(&org.id, &owner, &user, "member").await;
        expected.push(user.id);
    }

    let mut listed = Vec::new();
    for (page, size) in [(1, 2), (2, 2), (3, 1), (4, 0)] {
        let response = org.list(&owner, &format!("?page={page}&per_page=2")).await;
        let response = response.expect(200);
        assert_eq!(response.body["meta"], meta(page, 2, 5));
        let items = response.data().as_array().expect("a list");
        assert_eq!(items.len(), size, "page {page}");
        listed.extend(
            items
                .iter()
                .map(|m| m["user"]["id"].as_str().expect("id").to_owned()),
        );
    }

    assert_eq!(listed, expected);
    let all = org.list(&owner, "").await.expect(200);
    assert_eq!(all.body["meta"], meta(1, 20, 5));
}

#[tokio::test]
async fn page_parameters_outside_the_limits_are_refused() {
    let app = TestApp::spawn().await;
    let (owner, _, org) = owner_and_member(&app).await;
    let bad = "per_page=0 per_page=101 per_page=abc per_page=-1 page=0 page=abc";

    for list in [org.path("/members"), MY_ORGANIZATIONS.to_owned()] {
        for query in bad.split(' ') {
            let path = format!("{list}?{query}");
            let response = app.get(&path, Some(&owner.token)).await;
            let name = query.split('=').next().expect("name");
            names_field(response.expect(400), name);
        }
        for query in ["per_page=1", "per_page=100"] {
            let path = format!("{list}?{query}");
            app.get(&path, Some(&owner.token)).await.expect(200);
        }
    }
}

#[tokio::test]
async fn adding_a_member_by_email_in_any_case_gives_the_member_role() {
    let app = TestApp::spawn().await;
    let (owner, _, org) = owner_and_member(&app).await;
    let grace = register(&app, "grace").await;

    let email = format!("  {} ", grace.email.to_uppercase());
    let response = org.add(&owner, json!({ "email": email })).await.expect(201);

    let added = response.data();
    assert_eq!(added["user"]["id"], grace.id.as_str());
    assert_eq!(added["user"]["email"], grace.email.as_str());
    let user = added["user"].as_object().expect("user");
    assert!(user.contains_key("name"), "{added}");
    assert_eq!(added["role"], "member");
    assert!(added["joined_at"].is_string());
    let listed = org.members(&owner).await;
    assert_eq!(listed.last(), Some(&with_role(&grace, "member")));
    let mine = my_organizations(&app, &grace).await;
    assert_eq!(mine, [(org.id.clone(), "member".to_owned())]);
}

#[tokio::test]
async fn adding_an_unknown_email_a_member_or_a_bad_role_fails() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;
    let before = org.members(&owner).await;

    let unknown = json!({ "email": unique_email("nobody") });
    not_found(org.add(&owner, unknown).await);
    let again = json!({ "email": member.email.to_uppercase(), "role": "admin" });
    conflict(org.add(&owner, again).await);
    let bad_role = json!({ "email": member.email, "role": "superuser" });
    invalid(org.add(&owner, bad_role).await, "role");

    assert_eq!(org.members(&owner).await, before);
}

#[tokio::test]
async fn adding_the_same_user_twice_at_once_makes_one_membership() {
    let app = TestApp::spawn().await;
    let (owner, _, org) = owner_and_member(&app).await;
    let grace = register(&app, "grace").await;
    let body = json!({ "email": grace.email });

    let (a, b) = tokio::join!(org.add(&owner, body.clone()), org.add(&owner, body));

    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{:#}\n{:#}", a.body, b.body);
    let members = org.members(&owner).await;
    assert_eq!(members.iter().filter(|(id, _)| *id == grace.id).count(), 1);
}

#[tokio::test]
async fn an_owner_can_remove_a_member_who_then_loses_access() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;

    org.remove(&owner, &member.id).await.expect(200);

    assert_eq!(org.members(&owner).await, [with_role(&owner, "owner")]);
    not_found(org.get(&member).await);
    assert!(my_organizations(&app, &member).await.is_empty());
    not_found(org.remove(&owner, &member.id).await);
}

#[tokio::test]
async fn any_member_may_leave() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;
    let admin = register(&app, "admin").await;
    app.add_member(&org.id, &owner, &admin, "admin").await;

    org.remove(&member, &member.id).await.expect(200);
    org.remove(&admin, &admin.id).await.expect(200);

    assert_eq!(org.members(&owner).await, [with_role(&owner, "owner")]);
}

#[tokio::test]
async fn an_owner_can_change_a_members_role_both_ways() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;

    for role in ["admin", "owner", "admin", "member"] {
        let response = org.set_role(&owner, &member.id, role).await.expect(200);
        let changed = pair(&response.data()["user"]["id"], &response.data()["role"]);
        assert_eq!(changed, with_role(&member, role));
        let mine = my_organizations(&app, &member).await;
        assert_eq!(mine, [(org.id.clone(), role.to_owned())]);
    }
    invalid(org.set_role(&owner, &member.id, "boss").await, "role");
}

#[tokio::test]
async fn the_last_owner_can_be_neither_removed_nor_demoted() {
    let app = TestApp::spawn().await;
    let (owner, _, org) = owner_and_member(&app).await;
    let before = org.members(&owner).await;

    conflict(org.remove(&owner, &owner.id).await);
    conflict(org.set_role(&owner, &owner.id, "admin").await);
    conflict(org.set_role(&owner, &owner.id, "member").await);

    assert_eq!(org.members(&owner).await, before);
    // Staying an owner is not a demotion.
    org.set_role(&owner, &owner.id, "owner").await.expect(200);
}

#[tokio::test]
async fn with_two_owners_either_may_be_demoted_but_not_both() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;
    org.set_role(&owner, &member.id, "owner").await.expect(200);

    org.set_role(&member, &owner.id, "admin").await.expect(200);
    conflict(org.set_role(&member, &member.id, "member").await);
    conflict(org.remove(&member, &member.id).await);

    let expected = [with_role(&owner, "admin"), with_role(&member, "owner")];
    assert_eq!(org.members(&member).await, expected);
}

#[tokio::test]
async fn with_two_owners_one_may_leave() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;
    org.set_role(&owner, &member.id, "owner").await.expect(200);

    org.remove(&owner, &owner.id).await.expect(200);

    assert_eq!(org.members(&member).await, [with_role(&member, "owner")]);
}

#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_exactly_one_owner() {
    let app = TestApp::spawn().await;
    // The second owner's requests go to another instance on the same database.
    let sibling = app.spawn_sibling(|_| {}).await;
    let first = register(&app, "first").await;
    let second = register(&app, "second").await;

    for round in 0..10 {
        let org = Org::create(&app, &first, &format!("Race {round}")).await;
        app.add_member(&org.id, &first, &second, "owner").await;
        let on_sibling = Org::at(&sibling, &org.id);

        let (a, b) = tokio::join!(
            org.set_role(&first, &second.id, "member"),
            on_sibling.set_role(&second, &first.id, "member"),
        );

        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        // The loser was authorized as an owner and then lost in the store (409), or it was
        // authorized after the winner had committed, as a member by then (403).
        let report = format!("round {round}: {statuses:?}\n{:#}\n{:#}", a.body, b.body);
        assert!(statuses == [200, 409] || statuses == [200, 403], "{report}");
        assert_eq!(org.owner_count(&first).await, 1, "round {round}");
    }
}

#[tokio::test]
async fn my_organizations_carry_my_role_and_page_meta() {
    let app = TestApp::spawn().await;
    let me = register(&app, "me").await;
    let other = register(&app, "other").await;
    let mine = Org::create(&app, &me, "Mine").await;
    let admin_of = Org::create(&app, &other, "Admin Of").await;
    app.add_member(&admin_of.id, &other, &me, "admin").await;
    let member_of = Org::create(&app, &other, "Member Of").await;
    app.add_member(&member_of.id, &other, &me, "member").await;
    Org::create(&app, &other, "Not Mine").await;

    let all = app.get(MY_ORGANIZATIONS, Some(&me.token)).await.expect(200);
    let path = format!("{MY_ORGANIZATIONS}?page=2&per_page=2");
    let second_page = app.get(&path, Some(&me.token)).await.expect(200);

    assert_eq!(all.body["meta"], meta(1, 20, 3));
    let roles = [
        (&mine, "owner"),
        (&admin_of, "admin"),
        (&member_of, "member"),
    ];
    let expected = roles.map(|(org, role)| (org.id.clone(), role.to_owned()));
    assert_eq!(my_organizations(&app, &me).await, expected);
    for org in all.data().as_array().expect("a list") {
        for field in ["id", "name", "slug", "created_at", "updated_at", "role"] {
            assert!(org[field].is_string(), "{field}: {org}");
        }
    }
    assert_eq!(second_page.body["meta"], meta(2, 2, 3));
    let items = second_page.data().as_array().expect("a list");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], member_of.id.as_str());
}

#[tokio::test]
async fn the_sole_owner_of_a_shared_organization_cannot_delete_their_account() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;

    conflict(delete_account(&app, &owner).await);

    app.get(ME, Some(&owner.token)).await.expect(200);
    app.login(&owner.email, PASSWORD).await.expect(200);
    let expected = [with_role(&owner, "owner"), with_role(&member, "member")];
    assert_eq!(org.members(&member).await, expected);
}

#[tokio::test]
async fn organizations_of_which_the_user_is_the_only_member_go_with_the_account() {
    let app = TestApp::spawn().await;
    let (owner, member, shared) = owner_and_member(&app).await;
    let solo = json!({ "name": "Solo", "slug": "solo-org" });
    let solo = create(&app, &member, solo).await.expect(201);
    let solo = Org::at(&app, solo.data()["id"].as_str().expect("id"));
    // A former member of the solo organization, to look at it afterwards.
    let former = register(&app, "former").await;
    app.add_member(&solo.id, &member, &former, "member").await;
    solo.remove(&former, &former.id).await.expect(200);

    delete_account(&app, &member).await.expect(200);

    let me = app.get(ME, Some(&member.token)).await;
    me.expect_error(401, "AUTHENTICATION_REQUIRED");
    assert_eq!(shared.members(&owner).await, [with_role(&owner, "owner")]);
    not_found(solo.get(&former).await);
    let (solo_id, former_id) = (
        solo.id.parse().expect("uuid"),
        former.id.parse().expect("uuid"),
    );
    let membership = app.state.store.find_membership(solo_id, former_id).await;
    assert!(membership.expect("store answers").is_none());
    // The organization row itself is gone: its slug can be taken again.
    let again = json!({ "name": "Solo", "slug": "solo-org" });
    create(&app, &former, again).await.expect(201);
}

#[tokio::test]
async fn after_handing_over_ownership_the_owner_can_delete_their_account() {
    let app = TestApp::spawn().await;
    let (owner, member, org) = owner_and_member(&app).await;
    org.set_role(&owner, &member.id, "owner").await.expect(200);

    delete_account(&app, &owner).await.expect(200);

    org.get(&member).await.expect(200);
    assert_eq!(org.members(&member).await, [with_role(&member, "owner")]);
    let me = app.get(ME, Some(&owner.token)).await;
    me.expect_error(401, "AUTHENTICATION_REQUIRED");
}

#[tokio::test]
async fn two_owners_deleting_their_accounts_at_once_leave_the_organization_an_owner() {
    let app = TestApp::spawn().await;
    let sibling = app.spawn_sibling(|_| {}).await;
    let member = register(&app, "member").await;

    for round in 0..4 {
        let first = register(&app, "first").await;
        let second = register(&app, "second").await;
        let org = Org::create(&app, &first, &format!("Shared {round}")).await;
        app.add_member(&org.id, &first, &second, "owner").await;
        app.add_member(&org.id, &first, &member, "member").await;

        let (a, b) = tokio::join!(
            delete_account(&app, &first),
            delete_account(&sibling, &second),
        );

        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        let report = format!("round {round}:\n{:#}\n{:#}", a.body, b.body);
        assert_eq!(statuses, [200, 409], "{report}");
        assert_eq!(org.owner_count(&member).await, 1, "round {round}");
        assert_eq!(org.members(&member).await.len(), 2, "round {round}");
    }
}

#[tokio::test]
async fn ids_from_another_organization_are_not_found_through_this_one() {
    let app = TestApp::spawn().await;
    let (owner_a, member_a, org_a) = owner_and_member(&app).await;
    let owner_b = register(&app, "owner-b").await;
    let only_in_b = register(&app, "only-in-b").await;
    let org_b = Org::create(&app, &owner_b, "Globex").await;
    app.add_member(&org_b.id, &owner_b, &only_in_b, "member")
        .await;
    let before_b = org_b.members(&owner_b).await;
    let random = uuid::Uuid::new_v4().to_string();

    not_found(org_a.remove(&owner_a, &only_in_b.id).await);
    for role in ["admin", "member", "owner"] {
        not_found(org_a.set_role(&owner_a, &only_in_b.id, role).await);
    }
    not_found(org_b.get(&owner_a).await);
    not_found(org_b.list(&owner_a, "").await);
    for id in [random.as_str(), "not-a-uuid", "1"] {
        not_found(Org::at(&app, id).get(&owner_a).await);
        not_found(Org::at(&app, id).list(&owner_a, "").await);
    }
    for user in [random.as_str(), "not-a-uuid"] {
        not_found(org_a.remove(&owner_a, user).await);
        not_found(org_a.set_role(&owner_a, user, "admin").await);
    }

    assert_eq!(org_b.members(&owner_b).await, before_b);
    let expected_a = [with_role(&owner_a, "owner"), with_role(&member_a, "member")];
    assert_eq!(org_a.members(&owner_a).await, expected_a);
}
