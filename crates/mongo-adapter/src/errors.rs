//! Driver errors translated into [`StorageError`], by error code and error kind only: server
//! messages differ between versions and servers, codes do not.

use mongodb::error::{Error, ErrorKind, WriteFailure};
use storage_port::Entity;
use storage_port::StorageError;

/// `DuplicateKey`; 11001 is the code older servers used for the same violation on updates.
const DUPLICATE_KEY_CODES: [i32; 2] = [11000, 11001];

/// Server codes that mean "not now": the node is stepping down, shutting down, unreachable or
/// overloaded. Retrying later may work, so they become `Unavailable`.
const TRANSIENT_CODES: [i32; 15] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    50,    // MaxTimeMSExpired
    64,    // WriteConcernFailed (wtimeout)
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    189,   // PrimarySteppedDown
    262,   // ExceededTimeLimit
    462,   // IngressRequestRateLimitExceeded
    9001,  // SocketException
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
];

fn is_transient_code(code: i32) -> bool {
    TRANSIENT_CODES.contains(&code)
}

/// The server error code this error carries, looking through wrapped errors.
pub(crate) fn error_code(error: &Error) -> Option<i32> {
    let own = match error.kind.as_ref() {
        ErrorKind::Command(command) => Some(command.code),
        ErrorKind::Write(WriteFailure::WriteError(write)) => Some(write.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => Some(concern.code),
        ErrorKind::InsertMany(insert_many) => insert_many
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first().map(|e| e.code))
            .or_else(|| insert_many.write_concern_error.as_ref().map(|e| e.code)),
        _ => None,
    };
    own.or_else(|| source_of(error).and_then(error_code))
}

fn source_of(error: &Error) -> Option<&Error> {
    std::error::Error::source(error).and_then(|source| source.downcast_ref::<Error>())
}

/// True when a write failed because a unique index already holds the key.
pub(crate) fn is_duplicate_key(error: &Error) -> bool {
    error_code(error).is_some_and(|code| DUPLICATE_KEY_CODES.contains(&code))
}

fn is_unavailable(error: &Error) -> bool {
    let by_kind = matches!(
        error.kind.as_ref(),
        ErrorKind::Io(_)
            | ErrorKind::ServerSelection { .. }
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
            | ErrorKind::Shutdown
    );
    by_kind
        || error_code(error).is_some_and(is_transient_code)
        || error.contains_label(mongodb::error::RETRYABLE_WRITE_ERROR)
        || source_of(error).is_some_and(is_unavailable)
}

fn is_decode_failure(error: &Error) -> bool {
    matches!(error.kind.as_ref(), ErrorKind::BsonDeserialization(_))
}

/// Translates a driver error. `duplicate_of` names what a unique-index violation means in the
/// calling operation (an app, an admin).
pub(crate) fn translate(error: Error, duplicate_of: Entity) -> StorageError {
    if is_duplicate_key(&error) {
        StorageError::Duplicate(duplicate_of)
    } else if is_unavailable(&error) {
        StorageError::unavailable(error)
    } else if is_decode_failure(&error) {
        StorageError::Corrupt(error.to_string())
    } else {
        StorageError::unexpected(error)
    }
}

/// For operations where a unique-index violation cannot happen or means nothing specific.
pub(crate) fn storage_error(error: Error) -> StorageError {
    translate(error, Entity::Record)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mongodb::bson::{self, doc};
    use mongodb::error::{CommandError, Error, ErrorKind, WriteError, WriteFailure};
    use storage_port::Entity;
    use storage_port::StorageError;

    use super::translate;

    // The driver's error structs are `#[non_exhaustive]`; they are built here the way the driver
    // builds them, from the server's reply.
    fn write_error(code: i32) -> Error {
        let reply =
            doc! { "code": code, "errmsg": "E11000 duplicate key error collection: db.users" };
        let write: WriteError = bson::from_document(reply).expect("a server write error reply");
        Error::from(ErrorKind::Write(WriteFailure::WriteError(write)))
    }

    fn command_error(code: i32) -> Error {
        let reply =
            doc! { "code": code, "codeName": "Whatever", "errmsg": "text that is never read" };
        let command: CommandError =
            bson::from_document(reply).expect("a server command error reply");
        Error::from(ErrorKind::Command(command))
    }

    #[test]
    fn duplicate_key_write_error_becomes_duplicate() {
        let translated = translate(write_error(11000), Entity::App);
        assert!(
            matches!(translated, StorageError::Duplicate(Entity::App)),
            "{translated:?}"
        );
    }

    #[test]
    fn duplicate_key_command_error_becomes_duplicate() {
        let translated = translate(command_error(11000), Entity::Admin);
        assert!(
            matches!(translated, StorageError::Duplicate(Entity::Admin)),
            "{translated:?}"
        );
    }

    #[test]
    fn the_message_text_is_never_what_decides() {
        // Says "duplicate key" in its message but carries another code.
        let translated = translate(write_error(121), Entity::App);
        assert!(
            matches!(translated, StorageError::Unexpected(_)),
            "{translated:?}"
        );
    }

    #[test]
    fn network_failures_and_stepdowns_become_unavailable() {
        let refused = Error::from(ErrorKind::Io(Arc::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        ))));
        assert!(matches!(
            translate(refused, Entity::App),
            StorageError::Unavailable(_)
        ));
        assert!(matches!(
            translate(command_error(10107), Entity::App),
            StorageError::Unavailable(_)
        ));
        assert!(matches!(
            translate(command_error(91), Entity::App),
            StorageError::Unavailable(_)
        ));
    }

    #[test]
    fn decode_failures_become_corrupt() {
        let decode =
            bson::from_document::<i64>(doc! { "not": "a number" }).expect_err("cannot decode");
        let translated = translate(
            Error::from(ErrorKind::BsonDeserialization(decode)),
            Entity::App,
        );
        assert!(
            matches!(translated, StorageError::Corrupt(_)),
            "{translated:?}"
        );
    }
}
