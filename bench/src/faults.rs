//! Outages of the peers: the webhook receiver and the Kafka broker (tansu) are down while
//! documents are uploaded and processed, for `outage` seconds, then come back on the same
//! ports. Every webhook event must arrive after, once per event id (a repeat carries the
//! same id and body), and every event must reach Kafka, in the order of the outbox.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use docintel_testkit::peers::{Broker, WebhookReceiver, consume};

use crate::load::{Mix, subscribe};
use crate::server::Server;

pub async fn run(program: &Path, outage_secs: u64, documents: usize) -> anyhow::Result<bool> {
    let broker = Broker::start();
    let port = broker.port;
    let kafka = broker.address();
    let hook = std::net::TcpListener::bind("127.0.0.1:0")?;
    let hook_addr = hook.local_addr()?;
    drop(hook);
    let server = Server::start(
        program,
        &[
            "--kafka-brokers",
            &kafka,
            "--webhooks-allow-private",
            "--webhook-initial-backoff-ms",
            "1000",
            "--rate-limit",
            "off",
        ],
    )?;
    let mix = Mix::new(&server);
    subscribe(&mix, &format!("http://{hook_addr}/hook")).await?;

    // Both peers go down; documents arrive and are processed meanwhile.
    drop(broker);
    let started = Instant::now();
    let mut ids = Vec::new();
    for i in 0..documents {
        let r = mix
            .client()
            .post(format!("{}/v2/documents?filename=f{i}.txt", server.base))
            .bearer_auth(&server.key)
            .body(format!("note {i} written while the peers were down"))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 202, "upload answered {}", r.status());
        let v: serde_json::Value = r.json().await?;
        ids.push(v["id"].as_str().unwrap_or_default().to_owned());
    }
    for id in &ids {
        mix.wait_done(id, Duration::from_secs(120)).await;
    }
    let remaining = Duration::from_secs(outage_secs).saturating_sub(started.elapsed());
    println!(
        "faults: {documents} documents in while the receiver and the broker are down; waiting {} s more",
        remaining.as_secs()
    );
    tokio::time::sleep(remaining).await;

    // Both come back where they were.
    let _broker = Broker::start_on(port);
    let receiver = WebhookReceiver::on(tokio::net::TcpListener::bind(hook_addr).await?);
    let back = Instant::now();
    // Retries back off (doubling from 1 s, with jitter) while the receiver is down: a
    // delivery's next attempt may come about as long after the outage as the outage
    // lasted (an attempt just before the end waits up to twice its age).
    let deadline = back + Duration::from_secs(2 * outage_secs + 120);
    let (deliveries, delivered_docs, differ) = loop {
        let all = receiver.all();
        let mut by_id: HashMap<String, HashSet<String>> = HashMap::new();
        for (id, body) in &all {
            by_id.entry(id.clone()).or_default().insert(body.clone());
        }
        let docs: HashSet<String> = all
            .iter()
            .filter_map(|(_, body)| {
                serde_json::from_str::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v["data"]["id"].as_str().map(str::to_owned))
            })
            .collect();
        let differ = by_id.values().filter(|b| b.len() > 1).count();
        if docs.len() >= documents || Instant::now() > deadline {
            break (all.len(), docs, differ);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let webhooks_after = back.elapsed();

    let deadline = Instant::now() + Duration::from_secs(120);
    let uploaded_order = loop {
        let order: Vec<String> = consume(&kafka, "doc.uploaded")
            .await
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        if order.len() >= documents || Instant::now() > deadline {
            break order;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut first_seen = Vec::new();
    for k in &uploaded_order {
        if !first_seen.contains(k) {
            first_seen.push(k.clone());
        }
    }
    let in_order = first_seen == ids;
    let all_delivered = ids.iter().all(|id| delivered_docs.contains(id));

    println!("| figure | value |");
    println!("| --- | --- |");
    println!("| outage of the receiver and the broker | {outage_secs} s |");
    println!(
        "| documents, webhook deliveries received (attempts that reached it) | {documents}, {deliveries} |"
    );
    println!(
        "| every document's doc.processed delivered, after the receiver was back | {all_delivered}, in {:.1} s |",
        webhooks_after.as_secs_f64()
    );
    println!("| repeats with a different body for one event id | {differ} |");
    println!(
        "| doc.uploaded in Kafka: records, in upload order | {}, {in_order} |",
        uploaded_order.len()
    );
    Ok(all_delivered && differ == 0 && in_order)
}
