//! The schema registry: version numbers under races; schemas kept as submitted with
//! their references; imported ids and versions; settings.

use super::*;

use docintel_backend::store::{RegistryReference, RegistrySchema, RegistryUse};

fn schema(text: &str, references: &[(&str, &str, i64)]) -> RegistrySchema {
    RegistrySchema {
        text: text.to_owned(),
        references: references
            .iter()
            .map(|(name, subject, version)| RegistryReference {
                name: (*name).to_owned(),
                subject: (*subject).to_owned(),
                version: *version,
            })
            .collect(),
    }
}

pub async fn registry_versions_are_numbered_once_under_races<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let text = r#"{"type":"record","name":"R","fields":[]}"#;
    let id = stores[0]
        .registry_add_schema(text, &schema(text, &[]), None)
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(
        stores[1]
            .registry_add_schema(text, &schema(text, &[]), None)
            .await
            .unwrap(),
        Some(id),
        "one id per schema identity"
    );
    assert_eq!(stores[1].registry_schema_id(text).await.unwrap(), Some(id));
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

pub async fn registry_keeps_submitted_text_references_imports_and_settings<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let (a, b) = (&stores[0], &stores[1]);
    // The text is kept as submitted; the identity decides sameness.
    let spaced = "{ \"type\": \"string\" }";
    let id1 = a
        .registry_add_schema("\"string\"", &schema(spaced, &[]), None)
        .await
        .unwrap()
        .unwrap();
    let other_spacing = schema("{\"type\":\"string\"}", &[]);
    assert_eq!(
        b.registry_add_schema("\"string\"", &other_spacing, None)
            .await
            .unwrap(),
        Some(id1)
    );
    assert_eq!(a.registry_schema(id1).await.unwrap().unwrap().text, spaced);
    assert_eq!(
        a.registry_add_version("ref", id1, 0).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        a.registry_add_version("ref2", id1, 0).await.unwrap(),
        Some(1)
    );

    // References keep their order and come back with the versions that use them.
    let refs = [("z.Z", "ref2", 1), ("a.A", "ref", 1)];
    let id2 = b
        .registry_add_schema("main-identity", &schema("main", &refs), None)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(id2, id1);
    assert_eq!(
        a.registry_schema(id2).await.unwrap().unwrap(),
        schema("main", &refs)
    );
    // Referenced by a schema no version uses yet: nothing.
    assert_eq!(a.registry_referenced_by("ref", 1).await.unwrap(), []);
    assert_eq!(
        b.registry_add_version("main", id2, 0).await.unwrap(),
        Some(1)
    );
    let versions = a.registry_versions("main").await.unwrap();
    assert_eq!(versions[0].references, schema("main", &refs).references);
    assert_eq!(versions[0].identity, "main-identity");
    assert_eq!(versions[0].schema, "main");
    assert_eq!(
        a.registry_referenced_by("ref", 1).await.unwrap(),
        [(id2, true)]
    );
    assert_eq!(a.registry_referenced_by("ref", 2).await.unwrap(), []);
    b.registry_delete("main", Some(1), false).await.unwrap();
    assert_eq!(
        a.registry_referenced_by("ref2", 1).await.unwrap(),
        [(id2, false)],
        "only a soft-deleted version uses the referring schema"
    );
    assert_eq!(
        a.registry_uses(id2).await.unwrap(),
        [RegistryUse {
            subject: "main".to_owned(),
            version: 1,
            deleted: true
        }]
    );
    assert_eq!(a.registry_uses(9999).await.unwrap(), []);

    // An import brings its id; later ids move past it; a taken id is refused.
    let imported = a
        .registry_add_schema("imported", &schema("imported", &[]), Some(500))
        .await
        .unwrap();
    assert_eq!(imported, Some(500));
    assert_eq!(
        b.registry_add_schema("another", &schema("another", &[]), Some(500))
            .await
            .unwrap(),
        None,
        "id 500 holds another schema"
    );
    assert_eq!(
        b.registry_add_schema("\"string\"", &schema("x", &[]), Some(600))
            .await
            .unwrap(),
        Some(id1),
        "a stored schema answers with its own id"
    );
    let next = b
        .registry_add_schema("later", &schema("later", &[]), None)
        .await
        .unwrap()
        .unwrap();
    assert!(next > 500, "{next}");
    assert!(a.registry_import_version("imp", 7, 500).await.unwrap());
    assert!(!b.registry_import_version("imp", 7, next).await.unwrap());
    let imp = a.registry_versions("imp").await.unwrap();
    assert_eq!((imp.len(), imp[0].version, imp[0].schema_id), (1, 7, 500));
    assert_eq!(
        b.registry_add_version("imp", next, 7).await.unwrap(),
        Some(8),
        "numbering goes on after an imported version"
    );

    // Settings, per subject and global ("").
    assert_eq!(a.registry_setting("", "mode").await.unwrap(), None);
    a.registry_set_setting("", "mode", Some("READONLY"))
        .await
        .unwrap();
    b.registry_set_setting("s", "mode", Some("IMPORT"))
        .await
        .unwrap();
    b.registry_set_setting("s", "mode", Some("READWRITE"))
        .await
        .unwrap();
    assert_eq!(
        b.registry_setting("", "mode").await.unwrap().as_deref(),
        Some("READONLY")
    );
    assert_eq!(
        a.registry_setting("s", "mode").await.unwrap().as_deref(),
        Some("READWRITE")
    );
    assert_eq!(a.registry_setting("s", "other").await.unwrap(), None);
    a.registry_set_setting("s", "mode", None).await.unwrap();
    assert_eq!(b.registry_setting("s", "mode").await.unwrap(), None);
    assert_eq!(
        b.registry_setting("", "mode").await.unwrap().as_deref(),
        Some("READONLY")
    );
}
