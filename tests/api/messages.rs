//! 2010 Messages through the real server: create and Twilio's refusals, fetch, the simulated
//! status progression, list with filters and paging, redaction, scheduling and cancel, delete,
//! Media, isolation between accounts, and signed status callbacks (also across a restart).

use std::time::Duration;

use serde_json::Value;

use crate::{
    helpers::{Creds, MAIN_SID, MAIN_TOKEN, TestApp, assert_twilio_error},
    receiver::{Receiver, expected_signature},
};

const WAIT: Duration = Duration::from_secs(15);
const TO: &str = "+15558675310";
const FROM: &str = "+15017122661";

fn messages_path(account: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/Messages.json")
}

fn message_path(account: &str, sid: &str) -> String {
    format!("/2010-04-01/Accounts/{account}/Messages/{sid}.json")
}

fn service_sid() -> String {
    format!("MG{}", "b".repeat(32))
}

async fn create(app: &TestApp, creds: &Creds, form: &[(&str, &str)]) -> Value {
    let (status, body) = app.post(&messages_path(&creds.user), creds, form).await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn text(app: &TestApp, to: &str, body: &str) -> Value {
    create(
        app,
        &app.main(),
        &[("To", to), ("From", FROM), ("Body", body)],
    )
    .await
}

/// The message once its status is `want` (polled: the schedule is the server's).
async fn until_status(app: &TestApp, sid: &str, want: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = app.get(&message_path(MAIN_SID, sid), &app.main()).await;
        assert_eq!(status, 200, "{body}");
        if body["status"] == want {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never reached {want}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_created_message_is_queued_then_sent_then_delivered() {
    let app = TestApp::spawn().await;
    let created = create(
        &app,
        &app.main(),
        &[
            ("To", "+1 (555) 867-5310"),
            ("From", FROM),
            ("Body", "Hello! 👍"),
        ],
    )
    .await;
    let sid = created["sid"].as_str().unwrap();
    assert!(sid.starts_with("SM"), "{created}");
    assert_eq!(created["status"], "queued");
    assert_eq!(created["direction"], "outbound-api");
    assert_eq!(
        created["to"], TO,
        "formatting is removed, as Twilio shows E.164"
    );
    assert_eq!(created["from"], FROM);
    assert_eq!(created["body"], "Hello! 👍");
    assert_eq!(created["num_segments"], "1");
    assert_eq!(created["num_media"], "0");
    assert_eq!(created["api_version"], "2010-04-01");
    assert_eq!(created["account_sid"], MAIN_SID);
    assert_eq!(created["messaging_service_sid"], Value::Null);
    assert_eq!(created["date_sent"], Value::Null);
    assert_eq!(created["price"], Value::Null);
    assert_eq!(created["uri"], message_path(MAIN_SID, sid));
    assert_eq!(
        created["subresource_uris"]["media"],
        format!("/2010-04-01/Accounts/{MAIN_SID}/Messages/{sid}/Media.json")
    );

    let sent = until_status(&app, sid, "sent").await;
    assert!(sent["date_sent"].is_string(), "{sent}");
    let delivered = until_status(&app, sid, "delivered").await;
    assert_eq!(delivered["date_sent"], sent["date_sent"]);
    assert_eq!(delivered["body"], "Hello! 👍");
    assert_eq!(delivered["error_code"], Value::Null);
}

#[tokio::test]
async fn long_bodies_take_several_segments() {
    let app = TestApp::spawn().await;
    let gsm = text(&app, TO, &"a".repeat(161)).await;
    assert_eq!(gsm["num_segments"], "2");
    let ucs2 = text(&app, TO, &"ç".repeat(71)).await;
    assert_eq!(ucs2["num_segments"], "2");
}

#[tokio::test]
async fn every_refused_create_has_twilios_code_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(1601);
    let many: Vec<(&str, &str)> = (0..11)
        .map(|_| ("MediaUrl", "https://example.com/a.png"))
        .collect();
    let mut too_many = vec![("To", TO), ("From", FROM)];
    too_many.extend(many);
    let mg = service_sid();
    let cases: Vec<(Vec<(&str, &str)>, u64)> = vec![
        (vec![("From", FROM), ("Body", "hi")], 21604),
        (vec![("To", ""), ("From", FROM), ("Body", "hi")], 21604),
        (vec![("To", TO), ("Body", "hi")], 21603),
        (vec![("To", TO), ("From", FROM)], 21602),
        (vec![("To", TO), ("From", FROM), ("Body", "")], 21602),
        (
            vec![("To", "call me"), ("From", FROM), ("Body", "hi")],
            21211,
        ),
        (
            vec![("To", "+1555abc"), ("From", FROM), ("Body", "hi")],
            21211,
        ),
        (
            vec![("To", TO), ("From", "no such sender!"), ("Body", "hi")],
            21212,
        ),
        (vec![("To", TO), ("From", TO), ("Body", "hi")], 21266),
        (
            vec![("To", TO), ("From", FROM), ("Body", long.as_str())],
            21617,
        ),
        (
            vec![("To", TO), ("From", FROM), ("MediaUrl", "ftp://x/a.png")],
            21620,
        ),
        (too_many, 21623),
        (
            vec![("To", TO), ("MessagingServiceSid", "MG123"), ("Body", "hi")],
            21701,
        ),
        (
            vec![
                ("To", TO),
                ("From", FROM),
                ("Body", "hi"),
                ("StatusCallback", "not a url"),
            ],
            21609,
        ),
        (
            vec![
                ("To", TO),
                ("MessagingServiceSid", mg.as_str()),
                ("Body", "hi"),
                ("ScheduleType", "later"),
                ("SendAt", "2030-01-01T00:00:00Z"),
            ],
            35111,
        ),
        (
            vec![
                ("To", TO),
                ("MessagingServiceSid", mg.as_str()),
                ("Body", "hi"),
                ("ScheduleType", "fixed"),
                ("SendAt", "2001-01-01T00:00:00Z"),
            ],
            35114,
        ),
        (
            vec![
                ("To", TO),
                ("MessagingServiceSid", mg.as_str()),
                ("Body", "hi"),
                ("ScheduleType", "fixed"),
            ],
            35114,
        ),
    ];
    for (form, code) in &cases {
        let (status, body) = app.post(&messages_path(MAIN_SID), &app.main(), form).await;
        assert_twilio_error(status, &body, 400, *code);
    }
    assert_eq!(app.count("messages").await, 0);
    // The same body of 1,600 characters is accepted (the limit is inclusive).
    text(&app, TO, &"é".repeat(1600)).await;
    // A body over the limit with a valid sender: still 21617 whatever the sender kind.
    let (status, body) = app
        .post(
            &messages_path(MAIN_SID),
            &app.main(),
            &[("To", TO), ("From", "Acme"), ("Body", long.as_str())],
        )
        .await;
    assert_twilio_error(status, &body, 400, 21617);
}

#[tokio::test]
async fn channels_alphanumeric_senders_and_api_keys_are_accepted() {
    let app = TestApp::spawn().await;
    let whatsapp = create(
        &app,
        &app.main(),
        &[
            ("To", "whatsapp:+15558675310"),
            ("From", "whatsapp:+15017122661"),
            ("Body", "hi"),
        ],
    )
    .await;
    assert_eq!(whatsapp["to"], "whatsapp:+15558675310");
    let alpha = create(
        &app,
        &app.main(),
        &[("To", TO), ("From", "Acme"), ("Body", "hi")],
    )
    .await;
    assert_eq!(alpha["from"], "Acme");

    let key = app.api_key(&app.main()).await;
    let (status, body) = app
        .post(
            &messages_path(MAIN_SID),
            &key,
            &[("To", TO), ("From", FROM), ("Body", "by key")],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["account_sid"], MAIN_SID);
}

#[tokio::test]
async fn media_messages_are_mm_and_list_their_media() {
    let app = TestApp::spawn().await;
    let created = create(
        &app,
        &app.main(),
        &[
            ("To", TO),
            ("From", FROM),
            ("MediaUrl", "https://example.com/cat.JPG?size=2"),
            ("MediaUrl", "https://example.com/card.vcf"),
        ],
    )
    .await;
    let sid = created["sid"].as_str().unwrap();
    assert!(sid.starts_with("MM"), "{created}");
    assert_eq!(created["num_media"], "2");
    assert_eq!(created["body"], "");
    let media_path = format!("/2010-04-01/Accounts/{MAIN_SID}/Messages/{sid}/Media.json");
    let (status, page) = app.get(&media_path, &app.main()).await;
    assert_eq!(status, 200, "{page}");
    let items = page["media_list"].as_array().unwrap();
    let types: Vec<&str> = items
        .iter()
        .map(|m| m["content_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["image/jpeg", "text/vcard"]);
    assert_eq!(items[0]["parent_sid"], sid);
    let media_uri = items[0]["uri"].as_str().unwrap().to_owned();
    let (status, one) = app.get(&media_uri, &app.main()).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["sid"], items[0]["sid"]);

    let (status, _) = app.delete(&media_uri, &app.main()).await;
    assert_eq!(status, 204);
    let (status, body) = app.get(&media_uri, &app.main()).await;
    assert_twilio_error(status, &body, 404, 20404);
    let (_, page) = app.get(&media_path, &app.main()).await;
    assert_eq!(page["media_list"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn list_is_newest_first_pages_without_gaps_and_filters() {
    let app = TestApp::spawn().await;
    let mut sids = Vec::new();
    for i in 0..5 {
        let to = if i % 2 == 0 { TO } else { "+15550000002" };
        sids.push(
            text(&app, to, &format!("m{i}")).await["sid"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let other = create(
        &app,
        &app.main(),
        &[("To", TO), ("From", "+15550000009"), ("Body", "x")],
    )
    .await;
    sids.push(other["sid"].as_str().unwrap().to_owned());
    sids.reverse();

    let mut seen = Vec::new();
    let mut next = Some(format!("{}?PageSize=2", messages_path(MAIN_SID)));
    while let Some(uri) = next {
        let (status, page) = app.get(&uri, &app.main()).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["page_size"], 2);
        for m in page["messages"].as_array().unwrap() {
            seen.push(m["sid"].as_str().unwrap().to_owned());
        }
        next = page["next_page_uri"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, sids, "newest first, each once");

    let listed = |query: String| {
        let app = &app;
        async move {
            let (status, page) = app
                .get(&format!("{}?{query}", messages_path(MAIN_SID)), &app.main())
                .await;
            assert_eq!(status, 200, "{page}");
            page
        }
    };
    let to_page = listed("To=%2B15558675310".into()).await;
    let tos: Vec<&str> = to_page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["to"].as_str().unwrap())
        .collect();
    assert_eq!(tos, [TO; 4]);
    assert!(
        to_page["first_page_uri"]
            .as_str()
            .unwrap()
            .contains("To=%2B15558675310"),
        "{to_page}"
    );
    let both = listed("To=%2B15558675310&From=%2B15550000009".into()).await;
    assert_eq!(both["messages"].as_array().unwrap().len(), 1);

    // DateSent: only messages that have been sent, by the day (UTC) they were sent.
    until_status(&app, &sids[0], "sent").await;
    for sid in &sids {
        until_status(&app, sid, "delivered").await;
    }
    let today = today();
    let on_day = listed(format!("DateSent={today}")).await;
    assert_eq!(on_day["messages"].as_array().unwrap().len(), 6);
    let after = listed(format!("DateSent%3E={today}")).await;
    assert_eq!(after["messages"].as_array().unwrap().len(), 6);
    let before = listed("DateSent%3C=2001-01-01".into()).await;
    assert_eq!(before["messages"].as_array().unwrap().len(), 0);
    let later = listed("DateSent%3E=2999-01-01T00:00:00Z".into()).await;
    assert_eq!(later["messages"].as_array().unwrap().len(), 0);
    let (status, body) = app
        .get(
            &format!("{}?DateSent=yesterday", messages_path(MAIN_SID)),
            &app.main(),
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
}

/// Today's UTC date as `YYYY-MM-DD`.
fn today() -> String {
    iso_in(0)[..10].to_owned()
}

/// `YYYY-MM-DDTHH:MM:SSZ`, `secs` from now.
fn iso_in(secs: i64) -> String {
    localtwilio::domain::time::iso8601(localtwilio::domain::time::now() + secs)
}

#[tokio::test]
async fn an_empty_body_redacts_and_nothing_else_rewrites_it() {
    let app = TestApp::spawn().await;
    let sid = text(&app, TO, "secret code 1234").await["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = message_path(MAIN_SID, &sid);
    let (status, body) = app.post(&path, &app.main(), &[("Body", "new text")]).await;
    assert_twilio_error(status, &body, 400, 20001);
    let (status, body) = app.post(&path, &app.main(), &[("Body", "")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["body"], "");
    let (_, fetched) = app.get(&path, &app.main()).await;
    assert_eq!(fetched["body"], "");
    assert_eq!(fetched["to"], TO);
    // Cancel is only for scheduled messages.
    let (status, body) = app
        .post(&path, &app.main(), &[("Status", "canceled")])
        .await;
    assert_twilio_error(status, &body, 400, 30409);
    let (status, body) = app.post(&path, &app.main(), &[("Status", "sent")]).await;
    assert_twilio_error(status, &body, 400, 20001);
}

#[tokio::test]
async fn messaging_service_messages_are_accepted_and_scheduled_ones_can_be_canceled() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    let mg = service_sid();
    let accepted = create(
        &app,
        &app.main(),
        &[("To", TO), ("MessagingServiceSid", &mg), ("Body", "hi")],
    )
    .await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["from"], Value::Null);
    assert_eq!(accepted["messaging_service_sid"], mg);
    assert_eq!(accepted["num_segments"], "0");
    until_status(&app, accepted["sid"].as_str().unwrap(), "delivered").await;

    let send_at = iso_in(3600);
    let callback = receiver.url("/status");
    let scheduled = create(
        &app,
        &app.main(),
        &[
            ("To", TO),
            ("MessagingServiceSid", &mg),
            ("Body", "later"),
            ("ScheduleType", "fixed"),
            ("SendAt", &send_at),
            ("StatusCallback", &callback),
        ],
    )
    .await;
    assert_eq!(scheduled["status"], "scheduled");
    let sid = scheduled["sid"].as_str().unwrap();
    let (status, canceled) = app
        .post(
            &message_path(MAIN_SID, sid),
            &app.main(),
            &[("Status", "canceled")],
        )
        .await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["status"], "canceled");
    let (status, body) = app
        .post(
            &message_path(MAIN_SID, sid),
            &app.main(),
            &[("Status", "canceled")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 30409);
    // Only the `canceled` callback: the scheduled steps were withdrawn.
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].param("MessageStatus").as_deref(), Some("canceled"));
    assert_eq!(
        got[0].param("MessagingServiceSid").as_deref(),
        Some(mg.as_str())
    );
    assert_eq!(
        app.count(
            "webhook_deliveries where status = 'pending' and event_type != 'MessageStatus:canceled'"
        )
        .await,
        0
    );

    // From without a Messaging Service: the schedule is dropped and the message goes now.
    let immediate = create(
        &app,
        &app.main(),
        &[
            ("To", TO),
            ("From", FROM),
            ("Body", "now"),
            ("ScheduleType", "fixed"),
            ("SendAt", &send_at),
        ],
    )
    .await;
    assert_eq!(immediate["status"], "queued");
    receiver.stop().await;
}

#[tokio::test]
async fn delete_removes_the_message_and_its_media() {
    let app = TestApp::spawn().await;
    let created = create(
        &app,
        &app.main(),
        &[
            ("To", TO),
            ("From", FROM),
            ("MediaUrl", "https://example.com/a.png"),
        ],
    )
    .await;
    let path = message_path(MAIN_SID, created["sid"].as_str().unwrap());
    let (status, _) = app.delete(&path, &app.main()).await;
    assert_eq!(status, 204);
    let (status, body) = app.get(&path, &app.main()).await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, _) = app.delete(&path, &app.main()).await;
    assert_eq!(status, 404);
    assert_eq!(app.count("message_media").await, 0);
    // A malformed SID, or a path without `.json`, is 404 as well.
    for bad in [
        format!("/2010-04-01/Accounts/{MAIN_SID}/Messages/SMnope.json"),
        format!(
            "/2010-04-01/Accounts/{MAIN_SID}/Messages/XX{}.json",
            "a".repeat(32)
        ),
        format!(
            "/2010-04-01/Accounts/{MAIN_SID}/Messages/SM{}",
            "a".repeat(32)
        ),
    ] {
        let (status, body) = app.get(&bad, &app.main()).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
}

#[tokio::test]
async fn another_accounts_messages_are_not_found() {
    let app = TestApp::spawn().await;
    let sub = app.subaccount(&app.main(), "team").await;
    let mine = text(&app, TO, "main's").await;
    let mine_path = message_path(MAIN_SID, mine["sid"].as_str().unwrap());
    // The subaccount cannot reach the main account's path, nor its message under its own.
    let (status, body) = app.get(&mine_path, &sub).await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, body) = app
        .get(
            &message_path(&sub.user, mine["sid"].as_str().unwrap()),
            &sub,
        )
        .await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, body) = app.get(&messages_path(MAIN_SID), &sub).await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, body) = app
        .post(
            &messages_path(MAIN_SID),
            &sub,
            &[("To", TO), ("From", FROM), ("Body", "x")],
        )
        .await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, body) = app.post(&mine_path, &sub, &[("Body", "")]).await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, _) = app.delete(&mine_path, &sub).await;
    assert_eq!(status, 404);
    // Its own list is empty; the main account reaches the subaccount's messages (2010 rule).
    let (_, page) = app.get(&messages_path(&sub.user), &sub).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 0);
    let theirs = create(&app, &sub, &[("To", TO), ("From", FROM), ("Body", "sub's")]).await;
    let (status, fetched) = app
        .get(
            &message_path(&sub.user, theirs["sid"].as_str().unwrap()),
            &app.main(),
        )
        .await;
    assert_eq!(status, 200, "{fetched}");
    let (_, main_page) = app.get(&messages_path(MAIN_SID), &app.main()).await;
    assert_eq!(
        main_page["messages"].as_array().unwrap().len(),
        1,
        "its own only"
    );
}

/// Every status callback request, signed with the account's token over the URL requested.
fn assert_signed(received: &crate::receiver::Received, url: &str) {
    assert_eq!(
        received.signature(),
        expected_signature(MAIN_TOKEN, url, &received.params()),
        "{received:?}"
    );
}

#[tokio::test]
async fn status_callbacks_are_signed_and_arrive_queued_sent_delivered() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    let url = receiver.url("/status?tag=1");
    let created = create(
        &app,
        &app.main(),
        &[
            ("To", TO),
            ("From", FROM),
            ("Body", "tracked"),
            ("StatusCallback", &url),
        ],
    )
    .await;
    let sid = created["sid"].as_str().unwrap();
    let got = receiver.wait_for(3, WAIT).await;
    // Each is due at its own step's time; under load two can be in flight at once, so (as at
    // Twilio) the order of arrival is not promised: the set is.
    let mut statuses: Vec<String> = got
        .iter()
        .map(|r| r.param("MessageStatus").unwrap())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["delivered", "queued", "sent"]);
    for r in &got {
        assert_eq!(r.method, "POST");
        assert_signed(r, &url);
        let mut names: Vec<String> = r.params().into_iter().map(|(k, _)| k).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "AccountSid",
                "ApiVersion",
                "From",
                "MessageSid",
                "MessageStatus",
                "SmsSid",
                "SmsStatus",
                "To"
            ]
        );
        assert_eq!(r.param("MessageSid").as_deref(), Some(sid));
        assert_eq!(r.param("SmsSid").as_deref(), Some(sid));
        assert_eq!(r.param("SmsStatus"), r.param("MessageStatus"));
        assert_eq!(r.param("AccountSid").as_deref(), Some(MAIN_SID));
        assert_eq!(r.param("From").as_deref(), Some(FROM));
        assert_eq!(r.param("To").as_deref(), Some(TO));
        assert_eq!(r.param("ApiVersion").as_deref(), Some("2010-04-01"));
        assert_eq!(r.headers["user-agent"], "TwilioProxy/1.1");
    }
    receiver.stop().await;
}

#[tokio::test]
async fn the_schedule_and_its_callbacks_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    let url = receiver.url("/status");
    let created = create(
        &app,
        &app.main(),
        &[
            ("To", TO),
            ("From", FROM),
            ("Body", "durable"),
            ("StatusCallback", &url),
        ],
    )
    .await;
    app.restart().await;
    let sid = created["sid"].as_str().unwrap();
    let delivered = until_status(&app, sid, "delivered").await;
    assert_eq!(delivered["body"], "durable");
    // A callback in flight at the restart was received but not yet logged as attempted, so it
    // is sent again after it: wait until every status has arrived, repeats included.
    let mut wanted = 3;
    let (got, statuses) = loop {
        let got = receiver.wait_for(wanted, WAIT).await;
        let mut statuses: Vec<String> = got
            .iter()
            .map(|r| r.param("MessageStatus").unwrap())
            .collect();
        statuses.sort();
        statuses.dedup();
        if statuses.len() == 3 || wanted >= 6 {
            break (got, statuses);
        }
        wanted = got.len() + 1;
    };
    assert_eq!(statuses, ["delivered", "queued", "sent"]);
    for r in &got {
        assert_signed(r, &url);
    }
    receiver.stop().await;
}
