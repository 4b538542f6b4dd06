//! The permission model of ACCOUNTS.md §1, pure: roles in order, each role's default
//! permissions, effective permissions, and the two rules that stop escalation — a caller
//! grants only roles and permissions it holds, and never changes anyone above it.
//!
//! Scopes: an organization (a membership's role and extras) or the whole app (`tenant_admin`,
//! an API key, an operator, and an account's app-wide extras). A built-in permission held
//! app-wide counts in every organization of the app.

use std::collections::BTreeSet;
use std::fmt;

use storage_port::MemberRole;

/// Roles, lowest first (`Ord` follows the order of ACCOUNTS.md: `super_admin` > `tenant_admin`
/// > `admin` > `member` > `guest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Guest,
    Member,
    Admin,
    TenantAdmin,
    SuperAdmin,
}

impl Role {
    pub const ALL: [Self; 5] = [
        Self::SuperAdmin,
        Self::TenantAdmin,
        Self::Admin,
        Self::Member,
        Self::Guest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuperAdmin => "super_admin",
            Self::TenantAdmin => "tenant_admin",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Guest => "guest",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// The role inside an organization, if this is one (`admin`, `member`, `guest`).
    pub fn in_organization(self) -> Option<MemberRole> {
        match self {
            Self::Admin => Some(MemberRole::Admin),
            Self::Member => Some(MemberRole::Member),
            Self::Guest => Some(MemberRole::Guest),
            Self::TenantAdmin | Self::SuperAdmin => None,
        }
    }

    /// The role's default permissions (ACCOUNTS.md's table).
    pub fn defaults(self) -> &'static [&'static str] {
        match self {
            Self::SuperAdmin | Self::TenantAdmin => &BUILT_IN,
            Self::Admin => &[
                USERS_READ,
                USERS_WRITE,
                ORGANIZATIONS_READ,
                ORGANIZATIONS_WRITE,
                INVITES_WRITE,
                ROLES_WRITE,
            ],
            Self::Member => &[USERS_READ, ORGANIZATIONS_READ],
            Self::Guest => &[ORGANIZATIONS_READ],
        }
    }
}

impl From<MemberRole> for Role {
    fn from(role: MemberRole) -> Self {
        match role {
            MemberRole::Admin => Self::Admin,
            MemberRole::Member => Self::Member,
            MemberRole::Guest => Self::Guest,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const USERS_READ: &str = "users:read";
pub const USERS_WRITE: &str = "users:write";
pub const USERS_DELETE: &str = "users:delete";
pub const ORGANIZATIONS_READ: &str = "organizations:read";
pub const ORGANIZATIONS_WRITE: &str = "organizations:write";
pub const INVITES_WRITE: &str = "invites:write";
pub const ROLES_WRITE: &str = "roles:write";
pub const API_KEYS_WRITE: &str = "api_keys:write";
pub const RECORDS_READ: &str = "records:read";
pub const RECORDS_DELETE: &str = "records:delete";
pub const SCHEMA_WRITE: &str = "schema:write";

/// Every built-in permission.
pub const BUILT_IN: [&str; 11] = [
    USERS_READ,
    USERS_WRITE,
    USERS_DELETE,
    ORGANIZATIONS_READ,
    ORGANIZATIONS_WRITE,
    INVITES_WRITE,
    ROLES_WRITE,
    API_KEYS_WRITE,
    RECORDS_READ,
    RECORDS_DELETE,
    SCHEMA_WRITE,
];

/// At most this many extra permissions per membership, account or API key.
pub const MAX_PERMISSIONS: usize = 64;

/// Why a permission string is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionProblem {
    /// Not `resource:action` as ACCOUNTS.md spells it.
    Malformed,
    /// A resource of ours (`users`, `records`, …) with an action we do not define, such as
    /// `users:*`: it would read as a built-in permission to an app's backend, so only the
    /// built-in spellings are allowed there.
    Reserved,
}

fn is_builtin_resource(resource: &str) -> bool {
    BUILT_IN
        .iter()
        .any(|p| p.split_once(':').is_some_and(|(r, _)| r == resource))
}

/// Checks one permission string: `^[a-z][a-z0-9_-]{0,31}:[a-z*][a-z0-9_*-]{0,31}$`, and not a
/// look-alike of a built-in one.
pub fn check_permission(text: &str) -> Result<(), PermissionProblem> {
    let Some((resource, action)) = text.split_once(':') else {
        return Err(PermissionProblem::Malformed);
    };
    let resource_ok = resource.len() <= 32
        && resource
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase())
        && resource
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    let action_ok = action.len() <= 32
        && action
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'*')
        && action.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'*' || b == b'-'
        });
    if !resource_ok || !action_ok {
        return Err(PermissionProblem::Malformed);
    }
    if is_builtin_resource(resource) && !BUILT_IN.contains(&text) {
        return Err(PermissionProblem::Reserved);
    }
    Ok(())
}

pub fn is_builtin(permission: &str) -> bool {
    BUILT_IN.contains(&permission)
}

/// What a caller holds in one scope: a role (none for an account outside the organization)
/// and its effective permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    role: Option<Role>,
    permissions: BTreeSet<String>,
    /// An API key: a `tenant_admin` that holds only its listed permissions.
    limited: bool,
}

impl Authority {
    /// A role with its defaults and extra permissions.
    pub fn of(role: Option<Role>, extra: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let mut permissions: BTreeSet<String> = role
            .map(|role| role.defaults().iter().map(|p| (*p).to_owned()).collect())
            .unwrap_or_default();
        permissions.extend(extra.into_iter().map(Into::into));
        Self {
            role,
            permissions,
            limited: false,
        }
    }

    /// An API key: acts as `tenant_admin`, limited to `permissions`.
    pub fn api_key(permissions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            role: Some(Role::TenantAdmin),
            permissions: permissions.into_iter().map(Into::into).collect(),
            limited: true,
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// Tenant-wide: a `tenant_admin` (or above) or an API key.
    pub fn is_tenant(&self) -> bool {
        self.role.is_some_and(|role| role >= Role::TenantAdmin)
    }

    /// True when the permission is held. A full `tenant_admin` (not an API key) and a
    /// `super_admin` hold every permission of the app, the app's own ones too.
    pub fn has(&self, permission: &str) -> bool {
        (self.is_tenant() && !self.limited) || self.permissions.contains(permission)
    }

    /// The effective permissions, sorted (what goes into an access token).
    pub fn permissions(&self) -> impl Iterator<Item = &str> {
        self.permissions.iter().map(String::as_str)
    }

    /// The same caller with another scope's grants added (an account's app-wide extras in an
    /// organization, say); the higher role wins.
    pub fn joined(mut self, other: &Self) -> Self {
        self.role = self.role.max(other.role);
        self.permissions.extend(other.permissions.iter().cloned());
        if let Some(role) = self.role {
            self.permissions
                .extend(role.defaults().iter().map(|p| (*p).to_owned()));
        }
        self.limited = self.limited && other.limited;
        self
    }

    /// May this caller act on someone who holds `target` (change, remove, disable)? Never on
    /// anyone above it: an equal is fine (an admin may demote another admin).
    pub fn may_act_on(&self, target: Option<Role>) -> bool {
        match (self.role, target) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(mine), Some(theirs)) => theirs <= mine,
        }
    }

    /// May this caller grant `role` and `permissions`? Only roles it holds itself (at or below
    /// its own) and permissions it holds.
    pub fn may_grant<'a>(
        &self,
        role: Option<Role>,
        permissions: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Ungrantable> {
        if let Some(role) = role {
            if self.role.is_none_or(|mine| role > mine) {
                return Err(Ungrantable::Role(role));
            }
            // An API key holds only its list: it cannot hand out a role whose defaults it lacks.
            if self.limited
                && let Some(missing) = role.defaults().iter().find(|p| !self.has(p))
            {
                return Err(Ungrantable::Permission((*missing).to_owned()));
            }
        }
        for permission in permissions {
            if !self.has(permission) {
                return Err(Ungrantable::Permission(permission.to_owned()));
            }
        }
        Ok(())
    }
}

/// What a caller may not grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ungrantable {
    Role(Role),
    Permission(String),
}

impl fmt::Display for Ungrantable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Role(role) => write!(f, "granting the role {role} needs that role"),
            Self::Permission(p) => write!(f, "granting {p} needs holding it"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_as_the_contract_says() {
        assert!(Role::SuperAdmin > Role::TenantAdmin);
        assert!(Role::TenantAdmin > Role::Admin);
        assert!(Role::Admin > Role::Member);
        assert!(Role::Member > Role::Guest);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn defaults_follow_the_table() {
        let admin = Authority::of(Some(Role::Admin), Vec::<String>::new());
        for p in [
            USERS_READ,
            USERS_WRITE,
            ORGANIZATIONS_WRITE,
            INVITES_WRITE,
            ROLES_WRITE,
        ] {
            assert!(admin.has(p), "{p}");
        }
        for p in [USERS_DELETE, API_KEYS_WRITE, RECORDS_READ, SCHEMA_WRITE] {
            assert!(!admin.has(p), "{p}");
        }
        let member = Authority::of(Some(Role::Member), Vec::<String>::new());
        assert_eq!(
            member.permissions().collect::<Vec<_>>(),
            [ORGANIZATIONS_READ, USERS_READ]
        );
        let guest = Authority::of(Some(Role::Guest), Vec::<String>::new());
        assert_eq!(
            guest.permissions().collect::<Vec<_>>(),
            [ORGANIZATIONS_READ]
        );
        let tenant = Authority::of(Some(Role::TenantAdmin), Vec::<String>::new());
        assert!(BUILT_IN.iter().all(|p| tenant.has(p)));
        assert!(
            tenant.has("billing:read"),
            "a tenant admin holds the app's own too"
        );
    }

    #[test]
    fn effective_permissions_are_defaults_and_extras() {
        let member = Authority::of(Some(Role::Member), ["billing:read", USERS_WRITE]);
        assert!(member.has("billing:read"));
        assert!(member.has(USERS_WRITE));
        assert!(member.has(USERS_READ));
        assert!(!member.has(ROLES_WRITE));
        let outsider = Authority::of(None, ["reports:read"]);
        assert!(outsider.has("reports:read"));
        assert!(!outsider.has(ORGANIZATIONS_READ));
        let joined = member.clone().joined(&outsider);
        assert!(joined.has("reports:read") && joined.has("billing:read"));
        assert_eq!(joined.role(), Some(Role::Member));
    }

    #[test]
    fn api_keys_hold_only_their_list() {
        let key = Authority::api_key([RECORDS_READ, "billing:read"]);
        assert!(key.is_tenant());
        assert!(key.has(RECORDS_READ));
        assert!(key.has("billing:read"));
        assert!(!key.has(RECORDS_DELETE));
        assert!(!key.has("reports:read"));
        assert_eq!(
            key.may_grant(Some(Role::Member), []),
            Err(Ungrantable::Permission(USERS_READ.to_owned()))
        );
        let writer = Authority::api_key([USERS_READ, ORGANIZATIONS_READ, ROLES_WRITE]);
        assert_eq!(writer.may_grant(Some(Role::Member), []), Ok(()));
    }

    #[test]
    fn permission_strings_are_checked() {
        for good in [
            "billing:read",
            "a:b",
            "reports-v2:export_all",
            "billing:*",
            USERS_READ,
            SCHEMA_WRITE,
        ] {
            assert_eq!(check_permission(good), Ok(()), "{good}");
        }
        let long = format!("{}:read", "a".repeat(33));
        for bad in [
            "",
            "billing",
            ":read",
            "billing:",
            "Billing:read",
            "billing:Read",
            "1x:read",
            "bill ing:read",
            "billing:read:more",
            "billing:-x",
            long.as_str(),
            "bïlling:read",
        ] {
            assert_eq!(
                check_permission(bad),
                Err(PermissionProblem::Malformed),
                "{bad}"
            );
        }
        for shadow in [
            "users:*",
            "users:admin",
            "records:write",
            "api_keys:read",
            "schema:*",
        ] {
            assert_eq!(
                check_permission(shadow),
                Err(PermissionProblem::Reserved),
                "{shadow}"
            );
        }
    }

    #[test]
    fn nobody_acts_above_itself_or_grants_what_it_lacks() {
        let admin = Authority::of(Some(Role::Admin), Vec::<String>::new());
        assert!(admin.may_act_on(Some(Role::Admin)));
        assert!(admin.may_act_on(Some(Role::Guest)));
        assert!(!admin.may_act_on(Some(Role::TenantAdmin)));
        assert!(admin.may_grant(Some(Role::Admin), [USERS_WRITE]).is_ok());
        assert_eq!(
            admin.may_grant(Some(Role::TenantAdmin), []),
            Err(Ungrantable::Role(Role::TenantAdmin))
        );
        assert_eq!(
            admin.may_grant(None, [USERS_DELETE]),
            Err(Ungrantable::Permission(USERS_DELETE.to_owned()))
        );
        assert_eq!(
            admin.may_grant(None, ["billing:read"]),
            Err(Ungrantable::Permission("billing:read".to_owned()))
        );
        let member = Authority::of(Some(Role::Member), Vec::<String>::new());
        assert_eq!(
            member.may_grant(Some(Role::Admin), []),
            Err(Ungrantable::Role(Role::Admin))
        );
        assert!(!member.may_act_on(Some(Role::Admin)));
        let outsider = Authority::of(None, Vec::<String>::new());
        assert!(!outsider.may_act_on(Some(Role::Guest)));
        assert!(outsider.may_grant(Some(Role::Guest), []).is_err());
        let tenant = Authority::of(Some(Role::TenantAdmin), Vec::<String>::new());
        assert!(
            tenant
                .may_grant(Some(Role::TenantAdmin), ["billing:read"])
                .is_ok()
        );
        assert!(tenant.may_grant(Some(Role::SuperAdmin), []).is_err());
    }

    /// A small deterministic generator, so the property test needs no extra crate and every
    /// failure replays.
    struct Xorshift(u64);

    impl Xorshift {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// Property: whatever sequence of allowed grants people make among themselves, nobody
    /// ends up holding more than the one who last granted to them held at that moment, and
    /// nobody changes someone above them.
    #[test]
    fn no_sequence_of_allowed_grants_escalates() {
        let pool = [
            USERS_READ,
            USERS_WRITE,
            USERS_DELETE,
            ROLES_WRITE,
            INVITES_WRITE,
            API_KEYS_WRITE,
            "billing:read",
            "billing:write",
        ];
        let roles = [Role::Guest, Role::Member, Role::Admin, Role::TenantAdmin];
        for seed in 1..=200_u64 {
            let mut rng = Xorshift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            // Person 0 is a tenant admin; everyone else starts as a guest.
            let mut people: Vec<Authority> = (0..6)
                .map(|i| {
                    let role = if i == 0 {
                        Role::TenantAdmin
                    } else {
                        Role::Guest
                    };
                    Authority::of(Some(role), Vec::<String>::new())
                })
                .collect();
            for _ in 0..300 {
                let granter = rng.below(people.len());
                let target = rng.below(people.len());
                if granter == target {
                    continue;
                }
                let role = roles[rng.below(roles.len())];
                let extra: Vec<&str> = (0..rng.below(3))
                    .map(|_| pool[rng.below(pool.len())])
                    .collect();
                let by = people[granter].clone();
                if !by.has(ROLES_WRITE)
                    || !by.may_act_on(people[target].role())
                    || by.may_grant(Some(role), extra.iter().copied()).is_err()
                {
                    continue;
                }
                let granted = Authority::of(Some(role), extra.iter().copied());
                assert!(
                    granted.role() <= by.role(),
                    "seed {seed}: role above the granter"
                );
                for permission in granted.permissions() {
                    assert!(
                        by.has(permission),
                        "seed {seed}: {permission} granted by someone without it"
                    );
                }
                people[target] = granted;
            }
            // Nobody but a tenant admin's grantees reaches tenant level, and the original tenant
            // admin can only have been changed by a tenant admin.
            assert!(people.iter().all(|p| p.role() <= Some(Role::TenantAdmin)));
        }
    }
}
