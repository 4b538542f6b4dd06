//! Organizations, roles, permissions and API keys over HTTP (ACCOUNTS.md §1–2, issue 14) on
//! every store: who may call which route, escalation attempts, the last admin, disabling and
//! erasing accounts, API keys on the accounts and management routes, registering into an
//! organization, and the members' keyset pages.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use domain::{AccountSwitches, AdminAccess, CreatedApiKey, NewApiKey};
use reqwest::Method;
use serde_json::{Value, json};
use storage_port::{AppChanges, MemberRole, MembershipRecord, OrganizationCreation, Timestamp};

use crate::helpers::{TestApp, read, signup, spawn_beside, test_settings};

crate::on_every_backend!(
    every_route_answers_every_caller_as_the_rules_say,
    the_active_organization_is_chosen_at_login,
    a_refresh_can_switch_the_active_organization,
    the_organization_creation_setting_decides_who_creates,
    escalation_attempts_are_refused,
    an_organization_keeps_its_last_admin,
    two_admins_demoting_each_other_leave_one_admin,
    disabling_and_erasing_end_the_sessions,
    api_keys_are_shown_once_and_act_within_their_permissions,
    registering_into_an_organization_needs_its_email_domain,
    members_come_in_keyset_pages,
    an_admin_lists_and_ends_a_users_sessions,
    operators_reach_the_accounts_api_through_the_dashboard,
);

const PASSWORD: &str = "correct horse battery staple";

// ---------------------------------------------------------------------------------------------
// Requests.

#[derive(Debug, Clone)]
enum Credential {
    /// `Authorization: Bearer …`: an access token, or an API key (`uak_…`).
    Bearer(String),
    /// `X-API-Key: …`.
    ApiKey(String),
    None,
}

/// Who sends a request: a credential and the app it names in `x-app-id`, if any.
#[derive(Debug, Clone)]
struct Who {
    credential: Credential,
    app: Option<&'static str>,
}

impl Who {
    fn bearer(token: &str) -> Self {
        Self {
            credential: Credential::Bearer(token.to_owned()),
            app: Some("site"),
        }
    }

    fn api_key(key: &str) -> Self {
        Self {
            credential: Credential::ApiKey(key.to_owned()),
            app: Some("site"),
        }
    }

    fn anonymous(app: &'static str) -> Self {
        Self {
            credential: Credential::None,
            app: Some(app),
        }
    }

    fn naming(mut self, app: Option<&'static str>) -> Self {
        self.app = app;
        self
    }
}

/// Status and JSON body of one request, with no `Origin` and no cookie (a server calling).
async fn send(
    app: &TestApp,
    who: &Who,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(app_id) = who.app {
        request = request.header("x-app-id", app_id);
    }
    request = match &who.credential {
        Credential::Bearer(token) => request.bearer_auth(token),
        Credential::ApiKey(key) => request.header("x-api-key", key),
        Credential::None => request,
    };
    if let Some(body) = body {
        request = request.json(&body);
    }
    read(request.send().await.expect("request")).await
}

async fn get(app: &TestApp, who: &Who, path: &str) -> (u16, Value) {
    send(app, who, Method::GET, path, None).await
}

/// `error.code` of an answer ("" for a success).
fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// Asserts an error answer: status, code, and the accounts' envelope.
fn assert_error(answer: &(u16, Value), status: u16, expected: &str, what: &str) {
    let (actual, body) = answer;
    assert_eq!((*actual, code(body)), (status, expected), "{what}: {body}");
    assert_eq!(body["success"], false, "{what}: {body}");
}

/// Asserts a 403 `forbidden` that names `needs` in `details[0]`.
fn assert_forbidden(answer: &(u16, Value), needs: &str, what: &str) {
    assert_error(answer, 403, "forbidden", what);
    let detail = &answer.1["error"]["details"][0];
    assert_eq!(detail["field"], "permission", "{what}: {}", answer.1);
    assert_eq!(detail["code"], "missing", "{what}: {}", answer.1);
    assert_eq!(detail["message"], needs, "{what}: {}", answer.1);
}

/// The `data` of a success with `status`.
fn data(answer: (u16, Value), status: u16, what: &str) -> Value {
    let (actual, body) = answer;
    assert_eq!(actual, status, "{what}: {body}");
    assert_eq!(body["success"], true, "{what}: {body}");
    body["data"].clone()
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

/// The claims of an access token, read without verifying it.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// A name no other call of this process has used.
fn unique(label: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{label}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

// ---------------------------------------------------------------------------------------------
// Set-up.

/// An account that logged in, with its tokens.
#[derive(Debug, Clone)]
struct Account {
    id: String,
    email: String,
    token: String,
    refresh: String,
}

impl Account {
    fn of(data: &Value) -> Self {
        Self {
            id: text(&data["user"]["id"]),
            email: text(&data["user"]["email"]),
            token: text(&data["token"]),
            refresh: text(&data["refresh_token"]),
        }
    }

    fn who(&self) -> Who {
        Who::bearer(&self.token)
    }
}

async fn register(app: &TestApp, app_id: &'static str, email: &str) -> Account {
    let answer = send(
        app,
        &Who::anonymous(app_id),
        Method::POST,
        "/v1/auth/register",
        Some(json!({"email": email, "password": PASSWORD, "name": "Ada"})),
    )
    .await;
    Account::of(&data(answer, 201, "register"))
}

async fn log_in(app: &TestApp, email: &str, organization_id: Option<&str>) -> (u16, Value) {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(organization_id) = organization_id {
        body["organization_id"] = json!(organization_id);
    }
    send(
        app,
        &Who::anonymous("site"),
        Method::POST,
        "/v1/auth/login",
        Some(body),
    )
    .await
}

async fn logged_in(app: &TestApp, email: &str, organization_id: Option<&str>) -> Account {
    Account::of(&data(
        log_in(app, email, organization_id).await,
        200,
        "login",
    ))
}

async fn refresh(app: &TestApp, refresh_token: &str) -> (u16, Value) {
    send(
        app,
        &Who::anonymous("site"),
        Method::POST,
        "/v1/auth/refresh",
        Some(json!({"refresh_token": refresh_token})),
    )
    .await
}

/// Lets every account of the app create organizations (nobody is verified yet).
async fn allow_any_account(app: &TestApp, app_id: &str) {
    app.services
        .apps
        .update_app(
            &AdminAccess::command_line().app(app_id),
            AppChanges::default(),
            AccountSwitches {
                organization_creation: Some(OrganizationCreation::AnyAccount),
                ..AccountSwitches::default()
            },
        )
        .await
        .expect("update app");
}

async fn create_key(
    app: &TestApp,
    app_id: &str,
    role: Option<&str>,
    permissions: &[&str],
) -> CreatedApiKey {
    app.services
        .api_keys
        .create(
            &AdminAccess::command_line().app(app_id),
            NewApiKey {
                name: unique("backend"),
                role: role.map(str::to_owned),
                permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                expires_at: None,
            },
        )
        .await
        .expect("create key")
}

/// Puts an existing account into an organization of `site` (no invitations yet: planted in
/// the store).
async fn plant(app: &TestApp, organization_id: &str, user_id: &str, role: MemberRole) {
    let now = Timestamp::now();
    app.storage
        .add_membership(&MembershipRecord {
            app_id: "site".to_owned(),
            organization_id: organization_id.to_owned(),
            user_id: user_id.to_owned(),
            role,
            permissions: Vec::new(),
            created_at: now,
            updated_at: now,
        })
        .await
        .expect("membership");
}

async fn create_organization(app: &TestApp, who: &Who, body: Value) -> Value {
    data(
        send(app, who, Method::POST, "/v1/organizations", Some(body)).await,
        201,
        "create organization",
    )
}

/// The members of an organization, as the key reads them (one page of 500).
async fn members(app: &TestApp, key: &Who, organization_id: &str) -> Vec<Value> {
    let page = data(
        get(
            app,
            key,
            &format!("/v1/organizations/{organization_id}/users?limit=500"),
        )
        .await,
        200,
        "members",
    );
    page["users"].as_array().expect("users").clone()
}

fn member_ids(members: &[Value]) -> Vec<String> {
    members.iter().map(|m| text(&m["id"])).collect()
}

/// A user as the key reads it.
async fn user(app: &TestApp, key: &Who, user_id: &str) -> (u16, Value) {
    get(app, key, &format!("/v1/users/{user_id}")).await
}

/// The user's membership in `organization_id`, as the key reads it.
async fn membership(app: &TestApp, key: &Who, user_id: &str, organization_id: &str) -> Value {
    let user = data(user(app, key, user_id).await, 200, "read user");
    user["organizations"]
        .as_array()
        .expect("organizations")
        .iter()
        .find(|o| o["id"] == organization_id)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Every kind of caller the matrix tries, and what they act on.
#[derive(Debug)]
struct World {
    /// The app's API key with every built-in permission (`role: tenant_admin`).
    key: Who,
    revoked_key: String,
    org_a: String,
    org_b: String,
    tenant: Account,
    org_admin: Account,
    member: Account,
    guest: Account,
    /// A member of B only.
    outsider: Account,
    /// An account of app `other`.
    foreign: Account,
}

async fn world(app: &TestApp) -> World {
    app.create_app("site").await;
    app.create_app("other").await;
    allow_any_account(app, "site").await;
    let key = Who::api_key(&create_key(app, "site", Some("tenant_admin"), &[]).await.key);
    let tenant = register(app, "site", "tenant@example.com").await;
    let org_admin = register(app, "site", "org-admin@example.com").await;
    let member = register(app, "site", "member@example.com").await;
    let guest = register(app, "site", "guest@example.com").await;
    let outsider = register(app, "site", "outsider@example.com").await;
    let foreign = register(app, "other", "foreign@example.com").await;

    let promoted = data(
        send(
            app,
            &key,
            Method::PUT,
            &format!("/v1/users/{}", tenant.id),
            Some(json!({"role": "tenant_admin"})),
        )
        .await,
        200,
        "make a tenant admin",
    );
    assert_eq!(promoted["role"], "tenant_admin", "{promoted}");

    let org_a = create_organization(app, &org_admin.who(), json!({"name": "Org A"})).await;
    assert_eq!(org_a["role"], "admin", "the creator is the admin: {org_a}");
    assert_eq!(org_a["slug"], "org-a");
    let org_a = text(&org_a["id"]);
    let org_b = create_organization(app, &key, json!({"name": "Org B"})).await;
    assert!(org_b.get("role").is_none(), "a key is no member: {org_b}");
    let org_b = text(&org_b["id"]);
    plant(app, &org_a, &member.id, MemberRole::Member).await;
    plant(app, &org_a, &guest.id, MemberRole::Guest).await;
    plant(app, &org_b, &outsider.id, MemberRole::Member).await;

    let org_admin = logged_in(app, &org_admin.email, Some(&org_a)).await;
    let member = logged_in(app, &member.email, Some(&org_a)).await;
    let guest = logged_in(app, &guest.email, Some(&org_a)).await;
    let outsider = logged_in(app, &outsider.email, Some(&org_b)).await;
    for (account, role) in [
        (&org_admin, "admin"),
        (&member, "member"),
        (&guest, "guest"),
    ] {
        let claims = claims(&account.token);
        assert_eq!(claims["org"], org_a.as_str(), "{claims}");
        assert_eq!(claims["role"], role, "{claims}");
    }

    let revoked = create_key(app, "site", Some("tenant_admin"), &[]).await;
    app.services
        .api_keys
        .revoke(&AdminAccess::command_line().app("site"), &revoked.record.id)
        .await
        .expect("revoke");

    World {
        key,
        revoked_key: revoked.key,
        org_a,
        org_b,
        tenant,
        org_admin,
        member,
        guest,
        outsider,
        foreign,
    }
}

/// A new member of A (an account created by the key, without a password).
async fn fresh_member(app: &TestApp, world: &World, label: &str) -> String {
    let created = data(
        send(
            app,
            &world.key,
            Method::POST,
            "/v1/users",
            Some(json!({
                "email": format!("{}@example.com", unique(label)),
                "role": "member",
                "organization_id": world.org_a,
            })),
        )
        .await,
        201,
        "create a member",
    );
    text(&created["user"]["id"])
}

/// A new organization where the caller stands as it does in A: the org admin its admin, the
/// member a member, the guest a guest.
async fn doomed_organization(app: &TestApp, world: &World, label: &str) -> String {
    let created = create_organization(
        app,
        &world.org_admin.who(),
        json!({"name": unique(&format!("Doomed {label}"))}),
    )
    .await;
    let id = text(&created["id"]);
    plant(app, &id, &world.member.id, MemberRole::Member).await;
    plant(app, &id, &world.guest.id, MemberRole::Guest).await;
    id
}

// ---------------------------------------------------------------------------------------------
// 1. The route × caller matrix.

type Expect = (u16, &'static str);

const OK: Expect = (200, "");
const CREATED: Expect = (201, "");
const NO_CREDENTIAL: Expect = (401, "unauthorized");
const BAD_CREDENTIAL: Expect = (401, "invalid_token");
const MISMATCH: Expect = (403, "tenant_mismatch");
const NOT_MEMBER: Expect = (403, "organization_access_denied");
const LACKS: Expect = (403, "forbidden");
const UNVERIFIED: Expect = (403, "email_not_verified");
const HIDDEN: Expect = (404, "not_found");
/// `POST /v1/users` without a credential is phase 1's public sign-up: its body here is no
/// valid submission.
const PUBLIC_SIGN_UP: Expect = (422, "validation_failed");

const CALLERS: [&str; 10] = [
    "tenant_admin",
    "org_admin",
    "member",
    "guest",
    "other_org",
    "other_app+site",
    "other_app",
    "api_key",
    "revoked_key",
    "no_credential",
];

#[derive(Debug, Clone, Copy)]
enum Route {
    ListOrganizations,
    CreateOrganization,
    GetOrganization,
    PatchOrganization,
    DeleteOrganization,
    ListMembers,
    RemoveMember,
    CreateUser,
    ListUsers,
    ListUsersOfOrganization,
    GetUser,
    PutUser,
    DeleteUser,
}

/// The expected answer of each route to each of [`CALLERS`], in that order.
const MATRIX: [(Route, [Expect; 10]); 13] = {
    use Route::*;
    const BAD: Expect = BAD_CREDENTIAL;
    const NONE: Expect = NO_CREDENTIAL;
    [
        (
            ListOrganizations,
            [OK, OK, OK, OK, OK, MISMATCH, OK, OK, BAD, NONE],
        ),
        (
            CreateOrganization,
            [
                CREATED, CREATED, CREATED, CREATED, CREATED, MISMATCH, UNVERIFIED, CREATED, BAD,
                NONE,
            ],
        ),
        (
            GetOrganization,
            [
                OK, OK, OK, OK, NOT_MEMBER, MISMATCH, NOT_MEMBER, OK, BAD, NONE,
            ],
        ),
        (
            PatchOrganization,
            [
                OK, OK, LACKS, LACKS, NOT_MEMBER, MISMATCH, NOT_MEMBER, OK, BAD, NONE,
            ],
        ),
        (
            DeleteOrganization,
            [
                OK, LACKS, LACKS, LACKS, NOT_MEMBER, MISMATCH, NOT_MEMBER, OK, BAD, NONE,
            ],
        ),
        (
            ListMembers,
            [
                OK, OK, OK, LACKS, NOT_MEMBER, MISMATCH, NOT_MEMBER, OK, BAD, NONE,
            ],
        ),
        (
            RemoveMember,
            [
                OK, OK, LACKS, LACKS, NOT_MEMBER, MISMATCH, NOT_MEMBER, OK, BAD, NONE,
            ],
        ),
        (
            CreateUser,
            [
                CREATED,
                CREATED,
                LACKS,
                LACKS,
                NOT_MEMBER,
                MISMATCH,
                NOT_MEMBER,
                CREATED,
                BAD,
                PUBLIC_SIGN_UP,
            ],
        ),
        (
            ListUsers,
            [
                OK, LACKS, LACKS, LACKS, LACKS, MISMATCH, LACKS, OK, BAD, NONE,
            ],
        ),
        (
            ListUsersOfOrganization,
            [
                OK, OK, OK, LACKS, NOT_MEMBER, MISMATCH, NOT_MEMBER, OK, BAD, NONE,
            ],
        ),
        // A user outside the caller's readable organizations is "not found" (the guest lacks
        // `users:read`); another app's account finds no such user in its app. Changing or
        // erasing a user in none of the caller's organizations is "not found" too.
        (
            GetUser,
            [OK, OK, OK, HIDDEN, HIDDEN, MISMATCH, HIDDEN, OK, BAD, NONE],
        ),
        (
            PutUser,
            [
                OK, OK, LACKS, LACKS, HIDDEN, MISMATCH, HIDDEN, OK, BAD, NONE,
            ],
        ),
        (
            DeleteUser,
            [
                OK, LACKS, LACKS, LACKS, HIDDEN, MISMATCH, HIDDEN, OK, BAD, NONE,
            ],
        ),
    ]
};

/// What a destructive request acts on, to check afterwards that a refusal changed nothing
/// and a success did what it said.
#[derive(Debug)]
enum Target {
    Nothing,
    Organization(String),
    Member(String),
    User(String),
    Renamed(String),
}

impl Target {
    /// Whether the request's effect is visible (read with the key).
    async fn changed(&self, app: &TestApp, world: &World) -> Option<bool> {
        match self {
            Self::Nothing => None,
            Self::Organization(id) => Some(
                get(app, &world.key, &format!("/v1/organizations/{id}"))
                    .await
                    .0
                    == 404,
            ),
            Self::Member(id) => {
                Some(!member_ids(&members(app, &world.key, &world.org_a).await).contains(id))
            }
            Self::User(id) => Some(user(app, &world.key, id).await.0 == 404),
            Self::Renamed(id) => {
                let (_, body) = user(app, &world.key, id).await;
                Some(body["data"]["name"] == "Renamed")
            }
        }
    }
}

/// The request of `route` for the caller `label`, with a fresh target where it destroys.
async fn prepare(
    app: &TestApp,
    world: &World,
    route: Route,
    label: &str,
) -> (Method, String, Option<Value>, Target) {
    let a = &world.org_a;
    match route {
        Route::ListOrganizations => (
            Method::GET,
            "/v1/organizations".to_owned(),
            None,
            Target::Nothing,
        ),
        Route::CreateOrganization => (
            Method::POST,
            "/v1/organizations".to_owned(),
            Some(json!({"name": format!("Made by {label}")})),
            Target::Nothing,
        ),
        Route::GetOrganization => (
            Method::GET,
            format!("/v1/organizations/{a}"),
            None,
            Target::Nothing,
        ),
        Route::PatchOrganization => (
            Method::PATCH,
            format!("/v1/organizations/{a}"),
            Some(json!({"name": format!("Org A, renamed by {label}")})),
            Target::Nothing,
        ),
        Route::DeleteOrganization => {
            let doomed = doomed_organization(app, world, label).await;
            (
                Method::DELETE,
                format!("/v1/organizations/{doomed}"),
                None,
                Target::Organization(doomed),
            )
        }
        Route::ListMembers => (
            Method::GET,
            format!("/v1/organizations/{a}/users"),
            None,
            Target::Nothing,
        ),
        Route::RemoveMember => {
            let id = fresh_member(app, world, label).await;
            (
                Method::DELETE,
                format!("/v1/organizations/{a}/users/{id}"),
                None,
                Target::Member(id),
            )
        }
        Route::CreateUser => (
            Method::POST,
            "/v1/users".to_owned(),
            Some(json!({
                "email": format!("{}@example.com", unique(label)),
                "name": "New",
                "role": "member",
                "organization_id": a,
            })),
            Target::Nothing,
        ),
        Route::ListUsers => (Method::GET, "/v1/users".to_owned(), None, Target::Nothing),
        Route::ListUsersOfOrganization => (
            Method::GET,
            format!("/v1/users?organization_id={a}"),
            None,
            Target::Nothing,
        ),
        Route::GetUser => {
            let id = fresh_member(app, world, label).await;
            (
                Method::GET,
                format!("/v1/users/{id}"),
                None,
                Target::Nothing,
            )
        }
        Route::PutUser => {
            let id = fresh_member(app, world, label).await;
            (
                Method::PUT,
                format!("/v1/users/{id}"),
                Some(json!({"name": "Renamed"})),
                Target::Renamed(id),
            )
        }
        Route::DeleteUser => {
            let id = fresh_member(app, world, label).await;
            (
                Method::DELETE,
                format!("/v1/users/{id}"),
                None,
                Target::User(id),
            )
        }
    }
}

fn callers(world: &World) -> [Who; 10] {
    [
        world.tenant.who(),
        world.org_admin.who(),
        world.member.who(),
        world.guest.who(),
        world.outsider.who(),
        world.foreign.who(),
        world.foreign.who().naming(None),
        world.key.clone(),
        Who {
            credential: Credential::Bearer(world.revoked_key.clone()),
            app: Some("site"),
        },
        Who::anonymous("site"),
    ]
}

/// Every route × every caller, from a table; the whole table is printed when a cell differs.
async fn every_route_answers_every_caller_as_the_rules_say(app: &TestApp) {
    let world = world(app).await;
    let callers = callers(&world);
    let mut table = String::new();
    let mut wrong = 0;
    for (route, expected) in MATRIX {
        for ((label, who), (status, expected_code)) in CALLERS.iter().zip(&callers).zip(expected) {
            let (method, path, body, target) = prepare(app, &world, route, label).await;
            let (actual, answer) = send(app, who, method.clone(), &path, body).await;
            let actual_code = code(&answer);
            let mut problems = Vec::new();
            if (actual, actual_code) != (status, expected_code) {
                problems.push(String::from("status/code"));
            }
            let succeeded = actual < 300;
            if succeeded && answer["success"] != true && !answer.is_string() {
                problems.push(String::from("no success: true"));
            }
            if actual_code == "forbidden" {
                let detail = &answer["error"]["details"][0];
                if detail["field"] != "permission"
                    || detail["code"] != "missing"
                    || detail["message"].as_str().is_none_or(str::is_empty)
                {
                    problems.push(format!("details {}", answer["error"]["details"]));
                }
            }
            if let Some(changed) = target.changed(app, &world).await
                && changed != (status < 300)
            {
                problems.push(format!("target changed: {changed}"));
            }
            let detail = answer["error"]["details"][0]["message"]
                .as_str()
                .unwrap_or_default();
            let mark = if problems.is_empty() {
                "  "
            } else {
                wrong += 1;
                "✗ "
            };
            let _ = writeln!(
                table,
                "{mark}{:<7}{:<38}{:<15} expected {status} {expected_code:<27} got {actual} {actual_code} {detail} {}",
                method.as_str(),
                route_path(route),
                label,
                problems.join("; "),
            );
        }
    }
    assert_eq!(wrong, 0, "{wrong} cells differ:\n{table}");
}

fn route_path(route: Route) -> &'static str {
    match route {
        Route::ListOrganizations | Route::CreateOrganization => "/v1/organizations",
        Route::GetOrganization | Route::PatchOrganization => "/v1/organizations/{A}",
        Route::DeleteOrganization => "/v1/organizations/{fresh}",
        Route::ListMembers => "/v1/organizations/{A}/users",
        Route::RemoveMember => "/v1/organizations/{A}/users/{fresh}",
        Route::CreateUser | Route::ListUsers => "/v1/users",
        Route::ListUsersOfOrganization => "/v1/users?organization_id={A}",
        Route::GetUser | Route::PutUser | Route::DeleteUser => "/v1/users/{fresh member of A}",
    }
}

/// Login with `organization_id` makes it the active organization (claims `org`, `role`,
/// `permissions`); without it, the first joined; not a member: 403.
async fn the_active_organization_is_chosen_at_login(app: &TestApp) {
    let world = world(app).await;
    plant(app, &world.org_b, &world.member.id, MemberRole::Guest).await;
    let first = logged_in(app, &world.member.email, None).await;
    let claims_first = claims(&first.token);
    assert_eq!(claims_first["org"], world.org_a.as_str(), "{claims_first}");
    assert_eq!(claims_first["role"], "member");
    assert_eq!(
        claims_first["permissions"],
        json!(["organizations:read", "users:read"])
    );
    let in_b = logged_in(app, &world.member.email, Some(&world.org_b)).await;
    let claims_b = claims(&in_b.token);
    assert_eq!(claims_b["org"], world.org_b.as_str(), "{claims_b}");
    assert_eq!(claims_b["role"], "guest");
    assert_eq!(claims_b["permissions"], json!(["organizations:read"]));
    assert_error(
        &log_in(app, &world.outsider.email, Some(&world.org_a)).await,
        403,
        "organization_access_denied",
        "login into an organization one is not in",
    );
    assert_error(
        &log_in(app, &world.outsider.email, Some("org_doesnotexist")).await,
        403,
        "organization_access_denied",
        "login into an unknown organization",
    );
    let admin = claims(&world.org_admin.token);
    assert_eq!(
        admin["permissions"],
        json!([
            "invites:write",
            "organizations:read",
            "organizations:write",
            "roles:write",
            "users:read",
            "users:write"
        ]),
        "{admin}"
    );
}

/// `POST /v1/auth/refresh` with `organization_id` switches the session's active organization
/// (and later refreshes keep it); naming one the account is not in is 403 and does not spend
/// the token.
async fn a_refresh_can_switch_the_active_organization(app: &TestApp) {
    let world = world(app).await;
    plant(app, &world.org_b, &world.member.id, MemberRole::Guest).await;
    let first = logged_in(app, &world.member.email, None).await;
    assert_eq!(claims(&first.token)["org"], world.org_a.as_str());
    let switch = |token: &str, org: &str| json!({"refresh_token": token, "organization_id": org});
    let refused = send(
        app,
        &Who::anonymous("site"),
        Method::POST,
        "/v1/auth/refresh",
        Some(switch(&first.refresh, "org_doesnotexist")),
    )
    .await;
    assert_error(
        &refused,
        403,
        "organization_access_denied",
        "switch to a stranger's org",
    );
    // The refused switch did not spend the token.
    let switched = data(
        send(
            app,
            &Who::anonymous("site"),
            Method::POST,
            "/v1/auth/refresh",
            Some(switch(&first.refresh, &world.org_b)),
        )
        .await,
        200,
        "switch to B",
    );
    let in_b = claims(&text(&switched["token"]));
    assert_eq!(in_b["org"], world.org_b.as_str(), "{in_b}");
    assert_eq!(in_b["role"], "guest");
    assert_eq!(in_b["permissions"], json!(["organizations:read"]));
    let me = data(
        get(app, &Who::bearer(&text(&switched["token"])), "/v1/users/me").await,
        200,
        "me in B",
    );
    assert_eq!(me["organization_id"], world.org_b.as_str(), "{me}");
    assert_eq!(me["role"], "guest");
    // A plain refresh keeps the organization the session switched to.
    let again = data(
        refresh(app, &text(&switched["refresh_token"])).await,
        200,
        "refresh",
    );
    assert_eq!(claims(&text(&again["token"]))["org"], world.org_b.as_str());
}

/// The app's `organizationCreation`, set by an operator (`PATCH /v1/apps/{id}`) or through
/// `AppService::update_app`, decides who may create an organization; tenant admins and keys
/// with `organizations:write` always may.
async fn the_organization_creation_setting_decides_who_creates(app: &TestApp) {
    app.create_admin().await;
    app.create_app("site").await;
    let cookie = app.admin_session().await;
    let key = Who::api_key(&create_key(app, "site", Some("tenant_admin"), &[]).await.key);
    let account = register(app, "site", "creator@example.com").await;
    let tenant = register(app, "site", "tenant@example.com").await;
    data(
        put_user(app, &key, &tenant.id, json!({"role": "tenant_admin"})).await,
        200,
        "make a tenant admin",
    );
    let create = |who: Who, name: &'static str| async move {
        send(
            app,
            &who,
            Method::POST,
            "/v1/organizations",
            Some(json!({"name": name})),
        )
        .await
    };
    assert_error(
        &create(account.who(), "Default").await,
        403,
        "email_not_verified",
        "the default: verified accounts",
    );

    let (status, patched) = read(
        app.dashboard(Method::PATCH, "/v1/apps/site", Some(&cookie))
            .json(&json!({"organizationCreation": "any_account"}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched["organizationCreation"], "any_account",
        "the PATCH answer shows the new setting: {patched}"
    );
    let (_, read_back) = app.dashboard_get("/v1/apps/site", &cookie).await;
    assert_eq!(
        read_back["organizationCreation"], "any_account",
        "{read_back}"
    );
    let made = data(
        create(account.who(), "Any account").await,
        201,
        "any_account lets an unverified account create",
    );
    assert_eq!(made["role"], "admin");

    app.services
        .apps
        .update_app(
            &AdminAccess::command_line().app("site"),
            AppChanges::default(),
            AccountSwitches {
                organization_creation: Some(OrganizationCreation::TenantAdmins),
                ..AccountSwitches::default()
            },
        )
        .await
        .expect("update app");
    assert_forbidden(
        &create(account.who(), "Tenant admins only").await,
        "the role tenant_admin",
        "tenant_admins refuses an account",
    );
    data(
        create(tenant.who(), "By a tenant admin").await,
        201,
        "a tenant admin",
    );
    data(create(key.clone(), "By the key").await, 201, "the key");
}

// ---------------------------------------------------------------------------------------------
// 2. Escalation attempts.

async fn put_user(app: &TestApp, who: &Who, user_id: &str, body: Value) -> (u16, Value) {
    send(
        app,
        who,
        Method::PUT,
        &format!("/v1/users/{user_id}"),
        Some(body),
    )
    .await
}

async fn escalation_attempts_are_refused(app: &TestApp) {
    let world = world(app).await;
    let a = world.org_a.as_str();
    let key = &world.key;
    plant(app, a, &world.tenant.id, MemberRole::Member).await;

    // A member granting itself admin, or an extra permission.
    let attempt = put_user(
        app,
        &world.member.who(),
        &world.member.id,
        json!({"role": "admin", "organization_id": a}),
    )
    .await;
    assert_forbidden(&attempt, "roles:write", "a member making itself admin");
    let attempt = put_user(
        app,
        &world.member.who(),
        &world.member.id,
        json!({"permissions": ["billing:read"], "organization_id": a}),
    )
    .await;
    assert_forbidden(
        &attempt,
        "roles:write",
        "a member granting itself a permission",
    );
    let mine = membership(app, key, &world.member.id, a).await;
    assert_eq!(mine["role"], "member", "{mine}");
    assert_eq!(mine["permissions"], json!([]), "{mine}");

    // An organization admin granting the app-wide role.
    let attempt = put_user(
        app,
        &world.org_admin.who(),
        &world.member.id,
        json!({"role": "tenant_admin"}),
    )
    .await;
    assert_forbidden(
        &attempt,
        "the role tenant_admin",
        "an org admin granting tenant_admin",
    );
    let attempt = put_user(
        app,
        &world.org_admin.who(),
        &world.org_admin.id,
        json!({"role": "tenant_admin"}),
    )
    .await;
    assert_forbidden(
        &attempt,
        "the role tenant_admin",
        "an org admin promoting itself",
    );
    let created = send(
        app,
        &world.org_admin.who(),
        Method::POST,
        "/v1/users",
        Some(json!({"email": format!("{}@example.com", unique("tenant")), "role": "tenant_admin", "organization_id": a})),
    )
    .await;
    assert_forbidden(
        &created,
        "the role tenant_admin",
        "an org admin creating a tenant admin",
    );
    for who in [world.tenant.who(), key.clone()] {
        assert_error(
            &put_user(app, &who, &world.member.id, json!({"role": "super_admin"})).await,
            422,
            "validation_failed",
            "nobody grants super_admin",
        );
    }
    for id in [&world.member.id, &world.org_admin.id] {
        let read = data(user(app, key, id).await, 200, "read back");
        assert_eq!(read["role"], Value::Null, "{read}");
    }

    // An organization admin demoting, renaming or disabling a tenant admin (a member of A).
    for body in [
        json!({"role": "member", "organization_id": a}),
        json!({"role": "guest"}),
        json!({"name": "Demoted"}),
        json!({"disabled": true}),
    ] {
        let attempt = put_user(app, &world.org_admin.who(), &world.tenant.id, body.clone()).await;
        assert_forbidden(
            &attempt,
            "the role tenant_admin",
            &format!("an org admin changing a tenant admin with {body}"),
        );
    }
    let tenant = data(user(app, key, &world.tenant.id).await, 200, "read back");
    assert_eq!(tenant["role"], "tenant_admin", "{tenant}");
    assert_eq!(tenant["name"], "Ada", "{tenant}");
    assert_eq!(tenant["disabled"], false, "{tenant}");
    assert_eq!(
        membership(app, key, &world.tenant.id, a).await["role"],
        "member"
    );
    let removal = send(
        app,
        &world.org_admin.who(),
        Method::DELETE,
        &format!("/v1/organizations/{a}/users/{}", world.tenant.id),
        None,
    )
    .await;
    assert_forbidden(
        &removal,
        "the role tenant_admin",
        "an org admin removing a tenant admin",
    );

    // An organization admin reaching a user who is only in B.
    for body in [
        json!({"name": "Hijacked"}),
        json!({"disabled": true}),
        json!({"role": "guest", "organization_id": world.org_b}),
        json!({"permissions": ["users:read"], "organization_id": world.org_b}),
        json!({"role": "guest"}),
    ] {
        let (status, answer) = put_user(
            app,
            &world.org_admin.who(),
            &world.outsider.id,
            body.clone(),
        )
        .await;
        assert!(
            [403, 404].contains(&status) && answer["success"] == false,
            "an org admin changing a user of B with {body}: {status} {answer}"
        );
    }
    let (status, answer) = send(
        app,
        &world.org_admin.who(),
        Method::DELETE,
        &format!(
            "/v1/organizations/{}/users/{}",
            world.org_b, world.outsider.id
        ),
        None,
    )
    .await;
    assert_eq!(status, 403, "an org admin removing a member of B: {answer}");
    let outsider = data(user(app, key, &world.outsider.id).await, 200, "read back");
    assert_eq!(outsider["name"], "Ada", "{outsider}");
    assert_eq!(outsider["disabled"], false, "{outsider}");
    let in_b = membership(app, key, &world.outsider.id, &world.org_b).await;
    assert_eq!(in_b["role"], "member", "{in_b}");
    assert_eq!(in_b["permissions"], json!([]), "{in_b}");
    assert_eq!(
        get(app, &world.outsider.who(), "/v1/users/me").await.0,
        200,
        "its sessions live on"
    );

    // Custom permissions that shadow built-in ones.
    for shadow in ["users:*", "records:write"] {
        for who in [world.tenant.who(), world.org_admin.who(), key.clone()] {
            let attempt = put_user(
                app,
                &who,
                &world.member.id,
                json!({"permissions": [shadow], "organization_id": a}),
            )
            .await;
            assert_error(&attempt, 422, "validation_failed", shadow);
            let detail = &attempt.1["error"]["details"][0];
            assert_eq!(detail["field"], "permissions[0]", "{}", attempt.1);
        }
        let created = send(
            app,
            key,
            Method::POST,
            "/v1/users",
            Some(json!({"email": format!("{}@example.com", unique("shadow")), "organization_id": a, "permissions": [shadow]})),
        )
        .await;
        assert_error(&created, 422, "validation_failed", shadow);
    }
    assert_eq!(
        membership(app, key, &world.member.id, a).await["permissions"],
        json!([])
    );

    // An organization admin granting what it does not hold.
    for permission in ["users:delete", "billing:read", "api_keys:write"] {
        let attempt = put_user(
            app,
            &world.org_admin.who(),
            &world.member.id,
            json!({"permissions": [permission], "organization_id": a}),
        )
        .await;
        assert_forbidden(&attempt, permission, "an org admin granting what it lacks");
        let created = send(
            app,
            &world.org_admin.who(),
            Method::POST,
            "/v1/users",
            Some(json!({"email": format!("{}@example.com", unique("grant")), "organization_id": a, "permissions": [permission]})),
        )
        .await;
        assert_forbidden(&created, permission, "an org admin creating a user with it");
    }
    assert_eq!(
        membership(app, key, &world.member.id, a).await["permissions"],
        json!([])
    );

    // A tenant admin grants an app's own permission: stored, and in the member's next token.
    let granted = data(
        put_user(
            app,
            &world.tenant.who(),
            &world.member.id,
            json!({"permissions": ["billing:read"], "organization_id": a}),
        )
        .await,
        200,
        "a tenant admin granting billing:read",
    );
    let in_a = granted["organizations"]
        .as_array()
        .expect("organizations")
        .iter()
        .find(|o| o["id"] == a)
        .cloned()
        .unwrap_or_default();
    assert_eq!(in_a["permissions"], json!(["billing:read"]), "{granted}");
    let listed = members(app, key, a).await;
    let listed = listed
        .iter()
        .find(|m| m["id"] == world.member.id.as_str())
        .expect("listed");
    assert_eq!(listed["permissions"], json!(["billing:read"]), "{listed}");
    let next = logged_in(app, &world.member.email, Some(a)).await;
    let next_claims = claims(&next.token);
    assert_eq!(
        next_claims["permissions"],
        json!(["billing:read", "organizations:read", "users:read"]),
        "{next_claims}"
    );
    let refreshed = data(
        refresh(app, &world.member.refresh).await,
        200,
        "refresh after the grant",
    );
    let refreshed_claims = claims(&text(&refreshed["token"]));
    assert!(
        refreshed_claims["permissions"]
            .as_array()
            .is_some_and(|p| p.contains(&json!("billing:read"))),
        "a refreshed token carries it too: {refreshed_claims}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. The last admin.

async fn an_organization_keeps_its_last_admin(app: &TestApp) {
    let world = world(app).await;
    let a = world.org_a.as_str();
    let admin = &world.org_admin;
    let demote = json!({"role": "member", "organization_id": a});
    for who in [world.key.clone(), world.tenant.who(), admin.who()] {
        assert_error(
            &put_user(app, &who, &admin.id, demote.clone()).await,
            409,
            "last_admin",
            "demoting the only admin",
        );
        assert_error(
            &send(
                app,
                &who,
                Method::DELETE,
                &format!("/v1/organizations/{a}/users/{}", admin.id),
                None,
            )
            .await,
            409,
            "last_admin",
            "removing the only admin (or leaving as it)",
        );
    }
    let admins: Vec<Value> = members(app, &world.key, a)
        .await
        .into_iter()
        .filter(|m| m["role"] == "admin")
        .collect();
    assert_eq!(member_ids(&admins), vec![admin.id.clone()]);
    // Granting the only admin its role again, or permissions, leaves it the only one.
    data(
        put_user(
            app,
            &world.key,
            &admin.id,
            json!({"role": "admin", "organization_id": a}),
        )
        .await,
        200,
        "admin again",
    );
    data(
        put_user(
            app,
            &world.key,
            &admin.id,
            json!({"permissions": ["invites:write"], "organization_id": a}),
        )
        .await,
        200,
        "an admin's permissions",
    );
    assert_error(
        &put_user(app, &world.key, &admin.id, demote.clone()).await,
        409,
        "last_admin",
        "demoting the only admin after it was granted admin again",
    );
    // A second admin: now the first may go.
    data(
        put_user(
            app,
            &admin.who(),
            &world.member.id,
            json!({"role": "admin", "organization_id": a}),
        )
        .await,
        200,
        "promote a second admin",
    );
    data(
        send(
            app,
            &admin.who(),
            Method::DELETE,
            &format!("/v1/organizations/{a}/users/{}", admin.id),
            None,
        )
        .await,
        200,
        "the first admin leaves",
    );
    assert_error(
        &put_user(app, &world.key, &world.member.id, demote.clone()).await,
        409,
        "last_admin",
        "demoting the new only admin",
    );
    // Erasure always wins (the store's documented rule), even over the last admin; a tenant
    // admin then appoints another, who is the only admin as counted.
    data(
        send(
            app,
            &world.key,
            Method::DELETE,
            &format!("/v1/users/{}", world.member.id),
            None,
        )
        .await,
        200,
        "erase the only admin",
    );
    assert!(
        members(app, &world.key, a)
            .await
            .iter()
            .all(|m| m["role"] != "admin"),
        "no admin left"
    );
    data(
        put_user(
            app,
            &world.key,
            &world.guest.id,
            json!({"role": "admin", "organization_id": a}),
        )
        .await,
        200,
        "appoint a new admin",
    );
    assert_error(
        &put_user(app, &world.key, &world.guest.id, demote).await,
        409,
        "last_admin",
        "the new admin is the only one, the erased one not counted",
    );
    assert_error(
        &send(
            app,
            &world.guest.who(),
            Method::DELETE,
            &format!("/v1/organizations/{a}/users/{}", world.guest.id),
            None,
        )
        .await,
        409,
        "last_admin",
        "the new only admin leaving",
    );
}

/// Two admins demote each other at once: one wins, and the organization keeps one admin. The
/// loser gets 409 `last_admin` when both checks ran before either change, or 403 when its
/// request came after the winner's (it is no admin any more).
async fn two_admins_demoting_each_other_leave_one_admin(app: &TestApp) {
    app.create_app("site").await;
    allow_any_account(app, "site").await;
    let key = Who::api_key(&create_key(app, "site", Some("tenant_admin"), &[]).await.key);
    let p = register(app, "site", "p@example.com").await;
    let q = register(app, "site", "q@example.com").await;
    let mut outcomes = Vec::new();
    for round in 0..6 {
        let org =
            create_organization(app, &p.who(), json!({"name": format!("Race {round}")})).await;
        let org = text(&org["id"]);
        plant(app, &org, &q.id, MemberRole::Member).await;
        data(
            put_user(
                app,
                &p.who(),
                &q.id,
                json!({"role": "admin", "organization_id": org}),
            )
            .await,
            200,
            "promote the second admin",
        );
        let demote = json!({"role": "member", "organization_id": org});
        let (p_who, q_who) = (p.who(), q.who());
        let (one, two) = futures::join!(
            put_user(app, &p_who, &q.id, demote.clone()),
            put_user(app, &q_who, &p.id, demote.clone()),
        );
        let mut statuses = [
            (one.0, code(&one.1).to_owned()),
            (two.0, code(&two.1).to_owned()),
        ];
        statuses.sort();
        assert_eq!(
            statuses[0],
            (200, String::new()),
            "round {round}: {one:?} {two:?}"
        );
        assert!(
            statuses[1] == (409, "last_admin".to_owned())
                || statuses[1] == (403, "forbidden".to_owned()),
            "round {round}: {one:?} {two:?}"
        );
        outcomes.push(statuses[1].0);
        let admins: Vec<Value> = members(app, &key, &org)
            .await
            .into_iter()
            .filter(|m| m["role"] == "admin")
            .collect();
        assert_eq!(admins.len(), 1, "round {round}: {admins:?}");
    }
    eprintln!("the losers' statuses over the rounds: {outcomes:?}");
}

// ---------------------------------------------------------------------------------------------
// 4. Disabling and erasing.

async fn disabling_and_erasing_end_the_sessions(app: &TestApp) {
    let world = world(app).await;
    let a = world.org_a.as_str();
    let disabled = register(app, "site", "disabled@example.com").await;
    let erased = register(app, "site", "erased@example.com").await;
    let removed = register(app, "site", "removed@example.com").await;
    plant(app, a, &disabled.id, MemberRole::Member).await;
    plant(app, a, &erased.id, MemberRole::Member).await;
    plant(app, a, &removed.id, MemberRole::Member).await;
    let removed = logged_in(app, &removed.email, Some(a)).await;
    assert_eq!(claims(&removed.token)["org"], a);

    // A removed member loses the organization at once, and its next token says so.
    data(
        send(
            app,
            &world.org_admin.who(),
            Method::DELETE,
            &format!("/v1/organizations/{a}/users/{}", removed.id),
            None,
        )
        .await,
        200,
        "remove a member",
    );
    assert_error(
        &get(app, &removed.who(), &format!("/v1/organizations/{a}")).await,
        403,
        "organization_access_denied",
        "a removed member",
    );
    let next = data(
        refresh(app, &removed.refresh).await,
        200,
        "a removed member refreshes",
    );
    let next = claims(&text(&next["token"]));
    assert_eq!(next["org"], Value::Null, "{next}");
    assert_eq!(next["role"], Value::Null, "{next}");
    assert_eq!(next["permissions"], json!([]), "{next}");
    // A second instance over the same store, which has checked the sessions just before.
    let second = spawn_beside(app, test_settings(server::Backend::Memory)).await;
    for account in [&disabled, &erased] {
        assert_eq!(get(app, &account.who(), "/v1/users/me").await.0, 200);
        assert_eq!(get(&second, &account.who(), "/v1/users/me").await.0, 200);
    }

    let changed = data(
        put_user(app, &world.key, &disabled.id, json!({"disabled": true})).await,
        200,
        "disable",
    );
    assert_eq!(changed["disabled"], true, "{changed}");
    let gone = data(
        send(
            app,
            &world.key,
            Method::DELETE,
            &format!("/v1/users/{}", erased.id),
            None,
        )
        .await,
        200,
        "erase",
    );
    assert_eq!(gone["deleted"], true);
    let listed = members(app, &world.key, a).await;
    assert!(
        !member_ids(&listed).contains(&erased.id),
        "an erased user is no member: {listed:?}"
    );
    let shown = listed
        .iter()
        .find(|m| m["id"] == disabled.id.as_str())
        .expect("a disabled user stays a member");
    assert_eq!(shown["disabled"], true, "{shown}");
    assert_eq!(user(app, &world.key, &erased.id).await.0, 404);

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for (what, account) in [("disabled", &disabled), ("erased", &erased)] {
        for (instance, on) in [(app, "this instance"), (&second, "another instance")] {
            assert_error(
                &get(instance, &account.who(), "/v1/users/me").await,
                401,
                "invalid_token",
                &format!("the {what} user's access token on {on}"),
            );
        }
        assert_error(
            &refresh(app, &account.refresh).await,
            401,
            "invalid_token",
            &format!("the {what} user's refresh token"),
        );
        assert_error(
            &log_in(app, &account.email, None).await,
            401,
            "invalid_credentials",
            &format!("the {what} user's login"),
        );
    }
    data(
        put_user(app, &world.key, &disabled.id, json!({"disabled": false})).await,
        200,
        "enable again",
    );
    assert_eq!(log_in(app, &disabled.email, None).await.0, 200);
}

// ---------------------------------------------------------------------------------------------
// 5. API keys.

async fn create_key_over_http(app: &TestApp, cookie: &str, body: Value) -> Value {
    let (status, created) = read(
        app.dashboard(Method::POST, "/v1/apps/site/api-keys", Some(cookie))
            .json(&body)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn listed_keys(app: &TestApp, cookie: &str) -> Vec<Value> {
    let (status, list) = app.dashboard_get("/v1/apps/site/api-keys", cookie).await;
    assert_eq!(status, 200, "{list}");
    list["keys"].as_array().expect("keys").clone()
}

fn listed<'a>(keys: &'a [Value], id: &Value) -> &'a Value {
    keys.iter()
        .find(|k| &k["id"] == id)
        .expect("the key is listed")
}

/// A management route (`/v1/apps/{app}/{rest}`) a key with `allowed` may call (answered
/// `status`) and keys with `refused` may not.
#[derive(Debug)]
struct ManagementCase<'a> {
    method: Method,
    rest: String,
    body: Option<Value>,
    allowed: &'a str,
    status: u16,
    refused: [&'a str; 2],
}

async fn api_keys_are_shown_once_and_act_within_their_permissions(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    app.create_app("other").await;
    let cookie = app.owner_session("site", &password).await;

    let full = create_key_over_http(
        app,
        &cookie,
        json!({"name": "backend", "role": "tenant_admin"}),
    )
    .await;
    let secret = text(&full["key"]);
    assert!(secret.starts_with("uak_"), "{full}");
    assert_eq!(full["role"], "tenant_admin");
    assert_eq!(
        full["permissions"].as_array().map(Vec::len),
        Some(11),
        "{full}"
    );
    let prefix = text(&full["prefix"]);
    assert!(
        secret.starts_with(&prefix) && prefix.len() < secret.len(),
        "{full}"
    );
    let keys = listed_keys(app, &cookie).await;
    assert!(
        keys.iter().all(|k| k.get("key").is_none()),
        "never listed: {keys:?}"
    );
    let shown = listed(&keys, &full["id"]);
    assert_eq!(shown["prefix"], prefix.as_str());
    assert_eq!(shown["lastUsedAt"], Value::Null, "{shown}");

    // Both ways of sending it, with no Origin and no cookie.
    for who in [
        Who::api_key(&secret),
        Who::bearer(&secret),
        Who::api_key(&secret).naming(None),
    ] {
        let page = data(
            get(app, &who, "/v1/users").await,
            200,
            "a key lists accounts",
        );
        assert!(page["users"].is_array(), "{page}");
    }
    let keys = listed_keys(app, &cookie).await;
    assert!(
        listed(&keys, &full["id"])["lastUsedAt"].is_string(),
        "{keys:?}"
    );
    for who in [
        Who::api_key(&secret).naming(Some("other")),
        Who::bearer(&secret).naming(Some("other")),
    ] {
        assert_error(
            &get(app, &who, "/v1/users").await,
            403,
            "tenant_mismatch",
            "a key of site naming other",
        );
    }
    let (status, refused) = read(
        app.dashboard(Method::POST, "/v1/apps/site/api-keys", Some(&cookie))
            .json(&json!({"name": "shadow", "permissions": ["users:*"]}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(
        (status, code(&refused)),
        (422, "validation_failed"),
        "{refused}"
    );
    let minted = send(
        app,
        &Who::api_key(&secret),
        Method::POST,
        "/v1/apps/site/api-keys",
        Some(json!({"name": "minted", "role": "tenant_admin"})),
    )
    .await;
    assert_eq!(minted.0, 401, "a key mints no keys: {}", minted.1);

    // The management routes, each with its permission, without it, and on another app.
    let records_read = text(
        &create_key_over_http(
            app,
            &cookie,
            json!({"name": "reader", "permissions": ["records:read"]}),
        )
        .await["key"],
    );
    let schema_write = text(
        &create_key_over_http(
            app,
            &cookie,
            json!({"name": "schema", "permissions": ["schema:write"]}),
        )
        .await["key"],
    );
    let records_delete = text(
        &create_key_over_http(
            app,
            &cookie,
            json!({"name": "eraser", "permissions": ["records:delete"]}),
        )
        .await["key"],
    );
    let users_read = text(
        &create_key_over_http(
            app,
            &cookie,
            json!({"name": "accounts", "permissions": ["users:read"]}),
        )
        .await["key"],
    );
    let lead = |email: &'static str| async move {
        let (status, body) = read(app.submit("site", signup(email)).await).await;
        assert_eq!(status, 200, "{body}");
        text(&body["id"])
    };
    let first_lead = lead("lead1@example.com").await;
    let schema = crate::helpers::example_schema();
    let cases = [
        ManagementCase {
            method: Method::GET,
            rest: "users".into(),
            body: None,
            allowed: &records_read,
            status: 200,
            refused: [&schema_write, &users_read],
        },
        ManagementCase {
            method: Method::GET,
            rest: "users/export".into(),
            body: None,
            allowed: &records_read,
            status: 200,
            refused: [&schema_write, &users_read],
        },
        ManagementCase {
            method: Method::GET,
            rest: "schema".into(),
            body: None,
            allowed: &schema_write,
            status: 200,
            refused: [&records_delete, &users_read],
        },
        ManagementCase {
            method: Method::GET,
            rest: "schema".into(),
            body: None,
            allowed: &records_read,
            status: 200,
            refused: [&records_delete, &users_read],
        },
        ManagementCase {
            method: Method::PUT,
            rest: "schema".into(),
            body: Some(schema.clone()),
            allowed: &schema_write,
            status: 200,
            refused: [&records_read, &users_read],
        },
        ManagementCase {
            method: Method::DELETE,
            rest: format!("users/{first_lead}"),
            body: None,
            allowed: &records_delete,
            status: 204,
            refused: [&records_read, &users_read],
        },
    ];
    for ManagementCase {
        method,
        rest,
        body,
        allowed,
        status,
        refused,
    } in cases
    {
        let what = format!("{} /v1/apps/…/{rest}", method.as_str());
        for key in refused {
            let (actual, answer) = send(
                app,
                &Who::api_key(key).naming(None),
                method.clone(),
                &format!("/v1/apps/site/{rest}"),
                body.clone(),
            )
            .await;
            assert_eq!(
                (actual, code(&answer)),
                (403, "forbidden"),
                "{what} without the permission: {answer}"
            );
        }
        let (actual, answer) = send(
            app,
            &Who::api_key(allowed).naming(None),
            method.clone(),
            &format!("/v1/apps/other/{rest}"),
            body.clone(),
        )
        .await;
        assert_eq!(
            (actual, code(&answer)),
            (403, "tenant_mismatch"),
            "{what} on another app: {answer}"
        );
        let (actual, answer) = send(
            app,
            &Who::bearer(allowed).naming(None),
            method.clone(),
            &format!("/v1/apps/site/{rest}"),
            body.clone(),
        )
        .await;
        assert_eq!(actual, status, "{what} with the permission: {answer}");
    }
    assert_eq!(
        app.user_count("site").await,
        0,
        "the lead was erased by the key"
    );
    let second_lead = lead("lead2@example.com").await;
    let (status, answer) = send(
        app,
        &Who::api_key(&secret).naming(None),
        Method::GET,
        &format!("/v1/apps/site/users/{second_lead}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "the full key reads a record: {answer}");

    // Revoked: refused within a second, on both kinds of route and on every instance (a
    // second one over the same store has just accepted the key).
    let second = spawn_beside(app, test_settings(server::Backend::Memory)).await;
    assert_eq!(
        get(&second, &Who::api_key(&secret), "/v1/users").await.0,
        200
    );
    let revoke = app
        .dashboard(
            Method::DELETE,
            &format!("/v1/apps/site/api-keys/{}", text(&full["id"])),
            Some(&cookie),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(revoke.status(), 204);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_error(
        &get(app, &Who::api_key(&secret), "/v1/users").await,
        401,
        "invalid_token",
        "a revoked key",
    );
    assert_error(
        &get(app, &Who::bearer(&secret), "/v1/users").await,
        401,
        "invalid_token",
        "a revoked key as a bearer",
    );
    let (status, answer) = get(
        app,
        &Who::api_key(&secret).naming(None),
        "/v1/apps/site/users",
    )
    .await;
    assert_eq!(
        status, 401,
        "a revoked key on the management routes: {answer}"
    );
    assert_error(
        &get(&second, &Who::api_key(&secret), "/v1/users").await,
        401,
        "invalid_token",
        "a revoked key on another instance",
    );
    let keys = listed_keys(app, &cookie).await;
    assert!(
        listed(&keys, &full["id"])["revokedAt"].is_string(),
        "{keys:?}"
    );

    // Expired.
    let expires = Timestamp::from_unix_millis(Timestamp::now().as_unix_millis() + 2_000);
    let expiring = create_key_over_http(app, &cookie, json!({"name": "short-lived", "permissions": ["users:read", "records:read"], "expiresAt": expires.to_rfc3339()})).await;
    assert!(expiring["expiresAt"].is_string(), "{expiring}");
    let expiring = text(&expiring["key"]);
    assert_eq!(
        get(app, &Who::api_key(&expiring), "/v1/users").await.0,
        200,
        "before it expires"
    );
    let left = expires.as_unix_millis() - Timestamp::now().as_unix_millis();
    tokio::time::sleep(Duration::from_millis(
        u64::try_from(left.max(0)).unwrap_or(0) + 200,
    ))
    .await;
    assert_error(
        &get(app, &Who::api_key(&expiring), "/v1/users").await,
        401,
        "invalid_token",
        "an expired key",
    );
    let (status, answer) = get(
        app,
        &Who::api_key(&expiring).naming(None),
        "/v1/apps/site/users",
    )
    .await;
    assert_eq!(
        status, 401,
        "an expired key on the management routes: {answer}"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Registering into an organization.

async fn registering_into_an_organization_needs_its_email_domain(app: &TestApp) {
    app.create_app("site").await;
    let key = Who::api_key(&create_key(app, "site", Some("tenant_admin"), &[]).await.key);
    let acme = create_organization(
        app,
        &key,
        json!({"name": "Acme", "allowed_email_domains": ["acme.example"]}),
    )
    .await;
    let acme = text(&acme["id"]);
    let closed = text(&create_organization(app, &key, json!({"name": "Closed"})).await["id"]);
    let register_into = |email: &'static str, organization_id: String| async move {
        send(
            app,
            &Who::anonymous("site"),
            Method::POST,
            "/v1/auth/register",
            Some(json!({"email": email, "password": PASSWORD, "organization_id": organization_id})),
        )
        .await
    };
    for (email, organization_id) in [
        ("eve@evil.example", acme.clone()),
        ("eve@notacme.example", acme.clone()),
        ("eve@acme.example.evil.example", acme.clone()),
        ("eve@acme.example", closed.clone()),
        ("eve@acme.example", "org_doesnotexist".to_owned()),
    ] {
        assert_error(
            &register_into(email, organization_id.clone()).await,
            403,
            "organization_access_denied",
            &format!("{email} into {organization_id}"),
        );
    }
    assert_eq!(app.user_count("site").await, 0, "nothing stored");

    for email in ["ada@acme.example", "Bob@ACME.example"] {
        let joined = data(register_into(email, acme.clone()).await, 201, email);
        let account = Account::of(&joined);
        assert_eq!(
            joined["user"]["organizations"],
            json!([]),
            "not a member until the address is verified: {joined}"
        );
        let mine = data(
            get(app, &account.who(), "/v1/organizations").await,
            200,
            "its organizations",
        );
        assert_eq!(mine["organizations"], json!([]), "{mine}");
        assert_eq!(claims(&account.token)["org"], Value::Null);
    }
    assert!(members(app, &key, &acme).await.is_empty());

    // An internationalized domain: stored in its ASCII form, and an address of it matches in
    // either spelling (the address is compared "in the same form", says `normalize_domains`).
    let books = create_organization(
        app,
        &key,
        json!({"name": "Books", "allowed_email_domains": ["Bücher.example"]}),
    )
    .await;
    assert_eq!(
        books["allowed_email_domains"],
        json!(["xn--bcher-kva.example"]),
        "{books}"
    );
    let books = text(&books["id"]);
    for email in ["ada@bücher.example", "bob@xn--bcher-kva.example"] {
        let (status, answer) = register_into(email, books.clone()).await;
        assert_eq!(
            status, 201,
            "{email} names an organization of its own domain: {answer}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Keyset pages of members.

/// Every member of `organization_id` (with `role`), two at a time.
async fn walk(app: &TestApp, key: &Who, organization_id: &str, role: Option<&str>) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let mut path = format!("/v1/organizations/{organization_id}/users?limit=2");
        if let Some(role) = role {
            let _ = write!(path, "&role={role}");
        }
        if let Some(cursor) = &cursor {
            let _ = write!(path, "&cursor={cursor}");
        }
        let page = data(get(app, key, &path).await, 200, &path);
        let users = page["users"].as_array().expect("users");
        assert!(users.len() <= 2, "{page}");
        all.extend(users.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(users.len(), 2, "a page with a successor is full: {page}");
                cursor = Some(next.to_owned());
            }
            None => return all,
        }
    }
    panic!("more pages than members");
}

async fn members_come_in_keyset_pages(app: &TestApp) {
    app.create_app("site").await;
    let key = Who::api_key(&create_key(app, "site", Some("tenant_admin"), &[]).await.key);
    let org = text(&create_organization(app, &key, json!({"name": "Paged"})).await["id"]);
    let other = text(&create_organization(app, &key, json!({"name": "Elsewhere"})).await["id"]);
    let roles = [
        "admin", "member", "guest", "member", "member", "guest", "member", "admin", "member",
    ];
    let mut created: Vec<(String, &str)> = Vec::new();
    for (index, role) in roles.into_iter().enumerate() {
        for (organization_id, keep) in [(&org, true), (&other, index % 3 == 0)] {
            if !keep {
                continue;
            }
            let user = data(
                send(
                    app,
                    &key,
                    Method::POST,
                    "/v1/users",
                    Some(json!({"email": format!("{}@example.com", unique("paged")), "role": role, "organization_id": organization_id})),
                )
                .await,
                201,
                "create a member",
            );
            if organization_id == &org {
                created.push((text(&user["user"]["id"]), role));
            }
        }
    }
    for role in [None, Some("admin"), Some("member"), Some("guest")] {
        let mut expected: Vec<String> = created
            .iter()
            .filter(|(_, r)| role.is_none_or(|role| role == *r))
            .map(|(id, _)| id.clone())
            .collect();
        expected.sort();
        let seen = walk(app, &key, &org, role).await;
        let ids = member_ids(&seen);
        assert_eq!(ids, expected, "every member once, in id order ({role:?})");
        if let Some(role) = role {
            assert!(seen.iter().all(|m| m["role"] == role), "{seen:?}");
        }
    }
    let base = format!("/v1/organizations/{org}/users");
    let not_an_id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("not-a-user-id");
    for cursor in ["not-a-cursor!", "AAAA", not_an_id.as_str()] {
        assert_error(
            &get(app, &key, &format!("{base}?limit=2&cursor={cursor}")).await,
            400,
            "invalid_cursor",
            cursor,
        );
    }
    for query in [
        "limit=0",
        "limit=501",
        "limit=two",
        "role=owner",
        "role=tenant_admin",
    ] {
        assert_error(
            &get(app, &key, &format!("{base}?{query}")).await,
            422,
            "validation_failed",
            query,
        );
    }
}

/// `GET`/`DELETE /v1/users/{id}/sessions`: tenant-wide callers see a user's sessions; ending
/// them stops its refresh tokens at once; organization roles cannot list them, and nobody
/// reaches above itself.
async fn an_admin_lists_and_ends_a_users_sessions(app: &TestApp) {
    let world = world(app).await;
    let person = register(app, "site", &format!("{}@example.com", unique("sessions"))).await;
    plant(app, &world.org_a, &person.id, MemberRole::Member).await;
    let second = logged_in(app, &person.email, None).await;
    // Listed accounts come with their memberships (an organization's reader sees that one).
    for (who, query) in [
        (&world.key, format!("/v1/users?q={}", person.email)),
        (
            &world.org_admin.who(),
            format!(
                "/v1/users?organization_id={}&q={}",
                world.org_a, person.email
            ),
        ),
    ] {
        let listed = data(get(app, who, &query).await, 200, "list the account");
        let organizations: Vec<&str> = listed["users"][0]["organizations"]
            .as_array()
            .map(|orgs| orgs.iter().filter_map(|o| o["id"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(organizations, [world.org_a.as_str()], "{query}: {listed}");
    }
    let path = format!("/v1/users/{}/sessions", person.id);
    let listed = data(get(app, &world.key, &path).await, 200, "a key lists");
    assert_eq!(
        listed["sessions"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    assert_forbidden(
        &get(app, &world.org_admin.who(), &path).await,
        "the role tenant_admin",
        "an organization admin lists",
    );
    let by_member = send(app, &world.member.who(), Method::DELETE, &path, None).await;
    assert_eq!(
        by_member.0, 403,
        "a member ends another's sessions: {by_member:?}"
    );
    assert_error(
        &send(
            app,
            &world.key,
            Method::DELETE,
            "/v1/users/no-such-user/sessions",
            None,
        )
        .await,
        404,
        "not_found",
        "an unknown user",
    );
    let ended = data(
        send(app, &world.key, Method::DELETE, &path, None).await,
        200,
        "a key ends them",
    );
    assert_eq!(ended["ended"], 2, "{ended}");
    for refresh_token in [&person.refresh, &second.refresh] {
        assert_error(
            &refresh(app, refresh_token).await,
            401,
            "invalid_token",
            "a refresh after the end",
        );
    }
    let listed = data(get(app, &world.key, &path).await, 200, "listed again");
    assert_eq!(listed["sessions"], json!([]), "{listed}");
}

/// The dashboard's copies of the accounts API under `/v1/apps/{appId}/`: a platform admin and
/// the app's owner act as the app's tenant admin with their session; another app's owner is
/// refused before anything is looked up; a cross-origin write with the cookie meets the CSRF
/// rule; a key of another app is `tenant_mismatch`.
async fn operators_reach_the_accounts_api_through_the_dashboard(app: &TestApp) {
    app.create_admin().await;
    let owner_password = app.create_app_with_password("site").await;
    let other_password = app.create_app_with_password("other").await;
    let admin = app.admin_session().await;
    let owner = app.owner_session("site", &owner_password).await;
    let stranger = app.owner_session("other", &other_password).await;
    let person = register(app, "site", &format!("{}@example.com", unique("dash"))).await;
    let call = |method: Method, path: &str, cookie: &str, body: Option<Value>| {
        let mut request = app.dashboard(method, path, Some(cookie));
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move { read(request.send().await.expect("request")).await }
    };
    for (who, cookie) in [("admin", &admin), ("owner", &owner)] {
        let listed = data(
            call(Method::GET, "/v1/apps/site/accounts", cookie, None).await,
            200,
            who,
        );
        assert!(
            listed["users"]
                .as_array()
                .is_some_and(|users| users.iter().any(|u| u["id"] == person.id.as_str())),
            "{who}: {listed}"
        );
        let organization = data(
            call(
                Method::POST,
                "/v1/apps/site/organizations",
                cookie,
                Some(json!({"name": unique(who)})),
            )
            .await,
            201,
            who,
        );
        let org = text(&organization["id"]);
        let invited = data(
            call(
                Method::POST,
                &format!("/v1/apps/site/organizations/{org}/invites"),
                cookie,
                Some(
                    json!({"email": format!("{}@example.com", unique("invitee")), "role": "admin"}),
                ),
            )
            .await,
            201,
            who,
        );
        assert_eq!(invited["role"], "admin", "{invited}");
        let pending = data(
            call(
                Method::GET,
                &format!("/v1/apps/site/organizations/{org}/invites"),
                cookie,
                None,
            )
            .await,
            200,
            who,
        );
        assert_eq!(
            pending["invites"].as_array().map(Vec::len),
            Some(1),
            "{pending}"
        );
        let changed = data(
            call(
                Method::PUT,
                &format!("/v1/apps/site/accounts/{}", person.id),
                cookie,
                Some(json!({"name": format!("Named by {who}")})),
            )
            .await,
            200,
            who,
        );
        assert_eq!(changed["name"], format!("Named by {who}"), "{changed}");
        let sessions = data(
            call(
                Method::GET,
                &format!("/v1/apps/site/accounts/{}/sessions", person.id),
                cookie,
                None,
            )
            .await,
            200,
            who,
        );
        assert!(sessions["sessions"].is_array(), "{sessions}");
    }
    // Another app's owner: refused, whatever the path names.
    let refused = call(Method::GET, "/v1/apps/site/accounts", &stranger, None).await;
    assert_eq!(refused.0, 403, "{refused:?}");
    let refused = call(
        Method::GET,
        &format!("/v1/apps/site/accounts/{}", person.id),
        &stranger,
        None,
    )
    .await;
    assert_eq!(refused.0, 403, "{refused:?}");
    // No session: 401; a cross-origin write with the cookie: the CSRF rule.
    let anonymous = read(
        app.client
            .get(app.url("/v1/apps/site/accounts"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(anonymous.0, 401, "{anonymous:?}");
    let cross = read(
        app.client
            .post(app.url("/v1/apps/site/organizations"))
            .header("origin", "https://evil.example")
            .header("cookie", &admin)
            .json(&json!({"name": "Evil"}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(
        (cross.0, code(&cross.1)),
        (403, "csrf_rejected"),
        "{cross:?}"
    );
    // A key of another app on this app's copy.
    let foreign_key = create_key(app, "other", Some("tenant_admin"), &[]).await;
    let mismatch = send(
        app,
        &Who::api_key(&foreign_key.key).naming(None),
        Method::GET,
        "/v1/apps/site/accounts",
        None,
    )
    .await;
    assert_error(&mismatch, 403, "tenant_mismatch", "another app's key");
}
