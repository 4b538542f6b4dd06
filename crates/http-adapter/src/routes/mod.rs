pub mod health;
pub mod public;
