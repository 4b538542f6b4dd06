use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

crate::on_every_backend!(
    pages_never_skip_or_repeat_while_records_arrive,
    listing_filters_by_email_and_creation_time,
    bad_listing_parameters_are_refused,
    csv_export_has_schema_columns_and_defused_formulas,
    csv_export_defuses_every_formula_trigger_and_writes_no_raw_controls,
    ndjson_export_has_one_record_per_line,
);

async fn owner(app: &TestApp) -> String {
    let password = app.create_app_with_password("site").await;
    app.owner_session("site", &password).await
}

/// The owner's export of app `site` in `format`.
async fn export(app: &TestApp, cookie: &str, format: &str) -> reqwest::Response {
    app.dashboard(
        Method::GET,
        &format!("/v1/apps/site/users/export?format={format}"),
        Some(cookie),
    )
    .send()
    .await
    .expect("request")
}

fn emails(page: &Value) -> Vec<String> {
    page["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["email"].as_str().expect("email").to_owned())
        .collect()
}

async fn pages_never_skip_or_repeat_while_records_arrive(app: &TestApp) {
    let cookie = owner(app).await;
    for i in 0..25 {
        app.submit("site", signup(&format!("before{i:02}@example.com")))
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/apps/site/users?limit=7&cursor={cursor}"),
            None => "/v1/apps/site/users?limit=7".to_owned(),
        };
        let (status, page) = app.dashboard_get(&path, &cookie).await;
        assert_eq!(status, 200, "{page}");
        assert!(page["users"].as_array().expect("users").len() <= 7);
        seen.extend(emails(&page));
        pages += 1;
        // New sign-ups arrive between pages; they come after every existing record.
        if pages <= 3 {
            app.submit("site", signup(&format!("during{pages}@example.com")))
                .await;
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 20, "pagination does not end");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no record repeated: {seen:?}");
    assert_eq!(
        seen.len(),
        28,
        "every record, including those added meanwhile: {seen:?}"
    );
    assert_eq!(seen[0], "before00@example.com", "oldest first");
    let (_, first) = app.dashboard_get("/v1/apps/site/users", &cookie).await;
    assert_eq!(
        first["users"].as_array().expect("users").len(),
        28,
        "50 by default"
    );
}

async fn listing_filters_by_email_and_creation_time(app: &TestApp) {
    let cookie = owner(app).await;
    for email in ["ada@example.com", "bob@example.com", "ADA.two@other.org"] {
        app.submit("site", signup(email)).await;
    }
    let (status, page) = app
        .dashboard_get("/v1/apps/site/users?q=ADA", &cookie)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(emails(&page), ["ada@example.com", "ada.two@other.org"]);
    let (_, all) = app.dashboard_get("/v1/apps/site/users", &cookie).await;
    let bob_created = all["users"][1]["createdAt"]
        .as_str()
        .expect("time")
        .to_owned();
    let (_, after) = app
        .dashboard_get(
            &format!("/v1/apps/site/users?createdAfter={bob_created}"),
            &cookie,
        )
        .await;
    assert!(
        emails(&after).contains(&"bob@example.com".to_owned()),
        "at or after"
    );
    assert!(emails(&after).contains(&"ada.two@other.org".to_owned()));
    let (_, before) = app
        .dashboard_get(
            &format!("/v1/apps/site/users?createdBefore={bob_created}"),
            &cookie,
        )
        .await;
    assert!(
        !emails(&before).contains(&"bob@example.com".to_owned()),
        "strictly before"
    );
    assert!(!emails(&before).contains(&"ada.two@other.org".to_owned()));
    let (_, none) = app
        .dashboard_get(
            "/v1/apps/site/users?createdAfter=2999-01-01T00:00:00Z",
            &cookie,
        )
        .await;
    assert_eq!(none, json!({"users": [], "nextCursor": null}));
}

async fn bad_listing_parameters_are_refused(app: &TestApp) {
    let cookie = owner(app).await;
    let get = |path: &'static str| app.dashboard(Method::GET, path, Some(&cookie)).send();
    for path in [
        "/v1/apps/site/users?limit=0",
        "/v1/apps/site/users?limit=501",
        "/v1/apps/site/users?limit=ten",
    ] {
        expect_error(get(path).await.expect("request"), 422, "validation_failed").await;
    }
    expect_error(
        get("/v1/apps/site/users?createdAfter=yesterday")
            .await
            .expect("request"),
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        get("/v1/apps/site/users?cursor=%21%21")
            .await
            .expect("request"),
        400,
        "invalid_cursor",
    )
    .await;
    expect_error(
        get("/v1/apps/site/users/export?format=xlsx")
            .await
            .expect("request"),
        422,
        "validation_failed",
    )
    .await;
    let (status, _) = app
        .dashboard_get("/v1/apps/site/users?limit=500", &cookie)
        .await;
    assert_eq!(status, 200);
}

async fn csv_export_has_schema_columns_and_defused_formulas(app: &TestApp) {
    let cookie = owner(app).await;
    let mut data = valid_data();
    data["fullName"] = json!("=HYPERLINK(\"http://evil\")");
    app.submit("site", json!({"email": "ada@example.com", "data": data}))
        .await;
    let mut data = valid_data();
    data["fullName"] = json!("Bob, \"the\" builder");
    data.as_object_mut().expect("object").remove("age");
    app.submit("site", json!({"email": "bob@example.com", "data": data}))
        .await;
    let response = export(app, &cookie, "csv").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/csv")
    );
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"site-users.csv\""
    );
    let text = response.text().await.expect("body");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,email,createdAt,updatedAt,schemaVersion,fullName,age,plan,birthday,consentRequired,consentOptional"
    );
    assert_eq!(lines.len(), 3, "{text}");
    // Every data cell is quoted (OWASP), so no separator inside a cell starts a new one.
    assert!(lines[1].contains(",\"ada@example.com\","), "{}", lines[1]);
    assert!(
        lines[1].contains(
            ",\"'=HYPERLINK(\"\"http://evil\"\")\",\"36\",\"pro\",\"1990-12-10\",\"true\","
        ),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(",\"Bob, \"\"the\"\" builder\",\"\",\"pro\","),
        "{}",
        lines[2]
    );
}

/// The cases an outside probe found exported without the `'` prefix (OWASP CSV injection):
/// each must come back prefixed, and no NUL byte may reach the file.
async fn csv_export_defuses_every_formula_trigger_and_writes_no_raw_controls(app: &TestApp) {
    let cookie = owner(app).await;
    let triggers = [
        " =1+1",
        "\n=1+1",
        "\"=1+1\"",
        "\u{FF1D}1+1",
        "\u{FEFF}=1+1",
        "\u{200B}=1+1",
        "|calc!A0",
        ";=1+1",
        "=cmd|' /C calc'!A0",
    ];
    for (i, text) in triggers.iter().enumerate() {
        let mut data = valid_data();
        data["fullName"] = json!(text);
        let (status, body) = read(
            app.submit(
                "site",
                json!({"email": format!("f{i}@example.com"), "data": data}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{text:?}: {body}");
    }
    let mut data = valid_data();
    data["fullName"] = json!("nul\u{0}byte");
    app.submit("site", json!({"email": "nul@example.com", "data": data}))
        .await;

    let response = export(app, &cookie, "csv").await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.expect("body");
    assert!(!bytes.contains(&0), "a raw NUL byte was exported");
    let rows = parse_csv(std::str::from_utf8(&bytes).expect("utf-8"));
    let full_name = |email: &str| {
        rows.iter()
            .find(|row| row[1] == email)
            .map(|row| row[5].clone())
            .unwrap_or_else(|| panic!("no row for {email}"))
    };
    for (i, text) in triggers.iter().enumerate() {
        assert_eq!(full_name(&format!("f{i}@example.com")), format!("'{text}"));
    }
    assert_eq!(full_name("nul@example.com"), "nul\u{FFFD}byte");
}

/// A small RFC 4180 reader: quoted cells may hold separators, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

async fn ndjson_export_has_one_record_per_line(app: &TestApp) {
    let cookie = owner(app).await;
    for i in 0..3 {
        app.submit("site", signup(&format!("u{i}@example.com")))
            .await;
    }
    let response = export(app, &cookie, "ndjson").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.expect("body");
    let records: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2]["email"], "u2@example.com");
    assert_eq!(records[0]["data"], valid_data());
    assert!(records[0]["id"].is_string() && records[0]["schemaVersion"] == 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_larger_than_one_page_is_complete() {
    let app = spawn_app(server::Backend::Sqlite).await;
    let cookie = owner(&app).await;
    for i in 0..1205 {
        let upsert = storage_port::UserUpsert {
            new_id: uuid_v7(),
            email: format!("u{i:04}@example.com"),
            data: valid_data().as_object().cloned().unwrap_or_default(),
            schema_version: 1,
            now: storage_port::Timestamp::now(),
        };
        app.storage
            .upsert_user_by_email("site", &upsert)
            .await
            .expect("upsert");
    }
    let text = app
        .dashboard(Method::GET, "/v1/apps/site/users/export", Some(&cookie))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1206, "header + every record");
    let unique: HashSet<&str> = lines.iter().copied().collect();
    assert_eq!(unique.len(), 1206);
}

fn uuid_v7() -> String {
    // Ids must sort in creation order; the app's own ids are UUIDv7 as well.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:020}-{:010}", nanos, n)
}
