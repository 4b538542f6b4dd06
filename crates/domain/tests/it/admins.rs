use domain::admins::AdminError;
use secrecy::SecretString;

use domain::OperatorCredentials;

use crate::services;

fn admin_login(email: &str) -> OperatorCredentials {
    OperatorCredentials::Admin {
        email: email.into(),
    }
}

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

#[tokio::test]
async fn admins_are_created_with_normalized_emails_and_authenticate() {
    let services = services();
    let admin = services
        .admins
        .create_admin(" Root@Example.com ", secret("a long passphrase"))
        .await
        .expect("created");
    assert_eq!(admin.email, "root@example.com");
    let found = services
        .admins
        .authenticate("ROOT@example.com", secret("a long passphrase"))
        .await
        .expect("auth");
    assert_eq!(found.map(|a| a.id), Some(admin.id));
    assert_eq!(
        services
            .admins
            .authenticate("root@example.com", secret("wrong passphrase"))
            .await
            .expect("auth"),
        None
    );
    assert_eq!(
        services
            .admins
            .authenticate("nobody@example.com", secret("a long passphrase"))
            .await
            .expect("auth"),
        None
    );
}

#[tokio::test]
async fn weak_passwords_bad_emails_and_duplicates_are_refused() {
    let services = services();
    assert!(matches!(
        services
            .admins
            .create_admin("a@b.io", secret("short"))
            .await,
        Err(AdminError::WeakPassword)
    ));
    assert!(matches!(
        services
            .admins
            .create_admin("nope", secret("long enough pass"))
            .await,
        Err(AdminError::InvalidEmail)
    ));
    services
        .admins
        .create_admin("a@b.io", secret("long enough pass"))
        .await
        .expect("first");
    assert!(matches!(
        services
            .admins
            .create_admin("A@B.io", secret("long enough pass"))
            .await,
        Err(AdminError::EmailTaken)
    ));
}

#[tokio::test]
async fn bootstrap_creates_only_the_first_admin() {
    let services = services();
    assert!(
        services
            .admins
            .bootstrap("first@x.io", secret("long enough pass"))
            .await
            .expect("bootstrap")
    );
    assert!(
        !services
            .admins
            .bootstrap("second@x.io", secret("long enough pass"))
            .await
            .expect("bootstrap")
    );
    assert_eq!(
        services
            .admins
            .authenticate("second@x.io", secret("long enough pass"))
            .await
            .expect("auth"),
        None
    );
}

#[tokio::test]
async fn a_password_reset_ends_the_admins_sessions_and_only_the_new_password_works() {
    let services = services();
    for email in ["root@x.io", "other@x.io"] {
        services
            .admins
            .create_admin(email, secret("the old passphrase"))
            .await
            .expect("created");
    }
    let root = services
        .operator_sessions
        .login(admin_login("root@x.io"), secret("the old passphrase"))
        .await
        .expect("login");
    let other = services
        .operator_sessions
        .login(admin_login("other@x.io"), secret("the old passphrase"))
        .await
        .expect("login");

    assert!(matches!(
        services
            .admins
            .reset_password("root@x.io", secret("short"))
            .await,
        Err(AdminError::WeakPassword)
    ));
    assert!(matches!(
        services
            .admins
            .reset_password("nobody@x.io", secret("the new passphrase"))
            .await,
        Err(AdminError::NotFound)
    ));
    let reset = services
        .admins
        .reset_password(" ROOT@x.io", secret("the new passphrase"))
        .await
        .expect("reset");
    assert_eq!(reset.credential_version, 2);

    let now = storage_port::Timestamp::now();
    assert!(services.operator_sessions.check(&root, now).await.is_err());
    services
        .operator_sessions
        .check(&other, now)
        .await
        .expect("the other admin's session goes on");
    for (password, works) in [("the old passphrase", false), ("the new passphrase", true)] {
        let found = services
            .admins
            .authenticate("root@x.io", secret(password))
            .await
            .expect("auth");
        assert_eq!(found.is_some(), works, "{password}");
    }
    let emails: Vec<_> = services
        .admins
        .list_admins()
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.email)
        .collect();
    assert_eq!(emails, ["other@x.io", "root@x.io"]);
}

#[tokio::test]
async fn a_fresh_platform_needs_its_first_admin_until_one_exists() {
    let services = services();
    assert!(services.admins.needs_first_admin().await.expect("ask"));
    assert!(services.admins.needs_first_admin().await.expect("ask"));
    services
        .admins
        .create_admin("first@x.io", secret("long enough pass"))
        .await
        .expect("create");
    assert!(!services.admins.needs_first_admin().await.expect("ask"));
    assert!(!services.admins.needs_first_admin().await.expect("ask"));
}
