//! Progress of long-running commands (`seed --generate`, `export`, `backup`): a bar on a
//! terminal (stderr), nothing while running otherwise; either way one summary line on stderr
//! at the end, so scripted runs stay quiet but leave a record.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
}

impl Progress {
    /// A bar counting `unit`s up to `total`, or a counter when the total is unknown (drawn
    /// only when stderr is a terminal).
    pub fn new(total: Option<u64>, unit: &str) -> Self {
        let (bar, template) = match total {
            Some(total) => (
                ProgressBar::new(total),
                format!(
                    "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
                ),
            ),
            None => (
                ProgressBar::no_length(),
                format!("{{spinner}} [{{elapsed_precise}}] {{pos}} {unit} ({{per_sec}})"),
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Self {
            bar,
            started: Instant::now(),
        }
    }

    pub fn add(&self, done: u64) {
        self.bar.inc(done);
    }

    pub fn set(&self, position: u64) {
        self.bar.set_position(position);
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Clears the bar and prints the one-line `summary` on stderr.
    pub fn finish(self, summary: &str) {
        self.bar.finish_and_clear();
        eprintln!("{summary}");
    }
}
