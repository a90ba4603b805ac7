//! The inputs an import reads, one line (or CSV record) at a time, each with its line number:
//! an NDJSON file or stdin, or a CSV nodes or edges file; each keeps the [`Position`] a
//! checkpoint records and `--resume` starts from.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::columns::{ColumnMap, Layout, Table};
use super::record::{self, Record};
use super::source::{LineReader, Position, PrefixDigest};

/// One line read: its number and what it means (`Ok(None)`: nothing, a blank line), or what is
/// wrong with it.
pub type Line = (u64, Result<Option<Record>, String>);

/// An input read line by line.
pub trait Input {
    /// The next line; `None` at the end.
    fn next_line(&mut self) -> anyhow::Result<Option<Line>>;
    /// Where the line last returned starts (the end, after `None`).
    fn position(&mut self) -> anyhow::Result<Position>;
}

/// Where an input comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Stdin,
    File(PathBuf),
}

impl Origin {
    pub fn parse(arg: &Path) -> Origin {
        if arg == Path::new("-") {
            Origin::Stdin
        } else {
            Origin::File(arg.to_path_buf())
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Origin::Stdin => "stdin".into(),
            Origin::File(path) => path.display().to_string(),
        }
    }

    /// The size in bytes, when known.
    pub fn size(&self) -> Option<u64> {
        match self {
            Origin::Stdin => None,
            Origin::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
        }
    }
}

/// An NDJSON stream.
pub struct Ndjson {
    lines: LineReader<Box<dyn Read>>,
}

impl Ndjson {
    /// `origin` read from `at` (checked to be the same input up to there).
    pub fn open(origin: &Origin, at: &Position) -> anyhow::Result<Ndjson> {
        let inner: Box<dyn Read> = match origin {
            Origin::Stdin => Box::new(std::io::stdin().lock()),
            Origin::File(path) => {
                Box::new(File::open(path).with_context(|| format!("opening {}", path.display()))?)
            }
        };
        Ok(Ndjson {
            lines: LineReader::resume(inner, at, &origin.describe())?,
        })
    }
}

impl Input for Ndjson {
    fn next_line(&mut self) -> anyhow::Result<Option<Line>> {
        let Some((number, bytes)) = self.lines.next_line()? else {
            return Ok(None);
        };
        let parsed = match std::str::from_utf8(bytes) {
            Ok(text) => record::parse_line(text, number == 1),
            Err(e) => Err(format!("not UTF-8: {e}")),
        };
        Ok(Some((number, parsed)))
    }

    fn position(&mut self) -> anyhow::Result<Position> {
        Ok(self.lines.position())
    }
}

/// A CSV nodes or edges file.
pub struct Csv {
    reader: csv::Reader<File>,
    layout: Layout,
    digest: PrefixDigest,
    /// Where the record last returned starts.
    at: csv::Position,
    record: csv::StringRecord,
}

impl Csv {
    /// `path` as `table`, its header mapped by `map`, read from `at` (checked).
    pub fn open(path: &Path, table: Table, map: &ColumnMap, at: &Position) -> anyhow::Result<Csv> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(file);
        let headers = reader
            .headers()
            .with_context(|| format!("reading the header row of {}", path.display()))?
            .clone();
        let headers: Vec<&str> = headers.iter().collect();
        let layout = Layout::new(table, &headers, map)
            .with_context(|| format!("the header row of {}", path.display()))?;
        let mut digest = PrefixDigest::open(path)?;
        let mut position = reader.position().clone();
        if at.offset > 0 {
            if digest.at(at.offset).ok().as_deref() != Some(at.sha256.as_str()) {
                bail!(
                    "{} is not the input of the checkpoint: its first {} bytes differ from what \
                     was imported",
                    path.display(),
                    at.offset
                );
            }
            position = csv::Position::new();
            position
                .set_byte(at.offset)
                .set_line(at.line)
                .set_record(at.record);
            reader
                .seek(position.clone())
                .with_context(|| format!("seeking in {}", path.display()))?;
        }
        Ok(Csv {
            reader,
            layout,
            digest,
            at: position,
            record: csv::StringRecord::new(),
        })
    }
}

impl Input for Csv {
    fn next_line(&mut self) -> anyhow::Result<Option<Line>> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => {
                self.at = self.reader.position().clone();
                Ok(None)
            }
            Ok(true) => {
                let start = self
                    .record
                    .position()
                    .cloned()
                    .unwrap_or_else(|| self.reader.position().clone());
                self.at = start.clone();
                let row: Vec<&str> = self.record.iter().collect();
                let parsed = match self.layout.table() {
                    Table::Nodes => self.layout.entity(&row).map(Record::Entity),
                    Table::Edges => self.layout.relationship(&row).map(Record::Relationship),
                };
                Ok(Some((start.line(), parsed.map(Some))))
            }
            Err(err) => {
                let Some(line) = err.position().map(|p| p.line()) else {
                    return Err(anyhow::Error::new(err).context("reading the CSV input"));
                };
                if let Some(p) = err.position() {
                    self.at = p.clone();
                }
                Ok(Some((line, Err(err.to_string()))))
            }
        }
    }

    fn position(&mut self) -> anyhow::Result<Position> {
        Ok(Position {
            offset: self.at.byte(),
            line: self.at.line(),
            record: self.at.record(),
            sha256: self.digest.at(self.at.byte())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("sg-input-{}.csv", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `path` as a nodes file with its own headers, read from `at`.
    fn nodes(path: &Path, at: &Position) -> anyhow::Result<Csv> {
        Csv::open(path, Table::Nodes, &ColumnMap::default(), at)
    }

    fn drain(input: &mut dyn Input) -> Vec<(u64, bool)> {
        let mut out = Vec::new();
        while let Some((line, parsed)) = input.next_line().unwrap() {
            out.push((line, parsed.is_ok()));
        }
        out
    }

    #[test]
    fn csv_records_carry_their_line_and_resume_after_a_position() {
        // The quoted name spans two lines: the next record starts on line 4.
        let path = temp_file("type,name\nt,a\nt,\"b\nb\"\nt,c\nt,\n");
        let mut csv = nodes(&path, &Position::start()).unwrap();
        let (line, first) = csv.next_line().unwrap().unwrap();
        assert_eq!(line, 2);
        assert!(first.is_ok());
        let _ = csv.next_line().unwrap().unwrap();
        let _ = csv.next_line().unwrap().unwrap(); // t,c: the position is its start
        let at = csv.position().unwrap();
        assert_eq!(at.line, 5);
        let mut again = nodes(&path, &at).unwrap();
        assert_eq!(drain(&mut again), [(5, true), (6, false)]);
        std::fs::write(&path, "type,name\nt,X\nt,\"b\nb\"\nt,c\nt,\n").unwrap();
        let changed = nodes(&path, &at);
        assert!(changed.err().unwrap().to_string().contains("not the input"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_csv_row_of_the_wrong_width_fails_with_its_line() {
        let path = temp_file("type,name\nt,a\nt,b,extra\n");
        let mut csv = nodes(&path, &Position::start()).unwrap();
        assert_eq!(drain(&mut csv), [(2, true), (3, false)]);
        std::fs::remove_file(&path).unwrap();
    }
}
