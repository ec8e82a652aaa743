//! TestUsers (`studio.v2.flow.test_user`): the identities allowed to run a flow under test.
//! The POST replaces the whole list atomically; each identity non-empty and at most 300 UTF-8
//! bytes ("Each Test User identity can be up to 300 bytes", seed page 000); duplicates collapse
//! to their first occurrence, order kept *(ours)*. The list goes with the flow's deletion.

use std::collections::HashSet;

use tracing::instrument;

use super::scope::require_flow;
use crate::{
    domain::{Core, auth::Principal, sid::FlowSid},
    error::{Error, Result},
};

/// Seed page 000: "Each Test User identity can be up to 300 bytes."
pub const MAX_TEST_USER_BYTES: usize = 300;

/// Checks a posted TestUsers list and returns what will be stored.
pub fn normalize(identities: Vec<String>) -> Result<Vec<String>> {
    if identities.is_empty() {
        return Err(Error::missing("TestUsers"));
    }
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(identities.len());
    for identity in identities {
        if identity.is_empty() {
            return Err(Error::invalid(
                "Invalid parameter TestUsers: an identity must not be empty",
            ));
        }
        if identity.len() > MAX_TEST_USER_BYTES {
            return Err(Error::invalid(format!(
                "Invalid parameter TestUsers: each identity must be at most {MAX_TEST_USER_BYTES} bytes (one is {})",
                identity.len()
            )));
        }
        if seen.insert(identity.clone()) {
            kept.push(identity);
        }
    }
    Ok(kept)
}

pub async fn fetch(core: &Core, principal: &Principal, sid: &FlowSid) -> Result<Vec<String>> {
    core.store
        .test_users(principal.account_sid.as_str(), sid.as_str())
        .await?
        .ok_or(Error::NotFound)
}

#[instrument(skip_all)]
pub async fn replace(
    core: &Core,
    principal: &Principal,
    sid: &FlowSid,
    identities: Vec<String>,
) -> Result<Vec<String>> {
    // The write itself answers "no such flow"; only a refused list looks the flow up, so that
    // an unknown flow is 404 before the list is judged (DESIGN.md's order of checks).
    let identities = match normalize(identities) {
        Ok(identities) => identities,
        Err(refused) => {
            require_flow(core, principal, sid).await?;
            return Err(refused);
        }
    };
    if core
        .store
        .replace_test_users(principal.account_sid.as_str(), sid.as_str(), &identities)
        .await?
    {
        Ok(identities)
    } else {
        Err(Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_user_identities_are_limited_to_300_bytes_not_characters() {
        assert!(normalize(vec!["a".repeat(300)]).is_ok());
        assert!(normalize(vec!["a".repeat(301)]).is_err());
        assert!(normalize(vec!["\u{4e2d}".repeat(100)]).is_ok()); // 300 bytes
        assert!(normalize(vec!["\u{4e2d}".repeat(101)]).is_err());
        assert!(normalize(vec![format!("{}\u{1F600}", "a".repeat(297))]).is_err()); // 301
        assert_eq!(normalize(vec![]).unwrap_err().code(), 20001);
    }

    #[test]
    fn duplicates_collapse_to_the_first_occurrence() {
        let kept = normalize(vec!["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(kept, vec!["b", "a"]);
    }
}
