//! The view for a person at a terminal (stdout is a TTY and no CI is detected): a live,
//! in-place block with a header (elapsed time against the deadline, counts) and one line
//! per destination, drawn by indicatif; then a coloured final table. `NO_COLOR` is
//! honoured by the `console` crate underneath. Built only with the `terminal` feature.

use std::collections::HashMap;
use std::time::Duration;

use console::style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::escape::one_line;
use crate::model::{Destination, State, Tally};
use crate::report::human_duration;

pub(super) struct View {
    multi: MultiProgress,
    header: ProgressBar,
    rows: HashMap<String, ProgressBar>,
    tallies: HashMap<String, Tally>,
}

fn paint_state(d: &Destination) -> String {
    match d.status {
        State::Published => format!(
            "{} {}",
            style("✓ published").green(),
            d.url.as_deref().map(|u| one_line(u, 80)).unwrap_or_default()
        ),
        State::Failed => format!(
            "{} {}",
            style("✗ failed").red().bold(),
            style(one_line(d.error.as_deref().unwrap_or(""), 80)).dim()
        ),
        State::Pending => format!("{}", style(format!("… {}", one_line(&d.raw_status, 30))).yellow()),
    }
}

impl View {
    pub(super) fn new(timeout: Duration) -> Option<Self> {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        let header = multi.add(ProgressBar::new_spinner());
        // `wide_msg` is cut to the terminal's width, so no line wraps and breaks the view.
        let template = "{spinner:.cyan} waiting {elapsed} of {prefix} · {wide_msg}";
        header.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        header.set_prefix(human_duration(timeout));
        header.set_message("asking PostEverywhere…");
        header.enable_steady_tick(Duration::from_millis(120));
        Some(Self { multi, header, rows: HashMap::new(), tallies: HashMap::new() })
    }

    /// Updates the lines of one post's destinations.
    pub(super) fn update(&mut self, post: Option<&str>, dests: &[Destination]) {
        let row_style = ProgressStyle::with_template("  {prefix} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        // A platform alone may be listed more than once (an account each): the n-th is its row.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for d in dests {
            let key = format!("{}\u{0}{:?}", d.post_id, d.key());
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            let key = format!("{key}\u{0}{n}");
            let bar = self.rows.entry(key).or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(row_style.clone());
                let name = match post {
                    Some(p) => format!("{} · {}", one_line(p, 20), d.label()),
                    None => d.label(),
                };
                let cols = (columns() / 3).clamp(12, 32);
                let name = crate::report::fit::shorten(&one_line(&name, 60), cols);
                bar.set_prefix(crate::report::fit::pad(&name, cols));
                bar
            });
            bar.set_message(paint_state(d));
        }
        self.tallies.insert(post.unwrap_or("").to_owned(), Tally::of(dests));
        let mut t = Tally::default();
        for v in self.tallies.values() {
            t += *v;
        }
        self.header.set_message(format!(
            "{} published · {} failed · {} pending",
            style(t.published).green(),
            style(t.failed).red(),
            style(t.pending).yellow()
        ));
    }

    /// A log line printed above the live block.
    pub(super) fn println(&self, line: &str) {
        let _ = self.multi.println(line);
    }

    /// Removes the live block before the final table.
    pub(super) fn clear(&self) {
        self.header.finish_and_clear();
        for bar in self.rows.values() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

/// The terminal's width in columns, or 80 when it cannot be measured.
pub(super) fn columns() -> usize {
    let measured = console::Term::stdout().size_checked().map(|(_, cols)| usize::from(cols));
    measured.or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok()).unwrap_or(80).max(20)
}

/// Colours the mark that starts a final-table line (`✓`, `✗`, `…`).
pub(super) fn paint_line(line: &str) -> String {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let mut chars = trimmed.chars();
    match chars.next() {
        Some('✓') => format!("{indent}{}{}", style("✓").green().bold(), chars.as_str()),
        Some('✗') => format!("{indent}{}{}", style("✗").red().bold(), chars.as_str()),
        Some('…') => format!("{indent}{}{}", style("…").yellow().bold(), chars.as_str()),
        _ if trimmed.starts_with("posteverywhere-wait:") => style(line).bold().to_string(),
        _ => line.to_owned(),
    }
}
