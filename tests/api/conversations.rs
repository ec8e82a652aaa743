//! Conversations v1 (seed pages 001/002): services, configuration, roles, users on both path
//! families.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{
        Creds, MAIN_SID, MAIN_TOKEN, TestApp, answered, assert_twilio_error, checked_body,
        into_json, send,
    },
    spec::{assert_schema, assert_v1_page},
};

const CONV: &str = "twilio_conversations_v1.json";

/// Percent-encodes every byte outside the unreserved set (what a careful client sends).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub async fn default_service(app: &TestApp, who: &Creds) -> String {
    let (status, config) = app.get("/v1/Configuration", who).await;
    assert_eq!(status, 200, "{config}");
    config["default_chat_service_sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn new_service(app: &TestApp, name: &str) -> String {
    let (status, body) = app
        .post("/v1/Services", &app.main(), &[("FriendlyName", name)])
        .await;
    assert_eq!(status, 201, "{body}");
    body["sid"].as_str().unwrap().to_owned()
}

async fn roles_by_name(app: &TestApp, list_path: &str) -> std::collections::HashMap<String, Value> {
    let (_, list) = app.get(list_path, &app.main()).await;
    list["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["friendly_name"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

#[tokio::test]
async fn every_account_has_a_default_service_with_four_default_roles() {
    let app = TestApp::spawn().await;
    let (status, config) = app.get("/v1/Configuration", &app.main()).await;
    assert_eq!(status, 200);
    assert_schema(CONV, "conversations.v1.configuration", &config);
    let is = config["default_chat_service_sid"].as_str().unwrap();
    assert_eq!(
        config["links"]["service"],
        format!("{}/v1/Services/{is}/Configuration", app.base)
    );

    let (status, service) = app.get(&format!("/v1/Services/{is}"), &app.main()).await;
    assert_eq!(status, 200);
    assert_schema(CONV, "conversations.v1.service", &service);

    let roles = roles_by_name(&app, "/v1/Roles").await;
    assert_eq!(roles.len(), 4);
    assert_eq!(
        roles["service user"]["permissions"],
        json!(["createConversation", "editOwnUserInfo", "joinConversation"])
    );
    assert_eq!(
        roles["channel user"]["permissions"],
        json!([
            "sendMessage",
            "leaveConversation",
            "editOwnMessage",
            "deleteOwnMessage"
        ])
    );
    assert_eq!(roles["service admin"]["type"], "service");
    assert_eq!(roles["channel admin"]["type"], "conversation");
    for role in roles.values() {
        assert_schema(CONV, "conversations.v1.role", role);
        assert_eq!(role["chat_service_sid"], is);
        assert!(
            role["url"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}/v1/Roles/RL", app.base))
        );
    }
    let (_, sc) = app
        .get(&format!("/v1/Services/{is}/Configuration"), &app.main())
        .await;
    assert_schema(CONV, "conversations.v1.service.service_configuration", &sc);
    assert_eq!(
        sc["default_chat_service_role_sid"],
        roles["service user"]["sid"]
    );
    assert_eq!(
        sc["default_conversation_role_sid"],
        roles["channel user"]["sid"]
    );
    assert_eq!(
        sc["default_conversation_creator_role_sid"],
        roles["channel admin"]["sid"]
    );
    assert_eq!(sc["reachability_enabled"], false);

    // A subaccount gets its own.
    let sub = app.subaccount(&app.main(), "sub").await;
    assert_ne!(default_service(&app, &sub).await, is);
}

#[tokio::test]
async fn seed_page_create_user_returns_the_seed_shape() {
    let app = TestApp::spawn().await;
    let roles = roles_by_name(&app, "/v1/Roles").await;
    let admin = roles["service admin"]["sid"].as_str().unwrap();
    let is = default_service(&app, &app.main()).await;
    let (status, user) = app
        .post(
            "/v1/Users",
            &app.main(),
            &[
                ("RoleSid", admin),
                ("Identity", "admin"),
                ("Attributes", "{ \"duty\": \"tech\" }"),
                ("FriendlyName", "name"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{user}");
    assert_schema(CONV, "conversations.v1.user", &user);
    let us = user["sid"].as_str().unwrap();
    assert_eq!(user["identity"], "admin");
    assert_eq!(user["friendly_name"], "name");
    assert_eq!(
        user["attributes"], "{ \"duty\": \"tech\" }",
        "verbatim, spacing kept"
    );
    assert_eq!(user["role_sid"], admin);
    assert_eq!(user["chat_service_sid"], is);
    assert_eq!(user["account_sid"], MAIN_SID);
    assert!(user["is_online"].is_null() && user["is_notifiable"].is_null());
    assert_eq!(user["url"], format!("{}/v1/Users/{us}", app.base));
    assert_eq!(
        user["links"]["user_conversations"],
        format!("{}/v1/Users/{us}/Conversations", app.base)
    );

    // The same user through the service family: same data, URLs of that family.
    let (status, same) = app
        .get(&format!("/v1/Services/{is}/Users/{us}"), &app.main())
        .await;
    assert_eq!(status, 200);
    assert_schema(CONV, "conversations.v1.service.service_user", &same);
    assert_eq!(
        same["url"],
        format!("{}/v1/Services/{is}/Users/{us}", app.base)
    );
    assert_eq!(same["identity"], "admin");
}

#[tokio::test]
async fn users_default_to_the_service_user_role_and_attributes_to_an_empty_object() {
    let app = TestApp::spawn().await;
    let roles = roles_by_name(&app, "/v1/Roles").await;
    let (status, user) = app
        .post("/v1/Users", &app.main(), &[("Identity", "plain")])
        .await;
    assert_eq!(status, 201);
    assert_eq!(user["role_sid"], roles["service user"]["sid"]);
    assert_eq!(user["attributes"], "{}");
    assert!(user["friendly_name"].is_null());
}

#[tokio::test]
async fn users_are_addressed_by_sid_or_by_exact_identity() {
    let app = TestApp::spawn().await;
    let is = new_service(&app, "addressing").await;
    for identity in [
        "alice smith",
        "bob@example.com",
        "+14155551212",
        "100% sure",
        "Zoë 日本",
        "Case",
    ] {
        let (status, created) = app
            .post(
                &format!("/v1/Services/{is}/Users"),
                &app.main(),
                &[("Identity", identity)],
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let path = format!("/v1/Services/{is}/Users/{}", encode(identity));
        let (status, fetched) = app.get(&path, &app.main()).await;
        assert_eq!(status, 200, "{identity}: {fetched}");
        assert_eq!(fetched["sid"], created["sid"]);
        assert_eq!(
            fetched["url"],
            format!(
                "{}/v1/Services/{is}/Users/{}",
                app.base,
                created["sid"].as_str().unwrap()
            ),
            "URLs use the US sid"
        );
        let (status, updated) = app
            .post(&path, &app.main(), &[("FriendlyName", "renamed")])
            .await;
        assert_eq!(
            (status.as_u16(), updated["friendly_name"].as_str()),
            (200, Some("renamed"))
        );
    }
    // Identity is case-sensitive: "case" is someone else (nobody).
    let (status, body) = app
        .get(&format!("/v1/Services/{is}/Users/case"), &app.main())
        .await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, _) = app
        .post(
            &format!("/v1/Services/{is}/Users"),
            &app.main(),
            &[("Identity", "case")],
        )
        .await;
    assert_eq!(status, 201, "differs only in case, so it is not taken");
}

#[tokio::test]
async fn fifty_concurrent_creates_of_one_identity_make_one_user() {
    let app = TestApp::spawn().await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = app.client.clone();
        let url = format!("{}/v1/Users", app.base);
        tasks.push(tokio::spawn(async move {
            let request = client
                .post(url)
                .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                .form(&[("Identity", "racer")]);
            into_json(send(request).await).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == 201 {
            created += 1;
        } else {
            assert_twilio_error(status, &body, 409, 50201);
            assert_eq!(body["message"], "User already exists");
        }
    }
    assert_eq!(created, 1);
    assert_eq!(app.count("conversation_users").await, 1);
}

#[tokio::test]
async fn identities_are_unique_per_service_only_and_services_do_not_leak() {
    let app = TestApp::spawn().await;
    let a = new_service(&app, "a").await;
    let b = new_service(&app, "b").await;
    let (_, in_a) = app
        .post(
            &format!("/v1/Services/{a}/Users"),
            &app.main(),
            &[("Identity", "same")],
        )
        .await;
    let (status, _) = app
        .post(
            &format!("/v1/Services/{b}/Users"),
            &app.main(),
            &[("Identity", "same")],
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .post("/v1/Users", &app.main(), &[("Identity", "same")])
        .await;
    assert_eq!(status, 201, "the default service is another service");
    let us = in_a["sid"].as_str().unwrap();
    for path in [
        format!("/v1/Services/{b}/Users/{us}"),
        format!("/v1/Users/{us}"),
    ] {
        let (status, body) = app.get(&path, &app.main()).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
}

#[tokio::test]
async fn identity_and_field_rules_give_their_codes_and_write_nothing() {
    let app = TestApp::spawn().await;
    let is = new_service(&app, "other").await;
    let other_roles = roles_by_name(&app, &format!("/v1/Services/{is}/Roles")).await;
    let roles = roles_by_name(&app, "/v1/Roles").await;
    let long = "x".repeat(257);
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, u64);
    let cases: Vec<Case> = vec![
        (vec![], 400, 20001),
        (vec![("Identity", "")], 400, 20001),
        (
            vec![("Identity", "USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")],
            400,
            50206,
        ),
        (vec![("Identity", &long)], 400, 50207),
        (
            vec![("Identity", "u"), ("Attributes", "{not json")],
            400,
            20001,
        ),
        (vec![("Identity", "u"), ("RoleSid", "RL123")], 400, 20001),
        (
            vec![
                ("Identity", "u"),
                ("RoleSid", "RLffffffffffffffffffffffffffffffff"),
            ],
            400,
            20001,
        ),
        (
            vec![
                ("Identity", "u"),
                (
                    "RoleSid",
                    other_roles["service user"]["sid"].as_str().unwrap(),
                ),
            ],
            400,
            20001,
        ),
        (
            vec![
                ("Identity", "u"),
                ("RoleSid", roles["channel user"]["sid"].as_str().unwrap()),
            ],
            400,
            20001,
        ),
    ];
    for (form, status_want, code) in cases {
        let (status, body) = app.post("/v1/Users", &app.main(), &form).await;
        assert_twilio_error(status, &body, status_want, code);
    }
    let (_, body) = app.post("/v1/Users", &app.main(), &[]).await;
    assert_eq!(
        body["message"],
        "Missing required parameter Identity in the post body"
    );
    let ok = "y".repeat(256);
    assert_eq!(
        app.post("/v1/Users", &app.main(), &[("Identity", &ok)])
            .await
            .0,
        201
    );
    assert_eq!(app.count("conversation_users").await, 1);

    // The webhook header takes only true/false.
    let request = app
        .client
        .post(format!("{}/v1/Users", app.base))
        .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
        .header("X-Twilio-Webhook-Enabled", "yes")
        .form(&[("Identity", "hdr")]);
    let (status, body) = into_json(send(request).await).await;
    assert_twilio_error(status, &body, 400, 20001);
    assert_eq!(app.count("conversation_users").await, 1);
}

#[tokio::test]
async fn update_list_delete_and_user_conversations_on_both_families() {
    let app = TestApp::spawn().await;
    let is = default_service(&app, &app.main()).await;
    let roles = roles_by_name(&app, "/v1/Roles").await;
    for (family, schema) in [
        ("/v1".to_owned(), "conversations.v1.user"),
        (
            format!("/v1/Services/{is}"),
            "conversations.v1.service.service_user",
        ),
    ] {
        let mut sids = Vec::new();
        for i in 0..3 {
            let (_, u) = app
                .post(
                    &format!("{family}/Users"),
                    &app.main(),
                    &[("Identity", &format!("{family}-{i}"))],
                )
                .await;
            sids.push(u["sid"].as_str().unwrap().to_owned());
        }
        let user = format!("{family}/Users/{}", sids[0]);
        let admin = roles["service admin"]["sid"].as_str().unwrap();
        let (status, updated) = app
            .post(
                &user,
                &app.main(),
                &[
                    ("FriendlyName", "F"),
                    ("Attributes", "[1, 2]"),
                    ("RoleSid", admin),
                ],
            )
            .await;
        assert_eq!(status, 200, "{updated}");
        assert_schema(CONV, schema, &updated);
        assert_eq!(
            (
                updated["friendly_name"].as_str(),
                updated["attributes"].as_str(),
                updated["role_sid"].as_str()
            ),
            (Some("F"), Some("[1, 2]"), Some(admin))
        );
        let (status, body) = app
            .post(&user, &app.main(), &[("Attributes", "nope")])
            .await;
        assert_twilio_error(status, &body, 400, 20001);

        let (status, list) = app
            .get(&format!("{family}/Users?PageSize=2"), &app.main())
            .await;
        assert_eq!(status, 200);
        assert_v1_page(&list, "users");
        assert_eq!(
            list["meta"]["url"],
            format!("{}{family}/Users?PageSize=2&Page=0", app.base)
        );
        for item in list["users"].as_array().unwrap() {
            assert_schema(CONV, schema, item);
        }
        let mut all: Vec<String> = Vec::new();
        let mut next = Some(format!("{family}/Users?PageSize=2"));
        while let Some(url) = next {
            let (_, page) = app.get(&url, &app.main()).await;
            all.extend(
                page["users"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u["sid"].as_str().unwrap().to_owned()),
            );
            next = page["meta"]["next_page_url"]
                .as_str()
                .map(|u| u.trim_start_matches(&app.base).to_owned());
        }
        for sid in &sids {
            assert!(all.contains(sid), "{sid} missing from {all:?}");
        }

        let (status, convs) = app.get(&format!("{user}/Conversations"), &app.main()).await;
        assert_eq!(status, 200);
        assert_v1_page(&convs, "conversations");
        assert_eq!(convs["conversations"], json!([]));

        let (status, text) = app.delete(&user, &app.main()).await;
        assert_eq!((status.as_u16(), text.as_str()), (204, ""));
        let (status, body) = app.get(&user, &app.main()).await;
        assert_twilio_error(status, &body, 404, 20404);
        let (status, body) = app.get(&format!("{user}/Conversations"), &app.main()).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    let (_, page) = app.get("/v1/Users?PageSize=500", &app.main()).await;
    assert_eq!(page["meta"]["page_size"], 50, "clamped to the spec maximum");
}

#[tokio::test]
async fn roles_crud_with_permission_checks_and_in_use_protection() {
    let app = TestApp::spawn().await;
    let is = new_service(&app, "roles").await;
    for family in ["/v1".to_owned(), format!("/v1/Services/{is}")] {
        let schema = if family == "/v1" {
            "conversations.v1.role"
        } else {
            "conversations.v1.service.service_role"
        };
        let (status, role) = app
            .post(
                &format!("{family}/Roles"),
                &app.main(),
                &[
                    ("FriendlyName", "mod"),
                    ("Type", "service"),
                    ("Permission", "editAnyUserInfo"),
                    ("Permission", "joinConversation"),
                ],
            )
            .await;
        assert_eq!(status, 201, "{role}");
        assert_schema(CONV, schema, &role);
        assert_eq!(
            role["permissions"],
            json!(["editAnyUserInfo", "joinConversation"])
        );
        let rl = role["sid"].as_str().unwrap();
        assert_eq!(role["url"], format!("{}{family}/Roles/{rl}", app.base));

        let (status, updated) = app
            .post(
                &format!("{family}/Roles/{rl}"),
                &app.main(),
                &[("Permission", "createConversation")],
            )
            .await;
        assert_eq!(
            (status.as_u16(), updated["permissions"].clone()),
            (200, json!(["createConversation"])),
            "replaces the set"
        );
        let (status, fetched) = app.get(&format!("{family}/Roles/{rl}"), &app.main()).await;
        assert_eq!((status.as_u16(), &fetched), (200, &updated));
        for form in [
            vec![("FriendlyName", "x"), ("Type", "service")],
            vec![
                ("FriendlyName", "x"),
                ("Type", "team"),
                ("Permission", "sendMessage"),
            ],
            vec![
                ("FriendlyName", "x"),
                ("Type", "service"),
                ("Permission", "sendMessage"),
            ],
            vec![("Type", "service"), ("Permission", "joinConversation")],
        ] {
            let (status, body) = app
                .post(&format!("{family}/Roles"), &app.main(), &form)
                .await;
            assert_twilio_error(status, &body, 400, 20001);
        }
        let (status, body) = app
            .post(
                &format!("{family}/Roles/{rl}"),
                &app.main(),
                &[("Permission", "sendMessage")],
            )
            .await;
        assert_twilio_error(status, &body, 400, 20001);

        // Held by a user: cannot be deleted until the user leaves.
        let (_, user) = app
            .post(
                &format!("{family}/Users"),
                &app.main(),
                &[("Identity", "holder"), ("RoleSid", rl)],
            )
            .await;
        let response = app
            .request(
                Method::DELETE,
                &format!("{family}/Roles/{rl}"),
                Some(&app.main()),
                None,
            )
            .await;
        let (status, body) = into_json(response).await;
        assert_twilio_error(status, &body, 400, 20001);
        app.delete(
            &format!("{family}/Users/{}", user["sid"].as_str().unwrap()),
            &app.main(),
        )
        .await;
        assert_eq!(
            app.delete(&format!("{family}/Roles/{rl}"), &app.main())
                .await
                .0,
            204
        );
        assert_eq!(
            app.get(&format!("{family}/Roles/{rl}"), &app.main())
                .await
                .0,
            404
        );
    }
    // The service's default roles cannot be deleted.
    let roles = roles_by_name(&app, "/v1/Roles").await;
    let sid = roles["service user"]["sid"].as_str().unwrap();
    let (status, _) = app.delete(&format!("/v1/Roles/{sid}"), &app.main()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn services_list_fetch_delete_and_configuration() {
    let app = TestApp::spawn().await;
    let default = default_service(&app, &app.main()).await;
    let is = new_service(&app, "Support desk").await;
    let (status, list) = app.get("/v1/Services", &app.main()).await;
    assert_eq!(status, 200);
    assert_v1_page(&list, "services");
    assert_eq!(list["services"].as_array().unwrap().len(), 2);
    let (_, page) = app.get("/v1/Services?PageSize=1000", &app.main()).await;
    assert_eq!(page["meta"]["page_size"], 100);

    let (status, body) = app.post("/v1/Services", &app.main(), &[]).await;
    assert_twilio_error(status, &body, 400, 20001);
    let response = app
        .request(
            Method::POST,
            &format!("/v1/Services/{is}"),
            Some(&app.main()),
            Some(&[("FriendlyName", "x")]),
        )
        .await;
    let (status, body) = into_json(response).await;
    assert_twilio_error(status, &body, 405, 20004);

    // Account configuration: switch the default, validate timers.
    let (status, config) = app
        .post(
            "/v1/Configuration",
            &app.main(),
            &[
                ("DefaultChatServiceSid", &is),
                ("DefaultInactiveTimer", "PT5M"),
                ("DefaultClosedTimer", "PT1H"),
                (
                    "DefaultMessagingServiceSid",
                    "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                ),
            ],
        )
        .await;
    assert_eq!(status, 200, "{config}");
    assert_schema(CONV, "conversations.v1.configuration", &config);
    assert_eq!(
        (
            config["default_chat_service_sid"].as_str(),
            config["default_inactive_timer"].as_str()
        ),
        (Some(is.as_str()), Some("PT5M"))
    );
    let (_, user) = app
        .post("/v1/Users", &app.main(), &[("Identity", "follows-default")])
        .await;
    assert_eq!(
        user["chat_service_sid"],
        is.as_str(),
        "/v1/Users follows the configured default"
    );
    for form in [
        vec![("DefaultInactiveTimer", "PT30S")],
        vec![("DefaultClosedTimer", "PT5M")],
        vec![("DefaultClosedTimer", "ten minutes")],
        vec![("DefaultChatServiceSid", "IS123")],
        vec![(
            "DefaultChatServiceSid",
            "ISffffffffffffffffffffffffffffffff",
        )],
        vec![("DefaultMessagingServiceSid", "MG1")],
    ] {
        let (status, body) = app.post("/v1/Configuration", &app.main(), &form).await;
        assert_twilio_error(status, &body, 400, 20001);
    }

    // Service configuration.
    let roles = roles_by_name(&app, &format!("/v1/Services/{is}/Roles")).await;
    let admin = roles["service admin"]["sid"].as_str().unwrap();
    let (status, sc) = app
        .post(
            &format!("/v1/Services/{is}/Configuration"),
            &app.main(),
            &[
                ("DefaultChatServiceRoleSid", admin),
                ("ReachabilityEnabled", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{sc}");
    assert_schema(CONV, "conversations.v1.service.service_configuration", &sc);
    assert_eq!(
        (
            sc["default_chat_service_role_sid"].as_str(),
            sc["reachability_enabled"].as_bool()
        ),
        (Some(admin), Some(true))
    );
    let (_, user) = app
        .post(
            &format!("/v1/Services/{is}/Users"),
            &app.main(),
            &[("Identity", "gets-admin")],
        )
        .await;
    assert_eq!(user["role_sid"], admin);
    let channel_user = roles["channel user"]["sid"].as_str().unwrap();
    for form in [
        vec![("DefaultChatServiceRoleSid", channel_user)],
        vec![("ReachabilityEnabled", "maybe")],
        vec![("DefaultConversationRoleSid", admin)],
    ] {
        let (status, body) = app
            .post(
                &format!("/v1/Services/{is}/Configuration"),
                &app.main(),
                &form,
            )
            .await;
        assert_twilio_error(status, &body, 400, 20001);
    }

    // The default service cannot be deleted; the old default now can, with its roles and users.
    assert_eq!(
        app.delete(&format!("/v1/Services/{is}"), &app.main())
            .await
            .0,
        400
    );
    app.post(
        &format!("/v1/Services/{default}/Users"),
        &app.main(),
        &[("Identity", "goes")],
    )
    .await;
    assert_eq!(
        app.delete(&format!("/v1/Services/{default}"), &app.main())
            .await
            .0,
        204
    );
    assert_eq!(
        app.get(&format!("/v1/Services/{default}"), &app.main())
            .await
            .0,
        404
    );
    let (_, remaining) = app.get("/v1/Services", &app.main()).await;
    assert_eq!(remaining["services"].as_array().unwrap().len(), 1);
    assert_eq!(app.count("conversation_roles").await, 4);
}

#[tokio::test]
async fn another_account_sees_404_for_everything() {
    let app = TestApp::spawn().await;
    let is = new_service(&app, "mine").await;
    let (_, user) = app
        .post(
            &format!("/v1/Services/{is}/Users"),
            &app.main(),
            &[("Identity", "private")],
        )
        .await;
    let us = user["sid"].as_str().unwrap();
    let roles = roles_by_name(&app, &format!("/v1/Services/{is}/Roles")).await;
    let rl = roles["service user"]["sid"].as_str().unwrap();
    let other = app.subaccount(&app.main(), "other").await;
    for path in [
        format!("/v1/Services/{is}"),
        format!("/v1/Services/{is}/Configuration"),
        format!("/v1/Services/{is}/Users"),
        format!("/v1/Services/{is}/Users/{us}"),
        format!("/v1/Services/{is}/Users/private"),
        format!("/v1/Services/{is}/Roles/{rl}"),
        format!("/v1/Roles/{rl}"),
        format!("/v1/Users/{us}"),
    ] {
        let (status, body) = app.get(&path, &other).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    let (status, _) = app
        .post(
            &format!("/v1/Services/{is}/Users"),
            &other,
            &[("Identity", "intruder")],
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.delete(&format!("/v1/Services/{is}/Users/{us}"), &other)
            .await
            .0,
        404
    );
    assert_eq!(
        app.delete(&format!("/v1/Services/{is}"), &other).await.0,
        404
    );
    let (_, mine) = app
        .get(&format!("/v1/Services/{is}/Users/{us}"), &app.main())
        .await;
    assert_eq!(mine["identity"], "private");
}

#[tokio::test]
async fn conversations_data_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let (_, user) = app
        .post(
            "/v1/Users",
            &app.main(),
            &[("Identity", "durable"), ("Attributes", "{\"a\": 1}")],
        )
        .await;
    let (_, config) = app.get("/v1/Configuration", &app.main()).await;
    app.restart().await;
    let (status, again) = app.get("/v1/Users/durable", &app.main()).await;
    assert_eq!(status, 200);
    assert_eq!(again, user);
    assert_eq!(
        app.get("/v1/Configuration", &app.main()).await.1,
        config,
        "no second default service"
    );
    assert_eq!(app.count("conversation_services").await, 1);
}

#[tokio::test]
async fn accounts_from_before_conversations_get_a_default_service_at_start() {
    let mut app = TestApp::spawn().await;
    let sub = app.subaccount(&app.main(), "old").await;
    app.stop().await;
    // Make the database look as it did before migration 0004 created anything.
    for sql in [
        "delete from conversation_configurations",
        "delete from conversation_users",
        "delete from conversation_services",
    ] {
        app.execute(sql, &[]).await;
    }
    app.restart().await;
    for who in [app.main(), sub] {
        let is = default_service(&app, &who).await;
        let (status, service) = app.get(&format!("/v1/Services/{is}"), &who).await;
        assert_eq!(
            (status.as_u16(), service["friendly_name"].as_str()),
            (200, Some("Default Conversations Service"))
        );
        let (_, roles) = app.get("/v1/Roles", &who).await;
        assert_eq!(roles["roles"].as_array().unwrap().len(), 4);
    }
}

/// Issue 15 F5: users created while their service is being deleted. Each create either
/// committed before the delete (201, then gone with the service) or finds no service (404);
/// none may fail on the database's foreign key (500), and once the delete answered, nothing
/// (cache included) hands the deleted service out again.
#[tokio::test]
async fn user_creates_racing_their_service_delete_are_201_or_404_never_500() {
    let app = TestApp::spawn().await;
    for round in 0..6 {
        let service = new_service(&app, &format!("doomed {round}")).await;
        let users = format!("/v1/Services/{service}/Users");
        // Warm every read path (the service cache included) before the race.
        let (status, body) = app.get(&users, &app.main()).await;
        assert_eq!(status, 200, "{body}");
        let creates: Vec<_> = (0..60)
            .map(|i| {
                let (client, url) = (app.client.clone(), format!("{}{users}", app.base));
                tokio::spawn(async move {
                    let response = crate::helpers::send(
                        client
                            .post(url)
                            .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                            .form(&[("Identity", format!("racer-{i}"))]),
                    )
                    .await;
                    into_json(response).await
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(2 * round)).await;
        let (status, body) = app
            .delete(&format!("/v1/Services/{service}"), &app.main())
            .await;
        assert_eq!(status, 204, "{body}");
        for create in creates {
            let (status, body) = create.await.unwrap();
            match status.as_u16() {
                201 => {}
                404 => assert_twilio_error(status, &body, 404, 20404),
                other => {
                    panic!("round {round}: a create racing the delete answered {other}: {body}")
                }
            }
        }
        let (status, body) = app
            .post(&users, &app.main(), &[("Identity", "after-the-delete")])
            .await;
        assert_twilio_error(status, &body, 404, 20404);
        let (status, body) = app
            .get(&format!("/v1/Services/{service}"), &app.main())
            .await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    assert_eq!(
        app.count(
            "conversation_users where service_sid not in (select sid from conversation_services)"
        )
        .await,
        0,
        "no user outlives its service"
    );
}

/// The typed wire structs print exactly the bytes the `serde_json::Value` bodies they replaced
/// printed: keys sorted, compact. A field declared out of alphabetical order fails here.
#[tokio::test]
async fn every_conversations_body_is_printed_with_sorted_keys() {
    let app = TestApp::spawn().await;
    let service = new_service(&app, "bytes").await;
    let (status, role) = app
        .post(
            &format!("/v1/Services/{service}/Roles"),
            &app.main(),
            &[
                ("FriendlyName", "r"),
                ("Type", "service"),
                ("Permission", "joinConversation"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{role}");
    let (status, user) = app
        .post(
            "/v1/Users",
            &app.main(),
            &[
                ("Identity", "bytes"),
                ("Attributes", "{\"b\": 1,  \"a\": 2}"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let (status, body) = app
        .post(
            "/v1/Configuration/Webhooks",
            &app.main(),
            &[
                ("PostWebhookUrl", "https://h.example/x"),
                ("Filters", "onUserAdded"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let role_sid = role["sid"].as_str().unwrap();
    for path in [
        "/v1/Services".to_owned(),
        format!("/v1/Services/{service}"),
        "/v1/Configuration".to_owned(),
        format!("/v1/Services/{service}/Configuration"),
        "/v1/Roles".to_owned(),
        format!("/v1/Services/{service}/Roles/{role_sid}"),
        "/v1/Users".to_owned(),
        "/v1/Users/bytes".to_owned(),
        "/v1/Users/bytes/Conversations".to_owned(),
        "/v1/Configuration/Webhooks".to_owned(),
        format!("/v1/Services/{service}/Configuration/Webhooks"),
        "/_localtwilio/WebhookAttempts".to_owned(),
    ] {
        let response = app
            .request(Method::GET, &path, Some(&app.main()), None)
            .await;
        let (method, answered_path, status) = answered(&response);
        let raw = response.text().await.unwrap();
        let parsed = checked_body(&method, &answered_path, status, &raw);
        assert_eq!(status, 200, "{path}: {raw}");
        assert_eq!(raw, parsed.to_string(), "{path}: keys sorted, compact");
    }
}
