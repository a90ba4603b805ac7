//! `spingraph import FILE|-`: load a graph through the API's batch endpoints (never the
//! database): NDJSON as `spingraph export` writes it, or CSV nodes and edges files. Items go in
//! chunks, each with an `Idempotency-Key` derived from the import and the chunk, so a chunk sent
//! again (a retry, or `--resume` after a crash or Ctrl-C) is answered from the server's store
//! instead of being written twice; a checkpoint after every committed chunk says where to go on.

mod checkpoint;
mod chunk;
mod columns;
mod input;
mod progress;
mod record;
mod source;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use serde::Deserialize;
use uuid::Uuid;

use super::client::{ApiArgs, ApiClient, RequestError};
use checkpoint::{Checkpoint, CheckpointFiles, Counts};
use chunk::{Chunk, Kind, OnConflict, TooLarge, idempotency_key, item_index};
use columns::{ColumnMap, Table};
use input::{Csv, Input, Ndjson, Origin};
use progress::Progress;
use record::Record;

/// Items per batch request unless `--chunk-size` says otherwise.
const DEFAULT_CHUNK_SIZE: u64 = 500;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The input: an NDJSON file as `spingraph export` writes it, a CSV nodes file (with
    /// --edges), or `-` for NDJSON on stdin.
    #[arg(value_name = "FILE|-")]
    input: PathBuf,
    /// The input's format (default: from the file's extension, `.csv` or NDJSON; NDJSON on
    /// stdin).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// CSV: the edges file, written after every node.
    #[arg(long, value_name = "EDGES.csv")]
    edges: Option<PathBuf>,
    /// CSV: read the column HEADER as FIELD (`--map "Company=name"`, `--map "Notes=-"` to
    /// ignore it); repeatable.
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    map: Vec<String>,
    /// What to do with an item a live entity or relationship already stands for (same type and
    /// external_id; same source, target and type): give it the item's values, leave it, or stop.
    /// [default: update]
    #[arg(long, value_enum)]
    on_conflict: Option<OnConflict>,
    /// Items per batch request (at most 1000; a chunk also stays under the 1 MiB body limit).
    /// [default: 500]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    chunk_size: Option<u64>,
    /// Where progress is saved after each committed chunk [default: FILE.import-checkpoint.json;
    /// stdin has none unless this names one].
    #[arg(long, value_name = "PATH")]
    checkpoint: Option<PathBuf>,
    /// Continue the import the checkpoint describes (after a crash, a failure or Ctrl-C).
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Ndjson,
    Csv,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }
}

/// How an import ended.
#[derive(Debug, PartialEq)]
enum Ended {
    Complete,
    /// A line failed: nothing of its chunk was written.
    Failed,
    /// Ctrl-C, or the server could not be reached.
    Stopped,
}

/// `spingraph import`: 0 when every line was written, 1 when one failed (or the import could
/// not go on), 130 after Ctrl-C.
pub fn main(args: ImportArgs) -> ExitCode {
    let interrupted = Arc::new(AtomicBool::new(false));
    match run(args, interrupted.clone()) {
        Ok(Ended::Complete) => ExitCode::SUCCESS,
        Ok(_) if interrupted.load(Ordering::SeqCst) => ExitCode::from(130),
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// One input of the import and how it is read.
struct Source {
    origin: Origin,
    table: Option<Table>,
}

impl Source {
    fn open(&self, at: &source::Position, map: &ColumnMap) -> anyhow::Result<Box<dyn Input>> {
        let input: Box<dyn Input> = match (&self.origin, self.table) {
            (origin, None) => Box::new(Ndjson::open(origin, at)?),
            (Origin::File(path), Some(table)) => Box::new(Csv::open(path, table, map, at)?),
            (Origin::Stdin, Some(_)) => bail!("CSV is read from files, not stdin"),
        };
        Ok(input)
    }
}

fn format_of(args: &ImportArgs, origin: &Origin) -> anyhow::Result<Format> {
    if let Some(format) = args.format {
        return Ok(format);
    }
    let Origin::File(path) = origin else {
        return Ok(Format::Ndjson);
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match extension.as_deref() {
        Some("csv") => Format::Csv,
        Some("ndjson" | "jsonl" | "json") => Format::Ndjson,
        _ => bail!(
            "cannot tell the format of {} from its extension: pass --format ndjson|csv",
            path.display()
        ),
    })
}

fn run(args: ImportArgs, interrupted: Arc<AtomicBool>) -> anyhow::Result<Ended> {
    let origin = Origin::parse(&args.input);
    let format = format_of(&args, &origin)?;
    let map = ColumnMap::parse(&args.map)?;
    let sources = match format {
        Format::Ndjson => {
            if args.edges.is_some() || !args.map.is_empty() {
                bail!("--edges and --map are for CSV input (--format csv)");
            }
            vec![Source {
                origin: origin.clone(),
                table: None,
            }]
        }
        Format::Csv => {
            if origin == Origin::Stdin {
                bail!("CSV is read from files: name the nodes file instead of `-`");
            }
            let mut sources = vec![Source {
                origin: origin.clone(),
                table: Some(Table::Nodes),
            }];
            if let Some(edges) = &args.edges {
                sources.push(Source {
                    origin: Origin::File(edges.clone()),
                    table: Some(Table::Edges),
                });
            }
            sources
        }
    };
    let files = match (&args.checkpoint, &origin) {
        (Some(path), _) => Some(CheckpointFiles::new(path.clone())),
        (None, Origin::File(path)) => Some(CheckpointFiles::new(checkpoint::default_path(path))),
        (None, Origin::Stdin) if args.resume => {
            bail!("--resume with stdin needs --checkpoint PATH (the one the import saved)")
        }
        (None, Origin::Stdin) => None,
    };
    let client = ApiClient::from_args(&args.api)?.cancel_on(interrupted.clone());

    let (state, ids) = match &files {
        Some(files) if args.resume => {
            if !files.exists() {
                bail!(
                    "--resume: there is no checkpoint at {}",
                    files.path.display()
                );
            }
            let (state, ids) = files.load()?;
            check_resumable(
                &state,
                &args,
                client.base_url(),
                format,
                &map,
                sources.len(),
            )?;
            (state, ids)
        }
        Some(files) if files.exists() => bail!(
            "a checkpoint of an earlier import exists at {}: pass --resume to continue it, or \
             delete it to start over",
            files.path.display()
        ),
        None if args.resume => bail!("--resume needs a checkpoint"),
        _ => {
            let on_conflict = args.on_conflict.unwrap_or(OnConflict::Update);
            let state = Checkpoint::new(
                client.base_url(),
                format.as_str(),
                map.to_strings(),
                on_conflict.as_str(),
                args.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE) as usize,
                sources.len(),
            );
            (state, HashMap::new())
        }
    };
    let on_conflict = match state.on_conflict.as_str() {
        "skip" => OnConflict::Skip,
        "error" => OnConflict::Error,
        _ => OnConflict::Update,
    };

    let sizes: Vec<Option<u64>> = sources.iter().map(|s| s.origin.size()).collect();
    let total = sizes.iter().copied().sum::<Option<u64>>();
    let done_before: u64 = sizes[..state.current_input.min(sizes.len())]
        .iter()
        .map(|s| s.unwrap_or(0))
        .sum();
    let resumed_at = done_before
        + state
            .inputs
            .get(state.current_input)
            .map_or(0, |p| p.offset);
    if args.resume {
        let at = &state.inputs[state.current_input.min(state.inputs.len() - 1)];
        eprintln!(
            "resuming at line {} of {} ({} chunks committed: created {}, updated {}, skipped {})",
            at.line,
            sources[state.current_input.min(sources.len() - 1)]
                .origin
                .describe(),
            state.chunks,
            state.counts.created,
            state.counts.updated,
            state.counts.skipped
        );
    }
    let progress = Progress::new(total, resumed_at);
    on_ctrl_c(interrupted.clone());

    let client = {
        let bar = match &progress {
            Progress::Bar(bar) => Some(bar.clone()),
            Progress::Plain { .. } => None,
        };
        client.notices(move |line| match &bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        })
    };
    let mut import = Import {
        client,
        state,
        ids,
        files,
        progress,
        on_conflict,
        interrupted,
        failures: Vec::new(),
        failed_lines: 0,
        keyless: 0,
    };
    let ended = import.run(&sources, &map, &sizes);
    import.progress.finish();
    let ended = match ended {
        Ok(ended) => ended,
        Err(err) => {
            // The checkpoint already holds the last committed chunk: say how to go on from it.
            if import.state.chunks > 0 {
                import.report(&Ended::Stopped);
            }
            return Err(err);
        }
    };
    import.report(&ended);
    Ok(ended)
}

/// A resumed import must read the same way and send the same chunks as the one that saved the
/// checkpoint (a chunk cut elsewhere would get another `Idempotency-Key`).
fn check_resumable(
    state: &Checkpoint,
    args: &ImportArgs,
    url: &str,
    format: Format,
    map: &ColumnMap,
    inputs: usize,
) -> anyhow::Result<()> {
    let differs = |what: &str, then: &str, now: &str| {
        anyhow::anyhow!(
            "the checkpoint's import ran with {what} {then}, not {now}: resume it the same way \
             (or delete the checkpoint to start over)"
        )
    };
    if state.url != url {
        return Err(differs("--url", &state.url, url));
    }
    if state.format != format.as_str() || state.inputs.len() != inputs {
        return Err(differs(
            "the input format",
            &format!("{} ({} files)", state.format, state.inputs.len()),
            &format!("{} ({inputs} files)", format.as_str()),
        ));
    }
    if state.column_map != map.to_strings() {
        return Err(differs(
            "--map",
            &state.column_map.join(" "),
            &map.to_strings().join(" "),
        ));
    }
    if let Some(on_conflict) = args.on_conflict
        && on_conflict.as_str() != state.on_conflict
    {
        return Err(differs(
            "--on-conflict",
            &state.on_conflict,
            on_conflict.as_str(),
        ));
    }
    if let Some(size) = args.chunk_size
        && size as usize != state.chunk_size
    {
        return Err(differs(
            "--chunk-size",
            &state.chunk_size.to_string(),
            &size.to_string(),
        ));
    }
    if state.current_input > inputs {
        bail!("the checkpoint is damaged (input {})", state.current_input);
    }
    Ok(())
}

/// Ctrl-C sets `flag` (the import stops after the chunk in flight); a second one quits at once.
fn on_ctrl_c(flag: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::SeqCst);
                eprintln!(
                    "\ninterrupted: stopping after the chunk in flight (Ctrl-C again quits at once)"
                );
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
    });
}

/// Lines that failed, and why.
struct Failure {
    first_line: u64,
    last_line: u64,
    detail: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines = lines_text(self.first_line, self.last_line);
        write!(f, "{lines}: {}", self.detail)
    }
}

/// `line 7`, or `lines 7-9`.
fn lines_text(first: u64, last: u64) -> String {
    if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}-{last}")
    }
}

/// A batch endpoint's answer.
#[derive(Deserialize)]
struct BatchAnswer {
    items: Vec<AnsweredItem>,
    outcomes: Vec<String>,
}

#[derive(Deserialize)]
struct AnsweredItem {
    id: Uuid,
}

/// An import under way.
struct Import {
    client: ApiClient,
    state: Checkpoint,
    /// Old id → new id of every entity written.
    ids: HashMap<Uuid, Uuid>,
    files: Option<CheckpointFiles>,
    progress: Progress,
    on_conflict: OnConflict,
    interrupted: Arc<AtomicBool>,
    failures: Vec<Failure>,
    failed_lines: u64,
    /// Entities written without a natural key (importing the file again writes them again).
    keyless: u64,
}

impl Import {
    fn run(
        &mut self,
        sources: &[Source],
        map: &ColumnMap,
        sizes: &[Option<u64>],
    ) -> anyhow::Result<Ended> {
        for index in self.state.current_input..sources.len() {
            let before: u64 = sizes[..index].iter().map(|s| s.unwrap_or(0)).sum();
            let mut input = sources[index].open(&self.state.inputs[index], map)?;
            match self.read(index, input.as_mut(), before)? {
                Ended::Complete => {}
                other => return Ok(other),
            }
            // The input is read: the next one starts (saved even if nothing was written).
            self.state.inputs[index] = input.position()?;
            self.state.current_input = index + 1;
            self.save(&[])?;
        }
        if let Some(files) = &self.files {
            files.remove()?;
        }
        Ok(Ended::Complete)
    }

    /// Read input `index` to its end, sending chunk after chunk.
    fn read(&mut self, index: usize, input: &mut dyn Input, before: u64) -> anyhow::Result<Ended> {
        let chunk_size = self.state.chunk_size;
        let mut chunk = Chunk::new(Kind::Entities, chunk_size, self.on_conflict);
        loop {
            if self.interrupted.load(Ordering::SeqCst) {
                return Ok(Ended::Stopped);
            }
            let Some((line, parsed)) = input.next_line()? else {
                break;
            };
            let record = match parsed {
                Ok(Some(Record::Header) | None) => continue,
                Ok(Some(record)) => record,
                Err(detail) => return Ok(self.line_failed(line, detail, &chunk)),
            };
            let kind = match record {
                Record::Entity(_) => Kind::Entities,
                _ => Kind::Relationships,
            };
            if kind != chunk.kind {
                // Relationships are resolved against the entities before them: send those first.
                if !chunk.is_empty() {
                    let at = input.position()?;
                    if let Some(ended) = self.commit(&chunk, index, at, before)? {
                        return Ok(ended);
                    }
                }
                chunk = Chunk::new(kind, chunk_size, self.on_conflict);
            }
            let (item, old_id) = match record {
                Record::Entity(entity) => {
                    if !entity.item.contains_key("external_id") {
                        self.keyless += 1;
                    }
                    (entity.item, entity.old_id)
                }
                Record::Relationship(rel) => match rel.item(|old| self.ids.get(old).copied()) {
                    Ok(item) => (item, None),
                    Err(detail) => return Ok(self.line_failed(line, detail, &chunk)),
                },
                Record::Header => unreachable!("skipped above"),
            };
            let bytes = match chunk.encode(&item) {
                Ok(bytes) => bytes,
                Err(TooLarge(n)) => {
                    let detail = format!("the item is {n} bytes: over the batch body limit");
                    return Ok(self.line_failed(line, detail, &chunk));
                }
            };
            if !chunk.fits(&bytes) {
                let at = input.position()?;
                if let Some(ended) = self.commit(&chunk, index, at, before)? {
                    return Ok(ended);
                }
                chunk = Chunk::new(kind, chunk_size, self.on_conflict);
            }
            chunk.push(bytes, line, old_id);
        }
        if !chunk.is_empty() {
            let at = input.position()?;
            if let Some(ended) = self.commit(&chunk, index, at, before)? {
                return Ok(ended);
            }
        }
        Ok(Ended::Complete)
    }

    /// A line that cannot be sent: nothing of its chunk is.
    fn line_failed(&mut self, line: u64, detail: String, chunk: &Chunk) -> Ended {
        let mut detail = detail;
        if !chunk.is_empty() {
            let (first, last) = chunk.line_range();
            detail.push_str(&format!(
                " ({} of its chunk not sent either)",
                lines_text(first, last)
            ));
        }
        self.failures.push(Failure {
            first_line: line,
            last_line: line,
            detail,
        });
        self.failed_lines += 1;
        Ended::Failed
    }

    /// Send `chunk`; once it is committed, record that input `index` is read to `at` and save
    /// the checkpoint. `Some(..)` when the import cannot go on.
    fn commit(
        &mut self,
        chunk: &Chunk,
        index: usize,
        at: source::Position,
        before: u64,
    ) -> anyhow::Result<Option<Ended>> {
        let body = chunk.body();
        let key = idempotency_key(&self.state.run_id, self.state.chunks, chunk.kind, &body);
        let answer = match self.client.post_json(chunk.kind.path(), &body, &key) {
            Ok(answer) => answer,
            Err(RequestError::Refused { status, body }) => {
                self.refused(chunk, status, &body);
                return Ok(Some(Ended::Failed));
            }
            Err(RequestError::Cancelled) => return Ok(Some(Ended::Stopped)),
            Err(err @ RequestError::Unreachable(_)) => {
                let (first, last) = chunk.line_range();
                self.progress.println(&format!(
                    "{} not imported: {}",
                    lines_text(first, last),
                    err.describe()
                ));
                return Ok(Some(Ended::Stopped));
            }
        };
        let batch: BatchAnswer = serde_json::from_slice(&answer.body).with_context(|| {
            format!(
                "the answer of {} ({}) is not a batch answer",
                chunk.kind.path(),
                answer.status
            )
        })?;
        if batch.items.len() != chunk.len() || batch.outcomes.len() != chunk.len() {
            bail!(
                "{} answered {} items for {} sent",
                chunk.kind.path(),
                batch.items.len(),
                chunk.len()
            );
        }
        for outcome in &batch.outcomes {
            match outcome.as_str() {
                "created" => self.state.counts.created += 1,
                "updated" => self.state.counts.updated += 1,
                "skipped" => self.state.counts.skipped += 1,
                other => bail!("unknown outcome {other:?} in the answer"),
            }
        }
        let pairs: Vec<(Uuid, Uuid)> = chunk
            .old_ids
            .iter()
            .zip(&batch.items)
            .filter_map(|(old, new)| old.map(|old| (old, new.id)))
            .collect();
        self.ids.extend(pairs.iter().copied());
        self.state.chunks += 1;
        self.state.current_input = index;
        let offset = at.offset;
        self.state.inputs[index] = at;
        self.save(&pairs)?;
        self.progress.update(before + offset, &self.state.counts);
        Ok(None)
    }

    /// The server refused a chunk (nothing of it was written): each error that names an item
    /// is a failure of that item's line, anything else of the whole chunk.
    fn refused(&mut self, chunk: &Chunk, status: u16, body: &serde_json::Value) {
        let mut lines = Vec::new();
        for error in body["errors"].as_array().into_iter().flatten() {
            let field = error["field"].as_str().unwrap_or_default();
            let message = error["message"].as_str().unwrap_or_default();
            if let Some(line) = item_index(field).and_then(|i| chunk.line_of(i)) {
                lines.push((line, format!("{field}: {message} ({status})")));
            }
        }
        let detail = body["detail"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| body.to_string());
        if lines.is_empty()
            && let Some(line) = item_index(&detail).and_then(|i| chunk.line_of(i))
        {
            lines.push((line, format!("{detail} ({status})")));
        }
        let (first, last) = chunk.line_range();
        if lines.is_empty() {
            self.failures.push(Failure {
                first_line: first,
                last_line: last,
                detail: format!("the server answered {status}: {detail}"),
            });
            self.failed_lines += chunk.len() as u64;
            return;
        }
        lines.sort();
        let mut distinct = lines.iter().map(|(l, _)| *l).collect::<Vec<_>>();
        distinct.dedup();
        self.failed_lines += distinct.len() as u64;
        for (line, detail) in lines {
            self.failures.push(Failure {
                first_line: line,
                last_line: line,
                detail: format!(
                    "{detail}; nothing of its chunk ({}) was written",
                    lines_text(first, last)
                ),
            });
        }
    }

    fn save(&mut self, pairs: &[(Uuid, Uuid)]) -> anyhow::Result<()> {
        match &self.files {
            Some(files) => files.save(&mut self.state, pairs),
            None => Ok(()),
        }
    }

    /// Save the checkpoint as it stands (at the last committed chunk) when the import stops.
    fn save_quietly(&mut self) {
        if let Err(err) = self.save(&[]) {
            eprintln!("error: saving the checkpoint: {err:#}");
        }
    }

    /// The summary on stdout, failures and how to go on on stderr.
    fn report(&mut self, ended: &Ended) {
        if *ended != Ended::Complete {
            self.save_quietly();
        }
        let counts: Counts = self.state.counts;
        for failure in &self.failures {
            eprintln!("failed: {failure}");
        }
        println!(
            "{}: created {}, updated {}, skipped {}, failed {}",
            match ended {
                Ended::Complete => "import complete",
                Ended::Failed => "import stopped",
                Ended::Stopped => "import interrupted",
            },
            counts.created,
            counts.updated,
            counts.skipped,
            self.failed_lines
        );
        if self.keyless > 0 && *ended == Ended::Complete {
            eprintln!(
                "note: {} entities had no external_id: importing this input again creates them \
                 again (only natural keys are matched)",
                self.keyless
            );
        }
        if *ended == Ended::Complete {
            return;
        }
        match &self.files {
            Some(files) => {
                let what = match ended {
                    Ended::Failed => "fix the failed line(s), then run the same command",
                    _ => "run the same command",
                };
                eprintln!(
                    "checkpoint saved to {}: {what} with --resume to go on from the last committed \
                     chunk (nothing is written twice)",
                    files.path.display()
                );
            }
            None => eprintln!(
                "no checkpoint (stdin without --checkpoint): the input before line {} was \
                 written, nothing from there on",
                self.state.inputs[0].line
            ),
        }
    }
}
