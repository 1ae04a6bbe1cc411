//! Load: a realistic mix of requests, run closed-loop (to measure the maximum) or
//! open-loop at a fixed rate (requests are sent on schedule whether or not earlier ones
//! were answered, as real clients do). The soak and overload scenarios.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

use crate::server::{Server, percentile};

/// One answered (or failed) request.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Seconds since the phase started.
    pub at: f64,
    pub latency_ms: f64,
    /// 0 when no answer came (connection refused, reset, timed out).
    pub status: u16,
    pub retry_after: bool,
}

/// The server's memory and descriptors at a moment.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: f64,
    pub rss_mib: f64,
    /// Open files and pipes (a leak shows here), and sockets (the connections).
    pub files: usize,
    pub sockets: usize,
}

/// The mix's requests and the documents it has made.
#[derive(Clone)]
pub struct Mix {
    client: reqwest::Client,
    base: String,
    key: String,
    /// Documents to read (processed ones), and every document uploaded.
    readable: Arc<Mutex<Vec<String>>>,
    pub uploaded: Arc<Mutex<Vec<String>>>,
    pdf: Arc<Vec<u8>>,
}

enum Kind {
    UploadText,
    UploadPdf,
    UploadPng,
    Get,
    List,
    Text,
}

impl Mix {
    pub fn new(server: &Server) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(256)
                .build()
                .expect("an HTTP client"),
            base: server.base.clone(),
            key: server.key.clone(),
            readable: Arc::default(),
            uploaded: Arc::default(),
            pdf: Arc::new(docintel_testkit::pdf(&[
                "INVOICE 2026-117",
                "Total due: 1,250.00 EUR",
            ])),
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Uploads a few documents and waits for them, so reads have something to read.
    pub async fn seed(&self, n: usize) -> anyhow::Result<()> {
        for i in 0..n {
            let (status, _, id) = self
                .upload(format!("seed {i}: a short note").into_bytes(), "seed.txt")
                .await;
            anyhow::ensure!(status == 202, "seeding: upload answered {status}");
            let id = id.unwrap_or_default();
            if self
                .wait_done(&id, Duration::from_secs(60))
                .await
                .as_deref()
                != Some("processed")
            {
                anyhow::bail!("seeding: document {id} was not processed");
            }
            self.readable
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .push(id);
        }
        Ok(())
    }

    /// (status, whether it carried Retry-After, the new document's id).
    async fn upload(&self, body: Vec<u8>, name: &str) -> (u16, bool, Option<String>) {
        let r = self
            .client
            .post(format!("{}/v2/documents?filename={name}", self.base))
            .bearer_auth(&self.key)
            .header("Content-Type", "application/octet-stream")
            .body(body)
            .send()
            .await;
        match r {
            Ok(r) => {
                let (status, retry_after) = answered(&r);
                let id = r
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_owned));
                if let Some(id) = &id
                    && let Ok(mut all) = self.uploaded.lock()
                {
                    all.push(id.clone());
                }
                (status, retry_after, id)
            }
            Err(_) => (0, false, None),
        }
    }

    /// Polls a document until it is processed or failed; its last status.
    pub async fn wait_done(&self, id: &str, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(r) = self
                .client
                .get(format!("{}/v2/documents/{id}", self.base))
                .bearer_auth(&self.key)
                .send()
                .await
                && let Ok(v) = r.json::<Value>().await
            {
                last = v["status"].as_str().map(str::to_owned);
                if matches!(last.as_deref(), Some("processed" | "failed")) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last
    }

    fn pick() -> Kind {
        let r: f64 = rand::rng().random();
        match r {
            r if r < 0.04 => Kind::UploadText,
            r if r < 0.06 => Kind::UploadPdf,
            r if r < 0.08 => Kind::UploadPng,
            r if r < 0.53 => Kind::Get,
            r if r < 0.80 => Kind::List,
            _ => Kind::Text,
        }
    }

    fn some_document(&self) -> String {
        let docs = self.readable.lock().map(|d| d.clone()).unwrap_or_default();
        let i = rand::rng().random_range(0..docs.len().max(1));
        docs.get(i).cloned().unwrap_or_default()
    }

    /// Sends one request of the mix; its outcome, timed from `origin`.
    pub async fn one(&self, origin: Instant) -> Outcome {
        let start = Instant::now();
        let get = |path: String| {
            self.client
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.key)
                .send()
        };
        let result = match Self::pick() {
            Kind::UploadText => {
                let (status, retry_after, _) = self
                    .upload(
                        b"Meeting notes\nAgenda: the quarterly review.".to_vec(),
                        "notes.txt",
                    )
                    .await;
                Ok((status, retry_after))
            }
            Kind::UploadPdf => {
                let (status, retry_after, _) = self.upload(self.pdf.to_vec(), "invoice.pdf").await;
                Ok((status, retry_after))
            }
            Kind::UploadPng => {
                let (status, retry_after, _) = self
                    .upload(docintel_testkit::PNG_1X1.to_vec(), "pixel.png")
                    .await;
                Ok((status, retry_after))
            }
            Kind::Get => get(format!("/v2/documents/{}", self.some_document()))
                .await
                .map(|r| answered(&r)),
            Kind::List => get("/v2/documents?limit=20".to_owned())
                .await
                .map(|r| answered(&r)),
            Kind::Text => get(format!("/v2/documents/{}/text", self.some_document()))
                .await
                .map(|r| answered(&r)),
        };
        let (status, retry_after) = result.unwrap_or((0, false));
        Outcome {
            at: start.duration_since(origin).as_secs_f64(),
            latency_ms: start.elapsed().as_secs_f64() * 1e3,
            status,
            retry_after,
        }
    }
}

fn answered(r: &reqwest::Response) -> (u16, bool) {
    (r.status().as_u16(), r.headers().contains_key("retry-after"))
}

/// `concurrency` clients sending back to back for `secs`: requests per second.
pub async fn closed_loop(mix: &Mix, concurrency: usize, secs: f64) -> (f64, Vec<Outcome>) {
    let origin = Instant::now();
    let end = origin + Duration::from_secs_f64(secs);
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (mix, outcomes) = (mix.clone(), outcomes.clone());
        tasks.spawn(async move {
            while Instant::now() < end {
                let o = mix.one(origin).await;
                if let Ok(mut all) = outcomes.lock() {
                    all.push(o);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let all = outcomes.lock().map(|o| o.clone()).unwrap_or_default();
    (all.len() as f64 / origin.elapsed().as_secs_f64(), all)
}

/// The mix's sustainable rate: a closed loop's requests over the time until they were
/// answered *and* every document they uploaded was processed (the queue drained), so a
/// fraction of it does not build a backlog that outlives the run.
pub async fn sustainable(mix: &Mix, secs: f64) -> f64 {
    let before = mix.uploaded.lock().map(|u| u.len()).unwrap_or(0);
    let start = Instant::now();
    let (_, outcomes) = closed_loop(mix, 32, secs).await;
    let uploaded: Vec<String> = mix
        .uploaded
        .lock()
        .map(|u| u[before..].to_vec())
        .unwrap_or_default();
    for id in &uploaded {
        mix.wait_done(id, Duration::from_secs(600)).await;
    }
    outcomes.len() as f64 / start.elapsed().as_secs_f64()
}

/// `rate` requests a second for `secs`, at most `cap` in flight (past it the client
/// itself is saturated and the request is counted as not sent), sampling the server
/// every second.
pub async fn open_loop(
    mix: &Mix,
    server: &Server,
    rate: f64,
    secs: f64,
    cap: usize,
) -> (Vec<Outcome>, Vec<Sample>, u64) {
    let origin = Instant::now();
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let slots = Arc::new(tokio::sync::Semaphore::new(cap));
    let mut samples = Vec::new();
    let mut not_sent = 0u64;
    let mut sent = 0u64;
    let mut next_sample = 0.0;
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let now = origin.elapsed().as_secs_f64();
        if now >= secs {
            break;
        }
        if now >= next_sample {
            let (files, sockets) = server.open_fds();
            samples.push(Sample {
                at: now,
                rss_mib: server.rss_kib() as f64 / 1024.0,
                files,
                sockets,
            });
            next_sample += 1.0;
        }
        // Send what the schedule says is due by now.
        let due = (now * rate) as u64;
        while sent < due {
            sent += 1;
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                not_sent += 1;
                continue;
            };
            let (mix, outcomes) = (mix.clone(), outcomes.clone());
            tasks.spawn(async move {
                let o = mix.one(origin).await;
                drop(slot);
                if let Ok(mut all) = outcomes.lock() {
                    all.push(o);
                }
            });
        }
        while tasks.try_join_next().is_some() {}
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    while tasks.join_next().await.is_some() {}
    let all = outcomes.lock().map(|o| o.clone()).unwrap_or_default();
    (all, samples, not_sent)
}

fn latencies(outcomes: &[Outcome]) -> Vec<f64> {
    let mut l: Vec<f64> = outcomes.iter().map(|o| o.latency_ms).collect();
    l.sort_by(f64::total_cmp);
    l
}

/// p99 per window of `width` seconds: (window start, p99 ms).
pub fn p99_windows(outcomes: &[Outcome], width: f64) -> Vec<(f64, f64)> {
    let end = outcomes.iter().map(|o| o.at).fold(0.0, f64::max);
    let mut out = Vec::new();
    let mut start = 0.0;
    while start < end {
        let window: Vec<Outcome> = outcomes
            .iter()
            .copied()
            .filter(|o| o.at >= start && o.at < start + width)
            .collect();
        // A window cut short by the end of the run says little.
        if window.len() >= 100 {
            out.push((start + width / 2.0, percentile(&latencies(&window), 0.99)));
        }
        start += width;
    }
    out
}

/// Whether every value lies within ±`percent` of their mean.
fn flat(values: &[f64], percent: f64) -> (bool, f64) {
    if values.is_empty() {
        return (true, 0.0);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let worst = values
        .iter()
        .map(|v| (v - mean).abs() / mean.max(f64::MIN_POSITIVE) * 100.0)
        .fold(0.0, f64::max);
    (worst <= percent, worst)
}

/// Whether the descriptor count holds level, and by how much (in percent) it moved.
///
/// Descriptors come and go with the work in flight (a parser's pipes, a pooled
/// connection's WAL handle), so peaks say nothing: a leak shows as a floor that rises.
/// The lowest count of the last third is judged against the lowest of the first.
fn descriptors_flat(fds: &[f64]) -> (bool, f64) {
    let third = fds.len() / 3;
    if third == 0 {
        return (true, 0.0);
    }
    let floor = |part: &[f64]| part.iter().copied().fold(f64::INFINITY, f64::min);
    let (first, last) = (floor(&fds[..third]), floor(&fds[fds.len() - third..]));
    let moved = (last - first) / first.max(1.0) * 100.0;
    (last <= first * 1.1 + 2.0, moved)
}

/// Subscribes a receiver at `url` to doc.processed.
pub async fn subscribe(mix: &Mix, url: &str) -> anyhow::Result<()> {
    let r = mix
        .client
        .post(format!("{}/v2/webhooks", mix.base))
        .bearer_auth(&mix.key)
        .json(&json!({"url": url, "event_types": ["doc.processed"]}))
        .send()
        .await?;
    anyhow::ensure!(
        r.status() == 201,
        "subscribing the receiver: {}",
        r.status()
    );
    Ok(())
}

pub async fn soak(
    program: &Path,
    secs: u64,
    plot: Option<&Path>,
    rate: Option<f64>,
) -> anyhow::Result<bool> {
    let server = Server::start(
        program,
        &[
            "--rate-limit",
            "off",
            "--ip-rate-limit",
            "off",
            // Every simulated client has this machine's address.
            "--max-in-flight-per-address",
            "off",
            "--webhooks-allow-private",
        ],
    )?;
    let mix = Mix::new(&server);
    let receiver = docintel_testkit::peers::WebhookReceiver::start().await;
    let url = receiver.url.clone();
    subscribe(&mix, &url).await?;
    mix.seed(10).await?;

    let calibration = (secs as f64 / 10.0).clamp(3.0, 10.0);
    let max = sustainable(&mix, calibration).await;
    let rate = rate.unwrap_or(max / 2.0);
    println!(
        "soak: maximum {max:.0} req/s sustained (closed loop, 32 clients, {calibration:.0} s, until every upload was processed); soaking at {rate:.0} req/s for {secs} s"
    );
    let (outcomes, samples, not_sent) = open_loop(&mix, &server, rate, secs as f64, 1024).await;

    // Every document uploaded reaches an end, and is announced by one webhook event.
    let uploaded = mix.uploaded.lock().map(|u| u.clone()).unwrap_or_default();
    let mut lost = Vec::new();
    let mut processed = 0;
    for id in &uploaded {
        match mix.wait_done(id, Duration::from_secs(120)).await.as_deref() {
            Some("processed") => processed += 1,
            Some("failed") => {}
            _ => lost.push(id.clone()),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let (events, repeats_differ) = loop {
        let all = receiver.all();
        let mut by_id: std::collections::HashMap<String, std::collections::HashSet<String>> =
            Default::default();
        for (id, body) in all {
            by_id.entry(id).or_default().insert(body);
        }
        let differ = by_id.values().filter(|b| b.len() > 1).count();
        if by_id.len() >= processed || Instant::now() > deadline {
            break (by_id.len(), differ);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let errors = outcomes
        .iter()
        .filter(|o| o.status == 0 || o.status >= 400)
        .count();
    let warm = secs as f64 * 0.2;
    let warm_samples: Vec<&Sample> = samples.iter().filter(|s| s.at >= warm).collect();
    let rss: Vec<f64> = warm_samples.iter().map(|s| s.rss_mib).collect();
    let fds: Vec<f64> = warm_samples.iter().map(|s| s.files as f64).collect();
    let sockets: Vec<f64> = warm_samples.iter().map(|s| s.sockets as f64).collect();
    let (rss_flat, rss_worst) = flat(&rss, 10.0);
    let (fds_flat, fds_worst) = descriptors_flat(&fds);
    let windows = p99_windows(&outcomes, 10.0);
    let warm_p99: Vec<f64> = windows
        .iter()
        .filter(|(t, _)| *t >= warm)
        .map(|(_, p)| *p)
        .collect();
    let (socket_min, socket_max) = (
        sockets.iter().copied().fold(f64::INFINITY, f64::min),
        sockets.iter().copied().fold(0.0, f64::max),
    );
    let mut sorted = warm_p99.clone();
    sorted.sort_by(f64::total_cmp);
    let median = percentile(&sorted, 0.5);
    let worst = sorted.last().copied().unwrap_or(0.0);
    let p99_stable = worst <= 3.0 * median.max(1.0);
    let all = latencies(&outcomes);

    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| requests answered | {} ({:.0}/s; {not_sent} not sent: client saturated) |",
        outcomes.len(),
        outcomes.len() as f64 / secs as f64
    );
    println!("| errors (4xx, 5xx, no answer) | {errors} |");
    println!(
        "| documents uploaded / processed / lost | {} / {processed} / {} |",
        uploaded.len(),
        lost.len()
    );
    println!(
        "| webhook events received (distinct ids) / repeats that differ | {events} / {repeats_differ} |"
    );
    println!(
        "| latency p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(0.0)
    );
    println!("| p99 per 10 s after warm-up: median / worst | {median:.1} / {worst:.1} ms |");
    println!(
        "| RSS after warm-up: min / max, worst distance from mean | {:.1} / {:.1} MiB, {rss_worst:.1}% |",
        rss.iter().copied().fold(f64::INFINITY, f64::min),
        rss.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "| open files and pipes after warm-up: min / max; lowest of the last third against the first | {:.0} / {:.0}; {fds_worst:+.1}% |",
        fds.iter().copied().fold(f64::INFINITY, f64::min),
        fds.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "| sockets (connections in flight) after warm-up: min / max | {socket_min:.0} / {socket_max:.0} |"
    );
    if let Some(path) = plot {
        crate::plot::soak(path, &samples, &windows)?;
        println!("plot: {}", path.display());
    }
    Ok(errors == 0
        && lost.is_empty()
        && events >= processed
        && repeats_differ == 0
        && rss_flat
        && fds_flat
        && p99_stable)
}

pub async fn overload(program: &Path, secs: u64) -> anyhow::Result<bool> {
    // Every simulated client has this machine's address.
    let mut server = Server::start(
        program,
        &[
            "--rate-limit",
            "off",
            "--ip-rate-limit",
            "off",
            "--max-in-flight-per-address",
            "off",
        ],
    )?;
    let mix = Mix::new(&server);
    mix.seed(10).await?;
    let (max, calibrated) = closed_loop(&mix, 32, 10.0).await;
    let base_p99 = percentile(&latencies(&calibrated), 0.99);
    let rate = max * 4.0;
    println!(
        "overload: maximum {max:.0} req/s (p99 {base_p99:.1} ms); sending {rate:.0} req/s for {secs} s"
    );
    let (outcomes, samples, not_sent) = open_loop(&mix, &server, rate, secs as f64, 4096).await;
    let count = |f: &dyn Fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let ok = count(&|o| (200..300).contains(&o.status));
    let shed = count(&|o| o.status == 429 || o.status == 503);
    let shed_with_retry = count(&|o| (o.status == 429 || o.status == 503) && o.retry_after);
    let other = count(&|o| {
        o.status != 0 && !(200..300).contains(&o.status) && o.status != 429 && o.status != 503
    });
    let unanswered = count(&|o| o.status == 0);
    let rss_max = samples.iter().map(|s| s.rss_mib).fold(0.0, f64::max);
    let rss_start = samples.first().map_or(0.0, |s| s.rss_mib);

    // Recovery: half the maximum for 10 s.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (after, _, _) = open_loop(&mix, &server, max / 2.0, 10.0, 1024).await;
    let after_errors = after
        .iter()
        .filter(|o| o.status == 0 || o.status >= 400)
        .count();
    let after_p99 = percentile(&latencies(&after), 0.99);
    let alive = server.alive();

    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| sent at 4× for {secs} s | {} answered or failed, {not_sent} not sent (client at 4096 in flight) |",
        outcomes.len()
    );
    println!("| 2xx | {ok} |");
    println!("| shed (429/503), with Retry-After | {shed}, {shed_with_retry} |");
    println!("| other statuses | {other} |");
    println!("| no answer (refused, reset, timed out) | {unanswered} |");
    println!("| RSS at start / highest | {rss_start:.1} / {rss_max:.1} MiB |");
    println!(
        "| recovery at half load for 10 s: errors, p99 | {after_errors}, {after_p99:.1} ms (before: {base_p99:.1} ms) |"
    );
    Ok(alive && shed > 0 && shed == shed_with_retry && other == 0 && after_errors == 0)
}

#[cfg(test)]
mod tests {
    use super::descriptors_flat;

    #[test]
    fn descriptors_judged_by_their_floor_not_their_peaks() {
        // Samples of a soak: 17 at rest, pipes of jobs in flight on top, higher peaks late.
        let busy = [17., 19., 17., 18., 17., 17., 18., 23., 17., 21., 23., 17.];
        assert!(descriptors_flat(&busy).0);
        // One descriptor lost every second or so: the floor climbs.
        let leaking: Vec<f64> = (0..24).map(|i| 17.0 + i as f64).collect();
        let (flat, moved) = descriptors_flat(&leaking);
        assert!(!flat, "moved {moved}%");
        assert!(descriptors_flat(&[]).0);
    }
}
