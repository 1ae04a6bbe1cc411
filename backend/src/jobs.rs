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
use crate::store::{ClaimedJob, Completion, JobResult, Store, Wakes};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Jobs held at once. A worker mostly waits (for its parser child, for the store), so
    /// several per core keep the cores busy and let one claim serve many jobs; documents in
    /// processing at once are bounded on their own ([`PROCESSING_PER_CORE`]).
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
            workers: WORKERS_PER_CORE * crate::cores(),
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
    /// Counts claims made.
    pub claims: Arc<std::sync::atomic::AtomicU64>,
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

/// Workers per core by default (see [`WorkerConfig::workers`]).
const WORKERS_PER_CORE: usize = 8;

/// Documents in processing at once per core, from reading their bytes until their result
/// is made: two keep the cores busy while a parser starts or an answer travels, and they
/// bound the memory documents and parsers take however many workers hold jobs.
const PROCESSING_PER_CORE: usize = 2;

/// MiB that results waiting to be recorded may hold together (a result's text alone may
/// be 64 MiB): a worker whose result does not fit waits until others are recorded.
const WAITING_RESULTS_MIB: u32 = 256;

/// Most results one transaction records, and most jobs one claims.
const BATCH: usize = 64;

/// How long results wait for others while documents are in processing: those finish
/// within milliseconds, and their results then share one transaction (a commit, and its
/// flush, for several documents instead of one each).
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

/// A job claimed for a worker that had not asked yet, with its lease's owner and when it
/// was claimed.
pub(crate) type Prefetched = (Arc<str>, ClaimedJob, tokio::time::Instant);

/// `job`, if its lease still holds. A job claimed ahead waits unrenewed (the heartbeat
/// starts with the work) until a worker takes it, which is when a document in processing
/// ends: one that waited as long as a heartbeat's period is renewed first, and dropped if
/// it is no longer held (its lease ran out and another worker took it, or its document
/// was deleted). A renewal that fails leaves the lease as it was, as a heartbeat's does.
pub(crate) async fn still_held(
    store: &dyn Store,
    lease: std::time::Duration,
    (holder, job, claimed_at): Prefetched,
) -> Option<(Arc<str>, ClaimedJob)> {
    if claimed_at.elapsed() < lease / 3 {
        return Some((holder, job));
    }
    match store.renew_lease(job.job_id, &holder, lease).await {
        Ok(false) => {
            warn!(doc = %job.document_id, "a job claimed ahead is no longer held (taken by another worker or deleted); skipped");
            None
        }
        Ok(true) | Err(_) => Some((holder, job)),
    }
}

/// A worker's result on its way to the store.
struct Finished {
    /// The result's share of [`WAITING_RESULTS_MIB`], given back once it is recorded.
    _budget: Option<tokio::sync::OwnedSemaphorePermit>,
    job: ClaimedJob,
    owner: String,
    result: JobResult,
    events: Vec<Event>,
    now: OffsetDateTime,
}

/// What a process's workers share: claims of several jobs at once for the workers that
/// wait for one, and the results they hand to one committer. On SQLite every claim and
/// every result is a write through the single writer, and on PostgreSQL a result's
/// commit waits for a flush: done together, a transaction serves many documents.
struct Queue {
    /// Jobs claimed for the workers that come next, with their lease's owner and when
    /// they were claimed.
    claimed: tokio::sync::Mutex<std::collections::VecDeque<Prefetched>>,
    /// Workers waiting for a job (so a claim takes as many as will be taken at once).
    waiting: std::sync::atomic::AtomicUsize,
    results: tokio::sync::mpsc::Sender<Finished>,
    /// Slots of documents in processing ([`PROCESSING_PER_CORE`]).
    processing: Arc<tokio::sync::Semaphore>,
    /// How many slots `processing` has.
    slots: usize,
    /// Held by the one idle worker that polls the store (see [`Workers::run`]).
    polling: tokio::sync::Mutex<()>,
    /// MiB of results waiting to be recorded ([`WAITING_RESULTS_MIB`]).
    waiting_results: Arc<tokio::sync::Semaphore>,
}

/// Adds to `batch` what arrives on `rx` until `until`, or until it holds `max`.
async fn gather<T>(
    rx: &mut tokio::sync::mpsc::Receiver<T>,
    batch: &mut Vec<T>,
    max: usize,
    until: tokio::time::Instant,
) {
    while batch.len() < max {
        let room = max - batch.len();
        let more = tokio::time::timeout_at(until, rx.recv_many(batch, room));
        if !matches!(more.await, Ok(n) if n > 0) {
            return;
        }
    }
}

/// What a result holds in memory, near enough: its text and its pages' layouts.
fn result_bytes(result: &JobResult) -> usize {
    match result {
        JobResult::Processed { text, pages, .. } => {
            text.len() + pages.iter().map(|(_, layout)| layout.len()).sum::<usize>()
        }
        JobResult::Failed { reason, .. } => reason.len(),
    }
}

impl Workers {
    /// Starts the workers, each owning its leases as `<owner_prefix><n>`, and the task
    /// that records their results.
    pub fn spawn(self: Arc<Self>, owner_prefix: &str, set: &mut JoinSet<()>) {
        // Bounded: a worker waits (and claims nothing) while results are not recorded.
        let (results, finished) = tokio::sync::mpsc::channel(self.config.workers.max(1));
        let slots = PROCESSING_PER_CORE * crate::cores();
        let queue = Arc::new(Queue {
            claimed: Default::default(),
            waiting: Default::default(),
            results,
            processing: Arc::new(tokio::sync::Semaphore::new(slots)),
            slots,
            polling: Default::default(),
            waiting_results: Arc::new(tokio::sync::Semaphore::new(WAITING_RESULTS_MIB as usize)),
        });
        let me = self.clone();
        // The processing slots, not the queue: the queue holds the results' sender, and
        // the recorder ends when the workers' senders are gone.
        let processing = queue.processing.clone();
        set.spawn(async move { me.record(finished, &processing, slots).await });
        for n in 0..self.config.workers {
            let me = self.clone();
            let queue = queue.clone();
            let owner: Arc<str> = format!("{owner_prefix}{n}").into();
            let alive = crate::Alive::new(&self.alive);
            set.spawn(async move {
                let _alive = alive;
                me.run(owner, &queue).await
            });
        }
    }

    /// Claims and works, and waits when there is nothing to claim. One idle worker of a
    /// process polls the store, for what no wake-up announces (a lease that ran out, a
    /// wake-up lost between processes); the others wait to be woken. A worker that waited
    /// and then found a job wakes one more, and so on while jobs are found: a poll that
    /// finds several, or one wake-up for many jobs, gets as many workers, and the last one
    /// woken, finding none, polls in place of the one that left.
    async fn run(&self, owner: Arc<str>, queue: &Queue) {
        let mut waited = false;
        loop {
            match self.claim(&owner, queue).await {
                Ok(Some((holder, job))) => {
                    if std::mem::take(&mut waited) {
                        self.wakes.jobs.notify_one();
                    }
                    self.work(&holder, job, queue).await
                }
                Ok(None) => {
                    waited = true;
                    match queue.polling.try_lock() {
                        Ok(_polling) => {
                            tokio::select! {
                                _ = self.wakes.jobs.notified() => {}
                                _ = tokio::time::sleep(self.config.poll) => {}
                            }
                        }
                        Err(_) => self.wakes.jobs.notified().await,
                    }
                }
                Err(e) => {
                    error!(error = %e, "could not claim a job");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    /// The next job and the owner whose lease holds it: one claimed ahead for this
    /// worker (its lease still held), or the first of a new claim.
    async fn claim(
        &self,
        owner: &Arc<str>,
        queue: &Queue,
    ) -> crate::Result<Option<(Arc<str>, ClaimedJob)>> {
        use std::sync::atomic::Ordering::SeqCst;
        queue.waiting.fetch_add(1, SeqCst);
        let mut claimed = queue.claimed.lock().await;
        let next = loop {
            let Some(ahead) = claimed.pop_front() else {
                break self.claim_more(owner, queue, &mut claimed).await;
            };
            if let Some(next) = still_held(&*self.store, self.config.lease, ahead).await {
                break Ok(Some(next));
            }
        };
        queue.waiting.fetch_sub(1, SeqCst);
        next
    }

    /// Claims jobs for this worker and the next ones: the first is this worker's.
    async fn claim_more(
        &self,
        owner: &Arc<str>,
        queue: &Queue,
        claimed: &mut std::collections::VecDeque<Prefetched>,
    ) -> crate::Result<Option<(Arc<str>, ClaimedJob)>> {
        use std::sync::atomic::Ordering::SeqCst;
        // The workers processing now are the next to come for a job, and as many again
        // after them: claimed for them too, one claim (a write transaction) serves two
        // rounds of them.
        let busy = queue
            .slots
            .saturating_sub(queue.processing.available_permits());
        let want = (queue.waiting.load(SeqCst) + busy + queue.slots).clamp(1, BATCH) as u32;
        self.claims
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let jobs = self
            .store
            .claim_jobs(owner, self.config.lease, want)
            .await?;
        let at = tokio::time::Instant::now();
        let mut jobs = jobs.into_iter();
        let first = jobs.next().map(|j| (owner.clone(), j));
        claimed.extend(jobs.map(|j| (owner.clone(), j, at)));
        Ok(first)
    }

    async fn work(&self, owner: &str, job: ClaimedJob, queue: &Queue) {
        let doc = job.document_id;
        let mut slot = None;
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
            // The lease is kept while the job waits for a slot too.
            let heartbeat = self.heartbeat(owner, job.job_id);
            // Never closed: acquiring cannot fail.
            slot = queue.processing.clone().acquire_owned().await.ok();
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
        drop(slot);
        let mib = u32::try_from(result_bytes(&result) >> 20)
            .unwrap_or(u32::MAX)
            .clamp(1, WAITING_RESULTS_MIB);
        // Never closed: acquiring cannot fail.
        let budget = queue
            .waiting_results
            .clone()
            .acquire_many_owned(mib)
            .await
            .ok();
        let now = OffsetDateTime::now_utc();
        let events = Event::of_job(&job, &result, now);
        let finished = Finished {
            _budget: budget,
            job,
            owner: owner.to_owned(),
            result,
            events,
            now,
        };
        // Recorded by `record`, with whatever other results wait; the lease holds the job
        // meanwhile (for milliseconds), so this worker takes the next one now.
        if queue.results.send(finished).await.is_err() {
            error!(%doc, "could not record a job result: the workers are stopping; it will be retried");
        }
    }

    /// Records the results the workers hand over, every result waiting in one
    /// transaction, until the workers stop. While other documents are in processing
    /// (`processing` has fewer than `slots` free), their results are waited for up to
    /// [`LINGER`]; a lone document's result is recorded at once.
    async fn record(
        &self,
        mut finished: tokio::sync::mpsc::Receiver<Finished>,
        processing: &tokio::sync::Semaphore,
        slots: usize,
    ) {
        let mut batch = Vec::with_capacity(BATCH);
        while finished.recv_many(&mut batch, BATCH).await > 0 {
            if processing.available_permits() < slots {
                let until = tokio::time::Instant::now() + LINGER;
                gather(&mut finished, &mut batch, BATCH, until).await;
            }
            let done: Vec<Completion<'_>> = batch
                .iter()
                .map(|f| Completion {
                    job: &f.job,
                    owner: &f.owner,
                    result: &f.result,
                    events: &f.events,
                    now: f.now,
                })
                .collect();
            let recorded = match self.store.complete_jobs(&done).await {
                Ok(recorded) => recorded.into_iter().map(Ok).collect(),
                // One result the store refuses must not cost the others theirs: each
                // alone, then.
                Err(_) if done.len() > 1 => {
                    let mut each = Vec::with_capacity(done.len());
                    for c in &done {
                        each.push(
                            self.store
                                .complete_jobs(std::slice::from_ref(c))
                                .await
                                .map(|r| r == [true]),
                        );
                    }
                    each
                }
                Err(e) => vec![Err(e)],
            };
            if recorded.iter().any(|r| matches!(r, Ok(true))) {
                self.wakes.events_written(&*self.store);
            }
            for (f, recorded) in batch.iter().zip(recorded) {
                self.recorded(f, recorded).await;
            }
            batch.clear();
        }
    }

    /// What follows a result's transaction.
    async fn recorded(&self, f: &Finished, recorded: crate::Result<bool>) {
        let doc = f.job.document_id;
        match recorded {
            Ok(true) => {
                if let JobResult::Failed {
                    code: Some(FailureCode::MalwareDetected),
                    ..
                } = &f.result
                {
                    // Recorded first, deleted after: a failed delete leaves an infected
                    // blob behind (logged), never a document that lost its verdict.
                    if let Err(e) = self.blobs.delete(&f.job.blob_key).await {
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
        let source: crate::blobs::BlobReader = match &job.inline_bytes {
            Some(bytes) => Box::new(std::io::Cursor::new(bytes.0.clone())),
            None => match self.blobs.read_stream(&job.blob_key).await {
                Ok(s) => s,
                Err(e) => return Scanned::Refuse(unreadable(e)),
            },
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
        // Bytes kept with the row came with the claim.
        let bytes = match &job.inline_bytes {
            Some(bytes) => bytes.0.clone(),
            None => match self.blobs.read(&job.blob_key).await {
                Ok(b) => b,
                Err(e) => return unreadable(e),
            },
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::{Instant, sleep};

    use super::gather;

    /// What arrives before the deadline joins the batch; what arrives after it waits for
    /// the next; a full batch goes at once.
    #[tokio::test(start_paused = true)]
    async fn results_gathered_until_the_deadline_or_a_full_batch() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let start = Instant::now();
        tokio::spawn(async move {
            for (at, n) in [(3, 1), (6, 2), (15, 3), (16, 4), (17, 5)] {
                sleep(Duration::from_millis(at).saturating_sub(start.elapsed())).await;
                tx.send(n).await.unwrap();
            }
        });
        let mut batch = vec![0];
        gather(&mut rx, &mut batch, 64, start + Duration::from_millis(10)).await;
        assert_eq!(batch, [0, 1, 2]);
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(10),
            "waited until the deadline"
        );

        let mut batch = Vec::new();
        gather(&mut rx, &mut batch, 2, start + Duration::from_millis(100)).await;
        assert_eq!(batch, [3, 4]);
        assert_eq!(start.elapsed(), Duration::from_millis(16), "left once full");
    }
}
