//! `DOCINTEL_BASE_URL=… DOCINTEL_API_KEY=dik_… cargo run --example first_program -- a.pdf`
use docintel_sdk::{Client, TryStreamExt, construct_event, sign_webhook, uuid::Uuid};
use std::{env, time::Duration, time::SystemTime, time::UNIX_EPOCH};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = env::var("DOCINTEL_BASE_URL")?;
    let key = env::var("DOCINTEL_API_KEY")?;
    let client = Client::builder(&url).api_key(key).build()?;
    let path = env::args().nth(1).ok_or("usage: first_program <pdf>")?;
    let doc = client.upload_file(&path).await?;
    let doc = client.wait(doc.id, Duration::from_secs(60)).await?;
    let class = doc.classification.ok_or("not classified")?;
    println!("classified {} {:.2}", class.label, class.confidence);
    let mut pages = client.document_pages(Default::default());
    while let Some(page) = pages.try_next().await? {
        println!("page of {} documents", page.items.len());
    }
    let wrong = Client::builder(&url).api_key("dik_wrong").build()?;
    for (c, id) in [(&client, Uuid::nil()), (&wrong, doc.id)] {
        let e = c.document(id).await.unwrap_err();
        println!("error {:?} {:?}", e.status(), e.code());
    }
    let body = br#"{"id":"evt_1","type":"doc.processed","created":"2026-12-01T10:00:00Z"}"#;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let header = sign_webhook("whsec_demo", now, body); // as docintel signs a delivery
    let event = construct_event("whsec_demo", &header, body, Duration::from_secs(300))?;
    println!("webhook {} {}", event.id, event.type_);
    Ok(())
}
