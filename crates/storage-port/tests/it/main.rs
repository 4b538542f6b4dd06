//! The in-memory store passes the conformance suite it defines for every adapter.

use storage_port::MemoryStorage;

storage_port::conformance_tests!(async { (MemoryStorage::new(), ()) });
