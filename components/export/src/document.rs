//! One export as a sequence of chunks: the format's head, a chunk per page of entities, then
//! per page of relationships, then the tail. Pages come from a [`Source`] (the snapshot, or a
//! test's pages), so a whole export never sits in memory: one page at a time does.

use serde::Serialize;
use serde_json::{Value, json};
use spingraph_guest::Result;

use crate::format::{Format, NDJSON_FORMAT, NDJSON_VERSION};
use crate::sql::BEFORE_FIRST;

/// Rows a page holds: large enough that a round trip is cheap next to its rows, small enough
/// that a page (a few hundred KiB) is nothing next to an instance's memory.
pub const PAGE_ROWS: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Entities,
    Relationships,
}

/// One page: how many rows, the last one's id (the next page's keyset), and its items joined
/// by the format's separator.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub rows: u32,
    pub last: Option<String>,
    pub body: String,
}

/// Where pages come from.
pub trait Source {
    /// Up to [`PAGE_ROWS`] of `kind` whose ids follow `after`, in id order.
    fn page(&mut self, kind: Kind, after: &str) -> Result<Page>;
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub entities: u64,
    pub relationships: u64,
}

enum Step {
    Head,
    Pages(Kind, String),
    Tail,
    Done,
}

/// An export in progress.
pub struct Document {
    format: Format,
    header: Value,
    step: Step,
    /// Whether an item (or NDJSON's header line) was written: the next page follows a separator.
    after_item: bool,
    counts: Counts,
}

impl Document {
    /// An export in `format` of the snapshot taken at `exported_at` (RFC 3339), keeping `types`.
    pub fn new(format: Format, exported_at: &str, types: Option<&[String]>) -> Document {
        let header = json!({
            "kind": "header",
            "format": NDJSON_FORMAT,
            "version": NDJSON_VERSION,
            "exported_at": exported_at,
            "as_of": null,
            "types": types,
        });
        Document {
            format,
            header,
            step: Step::Head,
            after_item: false,
            counts: Counts::default(),
        }
    }

    /// The export of the graph as it was at `instant` (the header's `as_of`; `None`: now).
    pub fn as_of(mut self, instant: Option<&str>) -> Document {
        self.header["as_of"] = json!(instant);
        self
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The next chunk to send, reading a page from `source` when one is due; `None` once the
    /// tail was given.
    pub fn next_chunk(&mut self, source: &mut impl Source) -> Result<Option<String>> {
        loop {
            match std::mem::replace(&mut self.step, Step::Done) {
                Step::Head => {
                    self.step = Step::Pages(Kind::Entities, BEFORE_FIRST.to_string());
                    self.after_item = self.format.head_is_item();
                    return Ok(Some(self.format.head(&self.header)));
                }
                Step::Pages(kind, after) => {
                    let page = source.page(kind, &after)?;
                    let counted = match kind {
                        Kind::Entities => &mut self.counts.entities,
                        Kind::Relationships => &mut self.counts.relationships,
                    };
                    *counted += u64::from(page.rows);
                    self.step = match (page.rows >= PAGE_ROWS, page.last, kind) {
                        (true, Some(last), _) => Step::Pages(kind, last),
                        (_, _, Kind::Entities) => {
                            Step::Pages(Kind::Relationships, BEFORE_FIRST.to_string())
                        }
                        (_, _, Kind::Relationships) => Step::Tail,
                    };
                    if page.rows == 0 {
                        continue;
                    }
                    let mut chunk = String::with_capacity(page.body.len() + 2);
                    if self.after_item {
                        chunk.push_str(self.format.separator());
                    }
                    chunk.push_str(&page.body);
                    self.after_item = true;
                    return Ok(Some(chunk));
                }
                Step::Tail => {
                    let end = json!({
                        "kind": "end",
                        "entities": self.counts.entities,
                        "relationships": self.counts.relationships,
                    });
                    return Ok(Some(self.format.tail(&end)));
                }
                Step::Done => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spingraph_guest::ApiError;

    /// `entities` and `relationships` rows, each item its kind's initial and the row's id.
    struct Rows {
        separator: &'static str,
        entities: u32,
        relationships: u32,
        asked: Vec<(Kind, String)>,
        fail_at: Option<usize>,
    }

    impl Rows {
        fn new(format: Format, entities: u32, relationships: u32) -> Rows {
            Rows {
                separator: format.separator(),
                entities,
                relationships,
                asked: Vec::new(),
                fail_at: None,
            }
        }
    }

    impl Source for Rows {
        fn page(&mut self, kind: Kind, after: &str) -> Result<Page> {
            self.asked.push((kind, after.to_string()));
            if self.fail_at == Some(self.asked.len()) {
                return Err(ApiError::unavailable("Postgres", "gone"));
            }
            let (total, tag) = match kind {
                Kind::Entities => (self.entities, "e"),
                Kind::Relationships => (self.relationships, "r"),
            };
            let first = if after == BEFORE_FIRST {
                0
            } else {
                after[1..].parse::<u32>().unwrap() + 1
            };
            let ids: Vec<String> = (first..total.min(first + PAGE_ROWS))
                .map(|i| format!("{tag}{i}"))
                .collect();
            Ok(Page {
                rows: ids.len() as u32,
                last: ids.last().cloned(),
                body: ids
                    .iter()
                    .map(|id| format!(r#"{{"id":"{id}"}}"#))
                    .collect::<Vec<_>>()
                    .join(self.separator),
            })
        }
    }

    fn export(format: Format, source: &mut Rows) -> (String, Counts) {
        let mut doc = Document::new(format, "2026-12-07T00:00:00.000000Z", None);
        let mut out = String::new();
        while let Some(chunk) = doc.next_chunk(source).unwrap() {
            out.push_str(&chunk);
        }
        (out, doc.counts())
    }

    #[test]
    fn every_row_is_written_once_across_page_boundaries() {
        let (entities, relationships) = (PAGE_ROWS * 2 + 3, PAGE_ROWS);
        let mut rows = Rows::new(Format::Jsonld, entities, relationships);
        let (doc, counts) = export(Format::Jsonld, &mut rows);
        let parsed: Value = serde_json::from_str(&doc).unwrap();
        let ids: Vec<&str> = parsed["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len() as u32, entities + relationships);
        let distinct: std::collections::HashSet<&&str> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        assert_eq!(
            counts,
            Counts {
                entities: entities.into(),
                relationships: relationships.into()
            }
        );
        // Three entity pages (the last short), then relationships: one full page and an empty
        // one that says they are done.
        let kinds: Vec<Kind> = rows.asked.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            [
                Kind::Entities,
                Kind::Entities,
                Kind::Entities,
                Kind::Relationships,
                Kind::Relationships
            ]
        );
        assert_eq!(rows.asked[1].1, format!("e{}", PAGE_ROWS - 1));
    }

    #[test]
    fn an_ndjson_export_ends_with_the_counts_of_what_it_wrote() {
        let mut rows = Rows::new(Format::Ndjson, 2, 1);
        let (doc, _) = export(Format::Ndjson, &mut rows);
        let lines: Vec<Value> = doc
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["kind"], "header");
        assert_eq!(lines[0]["format"], NDJSON_FORMAT);
        let end = lines.last().unwrap();
        assert_eq!(
            (
                end["kind"].as_str(),
                end["entities"].as_u64(),
                end["relationships"].as_u64()
            ),
            (Some("end"), Some(2), Some(1))
        );
    }

    #[test]
    fn an_empty_graph_is_a_whole_document() {
        let (doc, counts) = export(Format::Jsonld, &mut Rows::new(Format::Jsonld, 0, 0));
        let parsed: Value = serde_json::from_str(&doc).unwrap();
        assert!(parsed["@graph"].as_array().unwrap().is_empty());
        assert_eq!(counts, Counts::default());
    }

    #[test]
    fn a_failed_page_is_an_error_and_nothing_follows_it() {
        let mut rows = Rows::new(Format::Ndjson, PAGE_ROWS * 3, 0);
        rows.fail_at = Some(2);
        let mut doc = Document::new(Format::Ndjson, "t", None);
        assert!(doc.next_chunk(&mut rows).unwrap().is_some()); // head
        assert!(doc.next_chunk(&mut rows).unwrap().is_some()); // page 1
        assert_eq!(doc.next_chunk(&mut rows).unwrap_err().status(), 503);
        assert!(doc.next_chunk(&mut rows).unwrap().is_none());
    }
}
