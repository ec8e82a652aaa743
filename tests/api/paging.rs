use std::collections::HashSet;

use crate::helpers::{MAIN_SID, TestApp, assert_twilio_error};

/// Walks `first` through `next_page_uri`, calling `between` after each page.
async fn walk(app: &TestApp, first: &str, mut between: impl AsyncFnMut(usize)) -> Vec<String> {
    let mut sids = Vec::new();
    let mut next = Some(first.to_owned());
    let mut pages = 0;
    while let Some(uri) = next {
        let (status, body) = app.get(&uri, &app.main()).await;
        assert_eq!(status, 200, "{body}");
        for account in body["accounts"].as_array().unwrap() {
            sids.push(account["sid"].as_str().unwrap().to_owned());
        }
        if pages > 0 {
            assert_eq!(body["uri"], uri, "a page reached by token names itself");
        }
        next = body["next_page_uri"].as_str().map(str::to_owned);
        pages += 1;
        between(pages).await;
        assert!(pages < 100, "runaway paging");
    }
    sids
}

#[tokio::test]
async fn one_hundred_twenty_accounts_walk_in_pages_of_fifty_without_gaps_even_with_inserts() {
    let app = TestApp::spawn().await;
    let mut created = vec![MAIN_SID.to_owned()];
    for i in 0..119 {
        created.push(app.subaccount(&app.main(), &format!("sub {i}")).await.user);
    }

    let (_, first) = app
        .get("/2010-04-01/Accounts.json?PageSize=50", &app.main())
        .await;
    assert_eq!(first["page_size"], 50);
    assert_eq!(
        (first["start"].as_u64(), first["end"].as_u64()),
        (Some(0), Some(49))
    );
    assert!(first["previous_page_uri"].is_null());
    assert_eq!(
        first["first_page_uri"],
        "/2010-04-01/Accounts.json?PageSize=50&Page=0"
    );

    let sids = walk(&app, "/2010-04-01/Accounts.json?PageSize=50", async |_| {}).await;
    assert_eq!(sids, created, "every account once, in creation order");

    // Accounts created between pages appear at the end; none is skipped or repeated.
    let mut added = Vec::new();
    let sids = walk(&app, "/2010-04-01/Accounts.json?PageSize=50", async |_| {
        added.push(app.subaccount(&app.main(), "late").await.user);
    })
    .await;
    let unique: HashSet<&String> = sids.iter().collect();
    assert_eq!(unique.len(), sids.len(), "no duplicates");
    assert_eq!(&sids[..120], &created[..]);
    assert!(sids.len() >= 121);
    for sid in &sids[120..] {
        assert!(added.contains(sid));
    }
}

#[tokio::test]
async fn the_last_page_has_no_next_and_previous_links_walk_back() {
    let app = TestApp::spawn().await;
    for i in 0..4 {
        app.subaccount(&app.main(), &format!("s{i}")).await;
    }
    // 5 accounts, pages of 2: [0,1] [2,3] [4]
    let (_, p0) = app
        .get("/2010-04-01/Accounts.json?PageSize=2", &app.main())
        .await;
    let (_, p1) = app
        .get(p0["next_page_uri"].as_str().unwrap(), &app.main())
        .await;
    assert_eq!(p1["page"], 1);
    assert_eq!(
        (p1["start"].as_u64(), p1["end"].as_u64()),
        (Some(2), Some(3))
    );
    let (_, p2) = app
        .get(p1["next_page_uri"].as_str().unwrap(), &app.main())
        .await;
    assert_eq!(p2["accounts"].as_array().unwrap().len(), 1);
    assert!(p2["next_page_uri"].is_null(), "{p2}");
    let (_, back) = app
        .get(p2["previous_page_uri"].as_str().unwrap(), &app.main())
        .await;
    assert_eq!(back["accounts"], p1["accounts"]);
    let (_, back0) = app
        .get(back["previous_page_uri"].as_str().unwrap(), &app.main())
        .await;
    assert_eq!(back0["accounts"], p0["accounts"]);
}

#[tokio::test]
async fn page_size_above_the_maximum_is_clamped_and_reported() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .get("/2010-04-01/Accounts.json?PageSize=5000", &app.main())
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["page_size"], 1000);
    let (status, body) = app
        .get("/2010-04-01/Accounts.json?PageSize=0", &app.main())
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    assert_eq!(body["message"], "Invalid PageSize.");
}
