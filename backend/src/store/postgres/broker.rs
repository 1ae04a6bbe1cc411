//! The embedded Pact Broker: table `broker_records`, in the SQL both stores share.

use super::*;
use crate::store::sql::broker as sql;
use docintel_broker::{Record, RecordStore, StoreError, StoreResult};

crate::store::sql::broker::broker_store!(PgStore, PgRow);
