//! The account's clock (`/_localtwilio/Clock`): an emulator feature, so that a
//! send-and-wait-for-reply timeout or a conversation timer can be tested without waiting. An
//! account's clock runs `offset` seconds ahead of the machine's; an advance adds to it and is
//! stored (a restart does not jump back; it only moves forward).
//!
//! What it moves *(ours)*: the **timers** — when a waiting widget times out and when a
//! conversation's inactive/closed timer comes due are reckoned on the account's clock, and
//! the workers that fire them compare with it. Resource dates (`date_created`, …) and the
//! simulated delivery of 2010 Messages stay on the machine's clock, so lists keep their order
//! and a message's status progression is unchanged.
//!
//! This file is the one place that says what "now" is for an account's timers.

use super::super::conversations::configuration::parse_duration;
use crate::{
    domain::{Core, auth::Principal, time},
    error::{Error, Result},
};

/// The account's clock: its offset and the time it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub offset_secs: i64,
    /// The machine's time when it was read (epoch seconds).
    pub machine_now: i64,
}

impl Clock {
    /// The account's "now" for timers (epoch seconds).
    pub fn now(&self) -> i64 {
        self.machine_now.saturating_add(self.offset_secs)
    }
}

/// The account's clock as it stands.
pub async fn read(core: &Core, account_sid: &str) -> Result<Clock> {
    Ok(Clock {
        offset_secs: core.store.clock_offset(account_sid).await?,
        machine_now: time::now(),
    })
}

/// The account's "now" for timers (epoch seconds).
pub async fn now(core: &Core, account_sid: &str) -> Result<i64> {
    Ok(read(core, account_sid).await?.now())
}

/// The most one advance may move (100 years) *(ours: keeps every sum far from overflow)*.
const MAX_ADVANCE_SECS: u64 = 100 * 365 * 86_400;

/// `Advance`: an ISO-8601 duration (`PT10M`, `P1DT2H`, `P2W`) of at least a second.
pub fn parse_advance(raw: Option<&str>) -> Result<i64> {
    let text = raw.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(Error::missing("Advance"));
    }
    match parse_duration(text) {
        Some(secs) if (1..=MAX_ADVANCE_SECS).contains(&secs) => Ok(secs as i64),
        _ => Err(Error::invalid(format!(
            "Invalid parameter Advance: {text} is not an ISO 8601 duration (PT10M, P1DT2H) of \
             1 second to 100 years"
        ))),
    }
}

/// Moves the caller's clock forward and wakes the workers that fire timers, so what came due
/// fires now.
pub async fn advance(core: &Core, principal: &Principal, secs: i64) -> Result<Clock> {
    let machine_now = time::now();
    let offset_secs = core
        .store
        .advance_clock(principal.account_sid.as_str(), secs, machine_now)
        .await?;
    core.studio.wake.notify_one();
    Ok(Clock {
        offset_secs,
        machine_now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_takes_iso_8601_durations_only() {
        assert_eq!(parse_advance(Some("PT10M")).ok(), Some(600));
        assert_eq!(parse_advance(Some("P1DT1H")).ok(), Some(90_000));
        for bad in [
            None,
            Some(""),
            Some("10"),
            Some("PT0S"),
            Some("P1000000W"),
            Some("-PT1M"),
            // Days plus seconds past u64: refused, never wrapped to 600 seconds.
            Some("P1DT18446744073709465816S"),
        ] {
            assert!(parse_advance(bad).is_err(), "{bad:?}");
        }
    }
}
