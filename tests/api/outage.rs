use crate::helpers::*;

crate::on_every_backend!(storage_outages_are_503_without_driver_details_and_recover);

async fn storage_outages_are_503_without_driver_details_and_recover(app: &TestApp) {
    app.create_app("site").await;
    app.set_storage_down(true);
    let body = expect_error(
        app.submit("site", signup("a@example.com")).await,
        503,
        "storage_unavailable",
    )
    .await;
    assert!(
        !body.to_string().contains("driver"),
        "no driver message leaks: {body}"
    );
    let ready = app
        .client
        .get(app.url("/ready"))
        .send()
        .await
        .expect("request");
    expect_error(ready, 503, "storage_unavailable").await;
    let health = app
        .client
        .get(app.url("/health"))
        .send()
        .await
        .expect("request");
    assert_eq!(health.status(), 200, "liveness does not depend on storage");

    app.set_storage_down(false);
    assert_eq!(
        app.submit("site", signup("a@example.com")).await.status(),
        200
    );
    assert_eq!(
        app.client
            .get(app.url("/ready"))
            .send()
            .await
            .expect("request")
            .status(),
        200
    );
}
