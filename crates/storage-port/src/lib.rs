//! The storage port: one trait per aggregate (apps, schema versions, users, admins, and for
//! end-user accounts: accounts, sessions, signing keys, organizations, memberships, API keys), the records
//! they speak in, [`StorageError`], an in-memory implementation, and a conformance suite that
//! every adapter runs against itself.
//!
//! Every method that touches tenant data takes the app id: there is no way to ask for "a user"
//! without saying whose.

mod accounts;
mod error;
mod mail;
mod memory;
mod organizations;
mod records;
mod timestamp;
mod traits;

pub mod conformance;

pub use accounts::*;
pub use error::{Entity, Fault, StorageError};
pub use mail::*;
pub use memory::MemoryStorage;
pub use organizations::*;
pub use records::*;
pub use timestamp::Timestamp;
pub use traits::*;
