use domain::admins::AdminError;
use secrecy::SecretString;

use crate::services;

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
