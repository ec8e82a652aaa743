//! ParticipantConversations, as read: the service's participant rows with one identity or
//! address, with their conversations (read as UserConversations' are).

use super::user_conversations::{Participation, ParticipationRow, participations_select};
use crate::store::{Keyset, Store, StoreResult, query::fetch_all};

impl Store {
    /// The service's participants whose identity (`by_identity`) or address is `key`, with
    /// their conversations, in the order added (ParticipantConversations).
    pub async fn participations_by(
        &self,
        service_sid: &str,
        key: &str,
        by_identity: bool,
        keyset: Keyset,
    ) -> StoreResult<Vec<Participation>> {
        let column = if by_identity {
            "p.identity"
        } else {
            "p.address"
        };
        let mut qb = participations_select();
        qb.push(" where p.service_sid = ").push_bind(service_sid);
        qb.push(" and ").push(column).push(" = ").push_bind(key);
        keyset.push(&mut qb, "p.seq");
        let rows: Vec<ParticipationRow> = fetch_all(qb, self).await?;
        self.with_conversations(rows).await
    }
}
