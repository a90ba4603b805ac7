//! `spingraph export [FILE|-]`: `GET /v1/export` written to a file (or stdout), with progress on
//! stderr. The file is written as `FILE.partial` and renamed only once the export is whole (its
//! end: NDJSON's end line, GraphML's closing tag, JSON-LD's closing brackets), so a cut transfer
//! never leaves a file that looks complete.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::client::{ApiArgs, ApiClient};

/// An export streams for as long as the graph takes (the server allows 10 minutes by default).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(3600);
/// How often the plain reporter (stderr not a terminal) writes a line.
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// What is kept of the end of the stream to check the document's end.
const TAIL_BYTES: usize = 4096;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Where to write the export; `-` for stdout [default: spingraph-export.<format>].
    #[arg(value_name = "FILE|-")]
    output: Option<PathBuf>,
    /// The document's format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Only entities of these types, and the relationships between them (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "TYPE,...")]
    types: Vec<String>,
    /// The graph as it was at this instant (RFC 3339, e.g. 2026-06-30T00:00:00Z), read from the
    /// server's change history; the server refuses one before its history horizon.
    #[arg(long, value_name = "INSTANT")]
    as_of: Option<String>,
    /// Replace FILE when it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Ndjson,
    Graphml,
    Jsonld,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Graphml => "graphml",
            Format::Jsonld => "jsonld",
        }
    }

    /// Whether `tail` (the last bytes of a document) is this format's end; for NDJSON, what
    /// the end line counts.
    fn end(self, tail: &[u8]) -> Option<String> {
        let text = String::from_utf8_lossy(tail);
        let text = text.trim_end();
        match self {
            Format::Ndjson => {
                let last: Value = serde_json::from_str(text.rsplit('\n').next()?).ok()?;
                (last["kind"] == "end").then(|| {
                    format!(
                        "{} entities, {} relationships",
                        last["entities"], last["relationships"]
                    )
                })
            }
            Format::Graphml => text.ends_with("</graphml>").then(String::new),
            Format::Jsonld => text.ends_with("]}").then(String::new),
        }
    }
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let client = ApiClient::from_args(&args.api)?;
    let mut query = vec![("format", args.format.as_str().to_string())];
    if !args.types.is_empty() {
        query.push(("types", args.types.join(",")));
    }
    if let Some(instant) = &args.as_of {
        query.push(("as_of", instant.clone()));
    }
    let url = client.url("/v1/export");
    let mut resp = client
        .send_with_retry(|http| http.get(&url).query(&query).timeout(EXPORT_TIMEOUT))
        .map_err(|e| anyhow!("exporting from {}: {}", client.base_url(), e.describe()))?;

    let default_name = format!("spingraph-export.{}", args.format.as_str());
    let output = args.output.unwrap_or_else(|| PathBuf::from(default_name));
    if output.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        let written = copy(&mut resp, &mut stdout, args.format)?;
        eprintln!("export: {written}");
        return Ok(());
    }
    if output.exists() && !args.force {
        bail!("{} exists: pass --force to replace it", output.display());
    }
    let partial = partial_path(&output);
    let mut file =
        File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let written = copy(&mut resp, &mut file, args.format).and_then(|written| {
        file.sync_all().context("writing the export to disk")?;
        Ok(written)
    });
    match written {
        Ok(written) => {
            std::fs::rename(&partial, &output).with_context(|| {
                format!("renaming {} to {}", partial.display(), output.display())
            })?;
            eprintln!("export: {written} in {}", output.display());
            Ok(())
        }
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            Err(err)
        }
    }
}

/// `FILE.partial`, beside FILE.
fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Copy the stream to `out` with progress; an error unless it ended with the format's end.
fn copy(body: &mut impl Read, out: &mut impl Write, format: Format) -> anyhow::Result<String> {
    let progress = Progress::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut tail: Vec<u8> = Vec::with_capacity(TAIL_BYTES * 2);
    let mut total: u64 = 0;
    loop {
        let n = body
            .read(&mut buf)
            .context("the export stopped before its end (the transfer was cut)")?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).context("writing the export")?;
        total += n as u64;
        tail.extend_from_slice(&buf[..n]);
        if tail.len() > TAIL_BYTES {
            tail.drain(..tail.len() - TAIL_BYTES);
        }
        progress.update(total);
    }
    out.flush().context("writing the export")?;
    progress.finish();
    let mib = total as f64 / (1024.0 * 1024.0);
    match format.end(&tail) {
        Some(counts) if counts.is_empty() => Ok(format!("{mib:.1} MiB")),
        Some(counts) => Ok(format!("{counts} ({mib:.1} MiB)")),
        None => bail!(
            "the export ended without its end ({mib:.1} MiB received): the server stopped \
             part-way (see its log); nothing was kept"
        ),
    }
}

/// Bytes received: a spinner with the rate on a terminal, a line every few seconds otherwise.
enum Progress {
    Bar(ProgressBar),
    Plain {
        started: Instant,
        last: std::cell::Cell<Instant>,
    },
}

impl Progress {
    fn new() -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {binary_bytes} ({binary_bytes_per_sec})",
                )
                .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress::Bar(bar)
        } else {
            let now = Instant::now();
            Progress::Plain {
                started: now,
                last: std::cell::Cell::new(now),
            }
        }
    }

    fn update(&self, total: u64) {
        match self {
            Progress::Bar(bar) => bar.set_position(total),
            Progress::Plain { started, last } => {
                if last.get().elapsed() >= PLAIN_EVERY {
                    last.set(Instant::now());
                    let mib = total as f64 / (1024.0 * 1024.0);
                    let rate = mib / started.elapsed().as_secs_f64().max(0.001);
                    eprintln!("export: {mib:.1} MiB received, {rate:.1} MiB/s");
                }
            }
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_document_with_its_end_is_whole() {
        let ndjson =
            b"{\"kind\":\"header\"}\n{\"kind\":\"end\",\"entities\":2,\"relationships\":1}\n";
        assert_eq!(
            Format::Ndjson.end(ndjson).as_deref(),
            Some("2 entities, 1 relationships")
        );
        assert_eq!(
            Format::Ndjson.end(b"{\"kind\":\"header\"}\n{\"kind\":\"entity\"}"),
            None
        );
        assert_eq!(Format::Ndjson.end(b"{\"kind\":\"end\",\"enti"), None);
        assert!(Format::Graphml.end(b"  </graph>\n</graphml>\n").is_some());
        assert!(Format::Graphml.end(b"<node id=\"x\"/>").is_none());
        assert!(Format::Jsonld.end(b"{\"@id\":\"x\"}\n]}\n").is_some());
        assert!(Format::Jsonld.end(b"{\"@id\":\"x\"},\n").is_none());
    }

    #[test]
    fn a_cut_stream_is_an_error_and_a_whole_one_says_what_it_holds() {
        let mut out = Vec::new();
        let whole =
            b"{\"kind\":\"header\"}\n{\"kind\":\"end\",\"entities\":0,\"relationships\":0}\n";
        let said = copy(&mut &whole[..], &mut out, Format::Ndjson).unwrap();
        assert!(said.starts_with("0 entities, 0 relationships"), "{said}");
        assert_eq!(out, whole);
        let cut = b"{\"kind\":\"header\"}\n{\"kind\":\"entity\"}\n";
        let err = copy(&mut &cut[..], &mut Vec::new(), Format::Ndjson).unwrap_err();
        assert!(err.to_string().contains("without its end"), "{err}");
    }

    #[test]
    fn the_partial_file_sits_beside_the_output() {
        assert_eq!(
            partial_path(Path::new("out/graph.ndjson")),
            PathBuf::from("out/graph.ndjson.partial")
        );
    }
}
