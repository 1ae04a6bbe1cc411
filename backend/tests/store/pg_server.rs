//! The suite on PostgreSQL: each check gets a fresh database (see
//! `docintel_testkit::postgres`) and its handles are separate pools on it.

use std::sync::Arc;

use docintel_backend::store::{PgStore, Store};
use docintel_testkit::postgres::TestDatabase;

use crate::Factory;

pub struct Postgres;

impl Factory for Postgres {
    type Guard = TestDatabase;

    async fn open(handles: usize) -> (TestDatabase, Vec<Arc<dyn Store>>) {
        let db = TestDatabase::create().await;
        let mut stores: Vec<Arc<dyn Store>> = Vec::new();
        for _ in 0..handles {
            let store = PgStore::connect(&db.url)
                .await
                .unwrap_or_else(|e| panic!("connecting to {}: {e}", db.url));
            stores.push(Arc::new(store));
        }
        (db, stores)
    }
}
