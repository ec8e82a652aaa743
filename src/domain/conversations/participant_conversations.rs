//! ParticipantConversations (`/v1/ParticipantConversations?Identity=|Address=`),
//! conversations-core.md §4: the service's participants with one identity or address, each
//! with its conversation, in the shape UserConversations reads them.

use super::{
    scope::{Scope, Service, resolve},
    user_conversations::{Participation, page_of},
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        paging::{Page, PageRequest},
    },
    error::{Error, Result},
};

/// ParticipantConversations: the service's participants with exactly this identity or
/// address ("Only one parameter should be specified"), with their conversations.
pub async fn list_participant_conversations(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    identity: Option<&str>,
    address: Option<&str>,
    request: PageRequest,
) -> Result<(Service, Page<Participation>)> {
    let service = resolve(core, principal, scope).await?;
    let (key, by_identity) = match (identity, address) {
        (Some(identity), None) => (identity, true),
        (None, Some(address)) => (address, false),
        _ => {
            return Err(Error::invalid(
                "Invalid parameters: give exactly one of Identity and Address",
            ));
        }
    };
    let rows = core
        .store
        .participations_by(service.sid.as_str(), key, by_identity, request.keyset())
        .await?;
    Ok((service, page_of(request, rows)?))
}
