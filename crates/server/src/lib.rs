//! The `users-api` binary's library half: configuration, telemetry, the choice of store and
//! the wiring, so that tests can start the real application (`Application::build`, port 0).

pub mod cli;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::{Backend, Environment, Settings};
pub use startup::{Application, StartupError};
