//! Paging rules shared by every list (API.md §1.7, DESIGN.md "Paging"): `PageSize` default 50,
//! clamped to the endpoint's maximum *(ours)*, below 1 or not a number → 400 20001 "Invalid
//! PageSize."; creation order; keyset `PageToken`s that look like Twilio's (`PA…` = items after,
//! `PB…` = items before) and carry the row's sequence number, so a page costs the same at any depth
//! and stays correct when rows are added or removed between pages. A bad token → 400 21481.

use crate::{
    error::{Error, Result},
    store::Keyset,
};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// https://www.twilio.com/docs/errors/21481
pub const INVALID_PAGE_TOKEN: u32 = 21481;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    First,
    After(i64),
    Before(i64),
}

#[derive(Debug, Clone)]
pub struct PageRequest {
    pub size: u32,
    pub page: u32,
    pub cursor: Cursor,
    /// The token as the client sent it, repeated in the page's own `url`.
    pub token: Option<String>,
}

impl PageRequest {
    /// Parses the three query parameters for an endpoint whose spec maximum is `max`.
    pub fn parse(
        page_size: Option<&str>,
        page: Option<&str>,
        token: Option<&str>,
        max: u32,
    ) -> Result<Self> {
        let size = match page_size {
            None => DEFAULT_PAGE_SIZE.min(max),
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if n >= 1 => n.min(u64::from(max)) as u32,
                _ => return Err(Error::invalid("Invalid PageSize.")),
            },
        };
        let page = match page {
            None => 0,
            Some(raw) => raw
                .parse::<u32>()
                .map_err(|_| Error::invalid("Invalid Page."))?,
        };
        let cursor = match token {
            None => Cursor::First,
            Some(raw) => parse_token(raw)
                .ok_or_else(|| Error::invalid_code(INVALID_PAGE_TOKEN, "Invalid PageToken"))?,
        };
        Ok(Self {
            size,
            page,
            cursor,
            token: token.map(str::to_owned),
        })
    }

    /// What the store should read: one row more than the page, to know whether another follows.
    pub fn keyset(&self) -> Keyset {
        let limit = i64::from(self.size) + 1;
        match self.cursor {
            Cursor::First => Keyset::after(None, limit),
            Cursor::After(seq) => Keyset::after(Some(seq), limit),
            Cursor::Before(seq) => Keyset::before(seq, limit),
        }
    }
}

fn parse_token(raw: &str) -> Option<Cursor> {
    let (kind, digits) = (raw.get(..2)?, raw.get(2..)?);
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let seq = i64::from_str_radix(digits, 16).ok()?;
    match kind {
        "PA" => Some(Cursor::After(seq)),
        "PB" => Some(Cursor::Before(seq)),
        _ => None,
    }
}

fn after_token(seq: i64) -> String {
    format!("PA{seq:x}")
}

fn before_token(seq: i64) -> String {
    format!("PB{seq:x}")
}

/// One page of items with the tokens for its neighbours.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub request: PageRequest,
    pub next_token: Option<String>,
    pub previous_token: Option<String>,
}

impl<T> Page<T> {
    /// Cuts the store's rows (read with `request.keyset()`, so in keyset order and one too many)
    /// into the page. `seq` gives each row's sort key.
    pub fn from_rows(request: PageRequest, mut rows: Vec<T>, seq: impl Fn(&T) -> i64) -> Self {
        let size = request.size as usize;
        let overflow = rows.len() > size;
        rows.truncate(size);
        let (next_token, previous_token) = match request.cursor {
            Cursor::First => (
                overflow
                    .then(|| rows.last().map(&seq))
                    .flatten()
                    .map(after_token),
                None,
            ),
            Cursor::After(anchor) => (
                overflow
                    .then(|| rows.last().map(&seq))
                    .flatten()
                    .map(after_token),
                Some(before_token(rows.first().map(&seq).unwrap_or(anchor + 1))),
            ),
            Cursor::Before(_) => {
                rows.reverse();
                (
                    rows.last().map(&seq).map(after_token),
                    overflow
                        .then(|| rows.first().map(&seq))
                        .flatten()
                        .map(before_token),
                )
            }
        };
        Self {
            items: rows,
            request,
            next_token,
            previous_token,
        }
    }

    /// Converts every item, failing if any conversion fails.
    /// The same page with each item made into something else (e.g. its wire struct).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            request: self.request,
            next_token: self.next_token,
            previous_token: self.previous_token,
        }
    }

    pub fn try_map<U>(self, f: impl FnMut(T) -> Result<U>) -> Result<Page<U>> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<Vec<_>>>()?,
            request: self.request,
            next_token: self.next_token,
            previous_token: self.previous_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(size: Option<&str>, token: Option<&str>) -> Result<PageRequest> {
        PageRequest::parse(size, None, token, 1000)
    }

    #[test]
    fn page_size_defaults_clamps_and_rejects() {
        assert_eq!(req(None, None).unwrap().size, 50);
        assert_eq!(req(Some("5000"), None).unwrap().size, 1000);
        assert_eq!(PageRequest::parse(None, None, None, 20).unwrap().size, 20);
        for bad in ["0", "-1", "abc", "", "1.5"] {
            assert_eq!(req(Some(bad), None).unwrap_err().code(), 20001, "{bad}");
        }
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_21481() {
        assert_eq!(req(None, Some("PA1f")).unwrap().cursor, Cursor::After(31));
        assert_eq!(req(None, Some("PB2")).unwrap().cursor, Cursor::Before(2));
        for bad in ["", "PA", "PX12", "PAzz", "pa12", "PA1234567890abcdef"] {
            assert_eq!(req(None, Some(bad)).unwrap_err().code(), 21481, "{bad}");
        }
    }

    #[test]
    fn a_full_page_links_forward_and_a_short_one_does_not() {
        let r = PageRequest::parse(Some("2"), None, None, 50).unwrap();
        let page = Page::from_rows(r.clone(), vec![1, 2, 3], |x| *x);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_token.as_deref(), Some("PA2"));
        assert_eq!(page.previous_token, None);
        let last = Page::from_rows(r, vec![1, 2], |x| *x);
        assert_eq!(last.next_token, None);
    }
}
