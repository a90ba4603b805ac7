//! The CSV format: a nodes file (`type,name,external_id,confidence,metadata.<key>...`) and an
//! edges file (`source_type,source_external_id,target_type,target_external_id,type,confidence,
//! metadata.<key>...`), each with a header row that `--map header=field` may rename (or drop,
//! `header=-`). A `metadata.<key>` cell is a string, a `metadata.<key>:json` cell a JSON value;
//! an empty cell leaves its field out.

use anyhow::bail;
use serde_json::{Map, Value, json};

use super::record::{End, EntityRecord, RelationshipRecord};

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
enum Column {
    Field(&'static str),
    Metadata { key: String, json: bool },
    Ignored,
}

const NODE_FIELDS: &[&str] = &["type", "name", "external_id", "confidence"];
const NODE_REQUIRED: &[&str] = &["type", "name"];
const EDGE_FIELDS: &[&str] = &[
    "source_type",
    "source_external_id",
    "target_type",
    "target_external_id",
    "type",
    "confidence",
];
const EDGE_REQUIRED: &[&str] = &[
    "source_type",
    "source_external_id",
    "target_type",
    "target_external_id",
    "type",
];

/// A row's fields, or its metadata.
type Fields = Map<String, Value>;

/// `--map header=field` pairs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnMap(Vec<(String, String)>);

impl ColumnMap {
    pub fn parse(pairs: &[String]) -> anyhow::Result<ColumnMap> {
        let mut map = Vec::new();
        for pair in pairs {
            let Some((header, field)) = pair.split_once('=') else {
                bail!("--map {pair:?}: expected HEADER=FIELD (or HEADER=- to ignore the column)");
            };
            if map.iter().any(|(h, _): &(String, String)| h == header) {
                bail!("--map names the header {header:?} twice");
            }
            map.push((header.to_string(), field.trim().to_string()));
        }
        Ok(ColumnMap(map))
    }

    fn field_of<'a>(&'a self, header: &'a str) -> &'a str {
        self.0
            .iter()
            .find(|(h, _)| h == header)
            .map(|(_, f)| f.as_str())
            .unwrap_or(header)
    }

    /// The map as the checkpoint records it.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|(h, f)| format!("{h}={f}")).collect()
    }
}

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Nodes,
    Edges,
}

/// A file's header, read: what each column holds.
#[derive(Debug, Clone)]
pub struct Layout {
    table: Table,
    columns: Vec<Column>,
}

impl Layout {
    /// The layout of `headers` (mapped by `map`); an unknown or repeated column, or a missing
    /// required one, is an error naming it.
    pub fn new(table: Table, headers: &[&str], map: &ColumnMap) -> anyhow::Result<Layout> {
        let (fields, required, name) = match table {
            Table::Nodes => (NODE_FIELDS, NODE_REQUIRED, "nodes"),
            Table::Edges => (EDGE_FIELDS, EDGE_REQUIRED, "edges"),
        };
        let mut columns = Vec::new();
        for header in headers {
            let field = map.field_of(header.trim());
            let column = if field == "-" {
                Column::Ignored
            } else if let Some(key) = field.strip_prefix("metadata.") {
                let (key, json) = match key.strip_suffix(":json") {
                    Some(key) => (key, true),
                    None => (key, false),
                };
                if key.is_empty() {
                    bail!("{name} column {header:?}: `metadata.` needs a key");
                }
                Column::Metadata {
                    key: key.to_string(),
                    json,
                }
            } else if let Some(known) = fields.iter().find(|f| **f == field) {
                Column::Field(known)
            } else {
                bail!(
                    "{name} column {header:?} is none of {} or metadata.<key>: rename it with \
                     --map {header}=FIELD, or ignore it with --map {header}=-",
                    fields.join(", ")
                );
            };
            if column != Column::Ignored && columns.contains(&column) {
                bail!("{name}: two columns are {field:?}");
            }
            columns.push(column);
        }
        for field in required {
            if !columns.contains(&Column::Field(field)) {
                bail!("{name}: no column is {field:?} (map one with --map HEADER={field})");
            }
        }
        Ok(Layout { table, columns })
    }

    pub fn table(&self) -> Table {
        self.table
    }

    /// The fields and metadata of one row; `Err` says what is wrong with it.
    fn read(&self, row: &[&str]) -> Result<(Fields, Fields), String> {
        let mut fields = Map::new();
        let mut metadata = Map::new();
        for (column, cell) in self.columns.iter().zip(row) {
            if cell.is_empty() {
                continue;
            }
            match column {
                Column::Ignored => {}
                Column::Field("confidence") => {
                    let value: f64 = cell
                        .trim()
                        .parse()
                        .map_err(|_| format!("confidence {cell:?} is not a number"))?;
                    fields.insert("confidence".into(), json!(value));
                }
                Column::Field(name) => {
                    fields.insert((*name).into(), json!(cell));
                }
                Column::Metadata { key, json: false } => {
                    metadata.insert(key.clone(), json!(cell));
                }
                Column::Metadata { key, json: true } => {
                    let value: Value = serde_json::from_str(cell)
                        .map_err(|e| format!("metadata.{key}:json is not JSON: {e}"))?;
                    metadata.insert(key.clone(), value);
                }
            }
        }
        let required = match self.table {
            Table::Nodes => NODE_REQUIRED,
            Table::Edges => EDGE_REQUIRED,
        };
        for field in required {
            if !fields.contains_key(*field) {
                return Err(format!("`{field}` is empty"));
            }
        }
        Ok((fields, metadata))
    }

    /// A nodes row as the entity it writes.
    pub fn entity(&self, row: &[&str]) -> Result<EntityRecord, String> {
        let (mut item, metadata) = self.read(row)?;
        if !metadata.is_empty() {
            item.insert("metadata".into(), Value::Object(metadata));
        }
        Ok(EntityRecord { old_id: None, item })
    }

    /// An edges row as the relationship it writes (ends by natural key).
    pub fn relationship(&self, row: &[&str]) -> Result<RelationshipRecord, String> {
        let (mut fields, metadata) = self.read(row)?;
        let mut take = |name: &str| match fields.remove(name) {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let source = End::Key {
            kind: take("source_type"),
            external_id: take("source_external_id"),
        };
        let target = End::Key {
            kind: take("target_type"),
            external_id: take("target_external_id"),
        };
        let metadata = Some(metadata).filter(|m| !m.is_empty());
        Ok(RelationshipRecord::new(source, target, fields, metadata))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[&str]) -> ColumnMap {
        ColumnMap::parse(&pairs.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_nodes_row_becomes_an_entity_with_metadata_columns() {
        let layout = Layout::new(
            Table::Nodes,
            &[
                "Kind",
                "Label",
                "external_id",
                "confidence",
                "metadata.city",
                "metadata.n:json",
                "notes",
            ],
            &map(&["Kind=type", "Label=name", "notes=-"]),
        )
        .unwrap();
        let entity = layout
            .entity(&["company", "Acme", "c-1", "0.5", "Paris", "[1,2]", "ignored"])
            .unwrap();
        assert_eq!(
            Value::Object(entity.item),
            json!({"type":"company","name":"Acme","external_id":"c-1","confidence":0.5,
                   "metadata":{"city":"Paris","n":[1,2]}})
        );
        // Empty cells leave their field out.
        let bare = layout
            .entity(&["company", "Beta", "", "", "", "", ""])
            .unwrap();
        assert_eq!(
            Value::Object(bare.item),
            json!({"type":"company","name":"Beta"})
        );
    }

    #[test]
    fn bad_cells_and_headers_are_errors() {
        let layout = Layout::new(Table::Nodes, &["type", "name", "confidence"], &map(&[])).unwrap();
        assert!(
            layout
                .entity(&["t", "n", "high"])
                .unwrap_err()
                .contains("confidence")
        );
        assert!(
            layout
                .entity(&["t", "", "1"])
                .unwrap_err()
                .contains("`name` is empty")
        );
        let unknown = Layout::new(Table::Nodes, &["type", "name", "colour"], &map(&[]));
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("--map colour=FIELD")
        );
        let missing = Layout::new(Table::Nodes, &["type"], &map(&[]));
        assert!(missing.unwrap_err().to_string().contains("\"name\""));
        let twice = Layout::new(
            Table::Nodes,
            &["type", "name", "Name"],
            &map(&["Name=name"]),
        );
        assert!(twice.unwrap_err().to_string().contains("two columns"));
        assert!(ColumnMap::parse(&["nothing".into()]).is_err());
    }

    #[test]
    fn an_edges_row_becomes_a_relationship_by_natural_keys() {
        let layout = Layout::new(
            Table::Edges,
            &[
                "from_type",
                "from",
                "to_type",
                "to",
                "type",
                "metadata.since",
            ],
            &map(&[
                "from_type=source_type",
                "from=source_external_id",
                "to_type=target_type",
                "to=target_external_id",
            ]),
        )
        .unwrap();
        let rel = layout
            .relationship(&["person", "p-1", "company", "c-1", "works_at", "2020"])
            .unwrap();
        let item = rel.item(|_| None).unwrap();
        assert_eq!(
            Value::Object(item),
            json!({"source":{"type":"person","external_id":"p-1"},
                   "target":{"type":"company","external_id":"c-1"},
                   "type":"works_at","metadata":{"since":"2020"}})
        );
        let missing_end = layout.relationship(&["person", "", "company", "c-1", "works_at", ""]);
        assert!(missing_end.unwrap_err().contains("source_external_id"));
    }
}
