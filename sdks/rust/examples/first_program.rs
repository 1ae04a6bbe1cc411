//! The first program an external developer writes, from the README alone: only
//! `docintel-sdk` and `tokio`. CI runs it against a real server (tests/e2e/sdk.rs).
//! `DOCINTEL_URL=… DOCINTEL_API_KEY=dik_… cargo run -p docintel-sdk --example first_program -- invoice.pdf`
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use docintel_sdk::{Client, Error, TryStreamExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DOCINTEL_URL")?;
    let key = std::env::var("DOCINTEL_API_KEY")?;
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: first_program <file>")?;
    // 1. A client.
    let client = Client::builder(&url).api_key(key).build()?;
    // 2. Upload a file and wait until it is processed.
    let doc = client.upload_file(&path).await?;
    let doc = client.wait(doc.id, Duration::from_secs(60)).await?;
    // 3. Read the result.
    if let Some(c) = &doc.classification {
        println!("classified {} {:.2}", c.label, c.confidence);
    }
    println!("text {:?}", client.text(doc.id).await?.lines().next());
    // 4. List everything, page after page.
    let mut all = client.list_documents(Default::default());
    let mut n = 0;
    while let Some(d) = all.try_next().await? {
        n += usize::from(d.id == doc.id);
    }
    println!("listed mine {n}");
    // 5. A missing document.
    match client.document(docintel_sdk::uuid::Uuid::nil()).await {
        Err(Error::Api(p)) => println!("missing {} {}", p.status, p.code),
        other => return Err(format!("expected a 404, got {other:?}").into()),
    }
    // 6. A wrong key.
    let wrong = Client::builder(&url).api_key("dik_wrong").build()?;
    let e = wrong.document(doc.id).await.unwrap_err();
    println!("wrong key {:?} {:?}", e.status(), e.code());
    // 7. A webhook delivery, verified and parsed (signed here as docintel signs it).
    let body = br#"{"id":"evt_1","type":"doc.processed","created":"2026-12-01T10:00:00Z"}"#;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let header = docintel_sdk::sign_webhook("whsec_demo", now, body);
    let event =
        docintel_sdk::construct_event("whsec_demo", &header, body, Duration::from_secs(300))?;
    println!("webhook {} {}", event.id, event.type_);
    // 8. Deprecations the server announced for the calls above (none for v2 today).
    println!("deprecations {}", client.deprecation_notices().len());
    Ok(())
}
