//! Progress on stderr: an indicatif bar with rate and ETA (by bytes of the input when its size
//! is known) on a terminal; otherwise a plain line every few seconds, for logs.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::checkpoint::Counts;

/// How often the plain reporter writes a line.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// The progress display.
pub enum Progress {
    Bar(ProgressBar),
    Plain {
        total: Option<u64>,
        started: Instant,
        start_offset: u64,
        last: Instant,
    },
}

impl Progress {
    /// A bar when stderr is a terminal, else plain lines. `total`: the input's size in bytes,
    /// when known; `at`: where a resumed import starts.
    pub fn new(total: Option<u64>, at: u64) -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = match total {
                Some(total) => {
                    let bar =
                        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} \
                             ({binary_bytes_per_sec}, ETA {eta}) {msg}",
                        )
                        .expect("a valid template"),
                    );
                    bar
                }
                None => {
                    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} [{elapsed_precise}] {binary_bytes} ({binary_bytes_per_sec}) {msg}",
                        )
                        .expect("a valid template"),
                    );
                    bar
                }
            };
            bar.set_position(at);
            bar.reset_eta();
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress::Bar(bar)
        } else {
            let now = Instant::now();
            Progress::Plain {
                total,
                started: now,
                start_offset: at,
                last: now,
            }
        }
    }

    /// The input was read to `offset`, and `counts` items are written.
    pub fn update(&mut self, offset: u64, counts: &Counts) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(offset);
                bar.set_message(counts_text(counts));
            }
            Progress::Plain {
                total,
                started,
                start_offset,
                last,
            } => {
                if last.elapsed() < PLAIN_EVERY {
                    return;
                }
                *last = Instant::now();
                eprintln!(
                    "import: {}",
                    plain_line(*total, offset, *start_offset, started.elapsed(), counts)
                );
            }
        }
    }

    /// A line above the bar (or a plain line).
    pub fn println(&self, line: &str) {
        match self {
            Progress::Bar(bar) => bar.println(line),
            Progress::Plain { .. } => eprintln!("{line}"),
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

fn counts_text(counts: &Counts) -> String {
    format!(
        "created {}, updated {}, skipped {}",
        counts.created, counts.updated, counts.skipped
    )
}

/// `41% (4.1 MiB of 10.0 MiB), 2.3 MiB/s, ETA 3s; created 1200, updated 0, skipped 0`.
fn plain_line(
    total: Option<u64>,
    offset: u64,
    start_offset: u64,
    elapsed: Duration,
    counts: &Counts,
) -> String {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let rate = (offset.saturating_sub(start_offset)) as f64 / elapsed.as_secs_f64().max(0.001);
    let mut line = match total {
        Some(total) if total > 0 => {
            let left = total.saturating_sub(offset) as f64;
            let eta = if rate > 0.0 {
                format!("{:.0}s", left / rate)
            } else {
                "?".into()
            };
            format!(
                "{:.0}% ({:.1} MiB of {:.1} MiB), {:.1} MiB/s, ETA {eta}",
                offset as f64 * 100.0 / total as f64,
                mib(offset),
                mib(total),
                mib(rate as u64)
            )
        }
        _ => format!("{:.1} MiB read, {:.1} MiB/s", mib(offset), mib(rate as u64)),
    };
    line.push_str("; ");
    line.push_str(&counts_text(counts));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_tells_share_rate_eta_and_counts() {
        let counts = Counts {
            created: 3,
            updated: 1,
            skipped: 0,
        };
        let line = plain_line(Some(10 << 20), 5 << 20, 0, Duration::from_secs(5), &counts);
        assert_eq!(
            line,
            "50% (5.0 MiB of 10.0 MiB), 1.0 MiB/s, ETA 5s; created 3, updated 1, skipped 0"
        );
        let stdin = plain_line(None, 1 << 20, 0, Duration::from_secs(1), &counts);
        assert!(stdin.starts_with("1.0 MiB read, 1.0 MiB/s"), "{stdin}");
    }
}
