//! The schema registry: version numbers under races.

use super::*;

pub async fn registry_versions_are_numbered_once_under_races<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let schema = r#"{"type":"record","name":"R","fields":[]}"#;
    let id = stores[0]
        .registry_schema_id(schema, true)
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(
        stores[1].registry_schema_id(schema, true).await.unwrap(),
        Some(id),
        "one id per schema text"
    );
    let mut tasks = Vec::new();
    for n in 0..10 {
        let store: Arc<dyn Store> = stores[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            // What the registry does: read the history, add after it, re-read if it moved.
            loop {
                let after = store
                    .registry_versions("s-value")
                    .await
                    .unwrap()
                    .iter()
                    .map(|v| v.version)
                    .max()
                    .unwrap_or(0);
                if let Some(v) = store
                    .registry_add_version("s-value", id, after)
                    .await
                    .unwrap()
                {
                    return v;
                }
            }
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=10).collect::<Vec<i64>>());
    let listed: Vec<i64> = stores[0]
        .registry_versions("s-value")
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(listed, versions);
    assert_eq!(
        stores[1]
            .registry_add_version("s-value", id, 9)
            .await
            .unwrap(),
        None,
        "a write checked against a history that has moved on is refused"
    );
}
