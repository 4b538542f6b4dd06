//! Organizations and their members (ACCOUNTS.md §2): `GET`/`POST /v1/organizations`,
//! `GET`/`PATCH`/`DELETE /v1/organizations/{org}`, `GET /v1/organizations/{org}/users`,
//! `DELETE /v1/organizations/{org}/users/{user}`. A bearer access token or an API key; the
//! domain decides who may.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use domain::{NewOrganization, OrganizationUpdate};
use serde::Deserialize;
use storage_port::{MemberQuery, MemberRole};

use crate::account_auth::CurrentCaller;
use crate::error::{AccountErrorBody, ApiError};
use crate::requests::{CreateOrganizationRequest, UpdateOrganizationRequest};
use crate::responses::{
    Deleted, MemberBody, MembersPage, OrganizationBody, OrganizationsPage, Removed, Success,
};
use crate::routes::auth::{caller_origin, json_body, success};
pub(crate) use crate::routes::records::{encode_cursor, is_record_id as is_user_id};
use crate::state::ApiState;

/// The path of a route about one account: `{id}` (with `{appId}` too on the operators' copy
/// of the route, which this ignores).
#[derive(Debug, Deserialize)]
pub struct IdPath {
    pub id: String,
}

/// The path of a route about one organization.
#[derive(Debug, Deserialize)]
pub struct OrgPath {
    pub org: String,
}

/// The path of a route about one member of an organization.
#[derive(Debug, Deserialize)]
pub struct OrgUserPath {
    pub org: String,
    pub user: String,
}

/// The path of a route about one invitation of an organization.
#[derive(Debug, Deserialize)]
pub struct OrgInvitePath {
    pub org: String,
    pub id: String,
}

/// `limit` and `cursor` of a keyset page.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1 to 500; 50 when absent.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page (opaque).
    pub cursor: Option<String>,
    /// Only members with this role: `admin`, `member` or `guest`.
    pub role: Option<String>,
}

/// `limit`: 1 to the largest page, 50 when absent.
pub(crate) fn page_limit(text: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = text else {
        return Ok(domain::DEFAULT_PAGE_SIZE);
    };
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|limit| (1..=domain::MAX_PAGE_SIZE).contains(limit))
        .ok_or_else(|| {
            ApiError::invalid_field(
                "limit",
                "range",
                format!("must be a whole number from 1 to {}", domain::MAX_PAGE_SIZE),
            )
            .for_accounts()
        })
}

/// The id a cursor holds, when it holds one `valid` accepts.
pub(crate) fn decode_cursor(
    cursor: Option<&str>,
    valid: impl Fn(&str) -> bool,
) -> Result<Option<String>, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|id| valid(id))
        .map(Some)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                "The cursor is not one this API returned",
            )
            .for_accounts()
        })
}

fn is_organization_id(text: &str) -> bool {
    text.len() <= 64
        && text.strip_prefix("org_").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

pub(crate) fn member_role(text: Option<&str>) -> Result<Option<MemberRole>, ApiError> {
    text.map(|text| {
        MemberRole::parse(text).ok_or_else(|| {
            ApiError::invalid_field("role", "enum", "must be admin, member or guest").for_accounts()
        })
    })
    .transpose()
}

/// The caller's organizations.
///
/// An account's own (all at once), or every organization of the app for a tenant admin or an
/// API key with `organizations:read` (paged).
#[utoipa::path(
    get,
    path = "/v1/organizations",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Success<OrganizationsPage>),
        (status = 400, description = "`invalid_cursor`", body = AccountErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden`, `tenant_mismatch` or `origin_not_allowed`", body = AccountErrorBody),
        (status = 422, description = "A bad limit", body = AccountErrorBody),
    )
)]
pub async fn list_organizations(
    request: HttpRequest,
    state: Data<ApiState>,
    params: Query<PageParams>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let limit = page_limit(params.limit.as_deref())?;
    let after = decode_cursor(params.cursor.as_deref(), is_organization_id)?;
    let list = state
        .services
        .organizations
        .list_organizations(&caller, limit, after)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        OrganizationsPage {
            organizations: list
                .organizations
                .into_iter()
                .map(OrganizationBody::from)
                .collect(),
            next_cursor: list.next_cursor.as_deref().map(encode_cursor),
        },
    ))
}

/// Creates an organization.
///
/// An account that creates it becomes its `admin`. Who may is the app's
/// `organizationCreation` setting (default: verified accounts).
#[utoipa::path(
    post,
    path = "/v1/organizations",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, body = Success<OrganizationBody>),
        (status = 400, description = "Malformed JSON", body = AccountErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden`, `email_not_verified`, `tenant_mismatch` or `origin_not_allowed`", body = AccountErrorBody),
        (status = 409, description = "`slug_taken`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`: `name`, `slug`, `allowed_email_domains[i]`, unknown members", body = AccountErrorBody),
    )
)]
pub async fn create_organization(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let body = json_body(&request, payload).await?;
    let body = CreateOrganizationRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let view = state
        .services
        .organizations
        .create_organization(
            &caller,
            NewOrganization {
                name: body.name,
                slug: body.slug,
                allowed_email_domains: body.allowed_email_domains,
            },
        )
        .await?;
    Ok(success(
        HttpResponse::Created(),
        origin,
        OrganizationBody::from(view),
    ))
}

/// One organization (`organizations:read` in it).
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    params(("org" = String, Path)),
    responses(
        (status = 200, body = Success<OrganizationBody>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`organization_access_denied` (not a member), `forbidden`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`", body = AccountErrorBody),
    )
)]
pub async fn get_organization(
    request: HttpRequest,
    state: Data<ApiState>,
    org: Path<OrgPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let view = state
        .services
        .organizations
        .organization(&caller, &org.org)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        OrganizationBody::from(view),
    ))
}

/// Changes an organization.
///
/// Its `name`, `slug` or `allowed_email_domains`; needs `organizations:write` in it.
#[utoipa::path(
    patch,
    path = "/v1/organizations/{org}",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    params(("org" = String, Path)),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, body = Success<OrganizationBody>),
        (status = 400, description = "Malformed JSON", body = AccountErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`organization_access_denied`, `forbidden`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`", body = AccountErrorBody),
        (status = 409, description = "`slug_taken`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`", body = AccountErrorBody),
    )
)]
pub async fn update_organization(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    org: Path<OrgPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let body = json_body(&request, payload).await?;
    let body = UpdateOrganizationRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let view = state
        .services
        .organizations
        .update_organization(
            &caller,
            &org.org,
            OrganizationUpdate {
                name: body.name,
                slug: body.slug,
                allowed_email_domains: body.allowed_email_domains,
            },
        )
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        OrganizationBody::from(view),
    ))
}

/// Deletes an organization with its memberships.
///
/// Tenant admins only (an API key needs `organizations:write`).
#[utoipa::path(
    delete,
    path = "/v1/organizations/{org}",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    params(("org" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Success<Deleted>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden` (not a tenant admin), `organization_access_denied`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`", body = AccountErrorBody),
    )
)]
pub async fn delete_organization(
    request: HttpRequest,
    state: Data<ApiState>,
    org: Path<OrgPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    state
        .services
        .organizations
        .delete_organization(&caller, &org.org)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        Deleted { deleted: true },
    ))
}

/// The organization's members, in keyset pages.
///
/// Each with its role and extra permissions; needs `users:read` in the organization.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/users",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    params(("org" = String, Path), PageParams),
    responses(
        (status = 200, body = Success<MembersPage>),
        (status = 400, description = "`invalid_cursor`", body = AccountErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`organization_access_denied`, `forbidden`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`", body = AccountErrorBody),
        (status = 422, description = "A bad limit or role", body = AccountErrorBody),
    )
)]
pub async fn list_members(
    request: HttpRequest,
    state: Data<ApiState>,
    org: Path<OrgPath>,
    params: Query<PageParams>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let query = MemberQuery {
        limit: page_limit(params.limit.as_deref())?,
        after_user_id: decode_cursor(params.cursor.as_deref(), is_user_id)?,
        role: member_role(params.role.as_deref())?,
    };
    let page = state
        .services
        .organizations
        .members(&caller, &org.org, query)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        MembersPage {
            users: page.members.into_iter().map(MemberBody::from).collect(),
            next_cursor: page.next_cursor.as_deref().map(encode_cursor),
        },
    ))
}

/// Removes a member, or lets the caller leave.
///
/// Needs `users:write` in the organization, and never reaches someone above the caller. An
/// organization keeps at least one admin (409 `last_admin`).
#[utoipa::path(
    delete,
    path = "/v1/organizations/{org}/users/{user}",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    params(("org" = String, Path), ("user" = String, Path)),
    responses(
        (status = 200, description = "Removed", body = Success<Removed>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`organization_access_denied`, `forbidden`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`: not a member", body = AccountErrorBody),
        (status = 409, description = "`last_admin`", body = AccountErrorBody),
    )
)]
pub async fn remove_member(
    request: HttpRequest,
    state: Data<ApiState>,
    path: Path<OrgUserPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let OrgUserPath { org, user } = path.into_inner();
    let origin = caller_origin(&state, &request, &caller).await?;
    state
        .services
        .organizations
        .remove_member(&caller, &org, &user)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        Removed { removed: true },
    ))
}
