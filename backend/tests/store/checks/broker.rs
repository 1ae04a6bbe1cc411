//! The Pact Broker's records: created once, no update lost.

use super::*;

pub async fn broker_records_are_created_once_and_never_lose_an_update<F: Factory>() {
    let (_db, stores) = F::open(2).await;
    let pair = "consumer\u{1f}docintel";
    // Both handles try to create the same record: one wins, the other writes nothing.
    let (a, b) = tokio::join!(
        stores[0].broker_insert("pact", pair, "1.0.0", r#"{"n":0,"who":"a"}"#),
        stores[1].broker_insert("pact", pair, "1.0.0", r#"{"n":0,"who":"b"}"#),
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one insert wins");
    let stored = stores[1]
        .broker_get("pact", pair, "1.0.0")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        (stored.scope.as_str(), stored.key.as_str()),
        (pair, "1.0.0")
    );

    // A replace from a stale read is refused and changes nothing.
    assert!(
        !stores[0]
            .broker_replace("pact", pair, "1.0.0", r#"{"stale":true}"#, r#"{"n":99}"#)
            .await
            .unwrap()
    );
    assert_eq!(
        stores[0]
            .broker_get("pact", pair, "1.0.0")
            .await
            .unwrap()
            .unwrap()
            .body,
        stored.body
    );

    // Ten writers on two handles, each reading then replacing (what Records::upsert
    // does): every increment lands.
    let mut tasks = Vec::new();
    for n in 0..10 {
        let store: Arc<dyn Store> = stores[n % 2].clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let read = store
                    .broker_get("pact", "consumer\u{1f}docintel", "1.0.0")
                    .await
                    .unwrap()
                    .unwrap();
                let mut v: serde_json::Value = serde_json::from_str(&read.body).unwrap();
                v["n"] = (v["n"].as_i64().unwrap() + 1).into();
                if store
                    .broker_replace(
                        "pact",
                        "consumer\u{1f}docintel",
                        "1.0.0",
                        &read.body,
                        &v.to_string(),
                    )
                    .await
                    .unwrap()
                {
                    return;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let last = stores[0]
        .broker_get("pact", pair, "1.0.0")
        .await
        .unwrap()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(v["n"], 10, "{}", last.body);
    assert_eq!(last.seq, stored.seq, "a replace keeps the record's place");

    // Lists are per kind, optionally per scope, oldest first.
    for version in ["1.1.0", "0.9.0"] {
        assert!(
            stores[1]
                .broker_insert("pact", pair, version, "{}")
                .await
                .unwrap()
        );
    }
    assert!(
        stores[1]
            .broker_insert("pact", "other\u{1f}docintel", "1.0.0", "{}")
            .await
            .unwrap()
    );
    assert!(
        stores[1]
            .broker_insert("version", pair, "1.0.0", "{}")
            .await
            .unwrap()
    );
    let keys = |rows: Vec<docintel_backend::store::BrokerRecord>| -> Vec<String> {
        rows.into_iter()
            .map(|r| format!("{}/{}", r.scope, r.key))
            .collect()
    };
    let in_pair = keys(stores[0].broker_list("pact", Some(pair)).await.unwrap());
    assert_eq!(
        in_pair,
        ["1.0.0", "1.1.0", "0.9.0"].map(|k| format!("{pair}/{k}"))
    );
    let every_pact = stores[0].broker_list("pact", None).await.unwrap();
    assert_eq!(every_pact.len(), 4);
    assert!(every_pact.windows(2).all(|w| w[0].seq < w[1].seq));
    // A read of some scopes: their records only, oldest first, in one query; and the
    // scopes of a kind without their bodies.
    let other = "other\u{1f}docintel".to_owned();
    let some = keys(
        stores[1]
            .broker_list_in(
                "pact",
                &[other.clone(), pair.to_owned(), "absent".to_owned()],
            )
            .await
            .unwrap(),
    );
    assert_eq!(
        some,
        [
            format!("{pair}/1.0.0"),
            format!("{pair}/1.1.0"),
            format!("{pair}/0.9.0"),
            format!("{other}/1.0.0"),
        ]
    );
    assert!(
        stores[1]
            .broker_list_in("pact", &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        stores[1]
            .broker_list_in("version", std::slice::from_ref(&other))
            .await
            .unwrap()
            .is_empty()
    );
    let mut scopes = vec![other.clone(), pair.to_owned()];
    scopes.sort();
    assert_eq!(stores[0].broker_scopes("pact").await.unwrap(), scopes);

    // Deleting one record, then a whole scope, leaves the rest alone.
    assert_eq!(
        stores[0]
            .broker_delete("pact", pair, Some("0.9.0"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        stores[0].broker_delete("pact", pair, None).await.unwrap(),
        2
    );
    assert!(
        stores[1]
            .broker_get("pact", pair, "1.0.0")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stores[1].broker_list("pact", None).await.unwrap().len(), 1);
    assert_eq!(
        stores[1].broker_list("version", None).await.unwrap().len(),
        1
    );
}
