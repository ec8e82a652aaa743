use reqwest::Method;
use serde_json::Value;

use crate::{
    helpers::{MAIN_SID, MAIN_TOKEN, TestApp, assert_twilio_error},
    spec::{assert_2010_page, assert_schema},
};

const API: &str = "twilio_api_v2010.json";

#[tokio::test]
async fn fetch_main_account_returns_every_spec_field_and_its_token() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .get(
            &format!("/2010-04-01/Accounts/{MAIN_SID}.json"),
            &app.main(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_schema(API, "api.v2010.account", &body);
    assert_eq!(body["sid"], MAIN_SID);
    assert_eq!(
        body["owner_account_sid"], MAIN_SID,
        "a main account owns itself"
    );
    assert_eq!(body["auth_token"], MAIN_TOKEN);
    assert_eq!(body["status"], "active");
    assert_eq!(body["type"], "Full");
    assert_eq!(body["uri"], format!("/2010-04-01/Accounts/{MAIN_SID}.json"));
    let uris = body["subresource_uris"].as_object().unwrap();
    assert_eq!(uris.len(), 20);
    assert_eq!(
        uris["keys"],
        format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json")
    );
    assert_eq!(
        uris["short_codes"],
        format!("/2010-04-01/Accounts/{MAIN_SID}/SMS/ShortCodes.json")
    );
}

#[tokio::test]
async fn create_subaccount_returns_201_with_a_working_token() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(
            "/2010-04-01/Accounts.json",
            &app.main(),
            &[("FriendlyName", "Team Ä + 1")],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_schema(API, "api.v2010.account", &body);
    assert_eq!(body["friendly_name"], "Team Ä + 1");
    assert_eq!(body["owner_account_sid"], MAIN_SID);
    let token = body["auth_token"].as_str().unwrap();
    assert!(
        token.len() == 32
            && token
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let sub = crate::helpers::Creds::new(body["sid"].as_str().unwrap(), token);
    let (status, own) = app
        .get(&format!("/2010-04-01/Accounts/{}.json", sub.user), &sub)
        .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["auth_token"], token);
}

#[tokio::test]
async fn subaccount_default_name_follows_the_spec_pattern() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post("/2010-04-01/Accounts.json", &app.main(), &[])
        .await;
    assert_eq!(status, 201, "{body}");
    let name = body["friendly_name"].as_str().unwrap();
    // "SubAccount Created at {YYYY-MM-DD HH:MM meridian}"
    let rest = name.strip_prefix("SubAccount Created at ").unwrap();
    assert_eq!(rest.len(), "2015-07-30 08:00 pm".len(), "{name}");
    assert!(rest.ends_with(" am") || rest.ends_with(" pm"), "{name}");
}

#[tokio::test]
async fn subaccount_cannot_create_a_subaccount() {
    let app = TestApp::spawn().await;
    let sub = app.subaccount(&app.main(), "child").await;
    let before = app.count("accounts").await;
    let (status, body) = app
        .post("/2010-04-01/Accounts.json", &sub, &[("FriendlyName", "x")])
        .await;
    assert_twilio_error(status, &body, 400, 21101);
    assert_eq!(app.count("accounts").await, before);
}

#[tokio::test]
async fn list_shows_own_account_and_subaccounts_with_filters() {
    let app = TestApp::spawn().await;
    let a = app.subaccount(&app.main(), "alpha").await;
    let b = app.subaccount(&app.main(), "beta").await;
    let (_, _) = app
        .post(
            &format!("/2010-04-01/Accounts/{}.json", b.user),
            &app.main(),
            &[("Status", "suspended")],
        )
        .await;

    let (status, body) = app.get("/2010-04-01/Accounts.json", &app.main()).await;
    assert_eq!(status, 200, "{body}");
    assert_2010_page(&body, "accounts");
    let sids: Vec<&str> = body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["sid"].as_str().unwrap())
        .collect();
    assert_eq!(
        sids,
        vec![MAIN_SID, a.user.as_str(), b.user.as_str()],
        "creation order"
    );
    for account in body["accounts"].as_array().unwrap() {
        assert_schema(API, "api.v2010.account", account);
    }

    let (_, body) = app
        .get("/2010-04-01/Accounts.json?FriendlyName=alpha", &app.main())
        .await;
    assert_eq!(body["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(body["accounts"][0]["sid"], a.user.as_str());
    assert_eq!(
        body["uri"],
        "/2010-04-01/Accounts.json?FriendlyName=alpha&PageSize=50&Page=0"
    );

    let (_, body) = app
        .get("/2010-04-01/Accounts.json?Status=suspended", &app.main())
        .await;
    let sids: Vec<&Value> = body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["sid"])
        .collect();
    assert_eq!(sids, vec![&Value::from(b.user.as_str())]);

    // A subaccount sees only itself.
    let (_, body) = app.get("/2010-04-01/Accounts.json", &a).await;
    let sids: Vec<&Value> = body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["sid"])
        .collect();
    assert_eq!(sids, vec![&Value::from(a.user.as_str())]);

    let (status, body) = app
        .get("/2010-04-01/Accounts.json?Status=paused", &app.main())
        .await;
    assert_twilio_error(status, &body, 400, 20001);
}

#[tokio::test]
async fn update_changes_name_and_status_and_closed_is_final() {
    let app = TestApp::spawn().await;
    let sub = app.subaccount(&app.main(), "before").await;
    let path = format!("/2010-04-01/Accounts/{}.json", sub.user);

    let (status, body) = app
        .post(&path, &app.main(), &[("FriendlyName", "after")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_schema(API, "api.v2010.account", &body);
    assert_eq!(body["friendly_name"], "after");
    assert_eq!(body["status"], "active");

    let (status, body) = app
        .post(&path, &app.main(), &[("Status", "suspended")])
        .await;
    assert_eq!(
        (status.as_u16(), body["status"].as_str()),
        (200, Some("suspended"))
    );
    let (status, body) = app.post(&path, &app.main(), &[("Status", "active")]).await;
    assert_eq!(
        (status.as_u16(), body["status"].as_str()),
        (200, Some("active"))
    );
    let (status, body) = app.post(&path, &app.main(), &[("Status", "closed")]).await;
    assert_eq!(
        (status.as_u16(), body["status"].as_str()),
        (200, Some("closed"))
    );

    for reopen in ["active", "suspended"] {
        let (status, body) = app.post(&path, &app.main(), &[("Status", reopen)]).await;
        assert_twilio_error(status, &body, 400, 20001);
    }
    let (_, body) = app.get(&path, &app.main()).await;
    assert_eq!(body["status"], "closed");

    // Legacy numeric statuses (the spec's updateWithNumericStatus example) are refused.
    let other = app.subaccount(&app.main(), "numeric").await;
    let (status, body) = app
        .post(
            &format!("/2010-04-01/Accounts/{}.json", other.user),
            &app.main(),
            &[("Status", "1")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
}

#[tokio::test]
async fn main_account_status_cannot_be_changed() {
    let app = TestApp::spawn().await;
    let path = format!("/2010-04-01/Accounts/{MAIN_SID}.json");
    let (status, body) = app
        .post(&path, &app.main(), &[("Status", "suspended")])
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let (status, _) = app.get(&path, &app.main()).await;
    assert_eq!(status, 200, "still usable");
}

#[tokio::test]
async fn parent_reaches_subaccounts_but_never_the_reverse_or_siblings() {
    let app = TestApp::spawn().await;
    let a = app.subaccount(&app.main(), "a").await;
    let b = app.subaccount(&app.main(), "b").await;
    let (status, _) = app
        .get(
            &format!("/2010-04-01/Accounts/{}.json", a.user),
            &app.main(),
        )
        .await;
    assert_eq!(status, 200);

    for (who, target) in [(&a, MAIN_SID), (&a, b.user.as_str()), (&b, a.user.as_str())] {
        let path = format!("/2010-04-01/Accounts/{target}.json");
        let (status, body) = app.get(&path, who).await;
        assert_twilio_error(status, &body, 404, 20404);
        assert_eq!(
            body["message"],
            format!("The requested resource {path} was not found")
        );
        let (status, body) = app.post(&path, who, &[("FriendlyName", "hijack")]).await;
        assert_twilio_error(status, &body, 404, 20404);
        let (status, body) = app
            .get(&format!("/2010-04-01/Accounts/{target}/Keys.json"), who)
            .await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    let (_, body) = app
        .get(
            &format!("/2010-04-01/Accounts/{MAIN_SID}.json"),
            &app.main(),
        )
        .await;
    assert_eq!(
        body["friendly_name"], "localtwilio main account",
        "nothing was changed"
    );
}

#[tokio::test]
async fn accounts_has_no_delete() {
    let app = TestApp::spawn().await;
    let response = app
        .request(
            Method::DELETE,
            &format!("/2010-04-01/Accounts/{MAIN_SID}.json"),
            Some(&app.main()),
            None,
        )
        .await;
    let (status, body) = crate::helpers::into_json(response).await;
    assert_twilio_error(status, &body, 405, 20004);
}
