use crate::helpers::{Creds, MAIN_SID, TestApp};

#[tokio::test]
async fn accounts_keys_and_tokens_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let sub = app.subaccount(&app.main(), "durable").await;
    let (_, key) = app
        .post(
            &format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json"),
            &app.main(),
            &[("FriendlyName", "k")],
        )
        .await;
    let key = Creds::new(
        key["sid"].as_str().unwrap(),
        key["secret"].as_str().unwrap(),
    );
    let path = format!("/2010-04-01/Accounts/{}.json", sub.user);
    let (_, before) = app.get(&path, &sub).await;

    app.restart().await;

    let (status, after) = app.get(&path, &sub).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after, before, "same account, same token, same dates");
    assert_eq!(
        app.get("/v1/Nothing", &key).await.0,
        404,
        "the key still authenticates"
    );
    let (status, _) = app.get("/2010-04-01/Accounts.json", &app.main()).await;
    assert_eq!(status, 200);
    assert_eq!(
        app.count("accounts").await,
        2,
        "no second main account was bootstrapped"
    );
}
