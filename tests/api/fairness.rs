//! Webhook delivery is fair between tenants: a receiver that accepts the connection and never
//! answers holds only its own deliveries; another account's webhook, and that account's
//! retries on their 1 s, 2 s schedule, go out meanwhile, and the hanging account's own retry
//! keeps its schedule too.

use std::time::Duration;

use crate::{
    helpers::{Creds, TestApp, into_json},
    receiver::{BlackHole, Receiver},
};

const WAIT: Duration = Duration::from_secs(20);

async fn configure(app: &TestApp, creds: &Creds, url: &str) {
    let (status, body) = app
        .post(
            "/v1/Configuration/Webhooks",
            creds,
            &[
                ("PostWebhookUrl", url),
                ("Method", "POST"),
                ("Target", "webhook"),
                ("Filters", "onUserAdded"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn create_user(app: &TestApp, creds: &Creds, identity: &str) {
    let response = crate::helpers::send(
        app.client
            .post(format!("{}/v1/Users", app.base))
            .basic_auth(&creds.user, Some(&creds.secret))
            .header("X-Twilio-Webhook-Enabled", "true")
            .form(&[("Identity", identity)]),
    )
    .await;
    let (status, body) = into_json(response).await;
    assert_eq!(status, 201, "{body}");
}

/// (started, finished) of each recorded attempt of `account`, in Unix ms, oldest first, read
/// from the database: an attempt is recorded when it finishes, with its latency.
async fn attempt_times(app: &TestApp, account: &str) -> Vec<(i64, i64)> {
    let store = app.store().await;
    let rows: Vec<(i64, i64)> = localtwilio::store::sql(
        "select attempted_at, latency_ms from webhook_attempts where account_sid = $1 order by id",
    )
    .bind(account)
    .fetch_all(&store)
    .await
    .unwrap();
    store.close().await;
    rows.into_iter()
        .map(|(finished, latency)| (finished - latency, finished))
        .collect()
}

#[tokio::test]
async fn a_black_holed_target_of_one_account_never_delays_another_accounts_webhooks() {
    let app = TestApp::spawn().await;
    let a = app.main();
    let b = app.subaccount(&a, "tenant B").await;
    let hole = BlackHole::start().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    // B's receiver fails twice, so B's retries run while A's attempts hang.
    receiver.answer_first_with(2, 500);
    configure(&app, &a, &hole.url("/never-answers")).await;
    configure(&app, &b, &receiver.url("/b")).await;

    create_user(&app, &a, "a-user").await;
    hole.wait_for(1, WAIT).await; // A's attempt is hanging now
    create_user(&app, &b, "b-user").await;
    let got = receiver.wait_for(1, WAIT).await;
    let a_first = hole.events()[0];
    assert!(a_first.request_at < got[0].at);
    assert!(
        a_first.closed_at.is_none_or(|closed| got[0].at < closed),
        "B's webhook waited until A's hanging attempt was given up"
    );

    // B's retries follow the documented schedule: 1 s after the first failure, 2 s after the
    // second. Lower bounds are exact (never early); the upper bounds are loose, but well
    // below the 5 s a hanging neighbour's attempt takes.
    let got = receiver.wait_for(3, WAIT).await;
    assert_eq!(got[0].body, got[2].body, "the same delivery each time");
    let mut times = attempt_times(&app, &b.user).await;
    for _ in 0..100 {
        if times.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        times = attempt_times(&app, &b.user).await;
    }
    assert_eq!(times.len(), 3, "{times:?}");
    for (n, backoff) in [(1, 1000), (2, 2000)] {
        let gap = times[n].0 - times[n - 1].1;
        assert!(
            gap >= backoff - 50 && gap < backoff + 2500,
            "retry {n} came {gap} ms after the failure, not ~{backoff} ms: {times:?}"
        );
    }
    // A's own retry comes 1 s after its hanging attempt was given up (5 s), not later.
    let held = hole.wait_for(2, WAIT).await;
    let given_up = held[0].closed_at.expect("the first attempt was given up");
    let retry = held[1].request_at.duration_since(given_up);
    assert!(
        retry >= Duration::from_millis(900) && retry < Duration::from_millis(3500),
        "A's retry came {retry:?} after its failure, not ~1 s"
    );
}
