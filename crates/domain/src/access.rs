//! Who may do what, as values. A caller holds an [`AppAccess`] or an [`AdminAccess`] only once
//! the check has passed (their fields are private and the only ways to make one are below),
//! and every service method that acts on an app for an operator takes one. So a route cannot
//! forget the check: without it, it has nothing to pass. (lldap's access-control handlers work
//! the same way.)

use storage_port::AppChanges;

use crate::Operator;

/// The operator may not do this. The refusal is logged where it is decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(&'static str);

impl Forbidden {
    pub(crate) fn new(reason: &'static str) -> Self {
        Self(reason)
    }

    /// Why, for the log (never shown to the caller beyond "forbidden").
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

/// Proof that the caller is a platform admin: it may create, list, delete and re-key apps.
#[derive(Debug, Clone)]
pub struct AdminAccess {
    subject: String,
}

impl AdminAccess {
    /// The server's own command line (`users-api app …`), whose user already holds the
    /// database and the configuration. Only the `server` crate calls it; the architecture test
    /// keeps it out of the HTTP crate.
    pub fn command_line() -> Self {
        Self {
            subject: "command line".to_owned(),
        }
    }

    /// Access to any one app.
    pub fn app(&self, app_id: &str) -> AppAccess {
        AppAccess {
            app_id: app_id.to_owned(),
            subject: self.subject.clone(),
            admin: true,
        }
    }

    /// The admin's email (or `command line`), for logs.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

/// Proof that the caller may manage one app: read and change its settings, schema and
/// records. It says nothing of whether the app exists; the service that uses it looks the app
/// up once and answers `NotFound` itself.
#[derive(Debug, Clone)]
pub struct AppAccess {
    app_id: String,
    subject: String,
    admin: bool,
}

impl AppAccess {
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The admin's email or the owner's app id, for logs.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// A platform admin's (else an owner's or an API key's).
    pub(crate) fn is_admin(&self) -> bool {
        self.admin
    }

    /// An API key's access to its own app (see `ApiKeyCaller::app_access`).
    pub(crate) fn for_api_key(app_id: &str, key_id: &str) -> Self {
        Self {
            app_id: app_id.to_owned(),
            subject: format!("API key {key_id}"),
            admin: false,
        }
    }

    /// Admins may change every setting; owners only their app's name and allowed origins.
    pub(crate) fn check_changes(&self, changes: &AppChanges) -> Result<(), Forbidden> {
        let admin_only = changes.honeypot_field.is_some()
            || changes.thank_you_url.is_some()
            || changes.error_url.is_some();
        if self.admin || !admin_only {
            return Ok(());
        }
        tracing::warn!(
            subject = self.subject,
            app_id = self.app_id,
            "an owner tried to change an admin-only setting"
        );
        Err(Forbidden(
            "owners may change only the name and allowed origins",
        ))
    }
}

impl Operator {
    /// Admin access, or [`Forbidden`] (logged) for an app owner.
    pub fn admin_access(&self) -> Result<AdminAccess, Forbidden> {
        match self {
            Self::Admin { email } => Ok(AdminAccess {
                subject: email.clone(),
            }),
            Self::AppOwner { app_id } => {
                tracing::warn!(
                    subject = app_id,
                    "refused an admin-only route to an app owner"
                );
                Err(Forbidden("admins only"))
            }
        }
    }

    /// Access to `app_id`, or [`Forbidden`] (logged) for the owner of another app. Decided
    /// before any lookup, so that owners cannot learn which other apps exist.
    pub fn app_access(&self, app_id: &str) -> Result<AppAccess, Forbidden> {
        if self.may_manage(app_id) {
            return Ok(AppAccess {
                app_id: app_id.to_owned(),
                subject: self.subject().to_owned(),
                admin: self.is_admin(),
            });
        }
        tracing::warn!(
            subject = self.subject(),
            role = self.role().as_str(),
            app_id,
            "refused access to another app"
        );
        Err(Forbidden("another app"))
    }

    /// An owner's access to their own app; admins have none ([`Forbidden`]).
    pub fn own_app_access(&self) -> Result<AppAccess, Forbidden> {
        match self {
            Self::AppOwner { app_id } => self.app_access(app_id),
            Self::Admin { .. } => Err(Forbidden("admins have no app of their own")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(app_id: &str) -> Operator {
        Operator::AppOwner {
            app_id: app_id.into(),
        }
    }

    fn admin() -> Operator {
        Operator::Admin {
            email: "root@example.com".into(),
        }
    }

    #[test]
    fn only_admins_get_admin_access() {
        assert_eq!(
            admin().admin_access().expect("admin").subject(),
            "root@example.com"
        );
        assert!(owner("a").admin_access().is_err());
    }

    #[test]
    fn owners_get_access_to_their_own_app_only() {
        assert_eq!(owner("a").app_access("a").expect("own").app_id(), "a");
        assert!(owner("a").app_access("b").is_err());
        assert!(owner("a").app_access("A").is_err(), "ids are exact");
        assert_eq!(admin().app_access("b").expect("any").app_id(), "b");
        assert_eq!(owner("a").own_app_access().expect("own").app_id(), "a");
        assert!(admin().own_app_access().is_err());
    }

    #[test]
    fn owners_may_change_only_name_and_origins() {
        let names = AppChanges {
            name: Some("n".into()),
            allowed_origins: Some(vec!["*".into()]),
            ..AppChanges::default()
        };
        let admin_only = [
            AppChanges {
                honeypot_field: Some(None),
                ..AppChanges::default()
            },
            AppChanges {
                thank_you_url: Some(Some("https://x.example".into())),
                ..AppChanges::default()
            },
            AppChanges {
                error_url: Some(None),
                ..AppChanges::default()
            },
        ];
        let own = owner("a").app_access("a").expect("own");
        assert!(own.check_changes(&names).is_ok());
        let any = AdminAccess::command_line().app("a");
        for changes in &admin_only {
            assert!(own.check_changes(changes).is_err(), "{changes:?}");
            assert!(any.check_changes(changes).is_ok(), "{changes:?}");
        }
    }
}

/// What a management route of an app (`/v1/apps/{appId}/…`) needs from an API key; operators
/// need none of these (their session is the app's owner or an admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagementPermission {
    /// List, search, read and export records.
    ReadRecords,
    /// Erase a record.
    DeleteRecords,
    /// Read the schema and its versions.
    ReadSchema,
    /// Replace the schema.
    WriteSchema,
}

impl ManagementPermission {
    /// The permissions any one of which lets a key through.
    pub fn accepted(self) -> &'static [&'static str] {
        use crate::permissions::{RECORDS_DELETE, RECORDS_READ, SCHEMA_WRITE};
        match self {
            Self::ReadRecords => &[RECORDS_READ],
            Self::DeleteRecords => &[RECORDS_DELETE],
            Self::ReadSchema => &[SCHEMA_WRITE, RECORDS_READ],
            Self::WriteSchema => &[SCHEMA_WRITE],
        }
    }
}
