//! The indexes, created at start-up. `createIndexes` is idempotent for an identical index, so
//! every instance may run this at every start; an index of the same name with other options is
//! an error the operator must resolve, so start-up fails with it.

use futures::TryStreamExt;
use mongodb::bson::{Document, doc, oid::ObjectId};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};
use storage_port::Entity;
use storage_port::StorageError;

use crate::documents::{
    ADMINS, API_KEYS, APPS, AppDoc, MEMBERSHIPS, ORGANIZATIONS, SCHEMA_VERSIONS, SESSIONS, USERS,
    decode,
};
use crate::errors::{is_duplicate_key, storage_error, translate};
use crate::mail::{ONE_TIME_TOKENS, OUTBOX};

fn index(keys: Document, name: &str, unique: bool) -> IndexModel {
    let options = IndexOptions::builder()
        .name(name.to_owned())
        .unique(unique.then_some(true))
        .build();
    IndexModel::builder().keys(keys).options(options).build()
}

pub(crate) async fn ensure(database: &Database) -> Result<(), StorageError> {
    let mut user_indexes = vec![
        // One record per email per app; concurrent upserts rely on it.
        index(doc! { "appId": 1, "email": 1 }, "appId_email_unique", true),
        index(
            doc! { "appId": 1, "createdAt": 1 },
            "appId_createdAt",
            false,
        ),
    ];
    let compound_id = supports_compound_id_index(database).await?;
    if compound_id {
        // Keyset pagination: `{appId, _id > cursor}` sorted by `_id`, one tenant at a time.
        user_indexes.push(index(doc! { "appId": 1, "_id": 1 }, "appId_id", false));
    } else {
        tracing::warn!(
            "this server cannot index `_id` inside a compound index; pages of users and of \
             organizations are served from other indexes instead of `{{appId: 1, _id: 1}}`"
        );
    }
    database
        .collection::<Document>(USERS)
        .create_indexes(user_indexes)
        .await
        .map_err(storage_error)?;
    database
        .collection::<Document>(SCHEMA_VERSIONS)
        .create_index(index(
            doc! { "appId": 1, "version": -1 },
            "appId_version_unique",
            true,
        ))
        .await
        .map_err(storage_error)?;
    database
        .collection::<Document>(ADMINS)
        .create_index(index(doc! { "email": 1 }, "email_unique", true))
        .await
        .map_err(storage_error)?;
    // A user's sessions: listed, revoked all at once, deleted with the record or the app.
    // Session ids and signing-key ids are `_id`, unique by themselves.
    database
        .collection::<Document>(SESSIONS)
        .create_index(index(
            doc! { "appId": 1, "userId": 1 },
            "appId_userId",
            false,
        ))
        .await
        .map_err(storage_error)?;
    let mut organization_indexes = vec![
        // Slugs are unique per app, also when two creations race.
        index(doc! { "appId": 1, "slug": 1 }, "appId_slug_unique", true),
    ];
    if compound_id {
        // A page of an app's organizations, by id.
        organization_indexes.push(index(doc! { "appId": 1, "_id": 1 }, "appId_id", false));
    }
    database
        .collection::<Document>(ORGANIZATIONS)
        .create_indexes(organization_indexes)
        .await
        .map_err(storage_error)?;
    // One membership per (organization, user), also when two additions race; the same index
    // serves a page of members, `{appId, organizationId, userId > cursor}` sorted by `userId`,
    // so a deep page costs what the first does. The second finds a user's memberships.
    database
        .collection::<Document>(MEMBERSHIPS)
        .create_indexes([
            index(
                doc! { "appId": 1, "organizationId": 1, "userId": 1 },
                "appId_organizationId_userId_unique",
                true,
            ),
            index(doc! { "appId": 1, "userId": 1 }, "appId_userId", false),
        ])
        .await
        .map_err(storage_error)?;
    // Every request made with an API key looks it up by its hash; an app lists its keys.
    database
        .collection::<Document>(API_KEYS)
        .create_indexes([
            index(doc! { "keyHash": 1 }, "keyHash_unique", true),
            index(doc! { "appId": 1 }, "appId", false),
        ])
        .await
        .map_err(storage_error)?;
    // A link's token is found by its hash, unique across every app; issuing one deletes the
    // unused ones of its app, purpose and address.
    database
        .collection::<Document>(ONE_TIME_TOKENS)
        .create_indexes([
            index(doc! { "tokenHash": 1 }, "tokenHash_unique", true),
            index(
                doc! { "appId": 1, "purpose": 1, "email": 1 },
                "appId_purpose_email",
                false,
            ),
        ])
        .await
        .map_err(storage_error)?;
    // Senders claim due messages; the dashboard pages an app's outbox by id, newest first.
    let mut outbox_indexes = vec![index(
        doc! { "status": 1, "nextAttemptAt": 1 },
        "status_nextAttemptAt",
        false,
    )];
    if compound_id {
        outbox_indexes.push(index(doc! { "appId": 1, "_id": 1 }, "appId_id", false));
    } else {
        outbox_indexes.push(index(doc! { "appId": 1 }, "appId", false));
    }
    database
        .collection::<Document>(OUTBOX)
        .create_indexes(outbox_indexes)
        .await
        .map_err(storage_error)?;
    // Ids are unique regardless of case. Sparse: apps stored before the field existed have
    // none until `fold_app_ids` gives it to them.
    let folded = IndexOptions::builder()
        .name("idFolded_unique".to_owned())
        .unique(true)
        .sparse(true)
        .build();
    database
        .collection::<Document>(APPS)
        .create_index(
            IndexModel::builder()
                .keys(doc! { "idFolded": 1 })
                .options(folded)
                .build(),
        )
        .await
        .map_err(storage_error)?;
    fold_app_ids(database).await
}

/// Gives apps stored before `idFolded` existed their folded id, after the unique index is in
/// place so that two instances starting at once cannot both hand out one. An app whose id
/// differs from an older app's only in case keeps working without one (logged): the other
/// holds the folded id, which is what keeps new apps of that id out.
async fn fold_app_ids(database: &Database) -> Result<(), StorageError> {
    let apps = database.collection::<Document>(APPS);
    let mut cursor = apps
        .find(doc! { "idFolded": { "$exists": false } })
        .sort(doc! { "_id": 1 })
        .await
        .map_err(storage_error)?;
    let mut unfolded = Vec::new();
    while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
        unfolded.push(decode::<AppDoc>(raw, APPS)?);
    }
    for app in unfolded {
        let guarded = doc! { "_id": &app.id, "revision": app.revision };
        // Sets `idFolded`, and the incarnation the app has been read with so far.
        let changed = AppDoc {
            account_settings: app.account_settings.clone(),
            ..AppDoc::new(&app.record(), app.revision + 1)?
        };
        match database
            .collection::<AppDoc>(APPS)
            .replace_one(guarded, changed)
            .await
        {
            // Not matched: the app changed meanwhile; the next start-up folds it.
            Ok(_) => {}
            Err(error) if is_duplicate_key(&error) => tracing::warn!(
                app_id = %app.id,
                "another app's id differs from this one only in case; both keep working"
            ),
            Err(error) => return Err(storage_error(error)),
        }
    }
    Ok(())
}

/// MongoDB indexes `_id` inside a compound index like any field. Some wire-protocol servers
/// (the SQLite-backed test server among them) accept such an index and then refuse every insert
/// into the collection. So it is tried on a throw-away collection first; a refused insert means
/// "not supported", an unreachable server is an error.
async fn supports_compound_id_index(database: &Database) -> Result<bool, StorageError> {
    let probe =
        database.collection::<Document>(&format!("index_probe_{}", ObjectId::new().to_hex()));
    probe
        .create_index(index(doc! { "probe": 1, "_id": 1 }, "probe_id", false))
        .await
        .map_err(storage_error)?;
    let inserted = probe.insert_one(doc! { "_id": "probe", "probe": 1 }).await;
    let dropped = probe.drop().await;
    let supported = match inserted {
        Ok(_) => true,
        Err(error) => match translate(error, Entity::Record) {
            unavailable @ StorageError::Unavailable(_) => return Err(unavailable),
            _ => false,
        },
    };
    dropped.map_err(storage_error)?;
    Ok(supported)
}
