//! Black-box tests of the public API: the real application on a free port, driven over HTTP.

mod flaky;
mod helpers;
mod mailbox;

mod accounts;
mod api_docs;
mod contract;
mod cors;
mod dashboard_sessions;
mod errors;
mod first_run;
mod forms;
mod framing;
mod health;
mod hostile_input;
mod mail;
mod mail_crash;
mod management;
mod metrics;
mod organizations;
mod outage;
mod rate_limits;
mod schema_route;
mod submit;
mod user_listing;
