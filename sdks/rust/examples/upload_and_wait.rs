//! Uploads a file to a running docintel and prints what it found.
//!
//! ```sh
//! cargo run -p docintel-api -- serve            # prints an API key at first start
//! DOCINTEL_API_KEY=dik_… cargo run -p docintel-sdk --example upload_and_wait -- invoice.pdf
//! ```
//! `DOCINTEL_BASE_URL` overrides the default `http://127.0.0.1:8080`.

use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: upload_and_wait <file>")?;
    let url = std::env::var("DOCINTEL_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let key = std::env::var("DOCINTEL_API_KEY").map_err(|_| "set DOCINTEL_API_KEY")?;
    let client = docintel_sdk::Client::builder(url).api_key(key).build()?;

    let name = std::path::Path::new(&path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("upload");
    let doc = match client
        .upload_and_wait(std::fs::read(&path)?, name, Duration::from_secs(60))
        .await
    {
        Ok(doc) => doc,
        Err(docintel_sdk::Error::ProcessingFailed { reason, .. }) => {
            return Err(format!("docintel could not process {path}: {reason}").into());
        }
        Err(e) => return Err(e.into()),
    };
    println!("id:        {}", doc.id);
    println!("type:      {}", doc.metadata.content_type);
    println!("pages:     {:?}", doc.metadata.page_count);
    println!("words:     {:?}", doc.metadata.word_count);
    if let Some(c) = &doc.classification {
        println!("label:     {} ({:.0}%)", c.label, c.confidence * 100.0);
    }
    for w in &doc.warnings {
        println!("warning:   {w}");
    }
    println!("\n{}", client.text(doc.id).await?);
    Ok(())
}
