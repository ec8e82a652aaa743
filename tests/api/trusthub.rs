//! TrustHub v1 EndUsers and EndUserTypes (seed page 003).

use serde_json::{Value, json};

use crate::{
    helpers::{MAIN_SID, TestApp, assert_twilio_error, into_json, send},
    spec::{assert_schema, assert_v1_page},
};

const TRUSTHUB: &str = "twilio_trusthub_v1.json";

/// The seed page's example attributes.
fn rep_attributes() -> Value {
    json!({"phone_number": "+11234567890", "job_position": "CEO", "first_name": "rep1",
           "last_name": "test", "business_title": "ceo", "email": "foobar@test.com"})
}

async fn create(app: &TestApp, attributes: &Value) -> Value {
    let text = attributes.to_string();
    let (status, body) = app
        .post(
            "/v1/EndUsers",
            &app.main(),
            &[
                ("FriendlyName", "auth_rep_1"),
                ("Type", "authorized_representative_1"),
                ("Attributes", &text),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

#[tokio::test]
async fn seed_page_create_fetch_update_delete() {
    let app = TestApp::spawn().await;
    let created = create(&app, &rep_attributes()).await;
    assert_schema(TRUSTHUB, "trusthub.v1.end_user", &created);
    let sid = created["sid"].as_str().unwrap();
    assert_eq!(created["account_sid"], MAIN_SID);
    assert_eq!(created["type"], "authorized_representative_1");
    assert_eq!(
        created["attributes"],
        rep_attributes(),
        "an object, not a string"
    );
    assert_eq!(created["url"], format!("{}/v1/EndUsers/{sid}", app.base));

    let (status, fetched) = app.get(&format!("/v1/EndUsers/{sid}"), &app.main()).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);

    let (status, updated) = app
        .post(
            &format!("/v1/EndUsers/{sid}"),
            &app.main(),
            &[
                ("FriendlyName", "renamed"),
                ("Attributes", r#"{"first_name":"x"}"#),
            ],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_schema(TRUSTHUB, "trusthub.v1.end_user", &updated);
    assert_eq!(
        (
            updated["friendly_name"].as_str(),
            updated["attributes"].clone()
        ),
        (Some("renamed"), json!({"first_name": "x"}))
    );
    assert_eq!(updated["type"], "authorized_representative_1");

    let (status, body) = app
        .post(
            &format!("/v1/EndUsers/{sid}"),
            &app.main(),
            &[("Type", "business")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);

    let (status, text) = app
        .delete(&format!("/v1/EndUsers/{sid}"), &app.main())
        .await;
    assert_eq!((status.as_u16(), text.as_str()), (204, ""));
    let (status, body) = app.get(&format!("/v1/EndUsers/{sid}"), &app.main()).await;
    assert_twilio_error(status, &body, 404, 20404);
}

#[tokio::test]
async fn attributes_default_to_an_empty_object_and_round_trip_exactly() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(
            "/v1/EndUsers",
            &app.main(),
            &[("FriendlyName", "i"), ("Type", "individual")],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["attributes"], json!({}));

    let raw = r#"{"nested":{"list":[1,2.50,{"deep":null}],"flag":true},"big":123456789012345678901234567890,"neg":-0.001,"text":"Zoë 🎉 \"quoted\" \\ back"}"#;
    let (status, body) = app
        .post(
            "/v1/EndUsers",
            &app.main(),
            &[
                ("FriendlyName", "b"),
                ("Type", "business"),
                ("Attributes", raw),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let want: Value = serde_json::from_str(raw).unwrap();
    assert_eq!(body["attributes"], want);
    let (_, fetched) = app
        .get(
            &format!("/v1/EndUsers/{}", body["sid"].as_str().unwrap()),
            &app.main(),
        )
        .await;
    assert_eq!(
        fetched["attributes"]["big"].to_string(),
        "123456789012345678901234567890"
    );
    assert_eq!(
        fetched["attributes"]["nested"]["list"][1].to_string(),
        "2.50"
    );
}

#[tokio::test]
async fn bad_input_is_20001_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    type Case<'a> = (Vec<(&'a str, &'a str)>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            vec![("Type", "individual")],
            Some("Missing required parameter FriendlyName in the post body"),
        ),
        (
            vec![("FriendlyName", "x")],
            Some("Missing required parameter Type in the post body"),
        ),
        (
            vec![("FriendlyName", "x"), ("Type", "")],
            Some("Missing required parameter Type in the post body"),
        ),
        (vec![("FriendlyName", "x"), ("Type", "martian")], None),
        (
            vec![
                ("FriendlyName", "x"),
                ("Type", "OYc2e1cd15960a5c51885534e900a0d1db"),
            ],
            None,
        ),
        (
            vec![
                ("FriendlyName", "x"),
                ("Type", "individual"),
                ("Attributes", "{not json"),
            ],
            None,
        ),
        (
            vec![
                ("FriendlyName", "x"),
                ("Type", "individual"),
                ("Attributes", "[1,2]"),
            ],
            None,
        ),
        (
            vec![
                ("FriendlyName", "x"),
                ("Type", "individual"),
                ("Attributes", "\"s\""),
            ],
            None,
        ),
        (
            vec![
                ("FriendlyName", "x"),
                ("Type", "customer_profile_business_information"),
                ("Attributes", r#"{"business_identity":"nope"}"#),
            ],
            None,
        ),
    ];
    for (form, message) in cases {
        let (status, body) = app.post("/v1/EndUsers", &app.main(), &form).await;
        assert_twilio_error(status, &body, 400, 20001);
        if let Some(message) = message {
            assert_eq!(body["message"], message);
        }
    }
    assert_eq!(app.count("end_users").await, 0);
    let created = create(&app, &rep_attributes()).await;
    let sid = created["sid"].as_str().unwrap();
    let (status, body) = app
        .post(
            &format!("/v1/EndUsers/{sid}"),
            &app.main(),
            &[("Attributes", "[]")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let (_, fetched) = app.get(&format!("/v1/EndUsers/{sid}"), &app.main()).await;
    assert_eq!(
        fetched["attributes"],
        rep_attributes(),
        "a refused update changes nothing"
    );
}

#[tokio::test]
async fn malformed_unknown_and_foreign_sids_are_404() {
    let app = TestApp::spawn().await;
    let created = create(&app, &rep_attributes()).await;
    let sid = created["sid"].as_str().unwrap().to_owned();
    let other = app.subaccount(&app.main(), "other").await;
    for path in [
        "/v1/EndUsers/IT123".to_owned(),
        "/v1/EndUsers/ITffffffffffffffffffffffffffffffff".to_owned(),
        "/v1/EndUsers/FWffffffffffffffffffffffffffffffff".to_owned(),
    ] {
        let (status, body) = app.get(&path, &app.main()).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    let path = format!("/v1/EndUsers/{sid}");
    let (status, body) = app.get(&path, &other).await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, body) = app.post(&path, &other, &[("FriendlyName", "stolen")]).await;
    assert_twilio_error(status, &body, 404, 20404);
    assert_eq!(app.delete(&path, &other).await.0, 404);
    let (_, list) = app.get("/v1/EndUsers", &other).await;
    assert_eq!(list["results"], json!([]));
    let (_, mine) = app.get(&path, &app.main()).await;
    assert_eq!(mine["friendly_name"], "auth_rep_1");
}

#[tokio::test]
async fn empty_list_matches_the_seed_page_and_1200_page_at_the_maximum() {
    let app = TestApp::spawn().await;
    let (status, empty) = app.get("/v1/EndUsers", &app.main()).await;
    assert_eq!(status, 200);
    assert_v1_page(&empty, "results");
    let first = format!("{}/v1/EndUsers?PageSize=50&Page=0", app.base);
    assert_eq!(
        empty,
        json!({"results": [], "meta": {"page": 0, "page_size": 50, "first_page_url": first, "previous_page_url": null,
                                       "url": first, "next_page_url": null, "key": "results"}})
    );

    // 1,200 end users straight through the API, 8 at a time.
    let mut created = Vec::new();
    for chunk in 0..150 {
        let mut tasks = Vec::new();
        for i in 0..8 {
            let client = app.client.clone();
            let url = format!("{}/v1/EndUsers", app.base);
            let name = format!("user {}", chunk * 8 + i);
            tasks.push(tokio::spawn(async move {
                let request = client
                    .post(url)
                    .basic_auth(MAIN_SID, Some(crate::helpers::MAIN_TOKEN))
                    .form(&[("FriendlyName", name.as_str()), ("Type", "individual")]);
                let (status, body) = into_json(send(request).await).await;
                assert_eq!(status, 201, "{body}");
                body["sid"].as_str().unwrap().to_owned()
            }));
        }
        for task in tasks {
            created.push(task.await.unwrap());
        }
    }
    let (_, page) = app.get("/v1/EndUsers?PageSize=5000", &app.main()).await;
    assert_eq!(
        page["meta"]["page_size"], 1000,
        "clamped to the spec maximum"
    );
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some("/v1/EndUsers?PageSize=1000".to_owned());
    let mut pages = 0;
    while let Some(url) = next {
        let (_, page) = app.get(&url, &app.main()).await;
        for item in page["results"].as_array().unwrap() {
            seen.push(item["sid"].as_str().unwrap().to_owned());
        }
        next = page["meta"]["next_page_url"]
            .as_str()
            .map(|u| u.trim_start_matches(&app.base).to_owned());
        pages += 1;
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), 1200);
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    sorted_seen.dedup();
    assert_eq!(sorted_seen.len(), 1200, "no duplicates");
    let mut sorted_created = created.clone();
    sorted_created.sort();
    assert_eq!(sorted_seen, sorted_created, "no gaps");
    assert_schema(TRUSTHUB, "trusthub.v1.end_user", &page["results"][0]);
}

#[tokio::test]
async fn end_user_types_catalog_has_fixed_sids_and_fields() {
    let app = TestApp::spawn().await;
    let (status, list) = app.get("/v1/EndUserTypes", &app.main()).await;
    assert_eq!(status, 200);
    assert_v1_page(&list, "end_user_types");
    let types = list["end_user_types"].as_array().unwrap();
    let names: Vec<&str> = types
        .iter()
        .map(|t| t["machine_name"].as_str().unwrap())
        .collect();
    for want in [
        "individual",
        "business",
        "authorized_representative_1",
        "authorized_representative_2",
        "customer_profile_business_information",
        "starter_customer_profile_information",
        "sole_proprietor_information",
        "us_a2p_messaging_profile_information",
    ] {
        assert!(names.contains(&want), "{want}");
    }
    for t in types {
        assert_schema(TRUSTHUB, "trusthub.v1.end_user_type", t);
    }
    // The spec's fetch example, field for field.
    let sid = "OYc2e1cd15960a5c51885534e900a0d1db";
    let (status, rep) = app
        .get(&format!("/v1/EndUserTypes/{sid}"), &app.main())
        .await;
    assert_eq!(status, 200);
    assert_eq!(rep["machine_name"], "authorized_representative_1");
    assert_eq!(rep["friendly_name"], "Authorized Representative one");
    let field_names: Vec<&str> = rep["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["machine_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        field_names,
        [
            "last_name",
            "email",
            "first_name",
            "business_title",
            "phone_number",
            "job_position"
        ]
    );
    assert_eq!(
        rep["fields"][0],
        json!({"machine_name": "last_name", "friendly_name": "Last Name", "constraint": "String"})
    );
    assert_eq!(rep["url"], format!("{}/v1/EndUserTypes/{sid}", app.base));
    let (_, by_name) = app
        .get("/v1/EndUserTypes/authorized_representative_1", &app.main())
        .await;
    assert_eq!(by_name, rep);
    let (status, body) = app
        .get(
            "/v1/EndUserTypes/OYffffffffffffffffffffffffffffffff",
            &app.main(),
        )
        .await;
    assert_twilio_error(status, &body, 404, 20404);
}

#[tokio::test]
async fn end_users_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let created = create(&app, &rep_attributes()).await;
    app.restart().await;
    let (status, fetched) = app
        .get(
            &format!("/v1/EndUsers/{}", created["sid"].as_str().unwrap()),
            &app.main(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);
}
