//! The same checks on every kind of blob store that needs no server (the S3 one runs
//! against a real S3 server in `tests/`).

use std::time::Duration;

use futures_util::TryStreamExt;

use super::*;
use crate::error::Error;

/// A folder store and a memory store, with what keeps the folder alive.
fn stores() -> Vec<(Blobs, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    vec![
        (Blobs::new(LocalBlobs::open(dir.path()).unwrap()), Some(dir)),
        (Blobs::new(ObjectBlobs::memory()), None),
    ]
}

async fn listed(blobs: &Blobs) -> Vec<Listed> {
    let mut all: Vec<Listed> = blobs.store().list().try_collect().await.unwrap();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    all
}

#[tokio::test]
async fn nothing_is_visible_until_commit_and_a_dropped_upload_leaves_nothing() {
    for (blobs, _dir) in stores() {
        let mut p = blobs.begin(100).await.unwrap();
        p.write(b"hello").await.unwrap();
        assert!(!blobs.exists("t/a").await.unwrap(), "{blobs:?}");
        p.commit("t/a").await.unwrap();
        assert_eq!(blobs.read("t/a").await.unwrap(), b"hello");

        let mut p = blobs.begin(100).await.unwrap();
        p.write(b"half").await.unwrap();
        drop(p);
        tokio::task::yield_now().await;
        let keys: Vec<String> = listed(&blobs).await.into_iter().map(|l| l.key).collect();
        assert_eq!(keys, ["t/a"], "{blobs:?}");
    }
}

#[tokio::test]
async fn a_missing_blob_is_not_found_and_deleting_it_is_no_error() {
    for (blobs, _dir) in stores() {
        let err = blobs.read("t/none").await.unwrap_err();
        assert!(
            matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::NotFound),
            "{err:?}"
        );
        blobs.delete("t/none").await.unwrap();
        blobs.put("t/b", b"x").await.unwrap();
        blobs.delete("t/b").await.unwrap();
        assert!(!blobs.exists("t/b").await.unwrap());
    }
}

#[tokio::test]
async fn limit_is_enforced_while_streaming() {
    for (blobs, _dir) in stores() {
        let mut p = blobs.begin(8).await.unwrap();
        p.write(b"12345").await.unwrap();
        let err = p.write(b"6789").await.unwrap_err();
        assert!(matches!(
            err,
            Error::Ingest(IngestError::TooLarge { limit: 8 })
        ));
    }
}

#[tokio::test]
async fn facts_hash_and_sniff_the_stream() {
    for (blobs, _dir) in stores() {
        let mut p = blobs.begin(100).await.unwrap();
        p.write(b"ab").await.unwrap();
        p.write(b"c").await.unwrap();
        let f = p.facts();
        assert_eq!(f.size, 3);
        assert_eq!(
            f.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(f.is_text);
        assert_eq!(f.head, b"abc");
    }
}

#[tokio::test]
async fn a_large_upload_streams_in_parts_and_reads_back_whole() {
    for (blobs, _dir) in stores() {
        // Past one part (5 MiB): the object store switches to a multipart upload.
        let chunk = vec![7u8; 1 << 20];
        let mut p = blobs.begin(u64::MAX).await.unwrap();
        for _ in 0..12 {
            p.write(&chunk).await.unwrap();
        }
        p.commit("t/big").await.unwrap();
        let back = blobs.read("t/big").await.unwrap();
        assert_eq!(back.len(), 12 << 20);
        assert!(back.iter().all(|b| *b == 7));
        let keys: Vec<String> = listed(&blobs).await.into_iter().map(|l| l.key).collect();
        assert_eq!(keys, ["t/big"], "nothing staged is left behind");
    }
}

#[tokio::test]
async fn the_sweep_removes_only_old_objects_no_document_owns() {
    use crate::store::{DocumentStore, NewDocument, SqliteStore, TenantStore};

    let db = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db.path().join("d.db")).await.unwrap();
    let tenant = store
        .create_tenant("t", OffsetDateTime::now_utc())
        .await
        .unwrap()
        .id;
    let owned = NewDocument {
        id: uuid::Uuid::now_v7(),
        tenant_id: tenant,
        filename: "a.txt".into(),
        content_type: crate::model::ContentType::Text,
        size_bytes: 1,
        sha256: "0".repeat(64),
        blob_key: "t/owned".into(),
        created_at: OffsetDateTime::now_utc(),
        inline_bytes: None,
    };
    store
        .insert_document(&owned, &[], None, crate::model::Quota::UNLIMITED)
        .await
        .unwrap();
    for (blobs, _dir) in stores() {
        for key in [
            "t/owned",
            "t/owned.thumb.png",
            "t/owned.searchable.pdf",
            "t/orphan",
            "t/orphan.thumb.png",
            "t/orphan.searchable.pdf",
        ] {
            blobs.put(key, b"x").await.unwrap();
        }
        let mut staged = blobs.begin(100).await.unwrap();
        staged.write(b"left by a killed process").await.unwrap();
        std::mem::forget(staged);

        let young = sweep::sweep(&blobs, &store, Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(young.removed, 0, "nothing is older than the grace period");

        let swept = sweep::sweep(&blobs, &store, Duration::ZERO).await.unwrap();
        let keys: Vec<String> = listed(&blobs).await.into_iter().map(|l| l.key).collect();
        assert_eq!(
            keys,
            ["t/owned", "t/owned.searchable.pdf", "t/owned.thumb.png"],
            "{blobs:?}"
        );
        // The memory store stages in memory until a part is full: nothing to remove.
        assert!(swept.removed >= 3, "{swept:?}");
    }
}

#[tokio::test]
async fn a_blob_opened_reads_as_stored_and_a_missing_one_is_an_error() {
    use tokio::io::AsyncReadExt;
    for (blobs, _dir) in stores() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        blobs.put("t/big", &bytes).await.unwrap();
        let mut read = Vec::new();
        blobs
            .read_stream("t/big")
            .await
            .unwrap()
            .read_to_end(&mut read)
            .await
            .unwrap();
        assert_eq!(read, bytes, "{blobs:?}");
        assert!(blobs.read_stream("t/none").await.is_err(), "{blobs:?}");
    }
}

#[tokio::test]
async fn an_upload_is_kept_in_memory_until_it_outgrows_the_inline_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Store> = Arc::new(
        crate::store::SqliteStore::open(&dir.path().join("db.sqlite"))
            .await
            .unwrap(),
    );
    for (blobs, folder) in stores() {
        let blobs = blobs.with_inline(db.clone(), 10);
        // Files in the folder store's staging area (the memory store has none).
        let staged = || {
            folder.as_ref().map_or(0, |f| {
                std::fs::read_dir(f.path().join(".tmp")).unwrap().count()
            })
        };

        // Two chunks within the limit: handed back whole, nothing staged.
        let mut small = blobs.begin(100).await.unwrap();
        small.write(b"hello").await.unwrap();
        small.write(b"world").await.unwrap();
        assert_eq!(small.facts().size, 10);
        assert_eq!(staged(), 0, "nothing staged while it is in memory");
        let kept = small.commit("t/small").await.unwrap();
        assert_eq!(kept, Some(InlineBytes(b"helloworld".to_vec())), "{blobs:?}");
        assert!(!blobs.store().exists("t/small").await.unwrap());

        // A chunk that crosses the limit: what was held goes first, then the rest.
        let mut large = blobs.begin(100).await.unwrap();
        large.write(b"hello").await.unwrap();
        large.write(b"world!").await.unwrap();
        if folder.is_some() {
            assert_eq!(staged(), 1, "staged once past the limit");
        }
        large.write(b" more").await.unwrap();
        assert_eq!(large.commit("t/large").await.unwrap(), None, "{blobs:?}");
        assert_eq!(blobs.read("t/large").await.unwrap(), b"helloworld! more");
        assert_eq!(staged(), 0);

        // Past the upload limit while still in memory: refused at once.
        let mut over = blobs
            .clone()
            .with_inline(db.clone(), 1000)
            .begin(8)
            .await
            .unwrap();
        assert!(over.write(b"123456789").await.is_err(), "{blobs:?}");
    }
}
