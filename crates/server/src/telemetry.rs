use tracing_subscriber::EnvFilter;

use crate::settings::{Environment, LogFormat, Settings};

/// Human-readable logs locally, JSON lines in production (or as configured). `RUST_LOG`
/// overrides the configured level.
pub fn init(settings: &Settings, environment: Environment) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log.level));
    let format = settings.log.format.unwrap_or(match environment {
        Environment::Local => LogFormat::Pretty,
        Environment::Production => LogFormat::Json,
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
