//! Upgrades: databases written by earlier schemas are checked in (tests/fixtures) and must keep
//! working with the current code: every row readable, every credential authenticating. When a
//! migration is added, a fixture of the schema before it is added here and none is ever removed.

use serde_json::Value;

use crate::helpers::{Creds, TestApp, skip_on_postgres};

fn manifest(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/{name}.manifest.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every page of a v1 list, following next_page_url.
async fn walk(app: &TestApp, first: &str, key: &str, who: &Creds) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(url) = next {
        let (status, page) = app.get(&url, who).await;
        assert_eq!(status, 200, "{page}");
        items.extend(page[key].as_array().unwrap().iter().cloned());
        next = page["meta"]["next_page_url"]
            .as_str()
            .map(|u| u.trim_start_matches(&app.base).to_owned());
    }
    items
}

#[tokio::test]
async fn a_schema_0005_database_opens_with_every_row_and_credential_intact() {
    if skip_on_postgres() {
        return;
    }
    for fixture in ["schema-0005"] {
        let app = TestApp::from_fixture(fixture).await;
        let m = manifest(fixture);
        for account in m["accounts"].as_array().unwrap() {
            let sid = account["sid"].as_str().unwrap();
            let creds = Creds::new(sid, account["auth_token"].as_str().unwrap());
            let (status, fetched) = app
                .get(&format!("/2010-04-01/Accounts/{sid}.json"), &creds)
                .await;
            assert_eq!(status, 200, "{fixture}: {fetched}");
            assert_eq!(
                fetched["auth_token"], account["auth_token"],
                "the sealed token still opens"
            );
            let users = walk(&app, "/v1/Users?PageSize=7", "users", &creds).await;
            assert_eq!(users.len() as u64, account["users"].as_u64().unwrap());
            for identity in account["sample_identities"].as_array().unwrap() {
                let (status, _) = app
                    .get(&format!("/v1/Users/{}", identity.as_str().unwrap()), &creds)
                    .await;
                assert_eq!(status, 200);
            }
            let flows = walk(&app, "/v2/Flows?PageSize=3", "flows", &creds).await;
            assert_eq!(flows.len() as u64, account["flows"].as_u64().unwrap());
            for flow in &flows {
                let sid = flow["sid"].as_str().unwrap();
                let (_, full) = app.get(&format!("/v2/Flows/{sid}"), &creds).await;
                assert_eq!(full["valid"], true);
                let (_, users) = app.get(&format!("/v2/Flows/{sid}/TestUsers"), &creds).await;
                assert_eq!(users["test_users"].as_array().unwrap().len(), 3);
            }
            let end_users = walk(&app, "/v1/EndUsers?PageSize=4", "results", &creds).await;
            assert_eq!(
                end_users.len() as u64,
                account["end_users"].as_u64().unwrap()
            );
            let (status, roles) = app.get("/v1/Roles", &creds).await;
            assert_eq!(
                (status.as_u16(), roles["roles"].as_array().unwrap().len()),
                (200, 4)
            );
        }
        for key in m["keys"].as_array().unwrap() {
            let creds = Creds::new(
                key["sid"].as_str().unwrap(),
                key["secret"].as_str().unwrap(),
            );
            assert_eq!(
                app.get("/v1/Users?PageSize=1", &creds).await.0,
                200,
                "{fixture}: key still authenticates"
            );
        }
    }
}
