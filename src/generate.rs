//! `localtwilio seed --generate`: a large, deterministic data set for load tests. The same
//! numbers and seed give the same SIDs, tokens, secrets, identities and attributes on every
//! machine. Rows go in through bulk transactions (up to 100,000 rows each); credentials are argon2
//! hashed like any other. A JSON manifest lists what a load generator needs.

use serde::Serialize;
use serde_json::json;

use crate::{
    domain::{Core, conversations::default_service, secrets, sid::AccountSid, time},
    store::{accounts::NewAccount, bulk::BulkFlow, conversations::UserRow, end_users::EndUserRow},
};

#[derive(Debug, Clone)]
pub struct Sizes {
    pub accounts: usize,
    pub users: usize,
    pub flows: usize,
    pub end_users: usize,
    pub keys: usize,
    pub seed: u64,
}

/// splitmix64: tiny, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn hex32(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }

    fn sid(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", self.hex32())
    }
}

#[derive(Debug, Serialize)]
pub struct AccountManifest {
    pub sid: String,
    pub auth_token: String,
    pub service_sid: String,
    pub users: usize,
    pub end_users: usize,
    pub flows: usize,
    /// Up to 1,000 user SIDs and their identities.
    pub sample_user_sids: Vec<String>,
    pub sample_identities: Vec<String>,
    pub sample_flow_sids: Vec<String>,
    /// The last full page of users at PageSize=10 (page 999 for 10,000 users).
    pub deep_users_page: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct KeyManifest {
    pub sid: String,
    pub secret: String,
    pub account_sid: String,
}

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub seed: u64,
    pub accounts: Vec<AccountManifest>,
    pub keys: Vec<KeyManifest>,
    pub rows: usize,
    pub seconds: f64,
}

const BATCH: usize = 100_000;
const TIERS: [&str; 3] = ["bronze", "silver", "gold"];

fn share(total: usize, parts: usize, index: usize) -> usize {
    total / parts + usize::from(index < total % parts)
}

/// argon2 hashes of the data set's credentials, made on two threads of their own while the
/// rows load (74 hashes take ~2.6 s of CPU: done one after another, inline, they were half of
/// the generation time). Results come back in the order of `secrets`.
struct Hashes {
    results: std::collections::VecDeque<tokio::sync::oneshot::Receiver<anyhow::Result<String>>>,
}

impl Hashes {
    fn start(secrets_to_hash: Vec<String>) -> Self {
        let mut results = std::collections::VecDeque::new();
        let mut jobs = std::collections::VecDeque::new();
        for secret in secrets_to_hash {
            let (done, result) = tokio::sync::oneshot::channel();
            jobs.push_back((secret, done));
            results.push_back(result);
        }
        let jobs = std::sync::Arc::new(std::sync::Mutex::new(jobs));
        for _ in 0..2 {
            let jobs = std::sync::Arc::clone(&jobs);
            std::thread::spawn(move || {
                loop {
                    let job = jobs.lock().ok().and_then(|mut q| q.pop_front());
                    let Some((secret, done)) = job else { break };
                    let _ = done.send(secrets::hash_secret(&secret).map_err(anyhow::Error::from));
                }
            });
        }
        Self { results }
    }

    async fn next(&mut self) -> anyhow::Result<String> {
        let result = self
            .results
            .pop_front()
            .ok_or_else(|| anyhow::anyhow!("no hash left"))?;
        result.await?
    }
}

/// Rows a data set of `sizes` has (for a progress bar's length): per account its row, its
/// default service and 4 roles; users and end users one row each; a flow five (flow, revision,
/// three test users); keys one each.
pub fn expected_rows(sizes: &Sizes) -> u64 {
    let accounts = sizes.accounts.max(1);
    (accounts * 6 + sizes.users + sizes.end_users + sizes.flows * 5 + sizes.keys) as u64
}

/// Generates the data set; `progress` is told the rows written so far after each batch.
pub async fn generate(
    core: &Core,
    sizes: &Sizes,
    progress: &dyn Fn(u64),
) -> anyhow::Result<Manifest> {
    let started = std::time::Instant::now();
    let mut rng = Rng(sizes.seed);
    let now = time::now();
    let mut manifest = Manifest {
        seed: sizes.seed,
        accounts: Vec::new(),
        keys: Vec::new(),
        rows: 0,
        seconds: 0.0,
    };
    let accounts = sizes.accounts.max(1);
    let mut bulk = core.store.bulk_session().await?;
    // Credentials come from a stream of their own so they can be hashed up front.
    let mut credential_rng = Rng(sizes.seed ^ 0x5eed_c0de_0000_0001);
    let tokens: Vec<String> = (0..accounts).map(|_| credential_rng.hex32()).collect();
    let key_credentials: Vec<(String, String)> = (0..sizes.keys)
        .map(|_| (credential_rng.sid("SK"), credential_rng.hex32()))
        .collect();
    let mut hashes = Hashes::start(
        tokens
            .iter()
            .chain(key_credentials.iter().map(|(_, secret)| secret))
            .cloned()
            .collect(),
    );
    for (a, token) in tokens.into_iter().enumerate() {
        let sid_text = rng.sid("AC");
        let sid = AccountSid::parse(&sid_text).ok_or_else(|| anyhow::anyhow!("generated SID"))?;
        if core.store.fetch_account(sid.as_str()).await?.is_some() {
            anyhow::bail!(
                "account {sid} already exists: this data set was generated into this database before"
            );
        }
        // The default service and its roles get generated SIDs too, so reruns match.
        let mut service = default_service(&sid, now);
        let old_defaults: Vec<String> = service.roles.iter().map(|r| r.sid.clone()).collect();
        for role in &mut service.roles {
            role.sid = rng.sid("RL");
        }
        let renamed = |old: &str| -> String {
            old_defaults
                .iter()
                .position(|o| o == old)
                .map(|i| service.roles[i].sid.clone())
                .unwrap_or_default()
        };
        service.default_chat_service_role_sid = renamed(&service.default_chat_service_role_sid);
        service.default_conversation_role_sid = renamed(&service.default_conversation_role_sid);
        service.default_conversation_creator_role_sid =
            renamed(&service.default_conversation_creator_role_sid);
        service.sid = rng.sid("IS");
        service.friendly_name = format!("Load test service {a}");
        core.store
            .insert_main_account(NewAccount {
                sid: sid.as_str(),
                owner_account_sid: sid.as_str(),
                friendly_name: &format!("Load test account {a}"),
                auth_token_hash: &hashes.next().await?,
                auth_token_sealed: &core.server_key.seal(&token, sid.as_str())?,
                now,
                default_service: &service,
            })
            .await?;
        // The account, its default service and the service's 4 roles.
        manifest.rows += 6;
        progress(manifest.rows as u64);

        let users = share(sizes.users, accounts, a);
        let mut sample_user_sids = Vec::new();
        let mut sample_identities = Vec::new();
        let mut all_sids = Vec::with_capacity(users);
        let mut batch = Vec::with_capacity(BATCH.min(users));
        for i in 0..users {
            let user_sid = rng.sid("US");
            let identity = format!("user-{a}-{i}");
            if i < 1000 {
                sample_user_sids.push(user_sid.clone());
                sample_identities.push(identity.clone());
            }
            all_sids.push(user_sid.clone());
            batch.push(UserRow {
                seq: 0,
                sid: user_sid,
                service_sid: service.sid.clone(),
                account_sid: sid.to_string(),
                identity,
                friendly_name: Some(format!("User {i}")),
                attributes:
                    json!({"tier": TIERS[(rng.next() % 3) as usize], "score": rng.next() % 1000})
                        .to_string(),
                role_sid: Some(service.default_chat_service_role_sid.clone()),
                date_created: now,
                date_updated: now,
            });
            if batch.len() == BATCH {
                bulk.bulk_users(&batch).await?;
                manifest.rows += batch.len();
                progress(manifest.rows as u64);
                batch.clear();
            }
        }
        if !batch.is_empty() {
            bulk.bulk_users(&batch).await?;
            manifest.rows += batch.len();
            progress(manifest.rows as u64);
        }
        let deep_users_page = if users >= 20 {
            let pages = users / 10;
            let anchor = &all_sids[(pages - 1) * 10 - 1];
            let seq = core.store.user_seq(anchor).await?.unwrap_or(0);
            Some(format!(
                "/v1/Users?PageSize=10&Page={}&PageToken=PA{seq:x}",
                pages - 1
            ))
        } else {
            None
        };

        let flows = share(sizes.flows, accounts, a);
        let definition = json!({"description": "generated", "initial_state": "Trigger", "states": [
            {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingMessage", "next": "reply"}]},
            {"name": "reply", "type": "send-message", "properties": {"body": "Hello"}, "transitions": []}]})
        .to_string();
        let mut sample_flow_sids = Vec::new();
        let mut flow_batch = Vec::new();
        for i in 0..flows {
            let flow_sid = rng.sid("FW");
            if i < 1000 {
                sample_flow_sids.push(flow_sid.clone());
            }
            let test_users = (0..3)
                .map(|_| format!("+1555{:07}", rng.next() % 10_000_000))
                .collect();
            flow_batch.push(BulkFlow {
                sid: flow_sid,
                friendly_name: format!("Flow {i}"),
                definition: definition.clone(),
                test_users,
            });
            if flow_batch.len() == BATCH / 5 {
                bulk.bulk_flows(sid.as_str(), &flow_batch, now).await?;
                manifest.rows += flow_batch.len() * 5;
                progress(manifest.rows as u64);
                flow_batch.clear();
            }
        }
        if !flow_batch.is_empty() {
            bulk.bulk_flows(sid.as_str(), &flow_batch, now).await?;
            manifest.rows += flow_batch.len() * 5;
            progress(manifest.rows as u64);
        }

        let end_users = share(sizes.end_users, accounts, a);
        let mut eu_batch = Vec::new();
        for i in 0..end_users {
            eu_batch.push(EndUserRow {
                seq: 0,
                sid: rng.sid("IT"),
                account_sid: sid.to_string(),
                friendly_name: format!("End user {i}"),
                r#type: "individual".into(),
                attributes: json!({"first_name": format!("F{i}"), "last_name": format!("L{}", rng.next() % 1000)}).to_string(),
                date_created: now,
                date_updated: now,
            });
            if eu_batch.len() == BATCH {
                bulk.bulk_end_users(&eu_batch).await?;
                manifest.rows += eu_batch.len();
                progress(manifest.rows as u64);
                eu_batch.clear();
            }
        }
        if !eu_batch.is_empty() {
            bulk.bulk_end_users(&eu_batch).await?;
            manifest.rows += eu_batch.len();
            progress(manifest.rows as u64);
        }

        manifest.accounts.push(AccountManifest {
            sid: sid.to_string(),
            auth_token: token,
            service_sid: service.sid.clone(),
            users,
            end_users,
            flows,
            sample_user_sids,
            sample_identities,
            sample_flow_sids,
            deep_users_page,
        });
    }
    bulk.finish().await?;
    // Keys belong to the first account; their hashes were queued after every account token.
    let first_account = manifest
        .accounts
        .first()
        .map(|a| a.sid.clone())
        .unwrap_or_default();
    for (k, (key_sid, secret)) in key_credentials.into_iter().enumerate() {
        core.store
            .insert_key(
                &key_sid,
                &first_account,
                Some(&format!("load key {k}")),
                &hashes.next().await?,
                now,
            )
            .await?;
        manifest.rows += 1;
        progress(manifest.rows as u64);
        manifest.keys.push(KeyManifest {
            sid: key_sid,
            secret,
            account_sid: first_account.clone(),
        });
    }
    manifest.seconds = started.elapsed().as_secs_f64();
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        assert_eq!(a.sid("AC"), b.sid("AC"));
        assert_ne!(Rng(7).sid("AC"), Rng(8).sid("AC"));
        assert_eq!(share(10, 3, 0) + share(10, 3, 1) + share(10, 3, 2), 10);
    }
}
