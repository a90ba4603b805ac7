//! The checkpoint `--resume` continues from: after every committed chunk, where the input was
//! read to (with a digest of everything before), the counts so far and the run's identity (its
//! chunks' `Idempotency-Key`s derive from it). It is two files: `PATH` (JSON, replaced whole:
//! written aside, then renamed over) and `PATH.ids`, the old → new id map of the entities
//! written so far, appended to (a map rewritten whole after every chunk would make a large
//! import quadratic); `PATH` records how many bytes of `PATH.ids` are committed.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::source::Position;

/// The checkpoint file's own format version.
const CHECKPOINT_VERSION: u32 = 1;

/// Items written so far, by what happened to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
}

/// What the import has committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub checkpoint_version: u32,
    /// Random, made when the import started; part of every chunk's `Idempotency-Key`.
    pub run_id: String,
    /// The API the import writes to.
    pub url: String,
    /// How the input is read (`ndjson`, `csv` and its column map): a resumed import reads it
    /// the same way.
    pub format: String,
    #[serde(default)]
    pub column_map: Vec<String>,
    pub on_conflict: String,
    pub chunk_size: usize,
    /// Where to go on in each input (one for NDJSON; nodes then edges for CSV), and which one
    /// is being read.
    pub inputs: Vec<Position>,
    pub current_input: usize,
    /// Chunks committed (the index of the next chunk).
    pub chunks: u64,
    pub counts: Counts,
    /// Committed length of the `.ids` file.
    pub ids_len: u64,
}

impl Checkpoint {
    pub fn new(
        url: &str,
        format: &str,
        column_map: Vec<String>,
        on_conflict: &str,
        chunk_size: usize,
        inputs: usize,
    ) -> Checkpoint {
        Checkpoint {
            checkpoint_version: CHECKPOINT_VERSION,
            run_id: Uuid::new_v4().to_string(),
            url: url.to_string(),
            format: format.to_string(),
            column_map,
            on_conflict: on_conflict.to_string(),
            chunk_size,
            inputs: vec![Position::start(); inputs],
            current_input: 0,
            chunks: 0,
            counts: Counts::default(),
            ids_len: 0,
        }
    }
}

/// The checkpoint's two files.
#[derive(Debug, Clone)]
pub struct CheckpointFiles {
    pub path: PathBuf,
}

impl CheckpointFiles {
    pub fn new(path: PathBuf) -> CheckpointFiles {
        CheckpointFiles { path }
    }

    fn ids_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".ids");
        PathBuf::from(name)
    }

    fn temp_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".tmp");
        PathBuf::from(name)
    }

    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// The checkpoint and the id map it committed (an `.ids` tail past `ids_len`, written
    /// before a crash that kept the checkpoint from following, is cut off).
    pub fn load(&self) -> anyhow::Result<(Checkpoint, HashMap<Uuid, Uuid>)> {
        let text = std::fs::read_to_string(&self.path)
            .with_context(|| format!("reading the checkpoint {}", self.path.display()))?;
        let checkpoint: Checkpoint = serde_json::from_str(&text)
            .with_context(|| format!("the checkpoint {} is damaged", self.path.display()))?;
        if checkpoint.checkpoint_version != CHECKPOINT_VERSION {
            bail!(
                "the checkpoint {} has version {}; this spingraph reads version {CHECKPOINT_VERSION}",
                self.path.display(),
                checkpoint.checkpoint_version
            );
        }
        let mut ids = HashMap::new();
        if checkpoint.ids_len > 0 {
            let file = File::open(self.ids_path())
                .with_context(|| format!("opening {}", self.ids_path().display()))?;
            let reader = BufReader::new(file.take(checkpoint.ids_len));
            for (n, line) in reader.lines().enumerate() {
                let line = line.context("reading the id map")?;
                let parsed = line
                    .split_once(' ')
                    .and_then(|(old, new)| Some((old.parse().ok()?, new.parse().ok()?)));
                let Some((old, new)) = parsed else {
                    bail!("{} line {} is damaged", self.ids_path().display(), n + 1);
                };
                ids.insert(old, new);
            }
        }
        Ok((checkpoint, ids))
    }

    /// Append `pairs` to the id map (flushed to disk) and save `checkpoint` with the map's new
    /// length, atomically: a crash leaves the old checkpoint or the new one.
    pub fn save(&self, checkpoint: &mut Checkpoint, pairs: &[(Uuid, Uuid)]) -> anyhow::Result<()> {
        if !pairs.is_empty() {
            let mut ids = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(self.ids_path())
                .with_context(|| format!("opening {}", self.ids_path().display()))?;
            // Drop what an interrupted save left past the committed length.
            ids.set_len(checkpoint.ids_len)?;
            let mut text = String::with_capacity(pairs.len() * 74);
            for (old, new) in pairs {
                text.push_str(&format!("{old} {new}\n"));
            }
            use std::io::Seek;
            ids.seek(std::io::SeekFrom::Start(checkpoint.ids_len))?;
            ids.write_all(text.as_bytes())?;
            ids.sync_data()
                .with_context(|| format!("writing {}", self.ids_path().display()))?;
            checkpoint.ids_len += text.len() as u64;
        }
        let temp = self.temp_path();
        let mut file = File::create(&temp)
            .with_context(|| format!("writing the checkpoint {}", temp.display()))?;
        file.write_all(&serde_json::to_vec_pretty(checkpoint)?)?;
        file.sync_all()?;
        std::fs::rename(&temp, &self.path)
            .with_context(|| format!("writing the checkpoint {}", self.path.display()))?;
        Ok(())
    }

    /// Remove both files (the import is complete).
    pub fn remove(&self) -> anyhow::Result<()> {
        for path in [self.path.clone(), self.ids_path(), self.temp_path()] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
        Ok(())
    }
}

/// The default checkpoint of `input`: `INPUT.import-checkpoint.json` beside it.
pub fn default_path(input: &Path) -> PathBuf {
    let mut name = input.as_os_str().to_owned();
    name.push(".import-checkpoint.json");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> CheckpointFiles {
        let path = std::env::temp_dir().join(format!("sg-checkpoint-{}.json", Uuid::new_v4()));
        CheckpointFiles::new(path)
    }

    #[test]
    fn a_checkpoint_round_trips_with_its_id_map() {
        let files = temp();
        let mut checkpoint = Checkpoint::new("http://x", "ndjson", vec![], "update", 500, 1);
        checkpoint.chunks = 2;
        checkpoint.counts.created = 7;
        checkpoint.inputs[0].offset = 99;
        let pairs: Vec<(Uuid, Uuid)> = (0..3).map(|_| (Uuid::new_v4(), Uuid::new_v4())).collect();
        files.save(&mut checkpoint, &pairs[..2]).unwrap();
        files.save(&mut checkpoint, &pairs[2..]).unwrap();
        let (loaded, ids) = files.load().unwrap();
        assert_eq!(loaded, checkpoint);
        assert_eq!(ids.len(), 3);
        for (old, new) in &pairs {
            assert_eq!(ids[old], *new);
        }
        files.remove().unwrap();
        assert!(!files.exists());
    }

    #[test]
    fn ids_written_after_the_last_checkpoint_are_not_loaded() {
        let files = temp();
        let mut checkpoint = Checkpoint::new("http://x", "ndjson", vec![], "update", 500, 1);
        let first = (Uuid::new_v4(), Uuid::new_v4());
        files.save(&mut checkpoint, &[first]).unwrap();
        // A crash after the map grew but before the checkpoint followed.
        let mut ids = OpenOptions::new()
            .append(true)
            .open(files.ids_path())
            .unwrap();
        writeln!(ids, "{} {}", Uuid::new_v4(), Uuid::new_v4()).unwrap();
        let (loaded, map) = files.load().unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map[&first.0], first.1);
        // The next save overwrites the stale tail.
        let mut loaded = loaded;
        let second = (Uuid::new_v4(), Uuid::new_v4());
        files.save(&mut loaded, &[second]).unwrap();
        let (_, map) = files.load().unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map[&second.0], second.1);
        files.remove().unwrap();
    }

    #[test]
    fn a_damaged_checkpoint_is_an_error() {
        let files = temp();
        std::fs::write(&files.path, "{").unwrap();
        assert!(files.load().unwrap_err().to_string().contains("damaged"));
        files.remove().unwrap();
    }

    #[test]
    fn the_default_checkpoint_sits_beside_the_input() {
        assert_eq!(
            default_path(Path::new("/data/graph.ndjson")),
            PathBuf::from("/data/graph.ndjson.import-checkpoint.json")
        );
    }
}
