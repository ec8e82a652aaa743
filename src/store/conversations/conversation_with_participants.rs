//! A conversation created with its participants (ConversationWithParticipants; a plain
//! create is the case without any), in one transaction: all or nothing.

use super::{
    conversations::{ConversationRefused, ConversationRow, Fire, is_unique_name_clash},
    participants::{NewParticipant, ParticipantRefused, ParticipantRow, insert_participant_on},
};
use crate::store::{
    Store, StoreError, StoreResult, error::classify, query::Owned, webhooks::enqueue,
};

/// A conversation and the participants created with it.
pub struct Created {
    pub conversation: ConversationRow,
    pub participants: Vec<ParticipantRow>,
}

/// Why a conversation (with participants) was not created.
#[derive(Debug)]
pub enum CreateRefused {
    Conversation(ConversationRefused),
    /// The `n`th participant (from 0) was refused.
    Participant(usize, ParticipantRefused),
}

impl Store {
    /// Inserts a conversation with its participants (ConversationWithParticipants) and the
    /// deliveries `fire` derives from them, all or nothing.
    pub async fn insert_conversation(
        &self,
        row: &ConversationRow,
        participants: &[NewParticipant],
        fire: Fire<Created>,
        now_ms: i64,
    ) -> StoreResult<Result<Created, CreateRefused>> {
        let mut tx = self.begin_write().await?;
        let inserted = <ConversationRow as Owned>::TABLE
            .insert(row)
            .fetch_one::<ConversationRow>(&mut tx)
            .await
            .map_err(classify);
        let conversation = match inserted {
            Ok(stored) => stored,
            Err(e) if is_unique_name_clash(&e) => {
                return Ok(Err(CreateRefused::Conversation(
                    ConversationRefused::UniqueNameTaken,
                )));
            }
            Err(StoreError::Db(e)) if super::is_foreign_key_violation(&e) => {
                return Ok(Err(CreateRefused::Conversation(
                    ConversationRefused::Missing,
                )));
            }
            Err(e) => return Err(e),
        };
        let mut stored = Vec::with_capacity(participants.len());
        for (n, participant) in participants.iter().enumerate() {
            match insert_participant_on(&mut tx.conn(), participant).await? {
                Ok(p) => stored.push(p),
                Err(refused) => return Ok(Err(CreateRefused::Participant(n, refused))),
            }
        }
        let created = Created {
            conversation,
            participants: stored,
        };
        enqueue(&mut tx.conn(), &fire(&created)?, now_ms).await?;
        tx.commit().await?;
        Ok(Ok(created))
    }
}
