//! Configuration: the account's (`/v1/Configuration`: its default service, messaging service and
//! timers) and a service's (`/v1/Services/{IS}/Configuration`: its default roles and
//! reachability).

use tracing::instrument;

use super::{
    roles::role_of,
    scope::{Scope, Service, resolve},
};
use crate::{
    domain::{
        Core,
        auth::Principal,
        found_value, read_back,
        sid::{AccountSid, RoleSid, ServiceSid, matches_pattern},
        time,
    },
    error::{Error, Result},
    store::conversations::{ConfigChange, ConfigurationRow, ServiceConfigChange, ServiceRow},
};

/// `conversations.v1.configuration`.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    pub account_sid: AccountSid,
    pub default_chat_service_sid: ServiceSid,
    pub default_messaging_service_sid: Option<String>,
    pub default_inactive_timer: Option<String>,
    pub default_closed_timer: Option<String>,
}

read_back!(|row: ConfigurationRow| -> Configuration {
    parsed: account_sid, default_chat_service_sid;
    copied: default_messaging_service_sid, default_inactive_timer, default_closed_timer;
});

pub async fn configuration(core: &Core, principal: &Principal) -> Result<Configuration> {
    found_value(
        core.store
            .fetch_configuration(principal.account_sid.as_str())
            .await?,
    )
}

/// An ISO 8601 duration `P[nD][T[nH][nM][nS]]` (also `nW`), in seconds.
pub fn parse_duration(text: &str) -> Option<u64> {
    let rest = text.strip_prefix('P')?;
    let (date, clock) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    fn units(part: &str, table: &[(char, u64)]) -> Option<u64> {
        let mut total = 0u64;
        let mut number = String::new();
        let mut allowed = table.iter();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let (_, scale) = allowed.by_ref().find(|(unit, _)| *unit == c)?;
            let n: u64 = number.parse().ok()?;
            total = total.checked_add(n.checked_mul(*scale)?)?;
            number.clear();
        }
        number.is_empty().then_some(total)
    }
    let days = units(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    let time = clock.map_or(Some(0), |t| units(t, &[('H', 3600), ('M', 60), ('S', 1)]))?;
    // Checked: `Advance=P1DT18446744073709465816S` overflows a u64 of seconds (a 400).
    (date.len() + clock.map_or(0, str::len) > 0).then_some(days.checked_add(time)?)
}

pub(crate) fn check_timer(
    value: Option<String>,
    name: &str,
    minimum_secs: u64,
) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(text) => match parse_duration(&text) {
            Some(secs) if secs >= minimum_secs => Ok(Some(text)),
            _ => Err(Error::invalid(format!(
                "Invalid parameter {name}: must be an ISO 8601 duration of at least {} minute(s)",
                minimum_secs / 60
            ))),
        },
    }
}

pub struct ConfigInput {
    pub default_chat_service_sid: Option<String>,
    pub default_messaging_service_sid: Option<String>,
    pub default_inactive_timer: Option<String>,
    pub default_closed_timer: Option<String>,
}

/// Timers: inactive at least 1 minute, closed at least 10 (spec descriptions).
#[instrument(skip_all)]
pub async fn update_configuration(
    core: &Core,
    principal: &Principal,
    input: ConfigInput,
) -> Result<Configuration> {
    let account = &principal.account_sid;
    if let Some(sid) = &input.default_chat_service_sid {
        let parsed = ServiceSid::parse(sid).ok_or_else(|| {
            Error::invalid(
                "Invalid parameter DefaultChatServiceSid: must match ^IS[0-9a-fA-F]{32}$",
            )
        })?;
        if core
            .store
            .fetch_owned::<ServiceRow>(account.as_str(), parsed.as_str())
            .await?
            .is_none()
        {
            return Err(Error::invalid(
                "Invalid parameter DefaultChatServiceSid: no such service in this account",
            ));
        }
    }
    check_messaging_service_sid(input.default_messaging_service_sid.as_deref())?;
    let change = ConfigChange {
        default_chat_service_sid: input.default_chat_service_sid,
        default_messaging_service_sid: input.default_messaging_service_sid,
        default_inactive_timer: check_timer(
            input.default_inactive_timer,
            "DefaultInactiveTimer",
            60,
        )?,
        default_closed_timer: check_timer(input.default_closed_timer, "DefaultClosedTimer", 600)?,
    };
    let new_default = change.default_chat_service_sid.clone();
    let updated = core
        .store
        .update_configuration(account.as_str(), &change)
        .await;
    core.services.forget(account);
    match updated {
        Ok(row) => found_value(row),
        // The named service was deleted after the check (the foreign key refused it, issue 15
        // F5): the same answer as a service that never existed.
        Err(e) => match new_default {
            Some(sid)
                if core
                    .store
                    .fetch_owned::<ServiceRow>(account.as_str(), &sid)
                    .await?
                    .is_none() =>
            {
                Err(Error::invalid(
                    "Invalid parameter DefaultChatServiceSid: no such service in this account",
                ))
            }
            _ => Err(e.into()),
        },
    }
}

/// `DefaultMessagingServiceSid`, when given, matches the spec's `^MG[0-9a-fA-F]{32}$`. Shared
/// with `seed FILE`.
pub(crate) fn check_messaging_service_sid(sid: Option<&str>) -> Result<()> {
    match sid {
        Some(sid) if !matches_pattern(sid, "MG") => Err(Error::invalid(
            "Invalid parameter DefaultMessagingServiceSid: must match ^MG[0-9a-fA-F]{32}$",
        )),
        _ => Ok(()),
    }
}

pub struct ServiceConfigInput {
    pub default_chat_service_role_sid: Option<String>,
    pub default_conversation_role_sid: Option<String>,
    pub default_conversation_creator_role_sid: Option<String>,
    pub reachability_enabled: Option<bool>,
}

/// A role SID named in a configuration: pattern, this service, the right type.
async fn check_role(
    core: &Core,
    service: &Service,
    sid: Option<String>,
    name: &str,
    kind: &str,
) -> Result<Option<String>> {
    let Some(sid) = sid else { return Ok(None) };
    let parsed = parse_default_role_sid(&sid, name)?;
    let found = match role_of(core, service, &parsed).await {
        Ok(role) => Some(role.kind),
        Err(Error::NotFound) => None,
        Err(e) => return Err(e),
    };
    check_default_role_type(found, name, kind)?;
    Ok(Some(sid))
}

/// A service's default role SID (parameter `name`) as given: the spec pattern (else 20001).
/// Shared with `seed FILE`.
pub(crate) fn parse_default_role_sid(sid: &str, name: &str) -> Result<RoleSid> {
    RoleSid::parse(sid).ok_or_else(|| {
        Error::invalid(format!(
            "Invalid parameter {name}: must match ^RL[0-9a-fA-F]{{32}}$"
        ))
    })
}

/// A service's default role (parameter `name`) is a role of that service of type `kind`.
/// `found` is the type of the role the SID names in the service, `None` when it names none
/// there. Shared with `seed FILE`.
pub(crate) fn check_default_role_type(found: Option<&str>, name: &str, kind: &str) -> Result<()> {
    match found {
        Some(found) if found == kind => Ok(()),
        Some(_) => Err(Error::invalid(format!(
            "Invalid parameter {name}: must name a {kind} role"
        ))),
        None => Err(Error::invalid(format!(
            "Invalid parameter {name}: no such role in this service"
        ))),
    }
}

#[instrument(skip_all)]
pub async fn update_service_configuration(
    core: &Core,
    principal: &Principal,
    sid: &ServiceSid,
    input: ServiceConfigInput,
) -> Result<Service> {
    let service = resolve(core, principal, Scope::Service(sid)).await?;
    let change = ServiceConfigChange {
        default_chat_service_role_sid: check_role(
            core,
            &service,
            input.default_chat_service_role_sid,
            "DefaultChatServiceRoleSid",
            "service",
        )
        .await?,
        default_conversation_role_sid: check_role(
            core,
            &service,
            input.default_conversation_role_sid,
            "DefaultConversationRoleSid",
            "conversation",
        )
        .await?,
        default_conversation_creator_role_sid: check_role(
            core,
            &service,
            input.default_conversation_creator_role_sid,
            "DefaultConversationCreatorRoleSid",
            "conversation",
        )
        .await?,
        reachability_enabled: input.reachability_enabled,
    };
    let account = &principal.account_sid;
    let updated = core
        .store
        .update_service_config(account.as_str(), service.sid.as_str(), &change, time::now())
        .await;
    core.services.forget(account);
    found_value(updated?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_iso8601() {
        assert_eq!(parse_duration("PT1M"), Some(60));
        assert_eq!(parse_duration("PT10M"), Some(600));
        assert_eq!(parse_duration("P1DT1H"), Some(90_000));
        assert_eq!(parse_duration("P2W"), Some(1_209_600));
        assert_eq!(parse_duration("P1DT18446744073709465816S"), None);
        for bad in ["", "P", "PT", "1M", "PT1X", "PTM", "P1H"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
