//! What every entry of a seed file shares, whatever its product: where it stands in the file
//! (its byte offset, reported as `file:line:column`), how it is refused, its dates and SID, and
//! `settle`, which writes it only if the stored row differs. At the bottom of the folder: every
//! product file imports it, it imports none of them.

use std::{
    cell::{Cell, RefCell},
    fmt::Display,
};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};
use serde_json::value::RawValue;

use crate::{
    domain::{Core, sid::matches_pattern, time},
    error::{Error, INVALID_PARAMETER},
    store::{
        StoreError,
        conversations::{
            ConversationRow, MessageRow, ParticipantRow, RoleRow, ScopedWebhookRow, ServiceRow,
            UserRow,
        },
        seed::{AccountRecord, KeyRecord, Record, SeedTx},
        trusthub::{
            bundles::BundleRow, end_users::EndUserRow, supporting_documents::SupportingDocumentRow,
        },
    },
};

/// Declares one kind of entry of the file format: unknown fields are refused, and every `Option`
/// or `Vec` field may be left out of a file and is left out of what `export` writes when empty
/// (so each field does not repeat the same serde attributes). Fields keep their order, which is
/// the order `export` writes them in.
macro_rules! seed_entry {
    ($(#[$attr:meta])* pub struct $name:ident { $($body:tt)* }) => {
        seed_entry!(@fields [$(#[$attr])* $name] [] $($body)*);
    };
    // `Option<…>` and `Vec<…>`, the only generic field types of the format.
    (@fields $head:tt [$($done:tt)*]
     $(#[$doc:meta])* pub $field:ident: $wrapper:ident<$t:ty>, $($rest:tt)*) => {
        seed_entry!(@fields $head [$($done)*
            $(#[$doc])*
            #[serde(default, skip_serializing_if = "crate::domain::seed::entry::left_out")]
            pub $field: $wrapper<$t>,
        ] $($rest)*);
    };
    (@fields $head:tt [$($done:tt)*]
     $(#[$doc:meta])* pub $field:ident: $t:ty, $($rest:tt)*) => {
        seed_entry!(@fields $head [$($done)* $(#[$doc])* pub $field: $t,] $($rest)*);
    };
    (@fields [$(#[$attr:meta])* $name:ident] [$($done:tt)*]) => {
        $(#[$attr])*
        #[derive(Debug, Default, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name { $($done)* }
    };
}

/// A field `export` leaves out: `None`, or an empty list.
pub(super) trait LeftOut {
    fn left_out(&self) -> bool;
}

impl<T> LeftOut for Option<T> {
    fn left_out(&self) -> bool {
        self.is_none()
    }
}

impl<T> LeftOut for Vec<T> {
    fn left_out(&self) -> bool {
        self.is_empty()
    }
}

pub(super) fn left_out<T: LeftOut>(value: &T) -> bool {
    value.left_out()
}

pub(super) use seed_entry;

/// An entry of a list in the file and the byte offset where it starts.
#[derive(Debug, Default)]
pub struct Entry<T> {
    pub at: usize,
    pub value: T,
}

impl<T> Entry<T> {
    pub fn new(value: T) -> Self {
        Self { at: 0, value }
    }
}

impl<T: Serialize> Serialize for Entry<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

thread_local! {
    /// Address of the text being parsed: entries borrow slices of it, so a slice's address
    /// minus this is its byte offset in the file.
    static PARSE_BASE: Cell<usize> = const { Cell::new(0) };
    /// The innermost failing entry's (absolute offset, message): nested entries fail first.
    static FIRST_ERROR: RefCell<Option<(usize, String)>> = const { RefCell::new(None) };
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Entry<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        let text = raw.get();
        let at = (text.as_ptr() as usize).saturating_sub(PARSE_BASE.get());
        serde_json::from_str::<T>(text)
            .map(|value| Entry { at, value })
            .map_err(|e| {
                FIRST_ERROR.with_borrow_mut(|first| {
                    if first.is_none() {
                        *first = Some((at + offset_of(text, e.line(), e.column()), bare(&e)));
                    }
                });
                serde::de::Error::custom("invalid entry")
            })
    }
}

/// Parses `text` as a `T` whose `Entry`s know their offsets; a syntax or shape error names its
/// line and column (inside an entry: the innermost entry's own).
pub fn parse_positioned<T: DeserializeOwned>(text: &str) -> Result<T, SeedError> {
    PARSE_BASE.set(text.as_ptr() as usize);
    FIRST_ERROR.take();
    let parsed = serde_json::from_str::<T>(text);
    let first = FIRST_ERROR.take();
    parsed.map_err(|e| match first {
        Some((offset, message)) => SeedError::at(text, offset, message),
        None => SeedError {
            line: e.line(),
            // serde_json says column 0 at the end of a line (an unexpected end of file).
            column: e.column().max(1),
            message: bare(&e),
        },
    })
}

/// A serde_json error's message without its " at line L column C" suffix.
fn bare(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

/// Byte offset of 1-based (line, column) in `text` (column counts bytes, as serde_json's does).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// 1-based (line, column) of byte `offset` in `text`.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

/// A refused file: where and why.
#[derive(Debug)]
pub struct SeedError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for SeedError {}

impl SeedError {
    pub fn at(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = position(text, offset);
        Self {
            line,
            column,
            message: message.into(),
        }
    }
}

/// Why an entry was refused: its offset and the reason. Storage failures are not the file's
/// fault and pass through as `Storage`.
pub(super) enum Refusal {
    Entry(usize, String),
    Storage(anyhow::Error),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Self::Storage(e.into())
    }
}

pub(super) type Step<T = ()> = std::result::Result<T, Refusal>;

/// Attaches an entry's position to a domain error: the reason is the API's own message, with
/// its Twilio code when that is not the generic 20001 (e.g. `… (21101)`).
pub(super) trait At<T> {
    fn at(self, offset: usize, what: &str) -> Step<T>;
}

impl<T> At<T> for crate::error::Result<T> {
    fn at(self, offset: usize, what: &str) -> Step<T> {
        self.map_err(|e| match e {
            Error::Internal(cause) | Error::Unavailable(cause) => Refusal::Storage(cause),
            other if other.code() == INVALID_PARAMETER => {
                Refusal::Entry(offset, format!("{what}: {other}"))
            }
            other => Refusal::Entry(offset, format!("{what}: {other} ({})", other.code())),
        })
    }
}

pub(super) fn refuse<T>(offset: usize, what: &str, why: impl Display) -> Step<T> {
    Err(Refusal::Entry(offset, format!("{what}: {why}")))
}

pub(super) fn missing<T>(at: usize, what: &str, field: &str) -> Step<T> {
    refuse(at, what, format!("{field} is required for a new entry"))
}

/// A field a new entry must give (`field`): the file's value, else the stored row's.
pub(super) fn file_or_stored<T: Clone>(
    at: usize,
    what: &str,
    field: &str,
    given: &Option<T>,
    stored: Option<&T>,
) -> Step<T> {
    match (given, stored) {
        (Some(value), _) => Ok(value.clone()),
        (None, Some(value)) => Ok(value.clone()),
        (None, None) => missing(at, what, field),
    }
}

/// A SID of the given prefix, in the lowercase hex every generated SID uses.
pub(super) fn sid<'a>(at: usize, what: &str, prefix: &str, text: &'a str) -> Step<&'a str> {
    if matches_pattern(text, prefix) && text[2..] == text[2..].to_ascii_lowercase() {
        Ok(text)
    } else {
        refuse(
            at,
            what,
            format!("sid '{text}' must be {prefix} followed by 32 lowercase hex digits"),
        )
    }
}

/// Dates from the file, parsed.
#[derive(Clone, Copy)]
pub(super) struct Dates {
    pub created: Option<i64>,
    pub updated: Option<i64>,
}

pub(super) fn dates(
    at: usize,
    what: &str,
    created: &Option<String>,
    updated: &Option<String>,
) -> Step<Dates> {
    let parse = |text: &Option<String>, name: &str| -> Step<Option<i64>> {
        match text {
            None => Ok(None),
            Some(t) => match time::parse_iso8601(t) {
                Some(ts) => Ok(Some(ts)),
                None => refuse(
                    at,
                    &format!("{what}: {name}"),
                    format!("'{t}' is not a date like 2026-01-31T09:30:00Z"),
                ),
            },
        }
    };
    Ok(Dates {
        created: parse(created, "date_created")?,
        updated: parse(updated, "date_updated")?,
    })
}

/// An entry with `date_created` and `date_updated`, as the file gives them.
pub(super) trait Dated {
    fn dates(&self) -> (&Option<String>, &Option<String>);
}

/// The bookkeeping columns `settle` decides for a row: its list position and its dates.
#[derive(Clone, Copy)]
pub(super) struct Stamps {
    pub seq: i64,
    pub created: i64,
    pub updated: i64,
}

/// A row `settle` writes: one with `seq`, `date_created` and `date_updated` columns.
pub(super) trait Stamped {
    fn stamps(&self) -> Stamps;
}

macro_rules! stamped {
    ($($row:ty),+) => {
        $(impl Stamped for $row {
            fn stamps(&self) -> Stamps {
                Stamps {
                    seq: self.seq,
                    created: self.date_created,
                    updated: self.date_updated,
                }
            }
        })+
    };
}

stamped!(
    AccountRecord,
    KeyRecord,
    ServiceRow,
    RoleRow,
    UserRow,
    EndUserRow,
    SupportingDocumentRow,
    BundleRow,
    ConversationRow,
    ParticipantRow,
    MessageRow,
    ScopedWebhookRow
);

/// A kind of entry whose SID names a stored row that belongs to an owner (an account or a
/// service). `format.rs` says which row each kind of entry becomes.
pub(super) trait Owned {
    type Row: Record;
    /// The SID prefix.
    const PREFIX: &'static str;
    /// How refusals name an entry of this kind ("user US…").
    const NAME: &'static str;
    /// What owns one: "account" or "service".
    const OWNER: &'static str;
    fn sid(&self) -> &str;
    fn owner_of(row: &Self::Row) -> &str;
}

/// An entry `Applier::open` has checked: its offset, how refusals name it, its SID and the row
/// stored under that SID.
pub(super) type Opened<'e, R> = (usize, String, &'e str, Option<R>);

/// What applying a file did.
#[derive(Debug, Default)]
pub struct Applied {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Credentials the file left out of new accounts and keys, made now (shown once).
    pub generated: Vec<Generated>,
}

#[derive(Debug)]
pub struct Generated {
    pub sid: String,
    pub secret: String,
}

/// The state of one file being applied: its transaction, its clock and what it did so far.
/// Each product file adds the methods for its entries.
pub(super) struct Applier<'a> {
    pub core: &'a Core,
    pub tx: SeedTx,
    pub now: i64,
    pub out: Applied,
}

impl Applier<'_> {
    /// Writes the row `build` makes unless the stored row (`existing`) already equals it.
    /// Dates the entry (`file`) leaves out keep their stored values; a changed row without a `date_updated` in the file is stamped now, as the
    /// API would. An existing row keeps its `seq`, so list order survives an update.
    pub async fn settle<R: Record + Stamped + PartialEq>(
        &mut self,
        at: usize,
        what: &str,
        file: &impl Dated,
        existing: Option<&R>,
        build: impl Fn(Stamps) -> R,
    ) -> Step<R> {
        let (date_created, date_updated) = file.dates();
        let given = dates(at, what, date_created, date_updated)?;
        let stored = existing.map(Stamped::stamps);
        let seq = stored.map_or(0, |s| s.seq);
        let created = given
            .created
            .or(stored.map(|s| s.created))
            .unwrap_or(self.now);
        let updated = given
            .updated
            .or(stored.map(|s| s.updated))
            .or(given.created)
            .unwrap_or(self.now);
        let mut desired = build(Stamps {
            seq,
            created,
            updated,
        });
        match existing {
            Some(row) if *row == desired => {
                self.out.unchanged += 1;
                return Ok(desired);
            }
            Some(_) => {
                if given.updated.is_none() {
                    desired = build(Stamps {
                        seq,
                        created,
                        updated: self.now,
                    });
                }
                self.out.updated += 1;
            }
            None => self.out.created += 1,
        }
        self.tx.put(&desired).await?;
        Ok(desired)
    }

    /// Opens an entry owned by `owner` (an account or service SID): its SID checked, and the
    /// row stored under it, which must belong to that owner.
    pub async fn open<'e, T: Owned>(
        &mut self,
        entry: &'e Entry<T>,
        owner: &str,
    ) -> Step<Opened<'e, T::Row>> {
        let (at, text) = (entry.at, entry.value.sid());
        let what = format!("{} {text}", T::NAME);
        let sid = sid(at, &what, T::PREFIX, text)?;
        let existing: Option<T::Row> = self.tx.get(sid).await?;
        if existing
            .as_ref()
            .is_some_and(|row| T::owner_of(row) != owner)
        {
            return refuse(at, &what, format!("belongs to another {}", T::OWNER));
        }
        Ok((at, what, sid, existing))
    }

    /// Counts an entry settled without `settle` (one without list position or dates):
    /// whether `desired` must be written, i.e. differs from what is `stored`.
    pub fn must_write<W: PartialEq>(&mut self, stored: Option<&W>, desired: &W) -> bool {
        match stored {
            Some(row) if row == desired => self.out.unchanged += 1,
            Some(_) => self.out.updated += 1,
            None => self.out.created += 1,
        }
        stored != Some(desired)
    }
}
