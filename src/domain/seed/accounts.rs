//! Account entries (a main account at the top level, a subaccount in its parent's
//! `subaccounts`) with their API keys, and the entries of every product they hold.

use super::{
    entry::{Applier, At, Entry, Generated, Refusal, Step, refuse, sid},
    format::{SeedAccount, SeedKey},
};
use crate::{
    domain::{
        accounts::{self, AccountStatus},
        conversations, keys, secrets,
        sid::AccountSid,
        time,
        trusthub::bundles::BundleKind,
    },
    store::seed::{AccountRecord, KeyRecord},
};

impl Applier<'_> {
    pub async fn account(
        &mut self,
        entry: &Entry<SeedAccount>,
        parent: Option<&AccountRecord>,
    ) -> Step {
        let (at, f) = (entry.at, &entry.value);
        let what = &format!("account {}", f.sid);
        let sid = sid(at, what, "AC", &f.sid)?;
        if let Some(parent) = parent {
            accounts::check_may_own_subaccounts(parent.owner_account_sid == parent.sid)
                .at(at, what)?;
        }
        let owner = parent.map_or(sid, |p| p.sid.as_str()).to_owned();
        let existing: Option<AccountRecord> = self.tx.get(sid).await?;
        if let Some(e) = &existing
            && e.owner_account_sid != owner
        {
            return refuse(
                at,
                what,
                format!(
                    "already exists with owner {}; the file gives it owner {owner}",
                    e.owner_account_sid
                ),
            );
        }
        let friendly_name = match (&f.friendly_name, &existing, parent) {
            (Some(name), _, _) => name.clone(),
            (None, Some(e), _) => e.friendly_name.clone(),
            (None, None, None) => "localtwilio main account".to_owned(),
            (None, None, Some(_)) => {
                format!("SubAccount Created at {}", time::meridian(self.now))
            }
        };
        accounts::check_friendly_name(&friendly_name).at(at, what)?;
        // A new account starts active, as the API creates it.
        let current = match &existing {
            Some(e) => AccountStatus::parse(&e.status).at(at, what)?,
            None => AccountStatus::Active,
        };
        let status = match &f.status {
            Some(s) => AccountStatus::parse(s).at(at, what)?,
            None => current,
        };
        accounts::check_status_change(parent.is_none(), current, status).at(at, what)?;
        let kind = match (&f.r#type, &existing) {
            (Some(t), _) if t == "Trial" || t == "Full" => t.clone(),
            (Some(t), _) => {
                return refuse(at, what, format!("type must be Trial or Full, not '{t}'"));
            }
            (None, Some(e)) => e.r#type.clone(),
            (None, None) => "Full".to_owned(),
        };
        let (hash, sealed) = match (&f.auth_token, &existing) {
            (Some(token), _) if !secrets::is_auth_token(token) => {
                return refuse(at, what, "auth_token must be 32 hex digits");
            }
            (Some(token), Some(e))
                if self
                    .core
                    .server_key
                    .open(&e.auth_token_sealed, sid)
                    .is_ok_and(|stored| stored == token.to_ascii_lowercase()) =>
            {
                (e.auth_token_hash.clone(), e.auth_token_sealed.clone())
            }
            (Some(token), _) => self.seal_token(sid, &token.to_ascii_lowercase()).await?,
            (None, Some(e)) => (e.auth_token_hash.clone(), e.auth_token_sealed.clone()),
            (None, None) => {
                let token = secrets::new_auth_token().at(at, what)?;
                let sealed = self.seal_token(sid, &token).await?;
                self.out.generated.push(Generated {
                    sid: sid.to_owned(),
                    secret: token,
                });
                sealed
            }
        };
        if existing.is_none()
            && let Some(parent) = parent
        {
            let existing_subaccounts = self.tx.subaccount_count(&parent.sid).await?;
            accounts::check_subaccount_room(existing_subaccounts).at(at, what)?;
        }
        let record = self
            .settle(at, what, f, existing.as_ref(), |stamps| AccountRecord {
                seq: stamps.seq,
                sid: sid.to_owned(),
                owner_account_sid: owner.clone(),
                friendly_name: friendly_name.clone(),
                status: status.as_str().to_owned(),
                r#type: kind.clone(),
                auth_token_hash: hash.clone(),
                auth_token_sealed: sealed.clone(),
                date_created: stamps.created,
                date_updated: stamps.updated,
            })
            .await?;
        // Every account has a default Conversations service (made with the account, as the
        // API does) unless the file names one.
        if existing.is_none() && !f.conversation_services.iter().any(|s| s.value.default) {
            let account = AccountSid::parse(sid)
                .ok_or_else(|| Refusal::Entry(at, format!("{what}: malformed sid")))?;
            let standard = conversations::default_service(&account, record.date_created);
            self.standard_service(&standard).await?;
            self.tx.set_default_service(sid, &standard.sid).await?;
        }
        for key in &f.keys {
            self.key(key, sid).await?;
        }
        for flow in &f.flows {
            self.flow(flow, sid).await?;
        }
        if f.conversation_services
            .iter()
            .filter(|s| s.value.default)
            .count()
            > 1
        {
            return refuse(at, what, "only one conversation service can be the default");
        }
        for service in &f.conversation_services {
            self.service(service, sid).await?;
        }
        if let Some(entry) = &f.conversation_configuration {
            self.configuration(entry, sid).await?;
        }
        if let Some(entry) = &f.conversation_webhooks {
            self.account_webhooks(entry, what, sid).await?;
        }
        for end_user in &f.end_users {
            self.end_user(end_user, sid).await?;
        }
        for document in &f.supporting_documents {
            self.supporting_document(document, sid).await?;
        }
        for bundle in &f.customer_profiles {
            self.bundle(bundle, sid, BundleKind::CustomerProfile)
                .await?;
        }
        for bundle in &f.trust_products {
            self.bundle(bundle, sid, BundleKind::TrustProduct).await?;
        }
        for sub in &f.subaccounts {
            Box::pin(self.account(sub, Some(&record))).await?;
        }
        Ok(())
    }

    /// The hash (on the server's argon2 pool, as every hash) and sealed copy of an auth token.
    async fn seal_token(&self, sid: &str, token: &str) -> Step<(String, Vec<u8>)> {
        let hash = self.core.auth.hash_secret(token).await.at(0, "hash")?;
        let sealed = self.core.server_key.seal(token, sid).at(0, "seal")?;
        Ok((hash, sealed))
    }

    async fn key(&mut self, entry: &Entry<SeedKey>, account: &str) -> Step {
        let (at, what, sid, existing) = self.open(entry, account).await?;
        let (f, what) = (&entry.value, &what);
        let friendly_name = f
            .friendly_name
            .clone()
            .or_else(|| existing.as_ref().and_then(|e| e.friendly_name.clone()));
        keys::check_friendly_name(friendly_name.as_deref()).at(at, what)?;
        let stored_hash = existing.as_ref().map(|e| e.secret_hash.clone());
        let hash = match (&f.secret, &f.secret_hash) {
            (Some(_), Some(_)) => return refuse(at, what, "give secret or secret_hash, not both"),
            (Some(secret), None) => {
                if !secrets::is_key_secret(secret) {
                    return refuse(at, what, "secret must be 32 letters and digits");
                }
                // The stored hash is kept when the secret is unchanged, so a re-apply writes
                // nothing. Both computations run on the server's argon2 pool.
                let unchanged = match &stored_hash {
                    Some(stored) => self
                        .core
                        .auth
                        .secret_matches(sid, secret, stored.clone())
                        .await
                        .at(at, what)?,
                    None => false,
                };
                match stored_hash {
                    Some(stored) if unchanged => stored,
                    _ => self.core.auth.hash_secret(secret).await.at(at, what)?,
                }
            }
            (None, Some(hash)) => match secrets::check_secret_hash(hash) {
                Ok(()) => hash.clone(),
                Err(unusable) => return refuse(at, what, format!("secret_hash {unusable}")),
            },
            (None, None) => match stored_hash {
                Some(stored) => stored,
                None => {
                    let secret = secrets::new_key_secret().at(at, what)?;
                    let hash = self.core.auth.hash_secret(&secret).await.at(at, what)?;
                    self.out.generated.push(Generated {
                        sid: sid.to_owned(),
                        secret,
                    });
                    hash
                }
            },
        };
        self.settle(at, what, f, existing.as_ref(), |stamps| KeyRecord {
            seq: stamps.seq,
            sid: sid.to_owned(),
            account_sid: account.to_owned(),
            friendly_name: friendly_name.clone(),
            secret_hash: hash.clone(),
            date_created: stamps.created,
            date_updated: stamps.updated,
        })
        .await?;
        Ok(())
    }
}
