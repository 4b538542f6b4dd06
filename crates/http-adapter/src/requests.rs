//! What clients send. Each body type here is both what the OpenAPI document shows and what its
//! route parses into, so the two cannot drift. Members are read with messages for people (which
//! member, what it must be) rather than serde's, which would name Rust types.

use domain::{NewApp, OperatorCredentials, SubmissionInput};
use secrecy::SecretString;
use serde::de::{self, Deserialize, Deserializer, MapAccess};
use serde_json::{Map, Value};
use storage_port::AppChanges;
use utoipa::ToSchema;

use crate::body::json_object;
use crate::error::ApiError;

/// The members of a JSON object body, taken one by one; what is left can be refused.
#[derive(Debug)]
pub struct Members(Map<String, Value>);

impl Members {
    /// The body as a JSON object, or 400.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        json_object(bytes).map(Self)
    }

    /// A text member: absent or `null` is `None`, another type is 422.
    pub fn text(&mut self, key: &str) -> Result<Option<String>, ApiError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(ApiError::invalid_field(key, "type", "must be a string")),
        }
    }

    /// An array of texts: absent or `null` is `None`, anything else is 422.
    pub fn texts(&mut self, key: &str) -> Result<Option<Vec<String>>, ApiError> {
        let wrong = || ApiError::invalid_field(key, "type", "must be an array of strings");
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text),
                    _ => Err(wrong()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(wrong()),
        }
    }

    /// A member that may be set to a text or cleared with `null`: `None` when absent.
    pub fn clearable_text(&mut self, key: &str) -> Result<Option<Option<String>>, ApiError> {
        match self.0.remove(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(text)) => Ok(Some(Some(text))),
            Some(_) => Err(ApiError::invalid_field(
                key,
                "type",
                "must be a string or null",
            )),
        }
    }

    /// A whole number of at least 1, or `null` to clear it: `None` when absent.
    pub fn clearable_count(&mut self, key: &str) -> Result<Option<Option<u32>>, ApiError> {
        match self.0.remove(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::Number(number)) => number
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(|n| Some(Some(n)))
                .ok_or_else(|| {
                    ApiError::invalid_field(key, "range", "must be a whole number of at least 1")
                }),
            Some(_) => Err(ApiError::invalid_field(
                key,
                "type",
                "must be a number or null",
            )),
        }
    }

    /// A text member that must be there.
    pub fn required_text(&mut self, key: &str) -> Result<String, ApiError> {
        self.text(key)?
            .ok_or_else(|| ApiError::invalid_field(key, "required", "is required"))
    }

    /// An object member: absent or `null` is `None`, another type is 422.
    pub fn object(&mut self, key: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(object)) => Ok(Some(object)),
            Some(_) => Err(ApiError::invalid_field(key, "type", "must be an object")),
        }
    }

    /// A true/false member: absent or `null` is `None`, another type is 422.
    pub fn flag(&mut self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(flag)),
            Some(_) => Err(ApiError::invalid_field(
                key,
                "type",
                "must be true or false",
            )),
        }
    }

    /// 422 naming the first member that was not taken.
    pub fn refuse_unknown(self) -> Result<(), ApiError> {
        match self.0.keys().next() {
            Some(key) => Err(ApiError::invalid_field(
                key,
                "unknown",
                "is not a known member",
            )),
            None => Ok(()),
        }
    }
}

/// A sign-up from a site.
// Read straight from the body (see its `Deserialize`): no map of the top-level object and no
// copies of its keys are built on the hot path.
#[derive(Debug, Default, PartialEq, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "data": {"fullName": "Ada Lovelace", "plan": "pro", "consentRequired": true}}))]
pub struct SubmitUserRequest {
    /// Trimmed and lower-cased before it is stored; at most 254 characters.
    #[schema(value_type = String, example = "ada@example.com")]
    pub email: Value,
    /// The app's schema fields.
    #[schema(value_type = Object, example = json!({"fullName": "Ada Lovelace", "plan": "pro", "consentRequired": true}))]
    pub data: Value,
}

impl SubmitUserRequest {
    /// The `email` and `data` members of a JSON submission. Other members are read and
    /// dropped; a repeated member counts once, the last one, as in a JSON object read whole.
    /// Errors are those of [`json_object`].
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        match serde_json::from_slice::<Self>(bytes) {
            Ok(request) => Ok(request),
            // The only type a submission can have wrong is the top level's: members are any
            // JSON.
            Err(error) if error.classify() == serde_json::error::Category::Data => Err(
                ApiError::invalid_json("The request body must be a JSON object"),
            ),
            Err(error) => Err(ApiError::invalid_json(format!(
                "The request body is not valid JSON: {error}"
            ))),
        }
    }
}

impl From<SubmitUserRequest> for SubmissionInput {
    fn from(request: SubmitUserRequest) -> Self {
        Self {
            email: request.email,
            data: request.data,
        }
    }
}

impl<'de> Deserialize<'de> for SubmitUserRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> de::Visitor<'de> for Members {
            type Value = SubmitUserRequest;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SubmitUserRequest, A::Error> {
                let mut request = SubmitUserRequest::default();
                while let Some(member) = map.next_key::<Member>()? {
                    match member {
                        Member::Email => request.email = map.next_value()?,
                        Member::Data => request.data = map.next_value()?,
                        // Read whole and dropped, so the nesting limit applies here too.
                        Member::Other => drop(map.next_value::<Value>()?),
                    }
                }
                Ok(request)
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// A member name of a submission, told apart without copying it.
enum Member {
    Email,
    Data,
    Other,
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl de::Visitor<'_> for Name {
            type Value = Member;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
                Ok(match name {
                    "email" => Member::Email,
                    "data" => Member::Data,
                    _ => Member::Other,
                })
            }
        }
        deserializer.deserialize_identifier(Name)
    }
}

/// `{sourceAppId, password}` logs an app owner in; `{email, password}` an admin.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
// The README's admin; as a whole example, one that logs in (schemathesis sends it).
#[schema(example = json!({"email": "admin@example.com", "password": "a long admin passphrase"}))]
pub struct LoginRequest {
    #[schema(example = "my-marketing-site")]
    pub source_app_id: Option<String>,
    #[schema(example = "admin@example.com")]
    pub email: Option<String>,
    #[schema(value_type = String)]
    pub password: SecretString,
}

impl LoginRequest {
    /// Other members are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let source_app_id = members.text("sourceAppId")?;
        let email = members.text("email")?;
        let Some(password) = members.text("password")? else {
            return Err(ApiError::invalid_field(
                "password",
                "required",
                "is required",
            ));
        };
        Ok(Self {
            source_app_id,
            email,
            password: password.into(),
        })
    }

    /// Who logs in: exactly one of `sourceAppId` and `email`, else 422.
    pub fn credentials(&self) -> Result<OperatorCredentials, ApiError> {
        match (&self.source_app_id, &self.email) {
            (Some(app_id), None) => Ok(OperatorCredentials::AppOwner {
                app_id: app_id.clone(),
            }),
            (None, Some(email)) => Ok(OperatorCredentials::Admin {
                email: email.clone(),
            }),
            _ => Err(ApiError::invalid_field(
                "sourceAppId",
                "required",
                "give either sourceAppId (app owner) or email (admin)",
            )),
        }
    }
}

/// What an admin sends to create an app.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "sourceAppId": "my-marketing-site",
    "name": "My marketing site",
    "allowedOrigins": ["http://localhost:5173", "https://www.example.com"],
    "honeypotField": "website",
    "thankYouUrl": "https://www.example.com/thanks"
}))]
pub struct CreateAppRequest {
    /// 1 to 80 characters of `[A-Za-z0-9._-]`, not dots only. Unique regardless of case
    /// (`APP-A` is taken when `app-a` exists), then always matched exactly as created.
    #[schema(example = "my-marketing-site")]
    pub source_app_id: String,
    pub name: String,
    pub allowed_origins: Option<Vec<String>>,
    pub honeypot_field: Option<String>,
    pub thank_you_url: Option<String>,
    /// An absolute http(s) URL; see `AppResponse.errorUrl`.
    pub error_url: Option<String>,
}

impl CreateAppRequest {
    /// Absent texts are empty (and then refused by the domain's checks); unknown members 422.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            source_app_id: members.text("sourceAppId")?.unwrap_or_default(),
            name: members.text("name")?.unwrap_or_default(),
            allowed_origins: members.texts("allowedOrigins")?,
            honeypot_field: members.text("honeypotField")?,
            thank_you_url: members.text("thankYouUrl")?,
            error_url: members.text("errorUrl")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

impl From<CreateAppRequest> for NewApp {
    fn from(request: CreateAppRequest) -> Self {
        Self {
            id: request.source_app_id,
            name: request.name,
            allowed_origins: request.allowed_origins.unwrap_or_default(),
            honeypot_field: request.honeypot_field,
            thank_you_url: request.thank_you_url,
            error_url: request.error_url,
        }
    }
}

/// Members to change; absent ones stay. Owners may send only `name` and `allowedOrigins`.
/// `null` clears `honeypotField` / `thankYouUrl` / `errorUrl`.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "name": "My marketing site",
    "allowedOrigins": ["http://localhost:5173", "https://www.example.com"]
}))]
pub struct UpdateAppRequest {
    pub name: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    // `Some(None)`: cleared with `null`.
    #[schema(value_type = Option<String>)]
    pub honeypot_field: Option<Option<String>>,
    #[schema(value_type = Option<String>)]
    pub thank_you_url: Option<Option<String>>,
    #[schema(value_type = Option<String>)]
    pub error_url: Option<Option<String>>,
    /// Who may create organizations: `verified_accounts` (the default), `any_account` or
    /// `tenant_admins`. Owners may change it.
    #[schema(value_type = Option<String>)]
    pub organization_creation: Option<storage_port::OrganizationCreation>,
    /// Login answers 403 `email_not_verified` until the address is verified. Owners may change it.
    pub require_verified_email: Option<bool>,
    /// The app's access-token lifetime in minutes, 1 to the service's
    /// (`lifetimeLimits.accessTokenMinutes`); `null` follows the service's. Owners may change it.
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub access_token_minutes: Option<Option<u32>>,
    /// Days a session may go unused, 1 to the service's; `null` follows the service's.
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub session_idle_days: Option<Option<u32>>,
    /// Days a session lasts from its login, used or not, 1 to the service's; `null` follows the
    /// service's.
    #[schema(value_type = Option<u32>, minimum = 1)]
    pub session_absolute_days: Option<Option<u32>>,
}

impl UpdateAppRequest {
    /// Unknown members are 422.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let organization_creation = match members.text("organizationCreation")? {
            None => None,
            Some(text) => Some(storage_port::OrganizationCreation::parse(&text).ok_or_else(
                || {
                    ApiError::invalid_field(
                        "organizationCreation",
                        "enum",
                        "must be verified_accounts, any_account or tenant_admins",
                    )
                },
            )?),
        };
        let request = Self {
            name: members.text("name")?,
            allowed_origins: members.texts("allowedOrigins")?,
            honeypot_field: members.clearable_text("honeypotField")?,
            thank_you_url: members.clearable_text("thankYouUrl")?,
            error_url: members.clearable_text("errorUrl")?,
            organization_creation,
            require_verified_email: members.flag("requireVerifiedEmail")?,
            access_token_minutes: members.clearable_count("accessTokenMinutes")?,
            session_idle_days: members.clearable_count("sessionIdleDays")?,
            session_absolute_days: members.clearable_count("sessionAbsoluteDays")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

impl UpdateAppRequest {
    /// The phase-1 changes and the account switches.
    pub fn split(self) -> (AppChanges, domain::AccountSwitches) {
        (
            AppChanges {
                name: self.name,
                allowed_origins: self.allowed_origins,
                honeypot_field: self.honeypot_field,
                thank_you_url: self.thank_you_url,
                error_url: self.error_url,
                account_settings: None,
            },
            domain::AccountSwitches {
                organization_creation: self.organization_creation,
                require_verified_email: self.require_verified_email,
                access_token_minutes: self.access_token_minutes,
                session_idle_days: self.session_idle_days,
                session_absolute_days: self.session_absolute_days,
            },
        )
    }
}

/// `POST /v1/auth/register`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple", "name": "Ada Lovelace"}))]
pub struct RegisterRequest {
    pub email: String,
    /// 8 to 128 characters; common passwords are refused (`too_common`).
    #[schema(value_type = String)]
    pub password: SecretString,
    pub name: Option<String>,
    /// Join this organization: allowed for an address of one of its `allowed_email_domains`
    /// (the membership starts once the email is verified), else 403
    /// `organization_access_denied`.
    pub organization_id: Option<String>,
    /// The app's schema fields, validated as a sign-up is.
    #[schema(value_type = Option<Object>)]
    pub data: Option<Map<String, Value>>,
}

impl RegisterRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            email: members.required_text("email")?,
            password: members.required_text("password")?.into(),
            name: members.text("name")?,
            organization_id: members.text("organization_id")?,
            data: members.object("data")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/auth/login`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple"}))]
pub struct AccountLoginRequest {
    pub email: String,
    #[schema(value_type = String)]
    pub password: SecretString,
    /// The organization to make active (a member's own; else 403 `organization_access_denied`).
    /// Without it, the first organization joined.
    pub organization_id: Option<String>,
}

impl AccountLoginRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            email: members.required_text("email")?,
            password: members.required_text("password")?.into(),
            organization_id: members.text("organization_id")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/auth/refresh`.
#[derive(Debug, ToSchema)]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    pub refresh_token: SecretString,
    /// Switch the session's active organization to this one (a member's own; else 403
    /// `organization_access_denied`, and the refresh token is not spent).
    pub organization_id: Option<String>,
}

impl RefreshRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            refresh_token: members.required_text("refresh_token")?.into(),
            organization_id: members.text("organization_id")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/auth/logout`; the body may be empty.
#[derive(Debug, Default, ToSchema)]
pub struct LogoutRequest {
    /// `true` ends every session of the account, not only this one.
    pub all: Option<bool>,
}

impl LogoutRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let mut members = Members::parse(bytes)?;
        let request = Self {
            all: members.flag("all")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `PUT /v1/users/me`: members to change; absent ones stay, `null` clears.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Ada Lovelace", "bio": "Mathematician", "avatar_url": "https://example.com/ada.png"}))]
pub struct UpdateMeRequest {
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    /// An https URL of at most 2,048 characters.
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    /// The app's schema fields, validated as a sign-up is, merged key by key.
    #[schema(value_type = Option<Object>)]
    pub data: Option<Map<String, Value>>,
}

impl UpdateMeRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            name: members.clearable_text("name")?,
            bio: members.clearable_text("bio")?,
            avatar_url: members.clearable_text("avatar_url")?,
            data: members.object("data")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `PUT /v1/users/me/password`.
#[derive(Debug, ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String)]
    pub current_password: SecretString,
    /// 8 to 128 characters; common passwords are refused.
    #[schema(value_type = String)]
    pub new_password: SecretString,
}

impl ChangePasswordRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            current_password: members.required_text("current_password")?.into(),
            new_password: members.required_text("new_password")?.into(),
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/organizations`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Acme, Inc.", "allowed_email_domains": ["acme.example"]}))]
pub struct CreateOrganizationRequest {
    /// 1 to 100 characters.
    pub name: String,
    /// Lower-case letters, digits and inner hyphens, unique in the app; derived from the name
    /// when absent.
    pub slug: Option<String>,
    /// Addresses of these domains may name the organization at registration (they join once
    /// verified). Stored in their ASCII (IDNA) form.
    pub allowed_email_domains: Option<Vec<String>>,
}

impl CreateOrganizationRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            name: members.required_text("name")?,
            slug: members.text("slug")?,
            allowed_email_domains: members.texts("allowed_email_domains")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `PATCH /v1/organizations/{org}`: absent members stay.
#[derive(Debug, ToSchema)]
pub struct UpdateOrganizationRequest {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub allowed_email_domains: Option<Vec<String>>,
}

impl UpdateOrganizationRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            name: members.text("name")?,
            slug: members.text("slug")?,
            allowed_email_domains: members.texts("allowed_email_domains")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/users` with a bearer credential: an admin creates an account.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "grace@example.com", "name": "Grace", "role": "member", "organization_id": "org_3gM1c2L0bq2kX8w1Yw4Hqg", "send_invite": true}))]
pub struct CreateUserRequest {
    pub email: String,
    pub name: Option<String>,
    /// `tenant_admin`, `admin`, `member` (the default) or `guest`.
    pub role: Option<String>,
    /// The organization the user joins (an organization admin's active one by default).
    pub organization_id: Option<String>,
    /// Extra permissions (`resource:action`).
    pub permissions: Option<Vec<String>>,
    /// Send the set-password invitation e-mail.
    pub send_invite: Option<bool>,
}

impl CreateUserRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            email: members.required_text("email")?,
            name: members.text("name")?,
            role: members.text("role")?,
            organization_id: members.text("organization_id")?,
            permissions: members.texts("permissions")?,
            send_invite: members.flag("send_invite")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `PUT /v1/users/{id}`: absent members stay.
#[derive(Debug, ToSchema)]
pub struct UpdateUserRequest {
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// `tenant_admin` (app-wide), or `admin`, `member`, `guest` in `organization_id`.
    pub role: Option<String>,
    /// Extra permissions in `organization_id` (app-wide for a tenant admin's change without one).
    pub permissions: Option<Vec<String>>,
    /// Disabling ends every session of the user.
    pub disabled: Option<bool>,
    /// The organization `role` and `permissions` are about (default: the caller's active one,
    /// or the user's only one).
    pub organization_id: Option<String>,
}

impl UpdateUserRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            name: members.clearable_text("name")?,
            role: members.text("role")?,
            permissions: members.texts("permissions")?,
            disabled: members.flag("disabled")?,
            organization_id: members.text("organization_id")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/apps/{appId}/api-keys`.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"name": "CRM sync", "permissions": ["records:read"]}))]
pub struct CreateApiKeyRequest {
    /// 1 to 100 characters, to tell keys apart.
    pub name: String,
    /// A role whose default permissions the key gets (`tenant_admin`: every built-in one).
    pub role: Option<String>,
    /// Permissions the key holds (with the role's, if any): e.g. `records:read`,
    /// `records:delete`, `schema:write`, `users:read`.
    pub permissions: Option<Vec<String>>,
    /// RFC 3339; the key stops working then. Never, when absent.
    pub expires_at: Option<String>,
}

impl CreateApiKeyRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            name: members.required_text("name")?,
            role: members.text("role")?,
            permissions: members.texts("permissions")?,
            expires_at: members.text("expiresAt")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/auth/verify-email`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"token": "kq3…"}))]
pub struct VerifyEmailRequest {
    /// The `token` of the link in the verification e-mail.
    pub token: String,
}

impl VerifyEmailRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            token: members.required_text("token")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/auth/password/forgot`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct ForgotPasswordRequest {
    pub email: String,
}

impl ForgotPasswordRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            email: members.required_text("email")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/auth/password/reset`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"token": "kq3…", "new_password": "a new long passphrase"}))]
pub struct ResetPasswordRequest {
    /// The `token` of the link in the reset e-mail.
    pub token: String,
    /// 8 to 128 characters; common passwords are refused.
    #[schema(value_type = String)]
    pub new_password: SecretString,
}

impl ResetPasswordRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            token: members.required_text("token")?,
            new_password: members.required_text("new_password")?.into(),
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/organizations/{org}/invites`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "grace@example.com", "role": "member", "message": "Welcome aboard!"}))]
pub struct InviteRequest {
    pub email: String,
    /// `admin`, `member` (the default) or `guest`: one the inviter may grant.
    pub role: Option<String>,
    /// Up to 1,000 characters, shown in the e-mail (HTML-escaped).
    pub message: Option<String>,
}

impl InviteRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            email: members.required_text("email")?,
            role: members.text("role")?,
            message: members.text("message")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// `POST /v1/invites/accept`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"token": "kq3…", "password": "correct horse battery staple", "name": "Grace Hopper"}))]
pub struct AcceptInviteRequest {
    /// The `token` of the invitation link.
    pub token: String,
    /// Needed when the address has no account with a password yet.
    #[schema(value_type = Option<String>)]
    pub password: Option<SecretString>,
    pub name: Option<String>,
}

impl AcceptInviteRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let request = Self {
            token: members.required_text("token")?,
            password: members.text("password")?.map(SecretString::from),
            name: members.text("name")?,
        };
        members.refuse_unknown()?;
        Ok(request)
    }
}

/// One template: `{{variable}}` placeholders (see `GET /v1/apps/{appId}/mail-settings`).
#[derive(Debug, Clone, ToSchema, serde::Serialize)]
pub struct TemplateBody {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl TemplateBody {
    pub fn into_template(self) -> storage_port::MailTemplate {
        storage_port::MailTemplate {
            subject: self.subject,
            text: self.text,
            html: self.html,
        }
    }

    fn from_value(field: &str, value: Value) -> Result<Self, ApiError> {
        let Value::Object(object) = value else {
            return Err(ApiError::invalid_field(field, "type", "must be an object"));
        };
        let mut members = Members(object);
        let part = |members: &mut Members, key: &str| {
            members.text(key)?.ok_or_else(|| {
                ApiError::invalid_field(&format!("{field}.{key}"), "required", "is required")
            })
        };
        let template = Self {
            subject: part(&mut members, "subject")?,
            text: part(&mut members, "text")?,
            html: part(&mut members, "html")?,
        };
        if let Some(key) = members.0.keys().next() {
            return Err(ApiError::invalid_field(
                &format!("{field}.{key}"),
                "unknown",
                "is not a known member",
            ));
        }
        Ok(template)
    }
}

/// `PUT /v1/apps/{appId}/mail-settings`: the whole settings; absent members take the defaults.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "senderName": "Acme",
    "verifyEmailUrl": "https://www.acme.example/verify",
    "resetPasswordUrl": "https://www.acme.example/reset",
    "acceptInviteUrl": "https://www.acme.example/join",
    "templates": {"invitation": {"subject": "Join {{organization_name}}", "text": "{{inviter}} invites you: {{link}}", "html": "<p>{{inviter}} invites you: <a href=\"{{link}}\">join</a></p>"}}
}))]
pub struct MailSettingsRequest {
    /// The sender's display name (default: the app's name); the address is the service's.
    pub sender_name: Option<String>,
    /// Where each link leads (it gets `?token=`); default: the service's own small pages.
    pub verify_email_url: Option<String>,
    pub reset_password_url: Option<String>,
    pub accept_invite_url: Option<String>,
    /// Templates replacing the built-in ones: `verify_email`, `reset_password`, `invitation`.
    #[schema(value_type = Option<Object>)]
    pub templates: Option<std::collections::BTreeMap<String, TemplateBody>>,
}

impl MailSettingsRequest {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let mut request = Self {
            sender_name: members.text("senderName")?,
            verify_email_url: members.text("verifyEmailUrl")?,
            reset_password_url: members.text("resetPasswordUrl")?,
            accept_invite_url: members.text("acceptInviteUrl")?,
            templates: None,
        };
        if let Some(templates) = members.object("templates")? {
            let mut parsed = std::collections::BTreeMap::new();
            for (kind, value) in templates {
                let template = TemplateBody::from_value(&format!("templates.{kind}"), value)?;
                parsed.insert(kind, template);
            }
            request.templates = Some(parsed);
        }
        members.refuse_unknown()?;
        Ok(request)
    }

    pub fn into_settings(self) -> storage_port::MailSettings {
        storage_port::MailSettings {
            sender_name: self.sender_name,
            verify_email_url: self.verify_email_url,
            reset_password_url: self.reset_password_url,
            accept_invite_url: self.accept_invite_url,
            templates: self
                .templates
                .unwrap_or_default()
                .into_iter()
                .map(|(kind, template)| (kind, template.into_template()))
                .collect(),
        }
    }
}

/// `POST /v1/apps/{appId}/mail-settings/preview` and `POST /v1/apps/{appId}/mail/test`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"kind": "invitation", "to": "me@example.com"}))]
pub struct MailTryRequest {
    /// `verify_email`, `reset_password` or `invitation`.
    pub kind: String,
    /// The test send's recipient (required there, refused in a preview).
    pub to: Option<String>,
    /// An unsaved template to try instead of the app's.
    pub template: Option<TemplateBody>,
}

impl MailTryRequest {
    /// `with_recipient`: `to` is required (a test send), else refused (a preview).
    pub fn parse(bytes: &[u8], with_recipient: bool) -> Result<Self, ApiError> {
        let mut members = Members::parse(bytes)?;
        let kind = members.required_text("kind")?;
        let to = if with_recipient {
            Some(members.required_text("to")?)
        } else {
            None
        };
        let template = match members.0.remove("template") {
            None | Some(Value::Null) => None,
            Some(value) => Some(TemplateBody::from_value("template", value)?),
        };
        members.refuse_unknown()?;
        Ok(Self { kind, to, template })
    }

    /// What `kind` names.
    pub fn purpose(&self) -> Result<storage_port::TokenPurpose, ApiError> {
        storage_port::TokenPurpose::parse(&self.kind).ok_or_else(|| {
            ApiError::invalid_field(
                "kind",
                "enum",
                "must be verify_email, reset_password or invitation",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// What the submission route read before: the object whole, then its two members.
    fn via_object(body: &str) -> Result<(Value, Value), String> {
        let mut object = json_object(body.as_bytes()).map_err(|e| e.to_string())?;
        Ok((
            object.remove("email").unwrap_or(Value::Null),
            object.remove("data").unwrap_or(Value::Null),
        ))
    }

    #[test]
    fn submissions_are_read_as_the_whole_object_would_be() {
        for body in [
            r#"{"email":"a@example.com","data":{"x":1,"y":[true,null]}}"#,
            r#"{"data":{"k":"v"},"extra":{"deep":[1,2,{"z":null}]},"email":"b@example.com"}"#,
            r#"{"email":"first@example.com","email":"second@example.com"}"#,
            r#"{"em\u0061il":"escaped@example.com","data":"not an object"}"#,
            r#"{}"#,
            r#"{"email":null,"data":null}"#,
            r#"{"$where":"1","a.b":2,"email":7}"#,
        ] {
            let read = SubmitUserRequest::parse(body.as_bytes()).map_err(|e| e.to_string());
            assert_eq!(
                read.map(|request| (request.email, request.data)),
                via_object(body),
                "{body}"
            );
        }
    }

    #[test]
    fn submission_errors_say_what_the_whole_object_would() {
        for body in [
            "[1,2]",
            "\"text\"",
            "42",
            "null",
            "{",
            "{\"email\":}",
            "",
            "{} x",
        ] {
            let read = SubmitUserRequest::parse(body.as_bytes()).map(|_| ());
            let whole = json_object(body.as_bytes()).map(|_| ());
            assert_eq!(
                read.map_err(|e| e.to_string()),
                whole.map_err(|e| e.to_string()),
                "{body}"
            );
        }
    }

    #[test]
    fn nesting_is_limited_in_ignored_members_too() {
        let deep = format!(
            r#"{{"other":{}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(SubmitUserRequest::parse(deep.as_bytes()).is_err());
    }

    fn field_of(error: &ApiError) -> (&str, &str) {
        let detail = &error.details[0];
        (detail.field.as_str(), detail.code.as_str())
    }

    #[test]
    fn members_of_the_wrong_type_are_named() {
        let error = CreateAppRequest::parse(br#"{"sourceAppId": 7}"#).expect_err("type");
        assert_eq!(field_of(&error), ("sourceAppId", "type"));
        let error = CreateAppRequest::parse(br#"{"allowedOrigins": ["https://a.example", 1]}"#)
            .expect_err("type");
        assert_eq!(field_of(&error), ("allowedOrigins", "type"));
        let error = UpdateAppRequest::parse(br#"{"thankYouUrl": false}"#).expect_err("type");
        assert_eq!(field_of(&error), ("thankYouUrl", "type"));
        let error =
            UpdateAppRequest::parse(br#"{"name": "n", "owner": "me"}"#).expect_err("unknown");
        assert_eq!(field_of(&error), ("owner", "unknown"));
    }

    #[test]
    fn null_clears_and_absence_keeps() {
        let request = UpdateAppRequest::parse(br#"{"honeypotField": null}"#).expect("parses");
        assert_eq!(request.honeypot_field, Some(None));
        assert_eq!(request.thank_you_url, None);
    }

    #[test]
    fn a_login_names_exactly_one_account() {
        let error = LoginRequest::parse(br#"{"email": "a@example.com"}"#).expect_err("password");
        assert_eq!(field_of(&error), ("password", "required"));
        for both_or_none in [
            r#"{"password": "p"}"#,
            r#"{"password": "p", "email": "a@example.com", "sourceAppId": "s"}"#,
        ] {
            let request = LoginRequest::parse(both_or_none.as_bytes()).expect("parses");
            let error = request.credentials().expect_err("one of the two");
            assert_eq!(field_of(&error), ("sourceAppId", "required"));
        }
        let request =
            LoginRequest::parse(br#"{"sourceAppId": "s", "password": "p"}"#).expect("parses");
        assert_eq!(
            request.credentials().expect("owner"),
            OperatorCredentials::AppOwner { app_id: "s".into() }
        );
    }
}
