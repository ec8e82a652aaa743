//! Several instances on one PostgreSQL database behave as one server (issue 16): two servers
//! in this process on one database, as two instances behind a load balancer would be. Each
//! test passes as skipped on SQLite (one server per file there: `startup.rs` checks the lock).

use std::{collections::BTreeSet, time::Duration};

use localtwilio::{Config, Server, domain::accounts::Bootstrap, store::Store};

use crate::{
    helpers::{Creds, MAIN_SID, MAIN_TOKEN, TestApp, config, into_json, postgres, send},
    receiver::Receiver,
};

/// Whether this run is on PostgreSQL; says so when it is not.
fn on_postgres() -> bool {
    let on = postgres::enabled();
    if !on {
        eprintln!("skipped: several instances share only a PostgreSQL database");
    }
    on
}

/// How long another instance may keep serving a revoked credential (issue 16: within 1 s).
const REVOCATION_BOUND: Duration = Duration::from_secs(1);

/// Polls `path` with `creds` on `app` until it answers 401; the time that took.
async fn refused_within(app: &TestApp, path: &str, creds: &Creds) -> Option<Duration> {
    let start = std::time::Instant::now();
    while start.elapsed() <= REVOCATION_BOUND {
        if app.get(path, creds).await.0 == 401 {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test]
async fn what_one_instance_creates_the_other_serves() {
    if !on_postgres() {
        return;
    }
    let a = TestApp::spawn().await;
    let b = a.beside().await;
    let sub = a.subaccount(&a.main(), "made on A").await;
    let (status, user) = a
        .post("/v1/Users", &a.main(), &[("Identity", "alice")])
        .await;
    assert_eq!(status, 201, "{user}");
    let (status, account) = b
        .get(
            &format!("/2010-04-01/Accounts/{}.json", sub.user),
            &b.main(),
        )
        .await;
    assert_eq!(
        (status.as_u16(), account["friendly_name"].as_str()),
        (200, Some("made on A"))
    );
    // The subaccount's own credentials work on B too.
    assert_eq!(b.get("/v1/Users", &sub).await.0, 200);
    let (status, fetched) = b.get("/v1/Users/alice", &b.main()).await;
    assert_eq!((status.as_u16(), &fetched["sid"]), (200, &user["sid"]));
    // The database decides uniqueness, whichever instance asks.
    let (status, body) = b
        .post("/v1/Users", &b.main(), &[("Identity", "alice")])
        .await;
    assert_eq!((status.as_u16(), body["code"].as_u64()), (409, Some(50201)));
}

#[tokio::test]
async fn a_key_deleted_or_an_account_suspended_on_one_instance_is_refused_by_the_other_within_a_second()
 {
    if !on_postgres() {
        return;
    }
    let a = TestApp::spawn().await;
    let b = a.beside().await;
    let (status, key) = a
        .post(
            &format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json"),
            &a.main(),
            &[("FriendlyName", "ci")],
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let key = Creds::new(
        key["sid"].as_str().unwrap(),
        key["secret"].as_str().unwrap(),
    );
    let sub = a.subaccount(&a.main(), "to suspend").await;
    // Both verified on B, so B has them cached.
    for creds in [&key, &sub] {
        assert_eq!(b.get("/v1/Users", creds).await.0, 200);
        assert_eq!(b.get("/v1/Users", creds).await.0, 200);
    }

    let (status, _) = a
        .delete(
            &format!("/2010-04-01/Accounts/{MAIN_SID}/Keys/{}.json", key.user),
            &a.main(),
        )
        .await;
    assert_eq!(status, 204);
    let took = refused_within(&b, "/v1/Users", &key).await;
    assert!(took.is_some(), "B still serves the deleted key after 1 s");

    let (status, body) = a
        .post(
            &format!("/2010-04-01/Accounts/{}.json", sub.user),
            &a.main(),
            &[("Status", "suspended")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let took = refused_within(&b, "/v1/Users", &sub).await;
    assert!(
        took.is_some(),
        "B still serves the suspended account after 1 s"
    );
    // The main account's own token still works everywhere.
    assert_eq!(b.get("/v1/Users", &b.main()).await.0, 200);
}

#[tokio::test]
async fn two_hundred_webhooks_from_two_instances_arrive_exactly_once_each() {
    if !on_postgres() {
        return;
    }
    let a = TestApp::spawn().await;
    let b = a.beside().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    let url = receiver.url("/hooks");
    let (status, body) = a
        .post(
            "/v1/Configuration/Webhooks",
            &a.main(),
            &[
                ("PostWebhookUrl", url.as_str()),
                ("Method", "POST"),
                ("Target", "webhook"),
                ("Filters", "onUserAdded"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Half the users through each instance, 20 at a time, both workers claiming from the one
    // queue.
    let mut sids = BTreeSet::new();
    for batch in 0..10 {
        let mut creates = tokio::task::JoinSet::new();
        for n in batch * 20..(batch + 1) * 20 {
            let app = if n % 2 == 0 { &a } else { &b };
            let request = app
                .client
                .post(format!("{}/v1/Users", app.base))
                .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                .header("X-Twilio-Webhook-Enabled", "true")
                .form(&[("Identity", format!("user-{n}"))]);
            creates.spawn(async move { into_json(send(request).await).await });
        }
        for (status, user) in creates.join_all().await {
            assert_eq!(status, 201, "{user}");
            sids.insert(user["sid"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(sids.len(), 200);
    let got = receiver.wait_for(200, Duration::from_secs(60)).await;
    // Nothing more comes: no delivery was sent by both workers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_all = receiver.received();
    assert_eq!(got_all.len(), 200, "each delivery exactly once");
    let delivered: BTreeSet<String> = got.iter().map(|r| r.param("UserSid").unwrap()).collect();
    assert_eq!(delivered, sids);
}

#[tokio::test]
async fn a_dead_instances_claims_are_taken_by_another_once_their_lease_runs_out() {
    if !on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let database = config(dir.path()).database;
    let (first, second) = (
        Store::open_existing(&database, 0).await.unwrap(),
        Store::open_existing(&database, 0).await.unwrap(),
    );
    for n in 0..4 {
        localtwilio::store::Sql::new(
            "insert into webhook_deliveries (account_sid, event_type, url, method, params, \
             status, next_attempt_at, created_at) \
             values ('AC1', 'onUserAdded', $1, 'POST', '[]', 'pending', 0, 0)",
        )
        .bind(format!("http://hole/{n}"))
        .execute(&first)
        .await
        .unwrap();
    }
    // The first instance claims everything until t=1000 and then dies without recording.
    let claimed = first
        .claim_due_deliveries(1, 1_000, 4, 16, 100)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 4);
    first.close().await;
    // While the lease holds, the second takes nothing; once it ran out, it takes them all.
    let early = second
        .claim_due_deliveries(500, 60_000, 4, 16, 100)
        .await
        .unwrap();
    assert!(early.is_empty(), "{early:?}");
    let late = second
        .claim_due_deliveries(1_001, 60_000, 4, 16, 100)
        .await
        .unwrap();
    let ids = |rows: &[localtwilio::store::webhooks::DeliveryRow]| {
        rows.iter().map(|d| d.id).collect::<BTreeSet<_>>()
    };
    assert_eq!(ids(&late), ids(&claimed));
    second.close().await;
    postgres::drop_database_for(dir.path());
}

#[tokio::test]
async fn instances_starting_at_the_same_moment_create_one_main_account() {
    if !on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = config(dir.path());
    let generated = |base: &Config| {
        let mut config = base.clone();
        // Each instance would generate a different main account.
        config.account_sid = String::new();
        config.auth_token = String::new();
        config
    };
    let (one, two) = (generated(&base), generated(&base));
    let (first, second) = tokio::join!(Server::open(&one), Server::open(&two));
    let (first, second) = (first.unwrap(), second.unwrap());
    let store = Store::open_existing(&base.database, 0).await.unwrap();
    let accounts: i64 = localtwilio::store::sql("select count(*) from accounts")
        .fetch_scalar(&store)
        .await
        .unwrap();
    assert_eq!(accounts, 1, "exactly one main account");
    let services: i64 = localtwilio::store::sql("select count(*) from conversation_services")
        .fetch_scalar(&store)
        .await
        .unwrap();
    assert_eq!(services, 1, "and one default service");
    store.close().await;
    let created =
        [&first, &second].map(|server| matches!(server.bootstrap, Bootstrap::Created { .. }));
    assert_eq!(
        created.iter().filter(|c| **c).count(),
        1,
        "one instance reports creating it"
    );
    drop((first, second));
    postgres::drop_database_for(dir.path());
}
