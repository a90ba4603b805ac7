//! Where the import is in its input: a position (byte offset, line) with the SHA-256 of every
//! byte before it, which `--resume` checks so that it continues the same input; a line reader
//! that keeps that position for any stream (stdin too); and a digest that follows a file read by
//! another reader (the CSV reader).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A point between two lines of one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Bytes before it.
    pub offset: u64,
    /// The number (1-based) of the line that starts here.
    pub line: u64,
    /// CSV: the number of records before it, the header included (the CSV reader's count).
    #[serde(default)]
    pub record: u64,
    /// SHA-256 (hex) of the `offset` bytes before it.
    pub sha256: String,
}

impl Position {
    /// The start of an input.
    pub fn start() -> Position {
        Position {
            offset: 0,
            line: 1,
            record: 0,
            sha256: hex(&Sha256::new().finalize()),
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lines of a stream, with the [`Position`] at the start of the line last returned.
pub struct LineReader<R> {
    inner: BufReader<R>,
    /// Digest of the bytes before `line`.
    hasher: Sha256,
    offset: u64,
    /// The line last returned (not yet in `hasher`), and its number.
    line: Vec<u8>,
    number: u64,
}

impl<R: Read> LineReader<R> {
    /// Read `inner` from `at`: the bytes before it are read and must hash to `at.sha256` (the
    /// same input up to there), else an error naming `what`.
    pub fn resume(inner: R, at: &Position, what: &str) -> anyhow::Result<LineReader<R>> {
        let mut reader = LineReader {
            inner: BufReader::with_capacity(1 << 16, inner),
            hasher: Sha256::new(),
            offset: 0,
            line: Vec::new(),
            number: 1,
        };
        let mut left = at.offset;
        while left > 0 {
            let buf = reader
                .inner
                .fill_buf()
                .with_context(|| format!("reading {what}"))?;
            if buf.is_empty() {
                bail!(
                    "{what} is shorter ({} bytes) than the part the checkpoint says was imported \
                     ({} bytes): not the same input",
                    at.offset - left,
                    at.offset
                );
            }
            let n = buf.len().min(left as usize);
            reader.hasher.update(&buf[..n]);
            reader.inner.consume(n);
            left -= n as u64;
        }
        reader.offset = at.offset;
        reader.number = at.line;
        let digest = hex(&reader.hasher.clone().finalize());
        if digest != at.sha256 {
            bail!(
                "{what} is not the input of the checkpoint: its first {} bytes differ from what \
                 was imported",
                at.offset
            );
        }
        Ok(reader)
    }

    /// The next line (without its line break) and its number; `None` at the end.
    pub fn next_line(&mut self) -> anyhow::Result<Option<(u64, &[u8])>> {
        if !self.line.is_empty() {
            self.hasher.update(&self.line);
            self.offset += self.line.len() as u64;
            self.number += 1;
            self.line.clear();
        }
        let n = self
            .inner
            .read_until(b'\n', &mut self.line)
            .context("reading the input")?;
        if n == 0 {
            return Ok(None);
        }
        let mut text = &self.line[..];
        if let Some(rest) = text.strip_suffix(b"\n") {
            text = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        Ok(Some((self.number, text)))
    }

    /// Where the line last returned starts (the end, once `next_line` said `None`).
    pub fn position(&self) -> Position {
        Position {
            offset: self.offset,
            line: self.number,
            record: 0,
            sha256: hex(&self.hasher.clone().finalize()),
        }
    }
}

/// The SHA-256 of a file's first bytes, followed forward as another reader advances.
pub struct PrefixDigest {
    file: BufReader<File>,
    hasher: Sha256,
    offset: u64,
}

impl PrefixDigest {
    pub fn open(path: &Path) -> anyhow::Result<PrefixDigest> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(PrefixDigest {
            file: BufReader::with_capacity(1 << 16, file),
            hasher: Sha256::new(),
            offset: 0,
        })
    }

    /// The digest of the first `offset` bytes (`offset` never goes back).
    pub fn at(&mut self, offset: u64) -> anyhow::Result<String> {
        anyhow::ensure!(offset >= self.offset, "the digest cannot go back");
        let mut left = offset - self.offset;
        while left > 0 {
            let buf = self.file.fill_buf().context("reading the input")?;
            if buf.is_empty() {
                bail!("the input is shorter than {offset} bytes");
            }
            let n = buf.len().min(left as usize);
            self.hasher.update(&buf[..n]);
            self.file.consume(n);
            left -= n as u64;
        }
        self.offset = offset;
        Ok(hex(&self.hasher.clone().finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines<R: Read>(reader: &mut LineReader<R>) -> Vec<(u64, String, u64)> {
        let mut out = Vec::new();
        while let Some((n, text)) = reader.next_line().unwrap() {
            let text = String::from_utf8(text.to_vec()).unwrap();
            out.push((n, text, reader.position().offset));
        }
        out
    }

    #[test]
    fn lines_are_numbered_and_positioned_at_their_start() {
        let input = b"one\r\ntwo\n\nfour";
        let mut reader = LineReader::resume(&input[..], &Position::start(), "input").unwrap();
        assert_eq!(
            lines(&mut reader),
            [
                (1, "one".into(), 0),
                (2, "two".into(), 5),
                (3, "".into(), 9),
                (4, "four".into(), 10)
            ]
        );
        let end = reader.position();
        assert_eq!((end.offset, end.line), (14, 5));
        assert_eq!(end.sha256, hex(&Sha256::digest(input)));
    }

    #[test]
    fn resuming_continues_after_the_position_and_checks_what_came_before() {
        let input = b"a\nbb\nccc\n";
        let mut reader = LineReader::resume(&input[..], &Position::start(), "input").unwrap();
        reader.next_line().unwrap();
        reader.next_line().unwrap(); // "bb": the position is its start
        let at = reader.position();
        assert_eq!((at.offset, at.line), (2, 2));
        let mut again = LineReader::resume(&input[..], &at, "input").unwrap();
        assert_eq!(lines(&mut again)[0], (2, "bb".into(), 2));
        let changed = LineReader::resume(&b"X\nbb\nccc\n"[..], &at, "the file");
        assert!(changed.err().unwrap().to_string().contains("not the input"));
        let shorter = LineReader::resume(&b"a"[..], &at, "the file");
        assert!(shorter.err().unwrap().to_string().contains("shorter"));
    }

    #[test]
    fn a_prefix_digest_matches_the_line_reader() {
        let dir = std::env::temp_dir().join(format!("sg-digest-{}", uuid::Uuid::new_v4()));
        std::fs::write(&dir, b"x,y\n1,2\n3,4\n").unwrap();
        let mut digest = PrefixDigest::open(&dir).unwrap();
        assert_eq!(digest.at(4).unwrap(), hex(&Sha256::digest(b"x,y\n")));
        assert_eq!(
            digest.at(12).unwrap(),
            hex(&Sha256::digest(b"x,y\n1,2\n3,4\n"))
        );
        assert!(digest.at(4).is_err());
        std::fs::remove_file(&dir).unwrap();
    }
}
