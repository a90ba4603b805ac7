//! One batch request in the making: consecutive items of one kind, at most `--chunk-size` of
//! them and a body under the server's 1 MiB batch limit, each item remembering its input line
//! (to name it when the server refuses `items[i]`); and the chunk's `Idempotency-Key`.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::source::hex;

/// Most items the batch endpoints take.
pub const MAX_ITEMS: usize = 1000;
/// The batch endpoints' body limit (1 MiB), less room for what a proxy might add.
pub const MAX_BODY: usize = (1 << 20) - 1024;

/// Which batch endpoint a chunk goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Entities,
    Relationships,
}

impl Kind {
    pub fn path(self) -> &'static str {
        match self {
            Kind::Entities => "/v1/entities/batch",
            Kind::Relationships => "/v1/relationships/batch",
        }
    }
}

/// What the batch does with an item that a live row already stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnConflict {
    Update,
    Skip,
    Error,
}

impl OnConflict {
    pub fn as_str(self) -> &'static str {
        match self {
            OnConflict::Update => "update",
            OnConflict::Skip => "skip",
            OnConflict::Error => "error",
        }
    }
}

/// Items bound for one batch request.
#[derive(Debug)]
pub struct Chunk {
    pub kind: Kind,
    max_items: usize,
    on_conflict: OnConflict,
    /// Each item serialized.
    items: Vec<Vec<u8>>,
    /// The input line of each item.
    pub lines: Vec<u64>,
    /// The id each entity had in the input (entities only).
    pub old_ids: Vec<Option<Uuid>>,
    /// The body's length so far.
    body_len: usize,
}

/// `{"items":[` ... `],"on_conflict":"update"}`.
fn envelope(on_conflict: OnConflict) -> (String, String) {
    (
        "{\"items\":[".to_string(),
        format!("],\"on_conflict\":\"{}\"}}", on_conflict.as_str()),
    )
}

/// Why an item cannot join any chunk.
#[derive(Debug, PartialEq)]
pub struct TooLarge(pub usize);

impl Chunk {
    pub fn new(kind: Kind, max_items: usize, on_conflict: OnConflict) -> Chunk {
        let (head, tail) = envelope(on_conflict);
        Chunk {
            kind,
            max_items: max_items.clamp(1, MAX_ITEMS),
            on_conflict,
            items: Vec::new(),
            lines: Vec::new(),
            old_ids: Vec::new(),
            body_len: head.len() + tail.len(),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// An item serialized, or why it is too large for a batch body even alone.
    pub fn encode(&self, item: &Map<String, Value>) -> Result<Vec<u8>, TooLarge> {
        let bytes = serde_json::to_vec(item).expect("a JSON map serializes");
        let (head, tail) = envelope(self.on_conflict);
        if head.len() + tail.len() + bytes.len() > MAX_BODY {
            return Err(TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Whether `item` (encoded) joins this chunk without passing the count or byte bound.
    pub fn fits(&self, item: &[u8]) -> bool {
        let comma = usize::from(!self.items.is_empty());
        self.items.len() < self.max_items && self.body_len + comma + item.len() <= MAX_BODY
    }

    pub fn push(&mut self, item: Vec<u8>, line: u64, old_id: Option<Uuid>) {
        debug_assert!(self.fits(&item));
        self.body_len += usize::from(!self.items.is_empty()) + item.len();
        self.items.push(item);
        self.lines.push(line);
        self.old_ids.push(old_id);
    }

    /// The request body.
    pub fn body(&self) -> Vec<u8> {
        let (head, tail) = envelope(self.on_conflict);
        let mut body = Vec::with_capacity(self.body_len);
        body.extend_from_slice(head.as_bytes());
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(item);
        }
        body.extend_from_slice(tail.as_bytes());
        debug_assert_eq!(body.len(), self.body_len);
        body
    }

    /// The input line of `items[index]`.
    pub fn line_of(&self, index: usize) -> Option<u64> {
        self.lines.get(index).copied()
    }

    /// The chunk's first and last input lines.
    pub fn line_range(&self) -> (u64, u64) {
        (
            self.lines.first().copied().unwrap_or(0),
            self.lines.last().copied().unwrap_or(0),
        )
    }
}

/// The `Idempotency-Key` of the `index`th chunk (0-based, counted over the whole import) of the
/// import `run_id` with this `body` to `kind`'s endpoint: the same chunk sent again (a retry, or
/// a `--resume` after a crash) has the same key, so the server replays its stored answer
/// instead of writing twice; any other chunk has another.
pub fn idempotency_key(run_id: &str, index: u64, kind: Kind, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"spingraph-import/1\n");
    hasher.update(run_id.as_bytes());
    hasher.update(format!("\n{index}\n{}\n", kind.path()).as_bytes());
    hasher.update(body);
    format!("import-{}", hex(&hasher.finalize()))
}

/// The item index a problem's field or detail names (`items[3].name` → 3).
pub fn item_index(text: &str) -> Option<usize> {
    let rest = &text[text.find("items[")? + "items[".len()..];
    rest[..rest.find(']')?].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(name: &str) -> Map<String, Value> {
        json!({"type": "t", "name": name})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn a_chunk_holds_at_most_its_item_count() {
        let mut chunk = Chunk::new(Kind::Entities, 3, OnConflict::Update);
        for line in 1..=3 {
            let bytes = chunk.encode(&item("x")).unwrap();
            assert!(chunk.fits(&bytes));
            chunk.push(bytes, line * 10, None);
        }
        assert!(!chunk.fits(&chunk.encode(&item("x")).unwrap()));
        let body: Value = serde_json::from_slice(&chunk.body()).unwrap();
        assert_eq!(body["items"].as_array().unwrap().len(), 3);
        assert_eq!(body["on_conflict"], "update");
        assert_eq!(chunk.line_of(2), Some(30));
        assert_eq!(chunk.line_range(), (10, 30));
        // --chunk-size over the server's maximum is the maximum.
        assert_eq!(
            Chunk::new(Kind::Entities, 5000, OnConflict::Skip).max_items,
            MAX_ITEMS
        );
    }

    #[test]
    fn a_chunk_body_stays_under_the_byte_limit() {
        let mut chunk = Chunk::new(Kind::Entities, MAX_ITEMS, OnConflict::Error);
        let big = "n".repeat(300_000);
        let mut pushed = 0;
        loop {
            let bytes = chunk.encode(&item(&big)).unwrap();
            if !chunk.fits(&bytes) {
                break;
            }
            chunk.push(bytes, pushed, None);
            pushed += 1;
        }
        assert_eq!(pushed, 3);
        let body = chunk.body();
        assert!(body.len() <= MAX_BODY, "{}", body.len());
        assert!(body.len() > 900_000);
        serde_json::from_slice::<Value>(&body).unwrap();
        let huge = chunk.encode(&item(&"n".repeat(MAX_BODY)));
        assert!(matches!(huge, Err(TooLarge(_))));
    }

    #[test]
    fn the_key_is_the_same_for_the_same_chunk_and_differs_otherwise() {
        let key = idempotency_key("run-1", 4, Kind::Entities, b"{\"items\":[1]}");
        assert_eq!(
            key,
            idempotency_key("run-1", 4, Kind::Entities, b"{\"items\":[1]}")
        );
        assert!(key.starts_with("import-") && key.len() == 7 + 64);
        assert!(key.bytes().all(|b| (b'!'..=b'~').contains(&b)));
        for other in [
            idempotency_key("run-2", 4, Kind::Entities, b"{\"items\":[1]}"),
            idempotency_key("run-1", 5, Kind::Entities, b"{\"items\":[1]}"),
            idempotency_key("run-1", 4, Kind::Relationships, b"{\"items\":[1]}"),
            idempotency_key("run-1", 4, Kind::Entities, b"{\"items\":[2]}"),
        ] {
            assert_ne!(key, other);
        }
    }

    #[test]
    fn an_item_index_is_read_from_a_field_or_a_detail() {
        assert_eq!(item_index("items[3].name"), Some(3));
        assert_eq!(item_index("items[12]"), Some(12));
        assert_eq!(
            item_index("items[1]: a relationship of that type exists"),
            Some(1)
        );
        assert_eq!(item_index("on_conflict"), None);
        assert_eq!(item_index("items[x]"), None);
    }
}
