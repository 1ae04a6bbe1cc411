//! Running jobs: the worker pool and the queue it drains.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::task::JoinSet;
use tracing::info;
use uuid::Uuid;

use crate::events::Event;
use crate::{Backend, Error, INTERRUPTED_IN_PROCESS, Result, WorkerPool, jobs, pipeline, store};

impl Backend {
    /// Starts the in-process worker pool.
    ///
    /// On the embedded store one process owns the data, so any job still marked running
    /// belongs to a process that died: it is released at once instead of waiting for its
    /// lease to expire. On a shared store (several processes on one database) a running
    /// job may be another live process's: only leases that expire are taken over, by
    /// [`crate::store::JobStore::claim_job`].
    ///
    /// When documents are parsed in this process ([`pipeline::Isolation::InProcess`]),
    /// such a job may be what killed it: it is failed instead, so that one document
    /// cannot crash the server at every start. Parsed in a child process, it is simply
    /// run again there.
    pub async fn start_workers(&self) -> Result<WorkerPool> {
        if self.0.store.is_shared() {
            return self.start_workers_keeping_leases().await;
        }
        let in_process = self.0.pipeline.isolation == pipeline::Isolation::InProcess;
        let interrupted = if in_process {
            let owner = format!("start-{}", Uuid::new_v4().simple());
            let jobs = self.0.store.take_running_jobs(&owner).await?;
            let failed = store::JobResult::Failed {
                reason: INTERRUPTED_IN_PROCESS.to_owned(),
                code: None,
            };
            for job in &jobs {
                let now = OffsetDateTime::now_utc();
                let events = Event::of_job(job, &failed, now);
                self.0
                    .store
                    .complete_job(job, &owner, &failed, &events, now)
                    .await?;
            }
            jobs.len() as u64
        } else {
            self.0.store.release_all_leases().await?
        };
        if interrupted > 0 {
            self.events_written();
            if in_process {
                tracing::warn!(interrupted, "failed jobs interrupted by an earlier stop");
            } else {
                info!(interrupted, "resuming jobs interrupted by an earlier stop");
            }
        }
        self.start_workers_keeping_leases().await
    }

    /// Starts workers without releasing leases: jobs held by another worker resume only
    /// when their lease expires (the multi-process rule). Checks first that documents can
    /// be parsed where the configuration says.
    pub async fn start_workers_keeping_leases(&self) -> Result<WorkerPool> {
        if let pipeline::Isolation::Process { program } = &self.0.pipeline.isolation {
            pipeline::sandbox::probe(program, &self.0.pipeline)
                .await
                .map_err(Error::Config)?;
        }
        let owner_prefix = format!("{}-", Uuid::new_v4().simple());
        let workers = Arc::new(jobs::Workers {
            store: self.0.store.clone(),
            blobs: self.0.blobs.clone(),
            config: self.0.config.workers.clone(),
            wakes: self.0.wakes.clone(),
            alive: self.0.workers_alive.clone(),
            claims: self.0.job_claims.clone(),
            pipeline: self.0.pipeline.clone(),
            scanner: self.0.scanner.clone(),
        });
        let mut tasks = JoinSet::new();
        workers.spawn(&owner_prefix, &mut tasks);
        info!(
            workers = self.0.config.workers.workers,
            leases = %owner_prefix,
            "processing workers started"
        );
        Ok(WorkerPool {
            tasks,
            store: self.0.store.clone(),
            owner_prefix,
        })
    }

    /// Starts removing blobs no document owns and audit entries past their retention,
    /// every [`crate::BlobSweep::every`], in the one process that leads the sweep.
    pub fn start_sweeper(&self) -> crate::Sweeper {
        let me = self.clone();
        crate::Sweeper(tokio::spawn(async move {
            let config = me.0.config.blob_sweep;
            loop {
                tokio::time::sleep(config.every).await;
                match me.0.store.try_lead(store::LeaderTask::BlobSweep).await {
                    Ok(Some(_lead)) => {
                        match me.sweep_blobs().await {
                            Ok(swept) if swept.removed > 0 => {
                                info!(
                                    examined = swept.examined,
                                    removed = swept.removed,
                                    "blob sweep"
                                )
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "blob sweep stopped early"),
                        }
                        match me.purge_audit_events(OffsetDateTime::now_utc()).await {
                            Ok(0) => {}
                            Ok(removed) => info!(removed, "audit entries past retention removed"),
                            Err(e) => tracing::warn!(error = %e, "audit retention stopped early"),
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not try to lead the blob sweep"),
                }
            }
        }))
    }

    /// One sweep now (see [`crate::blobs::sweep`]).
    pub async fn sweep_blobs(&self) -> Result<crate::blobs::sweep::Swept> {
        crate::blobs::sweep::sweep(
            &self.0.blobs,
            &*self.0.store,
            self.0.config.blob_sweep.grace,
        )
        .await
    }

    pub async fn queue_depth(&self) -> Result<u64> {
        self.0.store.queue_depth().await
    }
}
