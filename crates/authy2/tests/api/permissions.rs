//! The HTTP permission matrix of API.md's "Organizations": every organization route against an
//! owner, an admin, a member, a signed-in non-member and an anonymous caller, each request made
//! on a fresh organization A with a second organization B beside it that must never change.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, TestUser, unique_email};

/// Who makes the request.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Owner,
    Admin,
    Member,
    /// Signed in, owner of organization B, not a member of A.
    Outsider,
    Anonymous,
}

/// The order of the expectations in every case.
const CALLERS: [Caller; 5] = [
    Caller::Owner,
    Caller::Admin,
    Caller::Member,
    Caller::Outsider,
    Caller::Anonymous,
];

/// What a caller should get.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Success with this status, and organization A changed.
    Changes(u16),
    /// 200, and organization A is as it was.
    Reads,
    /// Refused with this status and error type; organization A is as it was.
    Refused(u16, &'static str),
}

// `OK` and `CREATED` must change organization A; `READ` and every refusal must leave it alone.
const OK: Expect = Expect::Changes(200);
const CREATED: Expect = Expect::Changes(201);
const READ: Expect = Expect::Reads;
const ANONYMOUS: Expect = Expect::Refused(401, "AUTHENTICATION_REQUIRED");
const FORBIDDEN: Expect = Expect::Refused(403, "FORBIDDEN");
const NOT_FOUND: Expect = Expect::Refused(404, "NOT_FOUND");
const CONFLICT: Expect = Expect::Refused(409, "CONFLICT");

/// A user a case names in its path or body.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// The owner who made organization A.
    FirstOwner,
    OtherOwner,
    OtherAdmin,
    OtherMember,
    /// A member of B who is not in A.
    OnlyInB,
    /// A registered user in no organization.
    Newcomer,
    /// Whoever is calling (a member of A when the caller is anonymous).
    Caller,
    /// A well-formed id or address nobody has.
    Unknown,
    /// An id that is not a UUID.
    Malformed,
}

/// The route of a case, always in organization A.
#[derive(Clone, Copy, Debug)]
enum Route {
    Organization,
    Members,
    Member(Who),
    Role(Who),
    AuditLogs,
}

/// The body of a request.
enum Body {
    None,
    Json(Value),
    /// A new name and a slug of its own for this organization.
    Rename,
    /// `{ email, role? }` of this user.
    Add(Who, Option<&'static str>),
}

/// A request on organization A.
struct Request {
    method: Method,
    route: Route,
    body: Body,
}

fn get(route: Route) -> Request {
    Request {
        method: Method::GET,
        route,
        body: Body::None,
    }
}

fn patch(route: Route, body: Value) -> Request {
    Request {
        method: Method::PATCH,
        route,
        body: Body::Json(body),
    }
}

fn delete(route: Route) -> Request {
    Request {
        method: Method::DELETE,
        route,
        body: Body::None,
    }
}

fn add(who: Who, role: Option<&'static str>) -> Request {
    Request {
        method: Method::POST,
        route: Route::Members,
        body: Body::Add(who, role),
    }
}

fn set_role(who: Who, role: &str) -> Request {
    patch(Route::Role(who), json!({ "role": role }))
}

/// What a request is, and what owner, admin, member, outsider and anonymous get, in that order.
type Case = (&'static str, Request, [Expect; 5]);

/// Everybody, registered once per test; each case gets fresh organizations.
struct Users {
    owner: TestUser,
    admin: TestUser,
    member: TestUser,
    other_owner: TestUser,
    other_admin: TestUser,
    other_member: TestUser,
    outsider: TestUser,
    only_in_b: TestUser,
    newcomer: TestUser,
}

impl Users {
    async fn register(app: &TestApp) -> Users {
        Users {
            owner: app.register(&unique_email("owner")).await,
            admin: app.register(&unique_email("admin")).await,
            member: app.register(&unique_email("member")).await,
            other_owner: app.register(&unique_email("other-owner")).await,
            other_admin: app.register(&unique_email("other-admin")).await,
            other_member: app.register(&unique_email("other-member")).await,
            outsider: app.register(&unique_email("outsider")).await,
            only_in_b: app.register(&unique_email("only-in-b")).await,
            newcomer: app.register(&unique_email("newcomer")).await,
        }
    }

    fn caller(&self, caller: Caller) -> Option<&TestUser> {
        match caller {
            Caller::Owner => Some(&self.owner),
            Caller::Admin => Some(&self.admin),
            Caller::Member => Some(&self.member),
            Caller::Outsider => Some(&self.outsider),
            Caller::Anonymous => None,
        }
    }

    fn user(&self, who: Who, caller: Caller) -> Option<&TestUser> {
        match who {
            Who::FirstOwner => Some(&self.owner),
            Who::OtherOwner => Some(&self.other_owner),
            Who::OtherAdmin => Some(&self.other_admin),
            Who::OtherMember => Some(&self.other_member),
            Who::OnlyInB => Some(&self.only_in_b),
            Who::Newcomer => Some(&self.newcomer),
            Who::Caller => Some(self.caller(caller).unwrap_or(&self.member)),
            Who::Unknown | Who::Malformed => None,
        }
    }

    fn id(&self, who: Who, caller: Caller) -> String {
        match (who, self.user(who, caller)) {
            (_, Some(user)) => user.id.clone(),
            (Who::Malformed, None) => "not-a-uuid".to_owned(),
            _ => uuid::Uuid::new_v4().to_string(),
        }
    }

    fn email(&self, who: Who, caller: Caller) -> String {
        match (who, self.user(who, caller)) {
            (_, Some(user)) => user.email.clone(),
            _ => unique_email("nobody"),
        }
    }
}

/// Organization A with every role, and organization B beside it.
struct Orgs {
    a: String,
    b: String,
}

async fn arrange(app: &TestApp, users: &Users) -> Orgs {
    let name = |prefix: &str| format!("{prefix} {}", uuid::Uuid::new_v4().simple());
    let a = app.create_organization(&users.owner, &name("A")).await;
    for (user, role) in [
        (&users.other_owner, "owner"),
        (&users.admin, "admin"),
        (&users.member, "member"),
        (&users.other_admin, "admin"),
        (&users.other_member, "member"),
    ] {
        app.add_member(&a, &users.owner, user, role).await;
    }
    let b = app.create_organization(&users.outsider, &name("B")).await;
    app.add_member(&b, &users.outsider, &users.only_in_b, "member")
        .await;
    // A's plain member owns B: a role in one organization must count for nothing in another.
    app.add_member(&b, &users.outsider, &users.member, "owner")
        .await;
    Orgs { a, b }
}

/// An organization and its members as `viewer` sees them, failures included.
async fn snapshot(app: &TestApp, org: &str, viewer: &TestUser) -> Value {
    let organization = app
        .get(&format!("/api/v1/organizations/{org}"), Some(&viewer.token))
        .await;
    let members_path = format!("/api/v1/organizations/{org}/members?per_page=100");
    let members = app.get(&members_path, Some(&viewer.token)).await;
    json!({
        "organization": [organization.status.as_u16(), organization.body["data"]],
        "members": [members.status.as_u16(), members.body["data"]],
    })
}

/// Sends `request` on organization A as `caller`.
async fn send(
    app: &TestApp,
    users: &Users,
    orgs: &Orgs,
    request: &Request,
    caller: Caller,
) -> TestResponse {
    let base = format!("/api/v1/organizations/{}", orgs.a);
    let path = match request.route {
        Route::Organization => base,
        Route::Members => format!("{base}/members"),
        Route::Member(who) => format!("{base}/members/{}", users.id(who, caller)),
        Route::Role(who) => format!("{base}/members/{}/role", users.id(who, caller)),
        Route::AuditLogs => format!("{base}/audit-logs"),
    };
    let body = match &request.body {
        Body::None => None,
        Body::Json(body) => Some(body.clone()),
        Body::Rename => Some(json!({ "name": "Renamed", "slug": format!("renamed-{}", orgs.a) })),
        Body::Add(who, None) => Some(json!({ "email": users.email(*who, caller) })),
        Body::Add(who, Some(role)) => {
            Some(json!({ "email": users.email(*who, caller), "role": role }))
        }
    };
    let token = users.caller(caller).map(|user| user.token.as_str());
    match body {
        Some(body) => app.json(request.method.clone(), &path, token, body).await,
        None => app.call(request.method.clone(), &path, token).await,
    }
}

/// Runs every case as every caller, each on fresh organizations.
async fn check(cases: Vec<Case>) {
    let app = TestApp::spawn().await;
    let users = Users::register(&app).await;
    for (what, request, expected) in &cases {
        for (caller, expect) in CALLERS.into_iter().zip(*expected) {
            let label = format!("{what} as {caller:?}");
            let orgs = arrange(&app, &users).await;
            let before_a = snapshot(&app, &orgs.a, &users.owner).await;
            let before_b = snapshot(&app, &orgs.b, &users.outsider).await;

            let response = send(&app, &users, &orgs, request, caller).await;

            let after_a = snapshot(&app, &orgs.a, &users.owner).await;
            let (status, kind, changes) = match expect {
                Expect::Changes(status) => (status, "", true),
                Expect::Reads => (200, "", false),
                Expect::Refused(status, kind) => (status, kind, false),
            };
            let got = (response.status.as_u16(), response.error_type());
            assert_eq!(got, (status, kind), "{label}: {:#}", response.body);
            if changes {
                assert_ne!(after_a, before_a, "{label}: succeeded but changed nothing");
            } else {
                assert_eq!(after_a, before_a, "{label}: organization A changed");
            }
            let after_b = snapshot(&app, &orgs.b, &users.outsider).await;
            assert_eq!(after_b, before_b, "{label}: organization B changed");
            let text = response.body.to_string();
            for trace in [&orgs.b, &users.outsider.id, &users.only_in_b.id] {
                assert!(
                    !text.contains(trace.as_str()),
                    "{label}: answer mentions B: {text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn organization_routes_follow_the_permission_matrix() {
    check(organization_cases()).await;
}

#[tokio::test]
async fn listing_and_adding_members_follow_the_permission_matrix() {
    check(member_list_cases()).await;
}

#[tokio::test]
async fn removing_members_follows_the_permission_matrix() {
    check(removal_cases()).await;
}

#[tokio::test]
async fn changing_roles_follows_the_permission_matrix() {
    check(role_cases()).await;
}

// The tables below are laid out as matrices: one request per row, one caller per column.

#[rustfmt::skip]
fn organization_cases() -> Vec<Case> {
    use Route::{AuditLogs, Organization};
    let rename = patch(Organization, json!({ "name": "Renamed" }));
    let rename_and_reslug = Request { method: Method::PATCH, route: Organization, body: Body::Rename };
    vec![
        ("read the organization", get(Organization),              [READ, READ,      READ,      NOT_FOUND, ANONYMOUS]),
        ("rename",                rename,                         [OK,   OK,        FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("rename and re-slug",    rename_and_reslug,              [OK,   OK,        FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("change nothing",        patch(Organization, json!({})), [READ, READ,      FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("delete",                delete(Organization),           [OK,   FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("read the audit log",    get(AuditLogs),                 [READ, READ,      FORBIDDEN, NOT_FOUND, ANONYMOUS]),
    ]
}

#[rustfmt::skip]
fn member_list_cases() -> Vec<Case> {
    use Who::{Newcomer, OtherMember, Unknown};
    vec![
        ("list members",              get(Route::Members),             [READ,      READ,      READ,      NOT_FOUND, ANONYMOUS]),
        ("add with the default role", add(Newcomer, None),             [CREATED,   CREATED,   FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("add as member",             add(Newcomer, Some("member")),   [CREATED,   CREATED,   FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("add as admin",              add(Newcomer, Some("admin")),    [CREATED,   CREATED,   FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("add as owner",              add(Newcomer, Some("owner")),    [CREATED,   FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("add an existing member",    add(OtherMember, Some("admin")), [CONFLICT,  CONFLICT,  FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("add an unknown email",      add(Unknown, None),              [NOT_FOUND, NOT_FOUND, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
    ]
}

#[rustfmt::skip]
fn removal_cases() -> Vec<Case> {
    use Route::Member;
    use Who::*;
    let nobody = [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, ANONYMOUS];
    vec![
        ("remove a member",        delete(Member(OtherMember)), [OK, OK,        FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("remove an admin",        delete(Member(OtherAdmin)),  [OK, OK,        FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("remove an owner",        delete(Member(OtherOwner)),  [OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("remove the first owner", delete(Member(FirstOwner)),  [OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("leave",                  delete(Member(Caller)),      [OK, OK,        OK,        NOT_FOUND, ANONYMOUS]),
        ("remove a member of B",   delete(Member(OnlyInB)),     nobody),
        ("remove an unknown user", delete(Member(Unknown)),     nobody),
        ("remove a malformed id",  delete(Member(Malformed)),   nobody),
    ]
}

#[rustfmt::skip]
fn role_cases() -> Vec<Case> {
    use Who::*;
    let nobody = [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, ANONYMOUS];
    vec![
        ("member to admin",    set_role(OtherMember, "admin"),  [OK,   OK,        FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("admin to member",    set_role(OtherAdmin, "member"),  [OK,   OK,        FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("member to owner",    set_role(OtherMember, "owner"),  [OK,   FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("admin to owner",     set_role(OtherAdmin, "owner"),   [OK,   FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("owner to admin",     set_role(OtherOwner, "admin"),   [OK,   FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("owner to member",    set_role(OtherOwner, "member"),  [OK,   FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("owner stays owner",  set_role(OtherOwner, "owner"),   [READ, FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("own role to member", set_role(Caller, "member"),      [OK,   OK,        FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("own role to admin",  set_role(Caller, "admin"),       [OK,   READ,      FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("own role to owner",  set_role(Caller, "owner"),       [READ, FORBIDDEN, FORBIDDEN, NOT_FOUND, ANONYMOUS]),
        ("a member of B",      set_role(OnlyInB, "admin"),      nobody),
        ("an unknown user",    set_role(Unknown, "admin"),      nobody),
        ("a malformed id",     set_role(Malformed, "admin"),    nobody),
    ]
}
