//! The store conformance suite: what every `Store` must guarantee, checked through
//! `Arc<dyn Store>` only, so each implementation runs the same checks (`conformance!`
//! below, once per store). Several handles to one database stand for several processes.

mod checks;
mod migrations;
mod outbox_order;
mod pg_server;

use std::sync::Arc;

use docintel_backend::store::{SqliteStore, Store};

/// Opens handles on one fresh database of some implementation.
pub trait Factory {
    /// What keeps the database alive (a temp folder, a scratch database).
    type Guard: Send;
    fn open(handles: usize) -> impl Future<Output = (Self::Guard, Vec<Arc<dyn Store>>)> + Send;
}

/// The embedded store: handles are separate pools on one database file.
pub struct Sqlite;

impl Factory for Sqlite {
    type Guard = tempfile::TempDir;

    async fn open(handles: usize) -> (Self::Guard, Vec<Arc<dyn Store>>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("docintel.db");
        let mut stores: Vec<Arc<dyn Store>> = Vec::new();
        for _ in 0..handles {
            stores.push(Arc::new(SqliteStore::open(&path).await.expect("open")));
        }
        (dir, stores)
    }
}

/// One `#[tokio::test]` per check and implementation: `sqlite::claims_are_exclusive…`,
/// `postgres::claims_are_exclusive…`, ….
macro_rules! conformance {
    ($module:ident, $factory:ty) => {
        mod $module {
            conformance!(@checks $factory:
                claims_are_exclusive_across_handles,
                several_jobs_are_claimed_oldest_first_and_recorded_in_one_commit,
                a_claim_takes_jobs_whose_lease_ran_out_with_queued_ones,
                an_expired_lease_is_taken_over_and_the_loser_writes_nothing,
                the_outbox_keeps_order_until_marked_sent,
                every_query_is_scoped_to_its_tenant,
                pages_are_read_by_range_and_go_with_their_document,
                a_thumbnail_failure_is_recorded_once_and_only_without_a_thumbnail,
                registry_versions_are_numbered_once_under_races,
                registry_keeps_submitted_text_references_imports_and_settings,
                keyset_pages_are_stable_while_documents_arrive,
                pages_by_status_hold_that_status_only,
                a_created_bound_looks_at_a_window_of_documents_a_page,
                an_idempotency_key_stands_for_one_document,
                a_delivery_is_written_with_its_event_for_each_active_subscriber,
                a_graceful_stop_hands_jobs_back_without_counting_the_attempt,
                a_deferred_job_waits_its_delay_uncounted_and_a_failure_keeps_its_code,
                one_process_leads_a_task_and_another_takes_over,
                work_queued_by_one_handle_wakes_another,
                shared_quota_slices_never_exceed_the_quota,
                broker_records_are_created_once_and_never_lose_an_update,
                audited_writes_record_their_caller_in_their_own_transaction,
                a_delete_racing_a_claim_never_fails,
                usage_follows_inserts_and_deletes_and_quotas_refuse,
                concurrent_uploads_stop_exactly_at_the_quota,
                concurrent_groups_of_uploads_stop_exactly_at_the_quota,
                racing_uploads_and_deletes_never_pass_the_quota,
                uploads_inserted_together_each_count_and_keep_their_own_keys,
                a_document_changed_through_another_handle_is_never_served_stale,
                inline_bytes_are_written_read_and_deleted_with_their_row,
            );
        }
    };
    (@checks $factory:ty: $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                crate::checks::$check::<$factory>().await;
            }
        )*
    };
}

conformance!(sqlite, crate::Sqlite);
conformance!(postgres, crate::pg_server::Postgres);
