//! The worker pool: claims jobs from the durable queue under a lease, heartbeats while
//! working, and records the outcome. A worker that dies leaves its lease to expire (or to
//! be released at the next start), and the job runs again.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::blobs::Blobs;
use crate::events::Event;
use crate::model::FailureCode;
use crate::pipeline::{self, Outcome};
use crate::scan::{self, ScanError, ScanMode, Scanner, Verdict};
use crate::store::{ClaimedJob, JobResult, Store, Wakes};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub workers: usize,
    /// How long a claim stays valid without a heartbeat.
    pub lease: Duration,
    /// How often idle workers look for jobs when nobody wakes them.
    pub poll: Duration,
    /// A job claimed this many times without finishing is failed instead of retried
    /// (it probably kills its worker).
    pub max_attempts: u32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(500),
            max_attempts: 5,
        }
    }
}

pub(crate) struct Workers {
    pub store: Arc<dyn Store>,
    pub blobs: Blobs,
    pub config: WorkerConfig,
    pub wakes: Wakes,
    /// Counts running worker tasks (for readiness).
    pub alive: Arc<std::sync::atomic::AtomicUsize>,
    pub pipeline: Arc<pipeline::Context>,
    /// Scans each document before it is processed; `None`: scanning is off.
    pub scanner: Option<Arc<Scanner>>,
}

/// The end of a job whose stored bytes cannot be read.
fn unreadable(e: impl std::fmt::Display) -> JobResult {
    JobResult::Failed {
        reason: format!("stored bytes are unreadable: {e}"),
        code: None,
    }
}

/// What the malware scan lets a worker do with a document.
// One per job, moved a few times: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Scanned {
    /// Process it, with these warnings added (`not_scanned` when it could not be scanned
    /// and scanning is optional).
    Process { warnings: Vec<String> },
    /// Do not process it: it ends with this result.
    Refuse(JobResult),
    /// Not now: the scanner cannot answer; try again after this long.
    Defer(Duration),
}

impl Workers {
    /// Starts the workers, each owning its leases as `<owner_prefix><n>`.
    pub fn spawn(self: Arc<Self>, owner_prefix: &str, set: &mut JoinSet<()>) {
        for n in 0..self.config.workers {
            let me = self.clone();
            let owner = format!("{owner_prefix}{n}");
            let alive = crate::Alive::new(&self.alive);
            set.spawn(async move {
                let _alive = alive;
                me.run(owner).await
            });
        }
    }

    async fn run(&self, owner: String) {
        loop {
            match self.claim(&owner).await {
                Ok(Some(job)) => self.work(&owner, job).await,
                Ok(None) => {
                    tokio::select! {
                        _ = self.wakes.jobs.notified() => {}
                        _ = tokio::time::sleep(self.config.poll) => {}
                    }
                }
                Err(e) => {
                    error!(error = %e, "could not claim a job");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    async fn claim(&self, owner: &str) -> crate::Result<Option<ClaimedJob>> {
        self.store.claim_job(owner, self.config.lease).await
    }

    async fn work(&self, owner: &str, job: ClaimedJob) {
        let doc = job.document_id;
        let result = if job.attempts > self.config.max_attempts {
            warn!(%doc, attempts = job.attempts, "giving up on a job that never finished");
            JobResult::Failed {
                reason: format!(
                    "processing was interrupted {} times; giving up",
                    job.attempts - 1
                ),
                code: None,
            }
        } else {
            let heartbeat = self.heartbeat(owner, job.job_id);
            let scanned = self.scan(&job).await;
            let result = match scanned {
                Scanned::Process { warnings } => Ok(self.process(&job, warnings).await),
                Scanned::Refuse(result) => Ok(result),
                Scanned::Defer(delay) => Err(delay),
            };
            heartbeat.abort();
            match result {
                Ok(result) => result,
                Err(delay) => return self.defer(owner, &job, delay).await,
            }
        };
        let now = OffsetDateTime::now_utc();
        let events = Event::of_job(&job, &result, now);
        match self
            .store
            .complete_job(&job, owner, &result, &events, now)
            .await
        {
            Ok(true) => {
                self.wakes.events.notify_one();
                self.wakes.deliveries.notify_one();
                if let JobResult::Failed {
                    code: Some(FailureCode::MalwareDetected),
                    ..
                } = &result
                {
                    // Recorded first, deleted after: a failed delete leaves an infected
                    // blob behind (logged), never a document that lost its verdict.
                    if let Err(e) = self.blobs.delete(&job.blob_key).await {
                        error!(%doc, error = %e, "could not delete an infected document's bytes");
                    }
                }
                debug!(%doc, "job done")
            }
            Ok(false) => info!(%doc, "job result dropped: lease lost or document deleted"),
            Err(e) => error!(%doc, error = %e, "could not record a job result; it will be retried"),
        }
    }

    fn heartbeat(&self, owner: &str, job_id: i64) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let owner = owner.to_owned();
        let lease = self.config.lease;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                if let Err(e) = store.renew_lease(job_id, &owner, lease).await {
                    warn!(error = %e, job_id, "lease renewal failed");
                }
            }
        })
    }

    /// Hands a job back to the queue for `delay`, its attempt uncounted.
    async fn defer(&self, owner: &str, job: &ClaimedJob, delay: Duration) {
        let doc = job.document_id;
        match self.store.defer_job(job.job_id, owner, delay).await {
            Ok(true) => info!(%doc, ?delay, "not scanned yet: retrying later"),
            Ok(false) => info!(%doc, "deferral dropped: lease lost or document deleted"),
            // The lease expires all the same, and the job is claimed again then.
            Err(e) => warn!(%doc, error = %e, "could not defer a job"),
        }
    }

    /// Streams the document's bytes through the malware scanner, when there is one.
    async fn scan(&self, job: &ClaimedJob) -> Scanned {
        let Some(scanner) = &self.scanner else {
            return Scanned::Process {
                warnings: Vec::new(),
            };
        };
        let doc = job.document_id;
        let source = match self.blobs.read_stream(&job.blob_key).await {
            Ok(s) => s,
            Err(e) => return Scanned::Refuse(unreadable(e)),
        };
        match scanner.scan(source).await {
            Ok(Verdict::Clean) => Scanned::Process {
                warnings: Vec::new(),
            },
            Ok(Verdict::Infected(signature)) => {
                warn!(%doc, %signature, "malware detected; deleting the document's bytes");
                Scanned::Refuse(JobResult::Failed {
                    reason: format!("malware detected: {signature}"),
                    code: Some(FailureCode::MalwareDetected),
                })
            }
            Err(e @ ScanError::TooLarge) => Scanned::Refuse(JobResult::Failed {
                reason: format!("not scanned: {e}"),
                code: Some(FailureCode::ScanFailed),
            }),
            Err(ScanError::Source(e)) => Scanned::Refuse(unreadable(e)),
            Err(e) if scanner.config.mode == ScanMode::Optional => {
                warn!(%doc, error = %e, "processing a document unscanned (scanning is optional)");
                Scanned::Process {
                    warnings: vec![scan::NOT_SCANNED.to_owned()],
                }
            }
            Err(e) => {
                let delay = scanner.backoff();
                warn!(%doc, error = %e, ?delay, "the malware scanner did not answer; the document waits");
                Scanned::Defer(delay)
            }
        }
    }

    async fn process(&self, job: &ClaimedJob, mut scan_warnings: Vec<String>) -> JobResult {
        let bytes = match self.blobs.read(&job.blob_key).await {
            Ok(b) => b,
            Err(e) => return unreadable(e),
        };
        let outcome = pipeline::run(self.pipeline.clone(), job.content_type, bytes).await;
        match outcome {
            Outcome::Processed {
                text,
                mut extracted,
                warnings,
                thumbnail,
                classification,
                layout,
                searchable_pdf,
            } => {
                let thumbnail_key = match thumbnail {
                    Some(png) => match self.store_thumbnail(&job.blob_key, &png).await {
                        Ok(key) => Some(key),
                        Err(e) => {
                            return JobResult::Failed {
                                reason: format!("could not store the thumbnail: {e}"),
                                code: None,
                            };
                        }
                    },
                    None => None,
                };
                if let Some(pdf) = searchable_pdf {
                    let key = crate::blobs::searchable_key(&job.blob_key);
                    if let Err(e) = self.blobs.put(&key, &pdf).await {
                        return JobResult::Failed {
                            reason: format!("could not store the searchable PDF: {e}"),
                            code: None,
                        };
                    }
                    extracted.searchable_pdf = true;
                }
                let pages = match layout
                    .iter()
                    .map(|p| serde_json::to_string(p).map(|json| (p.number, json)))
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(pages) => pages,
                    Err(e) => {
                        return JobResult::Failed {
                            reason: format!("could not store the layout: {e}"),
                            code: None,
                        };
                    }
                };
                scan_warnings.extend(warnings);
                JobResult::Processed {
                    text,
                    extracted,
                    warnings: scan_warnings,
                    classification,
                    thumbnail_key,
                    pages,
                }
            }
            Outcome::Failed { reason } => JobResult::Failed { reason, code: None },
        }
    }

    async fn store_thumbnail(&self, blob_key: &str, png: &[u8]) -> crate::Result<String> {
        let key = crate::blobs::thumbnail_key(blob_key);
        self.blobs.put(&key, png).await?;
        Ok(key)
    }
}
