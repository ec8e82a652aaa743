//! `localtwilio seed FILE` (and `serve --seed FILE`): declarative data sets, applied through the
//! API's own rules, and the format `localtwilio export` writes. The format is JSON (README
//! "Fixtures" documents it with a complete example). JSON rather than YAML: no extra parser,
//! numbers in definitions and attributes stay exact, and every entry keeps its byte position in
//! the file, so a refused entry is reported as `file:line:column`.
//!
//! Rules (README): every entry passes the API's own checks — the same functions the API calls,
//! so the refusal's reason is the API's message; an entry whose SID exists is updated to what
//! the file says, fields the file leaves out keep their stored value (or the API's default when
//! the entry is new); nothing is ever deleted; a file that changes nothing writes nothing (dates
//! included). One file is one transaction: an error anywhere applies none of it.
//!
//! - `entry`: what every entry shares (positions, refusals, dates, SIDs, `settle`). At the
//!   bottom: every other file imports it, it imports none of them.
//! - `format`: every kind of entry, as serde reads and `export` writes it.
//! - `studio`, `conversations`, `trusthub`: how each product's entries are applied.
//! - `accounts`: accounts and their keys, holding every product's entries.
//! - `file`: parsing a file and applying it whole.
//! - `export`: the database written in this format.

mod accounts;
mod conversations;
mod entry;
mod export;
mod file;
mod format;
mod studio;
mod trusthub;

pub use entry::{Applied, Generated, SeedError};
pub use export::export;
pub use file::{apply, parse};
pub use format::{FORMAT_VERSION, SeedFile};
