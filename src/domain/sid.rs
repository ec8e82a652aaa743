//! SID newtypes. A SID is a two-letter prefix plus 32 hex digits; the spec's patterns accept
//! either case (`^AC[0-9a-fA-F]{32}$`), we generate lowercase from a v7 UUID (API.md §1.8).
//!
//! Why v7 and not v4 *(ours)*: a v7 UUID starts with its creation time in milliseconds, then
//! 74 random bits. Every table has a unique index on `sid`; with random SIDs each insert of a
//! group commit lands on a different leaf page of that index, and every such page is written
//! whole to the WAL and again at the checkpoint — 46 KB of disk writes per user create
//! (`/proc/PID/io`, bench/RESULTS.md session 7), 16 KB with these. Time-ordered SIDs put a
//! batch's new keys on the index's last pages. Twilio documents SIDs only as the prefix and 32 hex
//! digits, which these are; they remain unguessable (74 random bits) but show when they were
//! made, which an emulator's SIDs may.

use std::fmt;

/// True when `s` is `prefix` followed by exactly 32 hex digits.
pub fn matches_pattern(s: &str, prefix: &str) -> bool {
    s.len() == prefix.len() + 32
        && s.starts_with(prefix)
        && s.as_bytes()[prefix.len()..]
            .iter()
            .all(u8::is_ascii_hexdigit)
}

/// Declares SID types, one a line: `Name = "prefix", "doc"`.
macro_rules! sids {
    ($($name:ident = $prefix:literal, $doc:literal;)*) => {
        $(sid!($name, $prefix, $doc);)*
    };
}

macro_rules! sid {
    ($name:ident, $prefix:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh SID: prefix + 32 lowercase hex digits, time-ordered (see the module).
            pub fn new() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// Parses against the spec pattern; `None` when it does not match.
            pub fn parse(s: &str) -> Option<Self> {
                matches_pattern(s, $prefix).then(|| Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        /// Deserializes through `parse`: a value off the spec pattern is a deserialization
        /// error (which `TwilioPath` turns into 404 20404).
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&raw)
                    .ok_or_else(|| serde::de::Error::custom(concat!("not a ", $prefix, " SID")))
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                Self::parse(s).ok_or(())
            }
        }
    };
}

/// A 2010 path segment `{Sid}.json`: the router cannot match a suffix after a parameter
/// (matchit 0.8), so the route captures `ACxxx.json` whole and this strips and checks it.
/// No suffix or a malformed SID fails to deserialize, i.e. 404 20404 *(ours)*.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonSuffixed<T>(pub T);

impl<'de, T: std::str::FromStr> serde::Deserialize<'de> for JsonSuffixed<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        raw.strip_suffix(".json")
            .and_then(|s| s.parse().ok())
            .map(JsonSuffixed)
            .ok_or_else(|| serde::de::Error::custom("not a {Sid}.json segment"))
    }
}

/// A Message (`api.v2010.account.message`): `SM` for a text message, `MM` for one with media
/// (the spec's pattern `^(SM|MM)[0-9a-fA-F]{32}$`). Made by `sid!`'s rules, for two prefixes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MessageSid(String);

impl MessageSid {
    /// A fresh `MM` SID when the message has media, else `SM`.
    pub fn new(with_media: bool) -> Self {
        let prefix = if with_media { "MM" } else { "SM" };
        Self(format!("{prefix}{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn parse(s: &str) -> Option<Self> {
        (matches_pattern(s, "SM") || matches_pattern(s, "MM")).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for MessageSid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for MessageSid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for MessageSid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("not an SM or MM SID"))
    }
}

impl std::str::FromStr for MessageSid {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::parse(s).ok_or(())
    }
}

sids! {
    AccountSid = "AC", "An Account (`api.v2010.account`).";
    KeySid = "SK", "A Standard API key (`api.v2010.account.key`).";
    FlowSid = "FW", "A Studio Flow.";
    ExecutionSid = "FN", "A Studio Execution.";
    StepSid = "FT", "A Studio Execution Step.";
    ContactSid = "FC", "A Studio contact (one per flow and contact address).";
    RequestSid = "RQ", "The REST API request that started a Studio Execution (`initiated_by`).";
    UserSid = "US", "A Conversations User.";
    ServiceSid = "IS", "A Conversations Service.";
    RoleSid = "RL", "A Conversations Role.";
    EndUserSid = "IT", "A TrustHub EndUser.";
    ConversationSid = "CH", "A Conversation.";
    ParticipantSid = "MB", "A Conversation Participant.";
    ConversationMessageSid = "IM", "A Conversation Message.";
    ScopedWebhookSid = "WH", "A Conversation-scoped Webhook.";
    ReceiptSid = "DY", "A Conversation Message delivery Receipt.";
    EndUserTypeSid = "OY", "A TrustHub EndUserType.";
    SupportingDocumentTypeSid = "OY", "A TrustHub SupportingDocumentType (the same prefix as EndUserTypes).";
    SupportingDocumentSid = "RD", "A TrustHub SupportingDocument.";
    PolicySid = "RN", "A TrustHub Policy.";
    BundleSid = "BU", "A TrustHub Customer Profile or Trust Product.";
    EntityAssignmentSid = "BV", "An object assigned to a TrustHub bundle.";
    EvaluationSid = "EL", "A TrustHub bundle's Evaluation.";
    ChannelEndpointAssignmentSid = "RA", "A channel endpoint (phone number) assigned to a TrustHub bundle.";
    MediaSid = "ME", "A Message's Media item (`api.v2010.account.message.media`).";
    MessagingServiceSid = "MG", "A Messaging Service (named by Messages; not itself served).";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sids_match_their_own_pattern_in_lowercase() {
        let sid = AccountSid::new();
        assert_eq!(sid.as_str().len(), 34);
        assert!(AccountSid::parse(sid.as_str()).is_some());
        assert_eq!(sid.as_str()[2..], sid.as_str()[2..].to_lowercase());
    }

    #[test]
    fn parse_accepts_either_case_and_rejects_wrong_prefix_or_length() {
        assert!(AccountSid::parse("ACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_some());
        assert!(AccountSid::parse("SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").is_none());
        assert!(AccountSid::parse("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").is_none());
        assert!(AccountSid::parse("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaag").is_none());
        assert!(AccountSid::parse("acaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").is_none());
    }

    #[test]
    fn sids_deserialize_through_their_pattern() {
        let ok: AccountSid =
            serde_json::from_str("\"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"").unwrap();
        assert_eq!(ok.as_str(), "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert!(serde_json::from_str::<AccountSid>("\"ACzz\"").is_err());
        let suffixed: JsonSuffixed<KeySid> =
            serde_json::from_str("\"SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json\"").unwrap();
        assert_eq!(suffixed.0.as_str(), "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert!(
            serde_json::from_str::<JsonSuffixed<KeySid>>("\"SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"")
                .is_err()
        );
    }
}
