//! TrustHub bundles end to end (issue 20): the ISV onboarding loop for a Secondary Customer
//! Profile and an A2P Trust Product, evaluations naming exactly what fails, submission, the
//! simulated review and its signed status callbacks, rejection and resubmission, every refusal,
//! other accounts' bundles, a review surviving a restart, and the catalogs. The ISV's approved
//! primary profile comes from `config/trusthub-isv.json` (the API refuses to create one, as
//! Twilio does).

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{Creds, TestApp, assert_twilio_error, config},
    receiver::{Received, Receiver, expected_signature},
};

const ISV_SID: &str = "AC00000000000000000000000000001500";
const ISV_TOKEN: &str = "15001500150015001500150015001500";
const CUSTOMER_SID: &str = "AC00000000000000000000000000001501";
const CUSTOMER_TOKEN: &str = "15011501150115011501150115011501";
const ISV_PRIMARY: &str = "BU00000000000000000000000000001500";
const ISV_END_USER: &str = "IT00000000000000000000000000001500";

const PRIMARY_POLICY: &str = "RN6433641899984f951173ef1738c3bdd0";
const SECONDARY_POLICY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
const A2P_POLICY: &str = "RNb0d4771c2c98518d916a3d4cd70a8f8b";
const WAIT: Duration = Duration::from_secs(20);

fn isv() -> Creds {
    Creds::new(ISV_SID, ISV_TOKEN)
}

fn customer() -> Creds {
    Creds::new(CUSTOMER_SID, CUSTOMER_TOKEN)
}

/// Fast reviews: 100 ms to in-review, 200 ms more to the decision.
fn fast(config: &mut localtwilio::Config) {
    config.trusthub_review_start_ms = 100;
    config.trusthub_review_decision_ms = 200;
}

fn manual(config: &mut localtwilio::Config) {
    config.trusthub_review = "manual".into();
}

/// A server whose database holds `config/trusthub-isv.json` (seeded as `seed FILE` does).
async fn seeded(tune: fn(&mut localtwilio::Config)) -> TestApp {
    let mut app = TestApp::spawn_tuned(tune).await;
    app.stop().await;
    let mut cfg = config(app.dir.path());
    tune(&mut cfg);
    let core = localtwilio::open_core(&cfg).await.unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/trusthub-isv.json"
    ))
    .unwrap();
    localtwilio::domain::seed::apply(&core, &text)
        .await
        .unwrap();
    core.store.close().await;
    app.restart().await;
    app
}

async fn created(app: &TestApp, path: &str, creds: &Creds, form: &[(&str, &str)]) -> Value {
    let (status, body) = app.post(path, creds, form).await;
    assert_eq!(status, 201, "{path}: {body}");
    body
}

async fn end_user(app: &TestApp, creds: &Creds, kind: &str, attributes: Value) -> String {
    let text = attributes.to_string();
    let body = created(
        app,
        "/v1/EndUsers",
        creds,
        &[
            ("FriendlyName", kind),
            ("Type", kind),
            ("Attributes", &text),
        ],
    )
    .await;
    body["sid"].as_str().unwrap().to_owned()
}

async fn address(app: &TestApp, creds: &Creds) -> String {
    let body = created(
        app,
        "/v1/SupportingDocuments",
        creds,
        &[
            ("FriendlyName", "HQ address"),
            ("Type", "customer_profile_address"),
            (
                "Attributes",
                r#"{"address_sids": "AD00000000000000000000000000000001"}"#,
            ),
        ],
    )
    .await;
    assert_eq!(body["status"], "DRAFT");
    assert_eq!(body["mime_type"], Value::Null);
    body["sid"].as_str().unwrap().to_owned()
}

async fn bundle(
    app: &TestApp,
    creds: &Creds,
    family: &str,
    name: &str,
    policy: &str,
    callback: Option<&str>,
) -> Value {
    let mut form = vec![
        ("FriendlyName", name),
        ("Email", "compliance@bakery.example"),
        ("PolicySid", policy),
    ];
    if let Some(url) = callback {
        form.push(("StatusCallback", url));
    }
    created(app, &format!("/v1/{family}"), creds, &form).await
}

async fn assign(app: &TestApp, creds: &Creds, bundle: &str, object: &str) -> (u16, Value) {
    let family = family_of(app, creds, bundle).await;
    let (status, body) = app
        .post(
            &format!("/v1/{family}/{bundle}/EntityAssignments"),
            creds,
            &[("ObjectSid", object)],
        )
        .await;
    (status.as_u16(), body)
}

/// Which path family a bundle SID answers under.
async fn family_of(app: &TestApp, creds: &Creds, bundle: &str) -> &'static str {
    let (status, _) = app
        .get(&format!("/v1/CustomerProfiles/{bundle}"), creds)
        .await;
    if status == 200 {
        "CustomerProfiles"
    } else {
        "TrustProducts"
    }
}

/// A complete authorized representative #1 of `creds`'s account.
async fn representative(app: &TestApp, creds: &Creds) -> String {
    end_user(
        app,
        creds,
        "authorized_representative_1",
        json!({"first_name": "A", "last_name": "B", "email": "a@b.example",
               "business_title": "Owner", "job_position": "Other", "phone_number": "+15005550102"}),
    )
    .await
}

/// Assigns the ISV's business information, `rep`, the ISV's address and its approved primary
/// profile: what makes an ISV account's secondary profile compliant.
async fn complete_with_isv_objects(app: &TestApp, creds: &Creds, bundle: &str, rep: &str) {
    for object in [
        ISV_END_USER,
        rep,
        "RD00000000000000000000000000001500",
        ISV_PRIMARY,
    ] {
        let (status, body) = assign(app, creds, bundle, object).await;
        assert_eq!(status, 201, "{object}: {body}");
    }
}

async fn evaluate(app: &TestApp, creds: &Creds, family: &str, bundle: &str, policy: &str) -> Value {
    created(
        app,
        &format!("/v1/{family}/{bundle}/Evaluations"),
        creds,
        &[("PolicySid", policy)],
    )
    .await
}

/// (requirement_name, error_code) of every failing requirement, in order.
fn failing(evaluation: &Value) -> Vec<(String, Value)> {
    evaluation["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] != true)
        .map(|r| {
            (
                r["requirement_name"].as_str().unwrap().to_owned(),
                r["error_code"].clone(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, Value)]) -> Vec<(String, Value)> {
    list.iter()
        .map(|(n, c)| ((*n).to_owned(), c.clone()))
        .collect()
}

async fn submit(app: &TestApp, creds: &Creds, family: &str, bundle: &str) -> (u16, Value) {
    let (status, body) = app
        .post(
            &format!("/v1/{family}/{bundle}"),
            creds,
            &[("Status", "pending-review")],
        )
        .await;
    (status.as_u16(), body)
}

/// The URL a receiver validates against: what it was requested at.
fn url_as_received(received: &Received) -> String {
    format!(
        "http://{}{}",
        received.headers["host"].to_str().unwrap(),
        received.uri
    )
}

fn assert_signed(received: &Received, token: &str) {
    assert_eq!(
        received.signature(),
        expected_signature(token, &url_as_received(received), &received.params()),
        "X-Twilio-Signature verifies with the owner's auth token"
    );
}

/// The callbacks for one path, as (BundleSid, Status).
fn statuses(received: &[Received], path: &str) -> Vec<String> {
    received
        .iter()
        .filter(|r| r.uri.path() == path)
        .map(|r| r.param("Status").unwrap())
        .collect()
}

async fn wait_status(app: &TestApp, creds: &Creds, path: &str, want: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, body) = app.get(path, creds).await;
        if body["status"] == want {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never became {want}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn isv_onboarding_loop_secondary_profile_then_a2p_trust_product() {
    let app = seeded(fast).await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    let me = customer();

    // 1. The secondary profile, in the ISV's customer subaccount.
    let cp = bundle(
        &app,
        &me,
        "CustomerProfiles",
        "Bright Bakery",
        SECONDARY_POLICY,
        Some(&receiver.url("/cp")),
    )
    .await;
    let cp_sid = cp["sid"].as_str().unwrap().to_owned();
    assert!(cp_sid.starts_with("BU"));
    assert_eq!(
        (
            cp["status"].clone(),
            cp["errors"].clone(),
            cp["valid_until"].clone()
        ),
        (json!("draft"), Value::Null, Value::Null)
    );
    assert_eq!(cp["account_sid"], CUSTOMER_SID);
    assert_eq!(
        cp["links"]["customer_profiles_channel_endpoint_assignment"],
        format!(
            "{}/v1/CustomerProfiles/{cp_sid}/ChannelEndpointAssignments",
            app.base
        )
    );

    // 2. Empty: every required requirement fails, the optional second representative passes.
    let empty = evaluate(&app, &me, "CustomerProfiles", &cp_sid, SECONDARY_POLICY).await;
    assert_eq!(empty["status"], "noncompliant");
    assert!(empty["sid"].as_str().unwrap().starts_with("EL"));
    assert_eq!(empty["customer_profile_sid"], cp_sid);
    assert_eq!(
        failing(&empty),
        pairs(&[
            ("customer_profile_business_information", json!(22214)),
            ("authorized_representative_1", json!(22214)),
            ("customer_profile_address", json!(22216)),
            ("primary_customer_profile", Value::Null),
        ])
    );
    let business = &empty["results"][0];
    assert_eq!(
        business["object_type"],
        "customer_profile_business_information"
    );
    assert_eq!(business["valid"], json!([]));
    let invalid_fields: Vec<&str> = business["invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["object_field"].as_str().unwrap())
        .collect();
    assert!(
        invalid_fields.contains(&"business_name")
            && !invalid_fields.contains(&"social_media_profile_urls"),
        "{invalid_fields:?}"
    );
    assert!(
        business["invalid"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["error_code"] == 22215 && i.get("passed").is_none())
    );
    assert_eq!(
        empty["results"][4]["failure_reason"],
        "Primary customer profile bundle is null"
    );
    assert_eq!(
        empty["results"][2]["requirement_name"],
        "authorized_representative_2"
    );
    assert_eq!(empty["results"][2]["passed"], true, "optional");

    // 3. Assign the customer's information (website missing), address and the ISV's primary.
    let info = end_user(
        &app,
        &me,
        "customer_profile_business_information",
        json!({
        "business_name": "Bright Bakery LLC", "business_type": "Limited Liability Corporation",
        "business_identity": "direct_customer", "business_industry": "FOOD_AND_BEVERAGE",
        "business_registration_identifier": "EIN", "business_registration_number": "12-3456789",
        "business_regions_of_operation": "USA_AND_CANADA"}),
    )
    .await;
    let rep = end_user(
        &app,
        &me,
        "authorized_representative_1",
        json!({
        "first_name": "Sam", "last_name": "Baker", "email": "sam@bakery.example",
        "business_title": "Owner", "job_position": "CEO", "phone_number": "+15005550101"}),
    )
    .await;
    let doc = address(&app, &me).await;
    for object in [&info, &rep, &doc, &ISV_PRIMARY.to_owned()] {
        let (status, body) = assign(&app, &me, &cp_sid, object).await;
        assert_eq!(status, 201, "{body}");
        assert!(body["sid"].as_str().unwrap().starts_with("BV"));
        assert_eq!(body["object_sid"], *object);
    }
    let (_, listed) = app.get(&format!("/v1/CustomerProfiles/{cp_sid}/EntityAssignments?ObjectType=customer_profile_address"), &me).await;
    assert_eq!(listed["results"].as_array().unwrap().len(), 1);
    assert_eq!(listed["results"][0]["object_sid"], doc);

    let partial = evaluate(&app, &me, "CustomerProfiles", &cp_sid, SECONDARY_POLICY).await;
    assert_eq!(
        failing(&partial),
        pairs(&[("customer_profile_business_information", json!(22215))])
    );
    let invalid = &partial["results"][0]["invalid"];
    assert_eq!(invalid.as_array().unwrap().len(), 1, "{invalid}");
    assert_eq!(invalid[0]["object_field"], "website_url");
    assert_eq!(
        partial["results"][4]["valid"][0]["object_field"],
        "bundle_sid"
    );

    // 4. Fix, evaluate compliant, submit.
    let (status, _) = app
        .post(
            &format!("/v1/EndUsers/{info}"),
            &me,
            &[(
                "Attributes",
                &json!({
        "business_name": "Bright Bakery LLC", "business_type": "Limited Liability Corporation",
        "business_identity": "direct_customer", "business_industry": "FOOD_AND_BEVERAGE",
        "business_registration_identifier": "EIN", "business_registration_number": "12-3456789",
        "business_regions_of_operation": "USA_AND_CANADA", "website_url": "https://bakery.example"})
                .to_string(),
            )],
        )
        .await;
    assert_eq!(status, 200);
    let compliant = evaluate(&app, &me, "CustomerProfiles", &cp_sid, SECONDARY_POLICY).await;
    assert_eq!(compliant["status"], "compliant", "{compliant}");
    assert!(
        compliant["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["passed"] == true && r["error_code"].is_null())
    );
    let (status, submitted) = submit(&app, &me, "CustomerProfiles", &cp_sid).await;
    assert_eq!(status, 200, "{submitted}");
    assert_eq!(submitted["status"], "pending-review");

    // 5. The A2P Trust Product holds the secondary profile (no need to wait for its approval).
    let tp = bundle(
        &app,
        &me,
        "TrustProducts",
        "Bright Bakery A2P",
        A2P_POLICY,
        Some(&receiver.url("/tp")),
    )
    .await;
    let tp_sid = tp["sid"].as_str().unwrap().to_owned();
    assert_eq!(
        tp["links"]["trust_products_evaluations"],
        format!("{}/v1/TrustProducts/{tp_sid}/Evaluations", app.base)
    );
    let empty = evaluate(&app, &me, "TrustProducts", &tp_sid, A2P_POLICY).await;
    assert_eq!(empty["trust_product_sid"], tp_sid);
    assert_eq!(
        failing(&empty),
        pairs(&[
            ("us_a2p_messaging_profile_information", json!(22214)),
            ("customer_profile", Value::Null)
        ])
    );
    let a2p = end_user(
        &app,
        &me,
        "us_a2p_messaging_profile_information",
        json!({"company_type": "private"}),
    )
    .await;
    for object in [&a2p, &cp_sid] {
        let (status, body) = assign(&app, &me, &tp_sid, object).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["trust_product_sid"], tp_sid);
    }
    let compliant = evaluate(&app, &me, "TrustProducts", &tp_sid, A2P_POLICY).await;
    assert_eq!(compliant["status"], "compliant", "{compliant}");
    let (status, body) = submit(&app, &me, "TrustProducts", &tp_sid).await;
    assert_eq!(status, 200, "{body}");

    // 6. Both reviews run: in-review, then approved, each announced by a signed callback.
    let received = receiver.wait_for(4, WAIT).await;
    assert_eq!(statuses(&received, "/cp"), ["in-review", "twilio-approved"]);
    assert_eq!(statuses(&received, "/tp"), ["in-review", "twilio-approved"]);
    for r in &received {
        assert_signed(r, CUSTOMER_TOKEN);
        assert_eq!(r.param("AccountSid").as_deref(), Some(CUSTOMER_SID));
        let bundle = r.param("BundleSid").unwrap();
        assert!(bundle == cp_sid || bundle == tp_sid);
        assert!(r.param("PolicySid").is_some());
        assert_eq!(r.param("ErrorCodes"), None);
    }
    let approved = wait_status(
        &app,
        &me,
        &format!("/v1/CustomerProfiles/{cp_sid}"),
        "twilio-approved",
    )
    .await;
    assert!(approved["valid_until"].is_string(), "{approved}");
    assert_eq!(approved["errors"], Value::Null);
    let (_, document) = app
        .get(&format!("/v1/SupportingDocuments/{doc}"), &me)
        .await;
    assert_eq!(document["status"], "APPROVED");
    let (_, evaluations) = app
        .get(&format!("/v1/CustomerProfiles/{cp_sid}/Evaluations"), &me)
        .await;
    assert_eq!(
        evaluations["results"].as_array().unwrap().len(),
        4,
        "three evaluations and the submission's"
    );
}

#[tokio::test]
async fn a_rejected_profile_is_fixed_and_resubmitted() {
    let app = seeded(fast).await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    let me = isv();
    // The ISV's own secondary profile for a customer, with the ISV primary: marked to reject.
    let cp = bundle(
        &app,
        &me,
        "CustomerProfiles",
        "Rejected Co [reject:18606,18603]",
        SECONDARY_POLICY,
        Some(&receiver.url("/cb")),
    )
    .await;
    let sid = cp["sid"].as_str().unwrap().to_owned();
    let rep = representative(&app, &me).await;
    complete_with_isv_objects(&app, &me, &sid, &rep).await;
    assert_eq!(submit(&app, &me, "CustomerProfiles", &sid).await.0, 200);
    let rejected = wait_status(
        &app,
        &me,
        &format!("/v1/CustomerProfiles/{sid}"),
        "twilio-rejected",
    )
    .await;
    assert_eq!(
        rejected["errors"],
        json!([{"code": 18606}, {"code": 18603}])
    );
    assert_eq!(rejected["valid_until"], Value::Null);
    let received = receiver.wait_for(2, WAIT).await;
    assert_eq!(statuses(&received, "/cb"), ["in-review", "twilio-rejected"]);
    assert_eq!(
        received[1].param("ErrorCodes").as_deref(),
        Some("18606,18603")
    );
    assert!(
        received[1]
            .param("FailureReason")
            .unwrap()
            .contains("email domain")
    );
    assert_signed(&received[1], ISV_TOKEN);

    // A rejected profile can be edited (the marker goes) and resubmitted: approved, errors cleared.
    let (status, edited) = app
        .post(
            &format!("/v1/CustomerProfiles/{sid}"),
            &me,
            &[("FriendlyName", "Fixed Co")],
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["status"], "twilio-rejected");
    let (status, resubmitted) = submit(&app, &me, "CustomerProfiles", &sid).await;
    assert_eq!(status, 200, "{resubmitted}");
    assert_eq!(resubmitted["errors"], Value::Null);
    let approved = wait_status(
        &app,
        &me,
        &format!("/v1/CustomerProfiles/{sid}"),
        "twilio-approved",
    )
    .await;
    assert_eq!(approved["errors"], Value::Null);
    let received = receiver.wait_for(4, WAIT).await;
    assert_eq!(
        statuses(&received, "/cb"),
        [
            "in-review",
            "twilio-rejected",
            "in-review",
            "twilio-approved"
        ]
    );
}

#[tokio::test]
async fn every_refusal_has_its_code_and_writes_nothing() {
    let app = seeded(manual).await;
    let me = isv();
    // Creates.
    let (status, body) = app
        .post(
            "/v1/CustomerProfiles",
            &me,
            &[
                ("FriendlyName", "P"),
                ("Email", "e@x.example"),
                ("PolicySid", PRIMARY_POLICY),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    assert!(
        body["message"].as_str().unwrap().contains("Twilio Console"),
        "{body}"
    );
    let (status, body) = app
        .post(
            "/v1/CustomerProfiles",
            &me,
            &[
                ("FriendlyName", "P"),
                ("Email", "e@x.example"),
                ("PolicySid", A2P_POLICY),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let (status, body) = app
        .post(
            "/v1/TrustProducts",
            &me,
            &[("FriendlyName", "P"), ("PolicySid", A2P_POLICY)],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    assert!(body["message"].as_str().unwrap().contains("Email"));
    let (status, body) = app
        .post(
            "/v1/CustomerProfiles",
            &me,
            &[
                ("FriendlyName", "P"),
                ("Email", "e@x.example"),
                ("PolicySid", "RN00000000000000000000000000000000"),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let (status, body) = app
        .post(
            "/v1/CustomerProfiles",
            &me,
            &[
                ("FriendlyName", "P"),
                ("Email", "e@x.example"),
                ("PolicySid", SECONDARY_POLICY),
                ("StatusCallback", "ftp://x"),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let (status, body) = app
        .post(
            "/v1/SupportingDocuments",
            &me,
            &[("FriendlyName", "d"), ("Type", "passport")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    assert_eq!(
        app.count("trust_bundles").await,
        1,
        "only the seeded primary"
    );

    let cp = bundle(
        &app,
        &me,
        "CustomerProfiles",
        "Refusals",
        SECONDARY_POLICY,
        None,
    )
    .await;
    let sid = cp["sid"].as_str().unwrap().to_owned();
    let path = format!("/v1/CustomerProfiles/{sid}");
    // Submitting a noncompliant bundle: refused, naming what fails; its evaluation is kept.
    let (status, body) = submit(&app, &me, "CustomerProfiles", &sid).await;
    assert_twilio_error(status.try_into().unwrap(), &body, 400, 20001);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("authorized_representative_1"),
        "{body}"
    );
    let (status, body) = app.post(&path, &me, &[("Status", "twilio-approved")]).await;
    assert_twilio_error(status, &body, 400, 20001);
    let (status, body) = app
        .post(
            &path,
            &me,
            &[("Status", "pending-review"), ("FriendlyName", "x")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 22204);
    // Assignment refusals.
    for bad in [
        "IT00000000000000000000000000000000",
        "XX00000000000000000000000000000000",
        "PN00000000000000000000000000000000",
    ] {
        let (status, body) = assign(&app, &me, &sid, bad).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], 22205, "{bad}: {body}");
    }
    let (status, body) = assign(&app, &me, &sid, &sid).await;
    assert_eq!((status, body["code"].clone()), (400, json!(20001)));
    let tp = bundle(&app, &me, "TrustProducts", "TP", A2P_POLICY, None).await;
    let tp_sid = tp["sid"].as_str().unwrap().to_owned();
    let (status, body) = assign(&app, &me, &sid, &tp_sid).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(20001)),
        "a CP cannot hold a TP: {body}"
    );
    let rep = representative(&app, &me).await;
    complete_with_isv_objects(&app, &me, &sid, &rep).await;
    let (status, body) = assign(&app, &me, &sid, &rep).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(20001)),
        "duplicate: {body}"
    );
    // Deleting what is assigned: 21644.
    let (status, body) = app.delete(&format!("/v1/EndUsers/{rep}"), &me).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["code"], 21644);
    let (status, body) = app
        .delete(
            "/v1/SupportingDocuments/RD00000000000000000000000000001500",
            &me,
        )
        .await;
    assert_eq!(
        (
            status.as_u16(),
            serde_json::from_str::<Value>(&body).unwrap()["code"].clone()
        ),
        (400, json!(21644))
    );
    // Channel endpoints: a Trust Product takes only numbers already on its profiles.
    let number = "PN00000000000000000000000000000001";
    let (status, body) = app
        .post(
            &format!("/v1/TrustProducts/{tp_sid}/ChannelEndpointAssignments"),
            &me,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", number),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let (status, ra) = app
        .post(
            &format!("{path}/ChannelEndpointAssignments"),
            &me,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", number),
            ],
        )
        .await;
    assert_eq!(status, 201, "{ra}");
    let (status, body) = app
        .post(
            &format!("{path}/ChannelEndpointAssignments"),
            &me,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", number),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let (_, filtered) = app.get(&format!("{path}/ChannelEndpointAssignments?ChannelEndpointSids={number},PN00000000000000000000000000000002"), &me).await;
    assert_eq!(filtered["results"].as_array().unwrap().len(), 1);
    assert!(
        filtered["meta"]["url"]
            .as_str()
            .unwrap()
            .contains("ChannelEndpointSids=")
    );
    assert_eq!(assign(&app, &me, &tp_sid, &sid).await.0, 201);
    let (status, body) = app
        .post(
            &format!("/v1/TrustProducts/{tp_sid}/ChannelEndpointAssignments"),
            &me,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", number),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // A profile a Trust Product holds cannot be deleted.
    let (status, body) = app.delete(&path, &me).await;
    assert_eq!(
        (
            status.as_u16(),
            serde_json::from_str::<Value>(&body).unwrap()["code"].clone()
        ),
        (400, json!(21644))
    );

    // In review (manual mode: nothing moves on its own) every change is 60711.
    let (status, body) = submit(&app, &me, "CustomerProfiles", &sid).await;
    assert_eq!(status, 200, "{body}");
    let (_, assignments) = app.get(&format!("{path}/EntityAssignments"), &me).await;
    let bv = assignments["results"][0]["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = app.post(&path, &me, &[("FriendlyName", "renamed")]).await;
    assert_twilio_error(status, &body, 400, 60711);
    assert_eq!(
        submit(&app, &me, "CustomerProfiles", &sid).await.1["code"],
        60711
    );
    let doc = address(&app, &me).await;
    assert_eq!(assign(&app, &me, &sid, &doc).await.1["code"], 60711);
    let (status, body) = app
        .delete(&format!("{path}/EntityAssignments/{bv}"), &me)
        .await;
    assert_eq!(
        (
            status.as_u16(),
            serde_json::from_str::<Value>(&body).unwrap()["code"].clone()
        ),
        (400, json!(60711))
    );
    let (status, body) = app.delete(&path, &me).await;
    assert_eq!(
        (
            status.as_u16(),
            serde_json::from_str::<Value>(&body).unwrap()["code"].clone()
        ),
        (400, json!(60711))
    );
    // The operator decides; approved is final for edits too.
    let review = format!("/_localtwilio/TrustHub/Bundles/{sid}/Review");
    let (status, body) = app.post(&review, &me, &[("Decision", "maybe")]).await;
    assert_eq!((status.as_u16(), body["code"].clone()), (400, json!(20001)));
    let (status, body) = app
        .post(
            &review,
            &me,
            &[("Decision", "reject"), ("ErrorCodes", "99999")],
        )
        .await;
    assert_eq!((status.as_u16(), body["code"].clone()), (400, json!(20001)));
    let (status, body) = app.post(&review, &me, &[("Decision", "in-review")]).await;
    assert_eq!(
        (status.as_u16(), body["status"].clone()),
        (200, json!("in-review"))
    );
    let (status, body) = app.post(&review, &me, &[("Decision", "approve")]).await;
    assert_eq!(
        (status.as_u16(), body["status"].clone()),
        (200, json!("twilio-approved")),
        "{body}"
    );
    assert!(body["valid_until"].is_string());
    let (status, body) = app.post(&review, &me, &[("Decision", "approve")]).await;
    assert_eq!(
        (status.as_u16(), body["code"].clone()),
        (400, json!(20001)),
        "nothing under review"
    );
    let (status, body) = app.post(&path, &me, &[("Email", "new@x.example")]).await;
    assert_twilio_error(status, &body, 400, 60711);
    // Channel endpoints can change in any status.
    let ra_sid = ra["sid"].as_str().unwrap();
    assert_eq!(
        app.delete(
            &format!(
                "/v1/TrustProducts/{tp_sid}/ChannelEndpointAssignments/{}",
                {
                    let (_, l) = app
                        .get(
                            &format!("/v1/TrustProducts/{tp_sid}/ChannelEndpointAssignments"),
                            &me,
                        )
                        .await;
                    l["results"][0]["sid"].as_str().unwrap().to_owned()
                }
            ),
            &me
        )
        .await
        .0,
        204
    );
    assert_eq!(
        app.delete(&format!("{path}/ChannelEndpointAssignments/{ra_sid}"), &me)
            .await
            .0,
        204
    );
}

#[tokio::test]
async fn another_accounts_bundles_and_objects_are_not_found_or_refused() {
    let app = seeded(manual).await;
    let (isv, other) = (isv(), app.main());
    let cp = bundle(
        &app,
        &isv,
        "CustomerProfiles",
        "Mine",
        SECONDARY_POLICY,
        None,
    )
    .await;
    let sid = cp["sid"].as_str().unwrap().to_owned();
    let ev = evaluate(&app, &isv, "CustomerProfiles", &sid, SECONDARY_POLICY).await;
    let (_, bv) = assign(&app, &isv, &sid, ISV_END_USER).await;
    for path in [
        format!("/v1/CustomerProfiles/{sid}"),
        format!("/v1/CustomerProfiles/{sid}/EntityAssignments"),
        format!(
            "/v1/CustomerProfiles/{sid}/EntityAssignments/{}",
            bv["sid"].as_str().unwrap()
        ),
        format!(
            "/v1/CustomerProfiles/{sid}/Evaluations/{}",
            ev["sid"].as_str().unwrap()
        ),
        format!("/v1/CustomerProfiles/{sid}/ChannelEndpointAssignments"),
        "/v1/SupportingDocuments/RD00000000000000000000000000001500".to_owned(),
        format!("/v1/CustomerProfiles/{ISV_PRIMARY}"),
    ] {
        let (status, body) = app.get(&path, &other).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    // The same SID under the other family is not found either.
    let (status, body) = app.get(&format!("/v1/TrustProducts/{sid}"), &isv).await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, body) = app
        .post(
            &format!("/v1/CustomerProfiles/{sid}/Evaluations"),
            &other,
            &[("PolicySid", SECONDARY_POLICY)],
        )
        .await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, body) = app
        .post(
            &format!("/_localtwilio/TrustHub/Bundles/{sid}/Review"),
            &other,
            &[("Decision", "approve")],
        )
        .await;
    assert_eq!((status.as_u16(), body["code"].clone()), (404, json!(20404)));
    assert_eq!(
        app.delete(&format!("/v1/CustomerProfiles/{sid}"), &other)
            .await
            .0,
        404
    );
    // Another account's objects cannot be assigned: 22205. The main account is no ISV parent
    // of the ISV, and a sibling's primary is not reachable either.
    let mine = bundle(
        &app,
        &other,
        "CustomerProfiles",
        "Other",
        SECONDARY_POLICY,
        None,
    )
    .await;
    let mine = mine["sid"].as_str().unwrap().to_owned();
    for object in [
        ISV_END_USER,
        "RD00000000000000000000000000001500",
        ISV_PRIMARY,
        sid.as_str(),
    ] {
        let (status, body) = assign(&app, &other, &mine, object).await;
        assert_eq!(
            (status, body["code"].clone()),
            (400, json!(22205)),
            "{object}: {body}"
        );
    }
    // The ISV's customer subaccount reaches its parent's approved primary, nothing else of it.
    let sub_cp = bundle(
        &app,
        &customer(),
        "CustomerProfiles",
        "Sub",
        SECONDARY_POLICY,
        None,
    )
    .await;
    let sub_cp = sub_cp["sid"].as_str().unwrap().to_owned();
    assert_eq!(assign(&app, &customer(), &sub_cp, ISV_PRIMARY).await.0, 201);
    assert_eq!(
        assign(&app, &customer(), &sub_cp, ISV_END_USER).await.1["code"],
        22205
    );
    assert_eq!(
        assign(&app, &customer(), &sub_cp, &sid).await.1["code"],
        22205,
        "the parent's draft profile"
    );
    let (_, list) = app.get("/v1/CustomerProfiles", &other).await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_review_in_flight_survives_a_restart() {
    fn slow(config: &mut localtwilio::Config) {
        config.trusthub_review_start_ms = 100;
        config.trusthub_review_decision_ms = 1500;
    }
    let mut app = seeded(slow).await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    let me = isv();
    let cp = bundle(
        &app,
        &me,
        "CustomerProfiles",
        "Survivor",
        SECONDARY_POLICY,
        Some(&receiver.url("/cb")),
    )
    .await;
    let sid = cp["sid"].as_str().unwrap().to_owned();
    let rep = representative(&app, &me).await;
    complete_with_isv_objects(&app, &me, &sid, &rep).await;
    assert_eq!(submit(&app, &me, "CustomerProfiles", &sid).await.0, 200);
    let received = receiver.wait_for(1, WAIT).await;
    assert_eq!(statuses(&received, "/cb"), ["in-review"]);
    // Once the delivery is recorded (delivery is at least once: a stop between sending and
    // recording would send it again), stop in review; the decision falls due meanwhile.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, attempts) = app.get("/_localtwilio/WebhookAttempts", &me).await;
        if attempts["attempts"]
            .as_array()
            .is_some_and(|a| a.len() == 1)
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{attempts}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Stopped in review; the decision falls due while the server is down.
    app.stop().await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(receiver.received().len(), 1);
    app.restart().await;
    let approved = wait_status(
        &app,
        &me,
        &format!("/v1/CustomerProfiles/{sid}"),
        "twilio-approved",
    )
    .await;
    assert!(approved["valid_until"].is_string());
    let received = receiver.wait_for(2, WAIT).await;
    assert_eq!(statuses(&received, "/cb"), ["in-review", "twilio-approved"]);
    assert_signed(&received[1], ISV_TOKEN);
}

#[tokio::test]
async fn policies_and_supporting_document_types_are_read_only_catalogs() {
    let app = TestApp::spawn().await;
    let me = app.main();
    let (status, policies) = app.get("/v1/Policies?PageSize=5", &me).await;
    assert_eq!(status, 200);
    assert_eq!(policies["results"].as_array().unwrap().len(), 5);
    assert!(policies["meta"]["next_page_url"].is_string());
    let (_, secondary) = app
        .get(&format!("/v1/Policies/{SECONDARY_POLICY}"), &me)
        .await;
    assert_eq!(
        secondary["friendly_name"],
        "Secondary Customer Profile of type Business"
    );
    assert_eq!(
        secondary["requirements"]["supporting_customer_profiles"][0]["type"],
        "primary_customer_profile_type_business"
    );
    let (_, starter) = app
        .get("/v1/Policies/RN806dd6cd175f314e1f96a9727ee271f4", &me)
        .await;
    assert_eq!(
        starter["requirements"]["supporting_document"][0][0]["accepted_documents"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (status, body) = app
        .get("/v1/Policies/RN00000000000000000000000000000000", &me)
        .await;
    assert_twilio_error(status, &body, 404, 20404);
    let (_, types) = app.get("/v1/SupportingDocumentTypes", &me).await;
    assert_eq!(types["meta"]["key"], "supporting_document_types");
    assert_eq!(
        types["supporting_document_types"].as_array().unwrap().len(),
        3
    );
    let (status, address) = app
        .get("/v1/SupportingDocumentTypes/customer_profile_address", &me)
        .await;
    assert_eq!(status, 200);
    assert_eq!(address["fields"][0]["constraint"], "List");
    let (status, _) = app
        .post("/v1/Policies", &me, &[("FriendlyName", "x")])
        .await;
    assert_eq!(status, 405);
}

/// `seed FILE` twice changes nothing; `export` → `seed` into an empty database answers the
/// bundle reads identically (evaluations are history and are not exported).
#[tokio::test]
async fn bundles_round_trip_through_export_and_seed() {
    let mut app = seeded(manual).await;
    let me = isv();
    let cp = bundle(
        &app,
        &me,
        "CustomerProfiles",
        "Exported",
        SECONDARY_POLICY,
        Some("https://hooks.example/cb"),
    )
    .await;
    let sid = cp["sid"].as_str().unwrap().to_owned();
    assert_eq!(assign(&app, &me, &sid, ISV_END_USER).await.0, 201);
    let (status, _) = app
        .post(
            &format!("/v1/CustomerProfiles/{sid}/ChannelEndpointAssignments"),
            &me,
            &[
                ("ChannelEndpointType", "phone-number"),
                ("ChannelEndpointSid", "PN00000000000000000000000000000009"),
            ],
        )
        .await;
    assert_eq!(status, 201);
    let reads = [
        format!("/v1/CustomerProfiles/{ISV_PRIMARY}"),
        format!("/v1/CustomerProfiles/{ISV_PRIMARY}/EntityAssignments"),
        format!("/v1/CustomerProfiles/{sid}"),
        format!("/v1/CustomerProfiles/{sid}/EntityAssignments"),
        format!("/v1/CustomerProfiles/{sid}/ChannelEndpointAssignments"),
        "/v1/CustomerProfiles".to_owned(),
        "/v1/SupportingDocuments".to_owned(),
    ];
    let mut before = Vec::new();
    for path in &reads {
        before.push(app.get(path, &me).await.1);
    }
    app.stop().await;
    let cfg = config(app.dir.path());
    let core = localtwilio::open_core(&cfg).await.unwrap();
    let again = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/trusthub-isv.json"
    ))
    .unwrap();
    let applied = localtwilio::domain::seed::apply(&core, &again)
        .await
        .unwrap();
    assert_eq!((applied.created, applied.updated), (0, 0), "{applied:?}");
    let account = localtwilio::domain::sid::AccountSid::parse(ISV_SID).unwrap();
    let file = localtwilio::domain::seed::export(&core, Some(&account), true, &mut |_| {})
        .await
        .unwrap();
    core.store.close().await;
    let text = serde_json::to_string_pretty(&file).unwrap();
    assert!(
        text.contains("\"customer_profiles\"") && text.contains("\"entity_assignments\""),
        "{text}"
    );

    let mut copy = TestApp::spawn().await;
    copy.stop().await;
    let core = localtwilio::open_core(&config(copy.dir.path()))
        .await
        .unwrap();
    localtwilio::domain::seed::apply(&core, &text)
        .await
        .unwrap();
    core.store.close().await;
    copy.restart().await;
    let creds = isv();
    for (path, want) in reads.iter().zip(&before) {
        let (status, mut got) = copy.get(path, &creds).await;
        assert_eq!(status, 200, "{path}: {got}");
        // URLs carry each server's own host.
        let text = got.to_string().replace(&copy.base, &app.base);
        got = serde_json::from_str(&text).unwrap();
        assert_eq!(&got, want, "{path}");
    }
}

/// I1/D2: a secondary profile rests on an ISV's primary; a `direct_customer` primary fails the
/// requirement with Twilio's message.
#[tokio::test]
async fn a_secondary_profile_needs_an_isv_primary() {
    let app = seeded(manual).await;
    let me = isv();
    let cp = bundle(
        &app,
        &me,
        "CustomerProfiles",
        "Direct",
        SECONDARY_POLICY,
        None,
    )
    .await;
    let sid = cp["sid"].as_str().unwrap().to_owned();
    let rep = representative(&app, &me).await;
    complete_with_isv_objects(&app, &me, &sid, &rep).await;
    let passing = evaluate(&app, &me, "CustomerProfiles", &sid, SECONDARY_POLICY).await;
    assert_eq!(passing["status"], "compliant", "{passing}");

    let (_, info) = app.get(&format!("/v1/EndUsers/{ISV_END_USER}"), &me).await;
    let mut attributes = info["attributes"].clone();
    attributes["business_identity"] = json!("direct_customer");
    let text = attributes.to_string();
    let (status, _) = app
        .post(
            &format!("/v1/EndUsers/{ISV_END_USER}"),
            &me,
            &[("Attributes", &text)],
        )
        .await;
    assert_eq!(status, 200);
    let failing_now = evaluate(&app, &me, "CustomerProfiles", &sid, SECONDARY_POLICY).await;
    assert_eq!(
        failing(&failing_now),
        pairs(&[("primary_customer_profile", Value::Null)])
    );
    assert_eq!(
        failing_now["results"][4]["failure_reason"],
        "Secondary Customer Profile for direct_customer can only be created through Twilio console."
    );
}
