pub mod apps;
pub mod auth;
pub mod health;
pub mod public;
pub mod users;
