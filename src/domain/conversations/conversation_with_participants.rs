//! ConversationWithParticipants (`POST /v1/ConversationWithParticipants`, conversations-core.md
//! §1): a conversation and up to 10 participants (50426) in one transaction. All or nothing
//! *(ours)*: a participant that is refused leaves no conversation, no participant and no new
//! user behind, and the request gets that participant's error naming its position; Twilio
//! instead creates the conversation, answers 202 and moves it to `closed` when a participant
//! fails (50427), which a client can only learn by polling.

use tracing::instrument;

use super::{
    conversations::{
        self, CONVERSATION_ADDED, Conversation, ConversationInput, Prepared, targets_for,
    },
    events::{deliveries, read},
    participants::{self, PARTICIPANT_ADDED, Participant, ParticipantInput},
    scope::{Scope, Service},
};
use crate::{
    domain::{Core, auth::Principal, sid::ConversationSid, time, webhooks::Targets},
    error::{Error, Result},
    store::conversations::{CreateRefused, Created, NewParticipant},
};

/// https://www.twilio.com/docs/api/errors/50426 more than 10 participants at once.
pub const TOO_MANY_PARTICIPANTS_AT_ONCE: u32 = 50426;
pub const MAX_PARTICIPANTS_AT_ONCE: usize = 10;

/// `e` with the position of the participant it is about.
fn at(n: usize, e: Error) -> Error {
    match e {
        Error::Invalid {
            code,
            message,
            details,
        } => Error::Invalid {
            code,
            message: format!("Participant {n}: {message}"),
            details,
        },
        Error::Conflict {
            code,
            status,
            message,
        } => Error::Conflict {
            code,
            status,
            message: format!("Participant {n}: {message}"),
        },
        other => other,
    }
}

#[instrument(skip_all)]
pub async fn create(
    core: &Core,
    principal: &Principal,
    scope: Scope<'_>,
    input: ConversationInput,
    participants: Vec<ParticipantInput>,
    webhooks: bool,
) -> Result<(Service, Conversation, Vec<Participant>)> {
    if participants.len() > MAX_PARTICIPANTS_AT_ONCE {
        return Err(Error::invalid_code(
            TOO_MANY_PARTICIPANTS_AT_ONCE,
            format!("At most {MAX_PARTICIPANTS_AT_ONCE} participants can be added at once"),
        ));
    }
    let Prepared {
        service,
        row,
        added,
    } = conversations::prepare(core, principal, scope, input, webhooks).await?;
    let sid: ConversationSid = crate::domain::stored(&row.sid, "new conversation sid")?;
    let mut prepared: Vec<NewParticipant> = Vec::with_capacity(participants.len());
    for (n, p) in participants.into_iter().enumerate() {
        let new = participants::prepare(core, &service, &sid, p, time::now())
            .await
            .map_err(|e| at(n, e))?;
        prepared.push(new);
    }
    let participant_added = if prepared.is_empty() {
        Targets::default()
    } else {
        let probe = Conversation::try_from(row.clone())?;
        targets_for(core, &probe, PARTICIPANT_ADDED.event, webhooks).await?
    };
    let wake = [added.clone(), participant_added.clone()];
    // In causal order: the conversation, then each participant.
    let fire = std::sync::Arc::new(move |created: &Created| {
        let conversation: Conversation = read(&created.conversation)?;
        let mut out = deliveries(&CONVERSATION_ADDED, &added, &conversation)?;
        for p in &created.participants {
            let participant: Participant = read(p)?;
            out.extend(deliveries(
                &PARTICIPANT_ADDED,
                &participant_added,
                &participant,
            )?);
        }
        Ok(out)
    });
    let created = core
        .store
        .insert_conversation(&row, &prepared, fire, time::now_ms())
        .await?
        .map_err(|refusal| match refusal {
            CreateRefused::Participant(n, refused) => at(n, participants::refused(refused)),
            CreateRefused::Conversation(r) => conversations::refused(r),
        })?;
    for targets in &wake {
        targets.wake(core);
    }
    let conversation = Conversation::try_from(created.conversation)?;
    let participants = created
        .participants
        .into_iter()
        .map(Participant::try_from)
        .collect::<Result<Vec<_>>>()?;
    Ok((service, conversation, participants))
}
