//! A seed file as a whole: its top level (the format version and the main accounts), parsing
//! it, and applying it in one transaction.

use super::{
    entry::{Applied, Applier, Refusal, SeedError, parse_positioned},
    format::{FORMAT_VERSION, SeedFile},
};
use crate::domain::{Core, time};

/// Parses a seed file; a syntax or shape error names its line and column.
pub fn parse(text: &str) -> Result<SeedFile, SeedError> {
    let file: SeedFile = parse_positioned(text)?;
    if file.localtwilio_fixture != FORMAT_VERSION {
        return Err(SeedError::at(
            text,
            0,
            format!(
                "localtwilio_fixture is {}; this version reads format {FORMAT_VERSION}",
                file.localtwilio_fixture
            ),
        ));
    }
    Ok(file)
}

/// Applies `text` (a seed file) to the database: all of it, or — on the first refused entry —
/// none of it, with that entry's line and column in the error.
pub async fn apply(core: &Core, text: &str) -> anyhow::Result<Applied> {
    let file = parse(text)?;
    let mut applier = Applier {
        core,
        tx: core.store.seed_tx().await?,
        now: time::now(),
        out: Applied::default(),
    };
    let mut outcome = Ok(());
    for account in &file.accounts {
        outcome = applier.account(account, None).await;
        if outcome.is_err() {
            break;
        }
    }
    match outcome {
        Ok(()) => {
            let Applier { tx, out, .. } = applier;
            tx.commit().await?;
            Ok(out)
        }
        // Dropping the transaction rolls it back.
        Err(Refusal::Entry(offset, message)) => Err(SeedError::at(text, offset, message).into()),
        Err(Refusal::Storage(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::seed::entry::position;

    #[test]
    fn a_bad_nested_entry_is_reported_at_its_own_line_and_column() {
        let text = "{\"accounts\": [\n  {\"sid\": \"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\n   \"flows\": [\n     {\"sid\": \"FWbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\", \"colour\": 1}]}]}";
        let error = parse(text).unwrap_err();
        assert_eq!((error.line, error.column), (4, 59), "{error}");
        assert!(error.message.contains("unknown field `colour`"), "{error}");
    }

    #[test]
    fn entries_know_where_they_start() {
        let text = "{\"accounts\": [\n  {\"sid\": \"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}";
        let file = parse(text).unwrap();
        assert_eq!(position(text, file.accounts[0].at), (2, 3));
    }

    #[test]
    fn syntax_errors_outside_entries_keep_serde_positions() {
        let error = parse("{\"accounts\": [}").unwrap_err();
        assert_eq!(error.line, 1);
        let error = parse("{\"localtwilio_fixture\": 2}").unwrap_err();
        assert!(error.message.contains("format 1"), "{error}");
    }
}
