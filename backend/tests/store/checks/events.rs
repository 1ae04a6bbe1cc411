//! Events: the outbox's order and the webhook deliveries written with each event.

use super::*;

pub async fn the_outbox_keeps_order_until_marked_sent<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let t = tenant(s, "t").await;
    let ids = [
        upload(s, t, "1.txt").await,
        upload(s, t, "2.txt").await,
        upload(s, t, "3.txt").await,
    ];
    let now = OffsetDateTime::now_utc();
    let deleted = Event::deleted(ids[0], t, now);
    assert!(
        s.delete_document(t, ids[0], &[deleted], now)
            .await
            .unwrap()
            .is_some()
    );
    // A delete that finds nothing writes no event.
    let nothing = Event::deleted(ids[0], t, now);
    assert!(
        s.delete_document(t, ids[0], &[nothing], now)
            .await
            .unwrap()
            .is_none()
    );

    let pending = s.pending_events(100).await.unwrap();
    let topics: Vec<&str> = pending.iter().map(|r| r.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "doc.uploaded",
            "doc.uploaded",
            "doc.uploaded",
            "doc.deleted"
        ]
    );
    assert!(pending.windows(2).all(|w| w[0].seq < w[1].seq));
    for (row, id) in pending.iter().zip(ids) {
        assert!(row.payload.contains(&id.to_string()), "{}", row.payload);
    }
    // Marked by id: an event between two marked ones (read later, say, because it
    // committed later) stays pending.
    s.mark_sent(&[pending[0].seq, pending[2].seq], now)
        .await
        .unwrap();
    let rest = s.pending_events(100).await.unwrap();
    assert_eq!(rest, vec![pending[1].clone(), pending[3].clone()]);
    s.mark_sent(&[pending[1].seq], now).await.unwrap();
    s.mark_sent(&[], now).await.unwrap();
    assert_eq!(s.pending_events(100).await.unwrap(), pending[3..].to_vec());
    assert_eq!(s.outbox_lag().await.unwrap().0, 1);
    // Sent events are forgotten only once old enough.
    assert_eq!(
        s.purge_sent(now - Duration::from_secs(60)).await.unwrap(),
        0
    );
    assert_eq!(
        s.purge_sent(now + Duration::from_secs(60)).await.unwrap(),
        3
    );
    assert_eq!(s.pending_events(100).await.unwrap(), pending[3..].to_vec());
}

pub async fn a_delivery_is_written_with_its_event_for_each_active_subscriber<F: Factory>() {
    let (_db, stores) = F::open(1).await;
    let s = &*stores[0];
    let (t, other) = (tenant(s, "t").await, tenant(s, "other").await);
    let processed_hook = subscribe(s, t, &["doc.processed"]).await;
    let failed_hook = subscribe(s, t, &["doc.failed"]).await;
    let their_hook = subscribe(s, other, &["doc.processed"]).await;
    upload(s, t, "a.txt").await;
    let job = process_next(s, "hello").await;

    let deliveries = s
        .webhook_deliveries(t, processed_hook.id, 10)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].event_type, "doc.processed");
    assert_eq!(deliveries[0].document_id, job.document_id);
    assert!(
        s.webhook_deliveries(t, failed_hook.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.webhook_deliveries(other, their_hook.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let now = OffsetDateTime::now_utc();
    let due = s
        .claim_deliveries(now, now + Duration::from_secs(30), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].tenant_id, t);
    assert!(due[0].event.contains(&job.document_id.to_string()));
    // Claimed: not handed out twice while the claim holds.
    assert!(
        s.claim_deliveries(now, now + Duration::from_secs(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
