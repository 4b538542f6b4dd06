use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schema_validation::Schema;
use storage_port::{AppRecord, AppStore, SchemaStore, StorageError};

use crate::origins::origin_allowed;

/// What the public routes need to know about an app: its settings and its current schema.
#[derive(Debug, Clone)]
pub struct AppContext {
    pub app: AppRecord,
    /// The current schema; [`Schema::empty`] (version 0) until one is saved.
    pub schema: Schema,
    pub schema_version: i64,
}

impl AppContext {
    /// Whether a browser page at `origin` may submit to this app.
    pub fn allows_origin(&self, origin: &str) -> bool {
        origin_allowed(&self.app.allowed_origins, origin)
    }
}

/// A short-lived cache of [`AppContext`]s so that the public hot path does not read the app and
/// its schema (and compile its regexes) on every request. Unknown apps are not cached, so a
/// flood of made-up ids cannot grow it.
#[derive(Debug)]
pub struct AppCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<AppContext>)>>,
}

/// Past this many apps the cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 10_000;

impl AppCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The app's context, from the cache while fresh, otherwise from storage. `None` for an
    /// unknown app.
    pub async fn load<S: AppStore + SchemaStore + ?Sized>(
        &self,
        storage: &S,
        app_id: &str,
    ) -> Result<Option<Arc<AppContext>>, StorageError> {
        if let Some(fresh) = self.fresh(app_id) {
            return Ok(Some(fresh));
        }
        let Some(app) = storage.find_app(app_id).await? else {
            return Ok(None);
        };
        let (schema, schema_version) = match storage.current_schema(app_id).await? {
            Some(saved) => (saved.schema, saved.version),
            None => (Schema::empty(), 0),
        };
        let context = Arc::new(AppContext {
            app,
            schema,
            schema_version,
        });
        if !self.ttl.is_zero() {
            let mut entries = self.lock();
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(app_id.to_owned(), (Instant::now(), context.clone()));
        }
        Ok(Some(context))
    }

    /// Forgets an app after a change made through this instance, so the change applies at once.
    pub fn invalidate(&self, app_id: &str) {
        self.lock().remove(app_id);
    }

    fn fresh(&self, app_id: &str) -> Option<Arc<AppContext>> {
        let entries = self.lock();
        let (loaded_at, context) = entries.get(app_id)?;
        (loaded_at.elapsed() < self.ttl).then(|| context.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<AppContext>)>> {
        // Entries are whole values replaced in one step, so a poisoned map is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
