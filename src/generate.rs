//! `localtwilio seed --generate`: a large, deterministic data set for load tests. The same
//! numbers and seed give the same SIDs, tokens, secrets, identities and attributes on every
//! machine. Rows go in through bulk transactions (up to 100,000 rows each); credentials are argon2
//! hashed like any other. A JSON manifest lists what a load generator needs.

use serde::Serialize;
use serde_json::json;

use crate::{
    domain::{Core, conversations::default_service, secrets, sid::AccountSid, time},
    store::{
        accounts::NewAccount,
        bulk::{BulkConversations, BulkFlow, BulkKey, BulkSession},
        conversations::{ConversationRow, MessageRow, NewService, ParticipantRow, UserRow},
        trusthub::end_users::EndUserRow,
    },
};

#[derive(Debug, Clone)]
pub struct Sizes {
    pub accounts: usize,
    pub users: usize,
    pub flows: usize,
    pub end_users: usize,
    /// Conversations in all, and per conversation its chat participants and messages.
    pub conversations: usize,
    pub participants: usize,
    pub messages: usize,
    pub keys: usize,
    pub seed: u64,
}

/// splitmix64: tiny, fast and the same everywhere; it also mints the SIDs (see `sid`).
struct Rng {
    state: u64,
    /// SIDs minted so far: each SID's leading "time" (see `sid`).
    minted: u64,
}

/// The made-up creation time of the first generated SID: 2025-01-01T00:00:00Z, in ms.
const GENERATED_EPOCH_MS: u64 = 1_735_689_600_000;

impl Rng {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            minted: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn hex32(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }

    /// A SID shaped like the server's own (`domain::sid`, v7 UUIDs): 12 hex digits of a
    /// creation time in ms — here one ms after the previous SID's, from
    /// `GENERATED_EPOCH_MS` — then 20 random ones. Every SID is greater than the one before,
    /// so each table's `sid` index is only ever appended to (the rows go in in SID order), and
    /// the data set stays the same for the same seed. The times lie before any the server
    /// mints, so its own creates append after the generated rows too.
    fn sid(&mut self, prefix: &str) -> String {
        let time = GENERATED_EPOCH_MS + self.minted;
        self.minted += 1;
        format!(
            "{prefix}{time:012x}{:04x}{:016x}",
            self.next() & 0xffff,
            self.next()
        )
    }
}

/// Work for the loader task: rows are built on the calling task while the loader writes the
/// previous batch, so building and SQLite's inserts run on both cores at once.
enum Load {
    Account {
        sid: String,
        friendly_name: String,
        hash: String,
        sealed: Vec<u8>,
        service: Box<NewService>,
        now: i64,
    },
    Users(Vec<UserRow>),
    Flows(String, Vec<BulkFlow>, i64),
    EndUsers(Vec<EndUserRow>),
    Conversations(Box<BulkConversations>),
    Keys(String, Vec<BulkKey>, i64),
}

/// Writes what arrives in order, on one connection, then makes it durable.
async fn load(
    mut bulk: BulkSession,
    mut work: tokio::sync::mpsc::Receiver<Load>,
) -> anyhow::Result<()> {
    while let Some(next) = work.recv().await {
        match next {
            Load::Account {
                sid,
                friendly_name,
                hash,
                sealed,
                service,
                now,
            } => {
                bulk.main_account(NewAccount {
                    sid: &sid,
                    owner_account_sid: &sid,
                    friendly_name: &friendly_name,
                    auth_token_hash: &hash,
                    auth_token_sealed: &sealed,
                    now,
                    default_service: &service,
                })
                .await?
            }
            Load::Users(rows) => bulk.bulk_users(rows).await?,
            Load::Flows(account, flows, now) => bulk.bulk_flows(&account, &flows, now).await?,
            Load::EndUsers(rows) => bulk.bulk_end_users(rows).await?,
            Load::Conversations(batch) => bulk.bulk_conversations(*batch).await?,
            Load::Keys(account, keys, now) => bulk.keys(&account, &keys, now).await?,
        }
    }
    bulk.finish().await?;
    Ok(())
}

/// The loading side of `generate`: hands work to the loader; a closed channel means the loader
/// failed, and `finish` says why.
struct Loader {
    work: tokio::sync::mpsc::Sender<Load>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Loader {
    fn start(bulk: BulkSession) -> Self {
        let (work, queue) = tokio::sync::mpsc::channel(1);
        Self {
            work,
            task: tokio::spawn(load(bulk, queue)),
        }
    }

    async fn send(&self, next: Load) -> anyhow::Result<()> {
        self.work
            .send(next)
            .await
            .map_err(|_| anyhow::anyhow!("the loader stopped"))
    }

    async fn finish(self) -> anyhow::Result<()> {
        drop(self.work);
        self.task.await?
    }
}

/// Items handed to the loader `size` at a time, as the `Load` that `wrap` makes of them; each
/// item stores `rows_per_item` rows (a flow: itself, its revision and its 3 test users).
struct Batch<T, W> {
    items: Vec<T>,
    size: usize,
    rows_per_item: usize,
    wrap: W,
}

impl<T, W: Fn(Vec<T>) -> Load> Batch<T, W> {
    fn new(size: usize, rows_per_item: usize, wrap: W) -> Self {
        Self {
            items: Vec::new(),
            size,
            rows_per_item,
            wrap,
        }
    }

    /// Adds an item; a full batch goes to the loader.
    async fn push(
        &mut self,
        item: T,
        loader: &Loader,
        rows: &mut usize,
        progress: &dyn Fn(u64),
    ) -> anyhow::Result<()> {
        self.items.push(item);
        if self.items.len() >= self.size {
            self.flush(loader, rows, progress).await?;
        }
        Ok(())
    }

    /// Hands what is left to the loader, counting the rows it stores.
    async fn flush(
        &mut self,
        loader: &Loader,
        rows: &mut usize,
        progress: &dyn Fn(u64),
    ) -> anyhow::Result<()> {
        if self.items.is_empty() {
            return Ok(());
        }
        *rows += self.items.len() * self.rows_per_item;
        loader
            .send((self.wrap)(std::mem::take(&mut self.items)))
            .await?;
        progress(*rows as u64);
        Ok(())
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
    pub conversations: usize,
    /// Chat participants and messages per conversation.
    pub participants_per_conversation: usize,
    pub messages_per_conversation: usize,
    /// Up to 1,000 user SIDs and their identities.
    pub sample_user_sids: Vec<String>,
    pub sample_identities: Vec<String>,
    pub sample_flow_sids: Vec<String>,
    /// Up to 1,000 conversation SIDs; conversation `i` is named `conversation-{a}-{i:07}` and
    /// holds users `(i × participants + p) mod users` for p in 0..participants.
    pub sample_conversation_sids: Vec<String>,
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
                let mut hasher = secrets::Argon2Memory::default();
                loop {
                    let job = jobs.lock().ok().and_then(|mut q| q.pop_front());
                    let Some((secret, done)) = job else { break };
                    let _ = done.send(hasher.hash(&secret).map_err(anyhow::Error::from));
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
/// three test users); a conversation itself, its participants and its messages; keys one each.
pub fn expected_rows(sizes: &Sizes) -> u64 {
    let accounts = sizes.accounts.max(1);
    let conversations: usize = (0..accounts)
        .map(|a| {
            let (users, conversations) = (
                share(sizes.users, accounts, a),
                share(sizes.conversations, accounts, a),
            );
            conversations * (1 + sizes.participants.min(users) + sizes.messages)
        })
        .sum();
    (accounts * 6 + sizes.users + sizes.end_users + sizes.flows * 5 + conversations + sizes.keys)
        as u64
}

/// Generates the data set; `progress` is told the rows written so far after each batch.
pub async fn generate(
    core: &Core,
    sizes: &Sizes,
    progress: &dyn Fn(u64),
) -> anyhow::Result<Manifest> {
    let started = std::time::Instant::now();
    let now = time::now();
    let mut manifest = Manifest {
        seed: sizes.seed,
        accounts: Vec::new(),
        keys: Vec::new(),
        rows: 0,
        seconds: 0.0,
    };
    let loader = Loader::start(core.store.bulk_session().await?);
    let result = generate_into(core, sizes, progress, &loader, &mut manifest, now).await;
    let loaded = loader.finish().await;
    // The loader's own error explains a send that failed.
    loaded?;
    // Deep-page tokens carry a row's seq, known once the rows are in.
    for (account, deep) in manifest.accounts.iter_mut().zip(result?) {
        if let Some(DeepPage { anchor, page }) = deep {
            let seq = core.store.user_seq(&anchor).await?.unwrap_or(0);
            account.deep_users_page = Some(format!(
                "/v1/Users?PageSize=10&Page={page}&PageToken=PA{seq:x}"
            ));
        }
    }
    manifest.seconds = started.elapsed().as_secs_f64();
    Ok(manifest)
}

/// The last full page of an account's users at PageSize=10: the user just before it, and its
/// page number.
struct DeepPage {
    anchor: String,
    page: usize,
}

/// Builds the data set and hands it to the loader; returns each account's deep page.
async fn generate_into(
    core: &Core,
    sizes: &Sizes,
    progress: &dyn Fn(u64),
    loader: &Loader,
    manifest: &mut Manifest,
    now: i64,
) -> anyhow::Result<Vec<Option<DeepPage>>> {
    let mut deep_pages = Vec::new();
    let mut rng = Rng::new(sizes.seed);
    let accounts = sizes.accounts.max(1);
    // Credentials come from a stream of their own so they can be hashed up front.
    let mut credential_rng = Rng::new(sizes.seed ^ 0x5eed_c0de_0000_0001);
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
        loader
            .send(Load::Account {
                sid: sid.to_string(),
                friendly_name: format!("Load test account {a}"),
                hash: hashes.next().await?,
                sealed: core.server_key.seal(&token, sid.as_str())?,
                service: Box::new(service.clone()),
                now,
            })
            .await?;
        // The account, its default service and the service's 4 roles.
        manifest.rows += 6;
        progress(manifest.rows as u64);

        let users = share(sizes.users, accounts, a);
        let mut sample_user_sids = Vec::new();
        let mut sample_identities = Vec::new();
        // Users 1..=(pages-1)*10 fill pages 0..pages-1; the last of them anchors the deep page.
        let deep_page = (users >= 20).then(|| users / 10 - 1);
        let mut deep_anchor = None;
        let mut batch = Batch::new(BATCH, 1, Load::Users);
        // Every user's SID, when conversations take them as participants.
        let mut members = Vec::with_capacity(if sizes.conversations > 0 { users } else { 0 });
        for i in 0..users {
            let user_sid = rng.sid("US");
            if sizes.conversations > 0 {
                members.push(user_sid.clone());
            }
            let identity = format!("user-{a}-{i:07}");
            if i < 1000 {
                sample_user_sids.push(user_sid.clone());
                sample_identities.push(identity.clone());
            }
            if deep_page.is_some_and(|page| i + 1 == page * 10) {
                deep_anchor = Some(user_sid.clone());
            }
            let user = UserRow {
                seq: 0,
                sid: user_sid,
                service_sid: service.sid.clone(),
                account_sid: sid.to_string(),
                identity,
                friendly_name: Some(format!("User {i}")),
                attributes: {
                    // What json!({"tier": …, "score": …}).to_string() writes, without the map.
                    let tier = TIERS[(rng.next() % 3) as usize];
                    let score = rng.next() % 1000;
                    format!(r#"{{"score":{score},"tier":"{tier}"}}"#)
                },
                role_sid: Some(service.default_chat_service_role_sid.clone()),
                date_created: now,
                date_updated: now,
            };
            batch
                .push(user, loader, &mut manifest.rows, progress)
                .await?;
        }
        batch.flush(loader, &mut manifest.rows, progress).await?;
        deep_pages.push(
            deep_page
                .zip(deep_anchor)
                .map(|(page, anchor)| DeepPage { anchor, page }),
        );

        let flows = share(sizes.flows, accounts, a);
        let definition = json!({"description": "generated", "initial_state": "Trigger", "states": [
            {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingMessage", "next": "reply"}]},
            {"name": "reply", "type": "send-message", "properties": {"body": "Hello"}, "transitions": []}]})
        .to_string();
        let mut sample_flow_sids = Vec::new();
        let account_sid = sid.to_string();
        let mut flow_batch = Batch::new(BATCH / 5, 5, |flows| {
            Load::Flows(account_sid.clone(), flows, now)
        });
        for i in 0..flows {
            let flow_sid = rng.sid("FW");
            if i < 1000 {
                sample_flow_sids.push(flow_sid.clone());
            }
            let test_users = (0..3)
                .map(|_| format!("+1555{:07}", rng.next() % 10_000_000))
                .collect();
            let flow = BulkFlow {
                sid: flow_sid,
                friendly_name: format!("Flow {i}"),
                definition: definition.clone(),
                test_users,
            };
            flow_batch
                .push(flow, loader, &mut manifest.rows, progress)
                .await?;
        }
        flow_batch
            .flush(loader, &mut manifest.rows, progress)
            .await?;

        let end_users = share(sizes.end_users, accounts, a);
        let mut eu_batch = Batch::new(BATCH, 1, Load::EndUsers);
        for i in 0..end_users {
            let end_user = EndUserRow {
                seq: 0,
                sid: rng.sid("IT"),
                account_sid: sid.to_string(),
                friendly_name: format!("End user {i}"),
                r#type: "individual".into(),
                attributes: format!(
                    r#"{{"first_name":"F{i}","last_name":"L{}"}}"#,
                    rng.next() % 1000
                ),
                date_created: now,
                date_updated: now,
            };
            eu_batch
                .push(end_user, loader, &mut manifest.rows, progress)
                .await?;
        }
        eu_batch.flush(loader, &mut manifest.rows, progress).await?;

        let conversations = share(sizes.conversations, accounts, a);
        let participants = sizes.participants.min(users);
        let sample_conversation_sids = generate_conversations(
            &mut rng,
            Members {
                account: a,
                account_sid: &sid,
                service: &service,
                users: &members,
            },
            (conversations, participants, sizes.messages),
            now,
            loader,
            &mut manifest.rows,
            progress,
        )
        .await?;

        manifest.accounts.push(AccountManifest {
            sid: sid.to_string(),
            auth_token: token,
            service_sid: service.sid.clone(),
            users,
            end_users,
            flows,
            conversations,
            participants_per_conversation: participants,
            messages_per_conversation: sizes.messages,
            sample_user_sids,
            sample_identities,
            sample_flow_sids,
            sample_conversation_sids,
            deep_users_page: None,
        });
    }
    // Keys belong to the first account; their hashes were queued after every account token.
    let first_account = manifest
        .accounts
        .first()
        .map(|a| a.sid.clone())
        .unwrap_or_default();
    let mut keys = Vec::with_capacity(key_credentials.len());
    for (k, (key_sid, secret)) in key_credentials.into_iter().enumerate() {
        keys.push(BulkKey {
            sid: key_sid.clone(),
            friendly_name: format!("load key {k}"),
            secret_hash: hashes.next().await?,
        });
        manifest.keys.push(KeyManifest {
            sid: key_sid,
            secret,
            account_sid: first_account.clone(),
        });
    }
    manifest.rows += keys.len();
    loader.send(Load::Keys(first_account, keys, now)).await?;
    progress(manifest.rows as u64);
    Ok(deep_pages)
}

/// The users of one account that conversations take as participants.
struct Members<'a> {
    account: usize,
    account_sid: &'a AccountSid,
    service: &'a NewService,
    /// Every user's SID; user `i`'s identity is `user-{account}-{i:07}`.
    users: &'a [String],
}

/// `count` conversations of one account, each with `participants` chat participants (users in
/// turn, so a user is in about `count × participants / users` of them) and `messages` messages
/// (indexes 0.., written by the participants in turn; `system` without participants). Returns
/// up to 1,000 of their SIDs.
#[allow(clippy::too_many_arguments)]
async fn generate_conversations(
    rng: &mut Rng,
    members: Members<'_>,
    (count, participants, messages): (usize, usize, usize),
    now: i64,
    loader: &Loader,
    rows: &mut usize,
    progress: &dyn Fn(u64),
) -> anyhow::Result<Vec<String>> {
    let Members {
        account,
        account_sid,
        service,
        users,
    } = members;
    let per_conversation = 1 + participants + messages;
    // Whole conversations to a batch, about BATCH rows each.
    let per_batch = (BATCH / per_conversation).max(1);
    let mut samples = Vec::new();
    let mut batch = BulkConversations::default();
    for c in 0..count {
        let conversation_sid = rng.sid("CH");
        if c < 1000 {
            samples.push(conversation_sid.clone());
        }
        let name = format!("conversation-{account}-{c:07}");
        batch.conversations.push(ConversationRow {
            seq: 0,
            sid: conversation_sid.clone(),
            service_sid: service.sid.clone(),
            account_sid: account_sid.to_string(),
            friendly_name: Some(name.clone()),
            unique_name: Some(name),
            attributes: "{}".to_owned(),
            messaging_service_sid: None,
            state: "active".to_owned(),
            timer_inactive: None,
            timer_closed: None,
            date_inactive: None,
            date_closed: None,
            email_address: None,
            email_name: None,
            next_message_index: messages as i64,
            date_created: now,
            date_updated: now,
        });
        let mut authors = Vec::with_capacity(participants);
        for p in 0..participants {
            let user = (c * participants + p) % users.len().max(1);
            let participant_sid = rng.sid("MB");
            let identity = format!("user-{account}-{user:07}");
            authors.push((identity.clone(), participant_sid.clone()));
            batch.participants.push(ParticipantRow {
                seq: 0,
                sid: participant_sid,
                conversation_sid: conversation_sid.clone(),
                service_sid: service.sid.clone(),
                account_sid: account_sid.to_string(),
                identity: Some(identity),
                user_sid: users.get(user).cloned(),
                address: None,
                proxy_address: None,
                projected_address: None,
                binding_type: None,
                binding_open: false,
                attributes: "{}".to_owned(),
                role_sid: Some(service.default_conversation_role_sid.clone()),
                last_read_message_index: None,
                last_read_timestamp: None,
                notification_level: "default".to_owned(),
                date_created: now,
                date_updated: now,
            });
        }
        for m in 0..messages {
            let (author, participant_sid) = match authors.get(m % participants.max(1)) {
                Some((identity, sid)) => (identity.clone(), Some(sid.clone())),
                None => ("system".to_owned(), None),
            };
            batch.messages.push(MessageRow {
                seq: 0,
                sid: rng.sid("IM"),
                conversation_sid: conversation_sid.clone(),
                service_sid: service.sid.clone(),
                account_sid: account_sid.to_string(),
                message_index: m as i64,
                author,
                body: Some(format!("Message {m}")),
                media: None,
                attributes: "{}".to_owned(),
                participant_sid,
                content_sid: None,
                subject: None,
                date_created: now,
                date_updated: now,
            });
        }
        if (c + 1) % per_batch == 0 || batch.rows() >= BATCH {
            *rows += batch.rows();
            loader
                .send(Load::Conversations(Box::new(std::mem::take(&mut batch))))
                .await?;
            progress(*rows as u64);
        }
    }
    if batch.rows() > 0 {
        *rows += batch.rows();
        loader.send(Load::Conversations(Box::new(batch))).await?;
        progress(*rows as u64);
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.sid("AC"), b.sid("AC"));
        assert_ne!(Rng::new(7).sid("AC"), Rng::new(8).sid("AC"));
        // Each SID sorts after the one before (the indexes are appended to) and has the shape.
        let (first, second) = (a.sid("US"), a.sid("US"));
        assert!(first < second, "{first} then {second}");
        assert!(crate::domain::sid::matches_pattern(&second, "US"));
        assert_eq!(share(10, 3, 0) + share(10, 3, 1) + share(10, 3, 2), 10);
    }
}
