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

mod mongodb_restart {
    use std::process::Command;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use server::Backend;

    use crate::helpers::*;

    fn control(command: &str, action: &str) -> String {
        let output = Command::new(command)
            .arg(action)
            .output()
            .expect("run the test server control command");
        assert!(
            output.status.success(),
            "{command} {action}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    struct StopOnDrop(String);

    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            let _ = Command::new(&self.0).arg("stop").output();
        }
    }

    /// The real test server stopped and started again while sign-ups keep coming: 503s while it
    /// is away, never another 5xx, and 200s again once it is back, with no restart of ours.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        not(mongo_test_server),
        ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
    )]
    async fn mongodb_going_away_under_load_is_503_and_the_service_recovers() {
        let command = mongo_test_variable("USERS_API_TEST_MONGO_SERVER_CMD");
        let uri = control(&command, "start");
        let _stop = StopOnDrop(command.clone());
        let mut settings = test_settings(Backend::Mongodb);
        settings.storage.mongodb.uri = Some(uri);
        settings.storage.mongodb.database = Some(format!("restart_{}", std::process::id()));
        settings.storage.mongodb.connect_timeout_seconds = 1;
        let app = Arc::new(spawn_with(settings).await);
        app.create_app("site").await;

        let running = Arc::new(AtomicBool::new(true));
        let load = {
            let (app, running) = (app.clone(), running.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                let mut i = 0;
                while running.load(Ordering::SeqCst) {
                    let sends = (0..4)
                        .map(|k| app.submit("site", signup(&format!("load{i}-{k}@example.com"))));
                    for response in futures::future::join_all(sends).await {
                        statuses.push(response.status().as_u16());
                    }
                    i += 1;
                }
                statuses
            })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        control(&command, "stop");
        tokio::time::sleep(Duration::from_secs(3)).await;
        control(&command, "start");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if app
                .submit("site", signup("probe@example.com"))
                .await
                .status()
                == 200
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not recover within 30 s of MongoDB's return"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        running.store(false, Ordering::SeqCst);
        let statuses = load.await.expect("load task");

        let first_503 = statuses
            .iter()
            .position(|s| *s == 503)
            .expect("some sign-ups met the outage");
        let last_503 = statuses.iter().rposition(|s| *s == 503).expect("503");
        assert!(
            statuses[..first_503].contains(&200),
            "sign-ups worked before the outage"
        );
        assert!(statuses[last_503..].contains(&200), "and after it");
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 503),
            "only 200 or 503: {statuses:?}"
        );
    }
}
