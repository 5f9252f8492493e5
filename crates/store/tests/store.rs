//! The store's test suite, run on SQLite and on PostgreSQL (`sqlite::…` and `postgres::…`).

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::TestDb;
use compute_core::payment::{RailInfo, Verified};
use compute_core::provider::ProviderId;
use compute_core::{ErrorKind, TokenAmount, Usd, WalletAddress};
use compute_store::{
    Claim, DueCursor, DueQuery, IdempotencyStart, IdempotentAnswer, NewCredit, NewPayment, NewResource, PaymentLease,
    PaymentStatus, ResourceKind, ResourceState, ResourceUpdate, Store, StoredResponse,
};

fn wallet(n: u8) -> WalletAddress {
    format!("0x{:040x}", n).parse().unwrap()
}

fn usd(s: &str) -> Usd {
    s.parse().unwrap()
}

fn machine(owner: WalletAddress, name: &str) -> NewResource {
    NewResource {
        kind: ResourceKind::Machine,
        owner,
        provider: ProviderId::Fly,
        provider_id: None,
        tenant: Some("cg-tenant".into()),
        name: name.into(),
        region: Some("sjc".into()),
        state: ResourceState::Creating,
        spec: serde_json::json!({"image": "ubuntu:latest"}),
        price: usd("0.11"),
        paid_until: Some(Utc::now() + Duration::minutes(10)),
        payment_id: None,
    }
}

fn verified(fingerprint: &str, payer: WalletAddress) -> Verified {
    Verified {
        rail: RailInfo {
            rail: "tempo".into(),
            network: "1337".into(),
            asset: "0x20c0000000000000000000000000000000000000".into(),
            decimals: 6,
        },
        payer,
        amount: TokenAmount { base_units: 110_000, decimals: 6 },
        amount_usd: usd("0.11"),
        fingerprint: fingerprint.into(),
        challenge_id: Some("ch_1".into()),
        settlement: serde_json::json!({}),
        valid_until: None,
    }
}

async fn migrations_are_idempotent(db: &TestDb) {
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
}

async fn resources_are_scoped_to_their_owner(db: &TestDb) {
    let s = &db.store;
    let (alice, bob) = (wallet(1), wallet(2));
    let r = s.insert_resource(machine(alice.clone(), "m1")).await.unwrap();
    assert_eq!(r.owner, alice);
    assert_eq!(r.price, usd("0.11"));
    assert_eq!(s.resource_for_owner(&r.id, &alice).await.unwrap(), r);
    assert_eq!(s.resource_for_owner(&r.id, &bob).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(s.list_resources(&bob, ResourceKind::Machine).await.unwrap().is_empty());
    assert_eq!(s.list_resources(&alice, ResourceKind::Machine).await.unwrap().len(), 1);

    let r = s
        .update_resource(&r.id, ResourceUpdate::state(ResourceState::Running).provider_id("e286de4f711e86"))
        .await
        .unwrap();
    assert_eq!(s.resource_by_provider_id(ProviderId::Fly, "e286de4f711e86", &alice).await.unwrap().id, r.id);
    assert!(s.resource_by_provider_id(ProviderId::Fly, "e286de4f711e86", &bob).await.is_err());
    // The same provider resource cannot be recorded twice.
    let mut dup = machine(alice.clone(), "m2");
    dup.provider_id = Some("e286de4f711e86".into());
    assert_eq!(s.insert_resource(dup).await.unwrap_err().kind(), ErrorKind::AlreadyExists);

    let (kinds, states) = ([ResourceKind::Machine], [ResourceState::Running]);
    let later = DueQuery { kinds: &kinds, states: &states, at: Utc::now() + Duration::minutes(11), providers: &[] };
    let due = s.resources_due(&later, None, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.id.clone()).collect::<Vec<_>>(), vec![r.id.clone()]);
    let cursor = DueCursor::after(&due[0]).unwrap();
    assert!(s.resources_due(&later, Some(&cursor), 10).await.unwrap().is_empty(), "the cursor is past the only row");
    let now = DueQuery { at: Utc::now(), ..later };
    assert!(s.resources_due(&now, None, 10).await.unwrap().is_empty());
    let volumes = DueQuery { kinds: &[ResourceKind::Volume], ..later };
    assert!(s.resources_due(&volumes, None, 10).await.unwrap().is_empty(), "another kind");
    let elsewhere = DueQuery { providers: &[ProviderId::Digitalocean], ..later };
    assert!(s.resources_due(&elsewhere, None, 10).await.unwrap().is_empty(), "another provider");
    let here = DueQuery { providers: &[ProviderId::Fly], ..later };
    assert_eq!(s.resources_due(&here, None, 10).await.unwrap().len(), 1);

    s.update_resource(&r.id, ResourceUpdate::state(ResourceState::Destroyed)).await.unwrap();
    assert!(s.list_resources(&alice, ResourceKind::Machine).await.unwrap().is_empty());
}

async fn a_credential_fingerprint_is_recorded_once(db: &TestDb) {
    let s = &db.store;
    let p = s
        .record_payment(NewPayment {
            verified: verified("fp-1", wallet(1)),
            route: "POST /api/machines".into(),
            idempotency: None,
        })
        .await
        .unwrap();
    assert_eq!(p.status, PaymentStatus::Verified);
    assert_eq!(p.amount.base_units, 110_000);
    let again = s
        .record_payment(NewPayment {
            verified: verified("fp-1", wallet(3)),
            route: "POST /api/machines".into(),
            idempotency: None,
        })
        .await;
    assert_eq!(again.unwrap_err().kind(), ErrorKind::AlreadyExists);

    let store = Arc::new(s.clone());
    let tasks = (0..50).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .record_payment(NewPayment {
                    verified: verified("fp-race", wallet(1)),
                    route: "r".into(),
                    idempotency: None,
                })
                .await
        })
    });
    let results = futures::future::join_all(tasks).await;
    let ok = results.iter().filter(|r| r.as_ref().unwrap().is_ok()).count();
    assert_eq!(ok, 1, "exactly one of 50 concurrent inserts wins");

    let p = s.set_payment_status(&p.id, PaymentStatus::Unknown, Some("0xabc")).await.unwrap();
    assert_eq!((p.status, p.tx_reference.as_deref()), (PaymentStatus::Unknown, Some("0xabc")));
    assert_eq!(s.payments_with_status(PaymentStatus::Unknown, 100).await.unwrap().len(), 1);
    // Compare-and-set: of 10 concurrent transitions unknown → refunded, one wins.
    let store = Arc::new(s.clone());
    let tasks = (0..10).map(|_| {
        let (store, id) = (store.clone(), p.id.clone());
        tokio::spawn(async move {
            store.transition_payment(&id, PaymentStatus::Unknown, PaymentStatus::Refunded).await.unwrap()
        })
    });
    let wins = futures::future::join_all(tasks).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1);
    assert!(s.payments_with_status(PaymentStatus::Unknown, 100).await.unwrap().is_empty());
    assert_eq!(s.payment_by_fingerprint("fp-1").await.unwrap().unwrap().id, p.id);
    assert!(s.payment_by_fingerprint("nope").await.unwrap().is_none());
}

fn credit(w: &WalletAddress, amount: &str, reason: &str) -> NewCredit {
    NewCredit { wallet: w.clone(), amount: usd(amount), reason: reason.into(), payment_id: None, resource_id: None }
}

async fn the_credit_ledger_never_overdraws(db: &TestDb) {
    let s = &db.store;
    let w = wallet(7);
    assert_eq!(s.credit_balance(&w).await.unwrap(), Usd::ZERO);
    s.add_credit(credit(&w, "1.00", "refund")).await.unwrap();
    s.spend_credit(credit(&w, "0.30", "spend")).await.unwrap();
    let e = s.spend_credit(credit(&w, "0.80", "spend")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PaymentRequired);
    assert_eq!(s.credit_balance(&w).await.unwrap(), usd("0.7"));
    let h = s.credit_history(&w).await.unwrap();
    assert_eq!(
        h.iter().map(|e| (e.seq, e.delta.to_string())).collect::<Vec<_>>(),
        vec![(1, "1".into()), (2, "-0.3".into())]
    );

    // 20 concurrent spends of $0.05 against $0.70: exactly 14 succeed, the balance ends at 0.
    let store = Arc::new(s.clone());
    let tasks = (0..20).map(|_| {
        let (store, w) = (store.clone(), w.clone());
        tokio::spawn(async move { store.spend_credit(credit(&w, "0.05", "spend")).await })
    });
    let ok = futures::future::join_all(tasks).await.into_iter().filter(|r| r.as_ref().unwrap().is_ok()).count();
    assert_eq!(ok, 14);
    assert_eq!(s.credit_balance(&w).await.unwrap(), Usd::ZERO);
    assert_eq!(s.credit_history(&w).await.unwrap().len(), 16);
}

async fn idempotency_keys_replay_or_conflict(db: &TestDb) {
    let s = &db.store;
    let exp = Utc::now() + Duration::hours(24);
    assert_eq!(s.start_idempotent("w1", "k1", "fp-a", None, exp).await.unwrap(), IdempotencyStart::Started);
    assert_eq!(s.start_idempotent("w1", "k1", "fp-a", None, exp).await.unwrap(), IdempotencyStart::InProgress);
    assert_eq!(s.start_idempotent("w1", "k1", "fp-b", None, exp).await.unwrap(), IdempotencyStart::Mismatch);
    // Other scope, same key: independent.
    assert_eq!(s.start_idempotent("w2", "k1", "fp-b", None, exp).await.unwrap(), IdempotencyStart::Started);
    let resp = StoredResponse {
        status: 201,
        headers: vec![("payment-receipt".into(), "abc".into())],
        body: b"{\"id\":1}".to_vec(),
    };
    s.complete_idempotent("w1", "k1", &resp).await.unwrap();
    assert_eq!(s.start_idempotent("w1", "k1", "fp-a", None, exp).await.unwrap(), IdempotencyStart::Completed(resp));
    // Release only drops unfinished keys.
    s.release_idempotent("w1", "k1").await.unwrap();
    assert!(matches!(s.start_idempotent("w1", "k1", "fp-a", None, exp).await.unwrap(), IdempotencyStart::Completed(_)));
    s.release_idempotent("w2", "k1").await.unwrap();
    assert_eq!(s.start_idempotent("w2", "k1", "fp-c", None, exp).await.unwrap(), IdempotencyStart::Started);
    // Expired keys are taken over.
    let past = Utc::now() - Duration::seconds(1);
    assert_eq!(s.start_idempotent("w3", "k", "fp-a", None, past).await.unwrap(), IdempotencyStart::Started);
    assert_eq!(s.start_idempotent("w3", "k", "fp-b", None, exp).await.unwrap(), IdempotencyStart::Started);
}

async fn stale_keys_are_released_unless_a_payment_in_flight_holds_them(db: &TestDb) {
    let s = &db.store;
    let exp = Utc::now() + Duration::hours(1);
    for k in ["crashed", "verified", "settled", "delivered", "answered"] {
        assert_eq!(s.start_idempotent("w6", k, "req", None, exp).await.unwrap(), IdempotencyStart::Started);
    }
    let pay = |fp: &str, k: &str| NewPayment {
        verified: verified(fp, wallet(6)),
        route: "POST /x".into(),
        idempotency: Some(("w6".into(), k.into())),
    };
    s.record_payment(pay("fp-s1", "verified")).await.unwrap();
    let settled = s.record_payment(pay("fp-s2", "settled")).await.unwrap();
    s.set_payment_status(&settled.id, PaymentStatus::Settled, Some("0xs2")).await.unwrap();
    let delivered = s.record_payment(pay("fp-s3", "delivered")).await.unwrap();
    s.set_payment_status(&delivered.id, PaymentStatus::Settled, Some("0xs3")).await.unwrap();
    s.set_payment_status(&delivered.id, PaymentStatus::Delivered, None).await.unwrap();
    let resp = StoredResponse { status: 201, headers: vec![], body: b"{}".to_vec() };
    s.complete_idempotent("w6", "answered", &resp).await.unwrap();

    assert_eq!(s.release_stale_idempotent(Utc::now() - Duration::seconds(30)).await.unwrap(), 0, "none is stale yet");
    assert_eq!(s.release_stale_idempotent(Utc::now() + Duration::seconds(1)).await.unwrap(), 2);
    let again = |k: &'static str| async move { s.start_idempotent("w6", k, "req", None, exp).await.unwrap() };
    assert_eq!(again("crashed").await, IdempotencyStart::Started, "no payment: the request died before paying");
    assert_eq!(again("delivered").await, IdempotencyStart::Started, "its payment ended");
    assert_eq!(again("verified").await, IdempotencyStart::InProgress, "a live request may still hold it");
    assert_eq!(again("settled").await, IdempotencyStart::InProgress, "a long provider create outlives the limit");
    assert_eq!(again("answered").await, IdempotencyStart::Completed(resp));
}

async fn replay_markers_are_claimed_once_across_processes(db: &TestDb) {
    let s = &db.store;
    let exp = Utc::now() + Duration::minutes(5);
    // A second connection pool to the same database stands in for a second gateway process.
    let other = Store::connect(&db.url).await.unwrap();
    let stores = [Arc::new(s.clone()), Arc::new(other)];
    let tasks = (0..50).map(|i| {
        let store = stores[i % 2].clone();
        tokio::spawn(async move { store.claim_marker("mpp:charge:0xfeed", None, exp).await.unwrap() })
    });
    let wins = futures::future::join_all(tasks).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1);

    // Expired markers can be claimed again; live ones cannot.
    assert!(s.claim_marker("k-exp", None, Utc::now() - Duration::seconds(1)).await.unwrap());
    assert_eq!(s.get_marker("k-exp").await.unwrap(), None);
    assert!(s.claim_marker("k-exp", Some("v"), exp).await.unwrap());
    assert_eq!(s.get_marker("k-exp").await.unwrap(), Some(Some("v".into())));

    // put / compare-exchange / delete.
    s.put_marker("cx", Some("1"), exp).await.unwrap();
    s.put_marker("cx", Some("2"), exp).await.unwrap();
    assert!(!s.compare_exchange_marker("cx", Some("1"), Some("3"), exp).await.unwrap());
    assert!(s.compare_exchange_marker("cx", Some("2"), Some("3"), exp).await.unwrap());
    assert!(!s.compare_exchange_marker("cx", None, Some("4"), exp).await.unwrap());
    assert!(s.compare_exchange_marker("cx", Some("3"), None, exp).await.unwrap());
    assert_eq!(s.get_marker("cx").await.unwrap(), None);
    assert!(s.compare_exchange_marker("cx", None, Some("5"), exp).await.unwrap());
    s.delete_marker("cx").await.unwrap();
    assert_eq!(s.get_marker("cx").await.unwrap(), None);

    s.claim_marker("old", None, Utc::now() - Duration::seconds(5)).await.unwrap();
    assert!(s.purge_expired().await.unwrap() >= 1);
}

async fn api_keys_are_hashed_and_revocable(db: &TestDb) {
    use compute_core::http::{ExposeSecret, SecretString};
    let s = &db.store;
    let owner = wallet(9);
    let created = s.create_api_key(&owner, "agent", None).await.unwrap();
    assert!(created.key.expose_secret().starts_with(compute_store::KEY_PREFIX));
    assert!(!format!("{created:?}").contains(created.key.expose_secret()));
    assert_eq!(s.api_key_owner(&created.key).await.unwrap(), Some(owner.clone()));
    assert_eq!(s.api_key_owner(&SecretString::from("cgk_wrong")).await.unwrap(), None);
    assert_eq!(s.list_api_keys(&owner).await.unwrap().len(), 1);
    assert_eq!(s.revoke_api_key(&wallet(8), &created.record.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    s.revoke_api_key(&owner, &created.record.id).await.unwrap();
    assert_eq!(s.api_key_owner(&created.key).await.unwrap(), None);
}

async fn leases_are_held_once_until_released_or_expired(db: &TestDb) {
    let s = &db.store;
    let ttl = std::time::Duration::from_secs(60);
    assert!(s.try_lease("expiry:r1", "a", ttl).await.unwrap());
    assert!(!s.try_lease("expiry:r1", "b", ttl).await.unwrap(), "held by a");
    s.release_lease("expiry:r1", "b").await.unwrap();
    assert!(!s.try_lease("expiry:r1", "b", ttl).await.unwrap(), "only the holder releases");
    s.release_lease("expiry:r1", "a").await.unwrap();
    assert!(s.try_lease("expiry:r1", "b", ttl).await.unwrap());
    assert!(s.try_lease("expiry:r2", "a", std::time::Duration::ZERO).await.unwrap());
    assert!(s.try_lease("expiry:r2", "b", ttl).await.unwrap(), "an expired lease is free");
    let tasks = (0..10).map(|i| {
        let s = s.clone();
        tokio::spawn(async move { s.try_lease("expiry:race", &format!("h{i}"), ttl).await.unwrap() })
    });
    let won = futures::future::join_all(tasks).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(won, 1, "one of ten concurrent takers");
}

async fn a_payment_and_its_lease_are_written_and_ended_together(db: &TestDb) {
    let s = &db.store;
    let ttl = std::time::Duration::from_secs(60);
    let new = |fp: &str, k: &str| NewPayment {
        verified: verified(fp, wallet(4)),
        route: "POST /x".into(),
        idempotency: Some(("w4".into(), k.into())),
    };
    let lease = PaymentLease { key: "payment:fp-l", holder: "req-1" };
    let (p, leased) = s.record_payment_leased(new("fp-l", "k1"), lease, ttl).await.unwrap();
    assert!(leased);
    assert!(!s.try_lease("payment:fp-l", "recovery", ttl).await.unwrap(), "leased with the row");
    // A replay writes nothing: no second row, and the live request's lease stays its own.
    let replay = PaymentLease { key: "payment:fp-l", holder: "req-2" };
    let e = s.record_payment_leased(new("fp-l", "k2"), replay, ttl).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    s.release_lease("payment:fp-l", "req-2").await.unwrap();
    assert!(!s.try_lease("payment:fp-l", "recovery", ttl).await.unwrap());

    let exp = Utc::now() + Duration::hours(1);
    assert_eq!(s.start_idempotent("w4", "k1", "req", None, exp).await.unwrap(), IdempotencyStart::Started);
    let resp = StoredResponse { status: 201, headers: vec![], body: b"{}".to_vec() };
    let answer = IdempotentAnswer { scope: "w4", key: "k1", response: &resp };
    assert!(!s.finish_delivered(&p.id, Some(answer), lease).await.unwrap(), "not settled yet: no move");
    s.set_payment_status(&p.id, PaymentStatus::Settled, Some("0xfp-l")).await.unwrap();
    let lease = PaymentLease { key: "payment:fp-l2", holder: "req-3" };
    let (p2, _) = s.record_payment_leased(new("fp-l2", "k3"), lease, ttl).await.unwrap();
    s.set_payment_status(&p2.id, PaymentStatus::Settled, Some("0xfp-l2")).await.unwrap();
    assert!(s.finish_delivered(&p2.id, None, lease).await.unwrap());
    assert!(s.try_lease("payment:fp-l2", "recovery", ttl).await.unwrap(), "released with the delivery");
    let (w, k) = ("w4", "k1");
    assert_eq!(
        s.start_idempotent(w, k, "req", None, exp).await.unwrap(),
        IdempotencyStart::Completed(resp.clone()),
        "the first call stored its answer, though the payment had not moved"
    );
    let lease = PaymentLease { key: "payment:fp-l", holder: "req-1" };
    assert!(s.finish_delivered(&p.id, Some(answer), lease).await.unwrap());
    let found = s.payment_by_fingerprint("fp-l").await.unwrap().unwrap();
    assert_eq!(found.status, PaymentStatus::Delivered);
    assert!(s.try_lease("payment:fp-l", "recovery", ttl).await.unwrap(), "released with the delivery");
    // A key released meanwhile (its request outlived the stale limit) does not undo a delivery.
    let lease = PaymentLease { key: "payment:fp-l3", holder: "req-4" };
    let (p3, _) = s.record_payment_leased(new("fp-l3", "gone"), lease, ttl).await.unwrap();
    s.set_payment_status(&p3.id, PaymentStatus::Settled, Some("0xfp-l3")).await.unwrap();
    let gone = IdempotentAnswer { scope: "w4", key: "gone", response: &resp };
    assert!(s.finish_delivered(&p3.id, Some(gone), lease).await.unwrap());
}

async fn one_of_many_concurrent_leased_records_wins_across_processes(db: &TestDb) {
    // Two processes (two pools), 20 requests carrying one credential; each winner releases its
    // lease at once, so late requests find the lease free and the row taken.
    let other = Store::connect(&db.url).await.unwrap();
    let stores = [db.store.clone(), other];
    let ttl = std::time::Duration::from_secs(60);
    let tasks = (0..20).map(|i| {
        let store = stores[i % 2].clone();
        tokio::spawn(async move {
            let holder = format!("req-{i}");
            let lease = PaymentLease { key: "payment:fp-storm", holder: &holder };
            let new =
                NewPayment { verified: verified("fp-storm", wallet(5)), route: "POST /x".into(), idempotency: None };
            let res = store.record_payment_leased(new, lease, ttl).await;
            if res.is_ok() {
                store.release_lease(lease.key, lease.holder).await.unwrap();
            }
            res.map(|_| ()).map_err(|e| e.kind())
        })
    });
    let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().all(|r| matches!(r, Ok(()) | Err(ErrorKind::AlreadyExists))), "{results:?}");
}

async fn a_replay_during_a_delivery_commit_is_refused_without_deadlock(db: &TestDb) {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let s = &db.store;
    let ttl = std::time::Duration::from_secs(60);
    let new = || NewPayment { verified: verified("fp-dl", wallet(6)), route: "POST /x".into(), idempotency: None };
    let lease = PaymentLease { key: "payment:fp-dl", holder: "req-1" };
    let (p, _) = s.record_payment_leased(new(), lease, ttl).await.unwrap();
    // The winner's delivery commit, as `finish_delivered` orders it: the payment row, then
    // the lease; a replay arrives between the two.
    let other = Store::connect(&db.url).await.unwrap();
    let txn = s.connection().begin().await.unwrap();
    let sql = format!("UPDATE payments SET status = 'delivered' WHERE id = '{}'", p.id);
    txn.execute_unprepared(&sql).await.unwrap();
    let replay = tokio::spawn(async move {
        let lease = PaymentLease { key: "payment:fp-dl", holder: "req-2" };
        other.record_payment_leased(new(), lease, ttl).await.map(|_| ()).map_err(|e| e.kind())
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    txn.execute_unprepared("DELETE FROM leases WHERE key = 'payment:fp-dl' AND holder = 'req-1'").await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(replay.await.unwrap(), Err(ErrorKind::AlreadyExists));
}

async fn a_transaction_reference_is_recorded_once(db: &TestDb) {
    let s = &db.store;
    let a = s
        .record_payment(NewPayment { verified: verified("fp-a", wallet(3)), route: "GET /x".into(), idempotency: None })
        .await
        .unwrap();
    let b = s
        .record_payment(NewPayment { verified: verified("fp-b", wallet(3)), route: "GET /x".into(), idempotency: None })
        .await
        .unwrap();
    s.set_payment_status(&a.id, PaymentStatus::Unknown, Some("0xtx")).await.unwrap();
    // Two credentials for one on-chain transaction: the second cannot claim the same reference.
    let e = s.set_payment_status(&b.id, PaymentStatus::Unknown, Some("0xtx")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
}

async fn a_stored_answer_is_found_by_the_credential_that_paid_it(db: &TestDb) {
    let s = &db.store;
    let exp = Utc::now() + Duration::hours(1);
    assert_eq!(s.start_idempotent("w1", "k", "fp", Some("cred-1"), exp).await.unwrap(), IdempotencyStart::Started);
    assert_eq!(s.answer_for_credential("k", "cred-1").await.unwrap(), None, "in progress");
    let resp = StoredResponse { status: 200, headers: vec![], body: b"{}".to_vec() };
    s.complete_idempotent("w1", "k", &resp).await.unwrap();
    assert_eq!(s.answer_for_credential("k", "cred-1").await.unwrap(), Some(resp));
    assert_eq!(s.answer_for_credential("k", "cred-2").await.unwrap(), None, "another credential");
    assert_eq!(s.answer_for_credential("other", "cred-1").await.unwrap(), None, "another key");
}

async fn api_keys_expire_and_server_secrets_are_shared(db: &TestDb) {
    let s = &db.store;
    let owner = wallet(7);
    let old = s.create_api_key(&owner, "old", Some(Utc::now() - Duration::seconds(1))).await.unwrap();
    let new = s.create_api_key(&owner, "new", Some(Utc::now() + Duration::hours(1))).await.unwrap();
    assert_eq!(s.api_key_owner(&old.key).await.unwrap(), None, "an expired key");
    assert_eq!(s.api_key_owner(&new.key).await.unwrap(), Some(owner.clone()));
    assert_eq!(s.live_api_keys(&owner).await.unwrap(), 1);
    use compute_core::http::ExposeSecret;
    let a = s.server_secret("tenancy").await.unwrap();
    let b = s.server_secret("tenancy").await.unwrap();
    assert_eq!(a.expose_secret(), b.expose_secret());
    assert_eq!(a.expose_secret().len(), 64);
    assert_ne!(s.server_secret("other").await.unwrap().expose_secret(), a.expose_secret());
}

async fn resource_transitions_are_compare_and_set_on_paid_time(db: &TestDb) {
    let s = &db.store;
    let r = s.insert_resource(machine(wallet(2), "m-cas")).await.unwrap();
    let r = s.update_resource(&r.id, ResourceUpdate::state(ResourceState::Running)).await.unwrap();
    let t = r.paid_until;
    // The owner paid for more time: a worker holding the old paid_until loses.
    s.update_resource(&r.id, ResourceUpdate::default().paid_until(Utc::now() + Duration::hours(1))).await.unwrap();
    assert!(!s.transition_resource(&r.id, t, &[ResourceState::Running], ResourceState::Stopped).await.unwrap());
    let now = s.resource(&r.id).await.unwrap();
    assert!(
        s.transition_resource(&r.id, now.paid_until, &[ResourceState::Running], ResourceState::Stopped).await.unwrap()
    );
    assert!(
        !s.transition_resource(&r.id, now.paid_until, &[ResourceState::Running], ResourceState::Stopped).await.unwrap()
    );
}

async fn due_rows_are_claimed_once_across_processes_earliest_first(db: &TestDb) {
    let s = &db.store;
    let t0 = Utc::now() - Duration::minutes(30);
    let mut due_ids = Vec::new();
    for n in 0..40 {
        let mut m = machine(wallet(3), &format!("due-{n}"));
        m.state = ResourceState::Running;
        m.paid_until = Some(t0 + Duration::seconds(n));
        due_ids.push(s.insert_resource(m).await.unwrap().id);
    }
    let mut renewed = machine(wallet(3), "renewed");
    renewed.state = ResourceState::Running;
    let renewed = s.insert_resource(renewed).await.unwrap();
    let mut suspended = machine(wallet(3), "suspended");
    suspended.state = ResourceState::Suspended;
    suspended.paid_until = Some(t0);
    let suspended = s.insert_resource(suspended).await.unwrap();

    let due = DueQuery {
        kinds: &[ResourceKind::Machine],
        states: &[ResourceState::Running],
        at: Utc::now(),
        providers: &[ProviderId::Fly],
    };
    // Earliest first, skipping the rows named, after the cursor; returned as they were.
    let skip = vec![due_ids[0].clone()];
    let first = Claim { due, to: ResourceState::Stopped, after: None, skip: &skip, limit: 3 };
    let got = s.claim_due(&first).await.unwrap();
    assert_eq!(got.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), due_ids[1..4].to_vec());
    assert!(got.iter().all(|r| r.state == ResourceState::Running), "rows are returned in their claimed-from state");
    assert_eq!(s.resource(&due_ids[2]).await.unwrap().state, ResourceState::Stopped);
    let cursor = DueCursor::after(&got[2]).unwrap();
    let next = s.claim_due(&Claim { after: Some(&cursor), limit: 1, ..first }).await.unwrap();
    assert_eq!(next[0].id, due_ids[4]);

    // Four claimers on two connection pools (two processes) share the rest without overlap.
    let other = Store::connect(&db.url).await.unwrap();
    let stores = [Arc::new(s.clone()), Arc::new(other)];
    let tasks = (0..4).map(|i| {
        let store = stores[i % 2].clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claim = Claim { due, to: ResourceState::Stopped, after: None, skip: &[], limit: 2 };
                let batch = store.claim_due(&claim).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|r| r.id));
            }
        })
    });
    let mut claimed: Vec<String> =
        futures::future::join_all(tasks).await.into_iter().flat_map(Result::unwrap).collect();
    claimed.sort();
    let mut rest = [&due_ids[..1], &due_ids[5..]].concat();
    rest.sort();
    assert_eq!(claimed, rest, "every due row is claimed exactly once");
    assert_eq!(s.resource(&renewed.id).await.unwrap().state, ResourceState::Running, "not due: not claimed");
    assert_eq!(s.resource(&suspended.id).await.unwrap().state, ResourceState::Suspended, "another state");

    // Rows of several states at once come back in their own state.
    let both = DueQuery { states: &[ResourceState::Running, ResourceState::Suspended], ..due };
    let last = s.claim_due(&Claim { due: both, ..first }).await.unwrap();
    assert_eq!(
        last.iter().map(|r| (r.id.clone(), r.state)).collect::<Vec<_>>(),
        [(suspended.id, ResourceState::Suspended)]
    );
}

on_both_backends!(
    migrations_are_idempotent,
    a_stored_answer_is_found_by_the_credential_that_paid_it,
    api_keys_expire_and_server_secrets_are_shared,
    resource_transitions_are_compare_and_set_on_paid_time,
    due_rows_are_claimed_once_across_processes_earliest_first,
    a_transaction_reference_is_recorded_once,
    a_payment_and_its_lease_are_written_and_ended_together,
    one_of_many_concurrent_leased_records_wins_across_processes,
    a_replay_during_a_delivery_commit_is_refused_without_deadlock,
    leases_are_held_once_until_released_or_expired,
    resources_are_scoped_to_their_owner,
    a_credential_fingerprint_is_recorded_once,
    the_credit_ledger_never_overdraws,
    idempotency_keys_replay_or_conflict,
    replay_markers_are_claimed_once_across_processes,
    stale_keys_are_released_unless_a_payment_in_flight_holds_them,
    api_keys_are_hashed_and_revocable,
);
