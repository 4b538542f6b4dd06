//! The in-memory store passes the conformance suite it defines for every adapter.

use storage_port::MemoryStorage;

storage_port::conformance_tests!(async { (MemoryStorage::new(), ()) });

/// One-time tokens and the outbox (issue 15), until `MailStore` joins `Storage`.
mod mail {
    use storage_port::MemoryStorage;

    storage_port::mail_conformance_tests!(async { (MemoryStorage::new(), ()) });
}
