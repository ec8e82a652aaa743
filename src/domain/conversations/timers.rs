//! Conversation timers firing (ST): a background task started with the server looks once a
//! second for conversations whose inactive or closed timer is due and moves them (inactive
//! timer → `inactive`, closed timer → `closed`), with onConversationUpdated and
//! onConversationStateUpdated (`Reason=TIMER`) to the configured targets. Due times live in
//! the database, so a timer that came due while the server was stopped fires at the next
//! start.

use std::time::Duration;

use super::conversations::{
    CONVERSATION_STATE_UPDATED, CONVERSATION_UPDATED, Conversation, Reason, hooks_of, state_fire,
};
use crate::{
    domain::{Core, emulator::clock, time},
    error::Result,
    store::conversations::ConversationChange,
};

/// How often due timers are looked for.
pub const POLL: Duration = Duration::from_secs(1);
/// At most this many conversations are moved per look.
const BATCH: i64 = 256;

/// Runs until the task is aborted (server shutdown).
pub async fn run(core: Core) {
    loop {
        if let Err(e) = fire_due(&core).await {
            tracing::warn!(error = %e, "conversation timers: will retry");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Moves every conversation whose timer is due now; returns how many moved.
pub async fn fire_due(core: &Core) -> Result<usize> {
    let now = time::now();
    let mut moved = 0;
    for row in core.store.due_conversation_timers(now, BATCH).await? {
        let conversation = Conversation::try_from(row)?;
        // Due times are on the account's clock (`emulator::clock`).
        let account_now = clock::now(core, conversation.account_sid.as_str()).await?;
        let closing = conversation.date_closed.is_some_and(|d| d <= account_now);
        let change = ConversationChange {
            state: Some(if closing { "closed" } else { "inactive" }.to_owned()),
            date_inactive: Some(None),
            date_closed: if closing { Some(None) } else { None },
            date_updated: now,
            ..ConversationChange::default()
        };
        // Timer transitions are Twilio's own actions, not REST requests: they always reach
        // the configured targets.
        let hooks = hooks_of(core, &conversation, true).await?;
        let updated = hooks.targets(CONVERSATION_UPDATED.event, None)?;
        let state_targets = hooks.targets(CONVERSATION_STATE_UPDATED.event, None)?;
        let wake = [updated.clone(), state_targets.clone()];
        let fired = core
            .store
            .fire_conversation_timer(
                conversation.sid.as_str(),
                conversation.date_inactive,
                conversation.date_closed,
                &change,
                state_fire(updated, state_targets, Reason::Timer),
                time::now_ms(),
            )
            .await?;
        if fired.is_some() {
            moved += 1;
            for targets in &wake {
                targets.wake(core);
            }
        }
    }
    Ok(moved)
}
