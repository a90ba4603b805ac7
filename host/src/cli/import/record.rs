//! What one input line means: the NDJSON lines `spingraph export` writes (`header`, `entity`,
//! `relationship`), read strictly (an unknown kind or field is an error), as the batch items
//! they become. Ids, owners, versions and timestamps are not imported: the importer owns what
//! it writes.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The NDJSON format this importer reads (the header's `format` and `version`).
pub const FORMAT: &str = "spingraph-ndjson";
pub const VERSION: u64 = 1;

/// One line, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// The export's header or end line (checked, nothing to write).
    Header,
    Entity(EntityRecord),
    Relationship(RelationshipRecord),
}

/// An entity to write: the entities-batch item, and the id it had where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRecord {
    pub old_id: Option<Uuid>,
    /// `{type, name, confidence?, metadata?, external_id?}`.
    pub item: Map<String, Value>,
}

/// A relationship to write: its ends (resolved against the import's id map just before it is
/// sent) and the rest of the relationships-batch item.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipRecord {
    pub source: End,
    pub target: End,
    /// `{type, confidence?, metadata?}`.
    pub fields: Map<String, Value>,
}

impl RelationshipRecord {
    /// The record of `fields` (`{type, confidence?}`) between `source` and `target`, with
    /// `metadata` when given.
    pub fn new(
        source: End,
        target: End,
        mut fields: Map<String, Value>,
        metadata: Option<Map<String, Value>>,
    ) -> RelationshipRecord {
        if let Some(metadata) = metadata {
            fields.insert("metadata".into(), Value::Object(metadata));
        }
        RelationshipRecord {
            source,
            target,
            fields,
        }
    }
}

/// One end of a relationship.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// By natural key, `{type, external_id}` among the importer's own entities.
    Key { kind: String, external_id: String },
    /// By the id the entity had in the input: this import must have written it.
    OldId(Uuid),
}

impl RelationshipRecord {
    /// The relationships-batch item, each end by natural key or by the new id `new_id` gives
    /// an old one; `Err` names an end no entity of this import stands for.
    pub fn item(
        &self,
        new_id: impl Fn(&Uuid) -> Option<Uuid>,
    ) -> Result<Map<String, Value>, String> {
        let mut item = Map::new();
        for (name, end) in [("source", &self.source), ("target", &self.target)] {
            match end {
                End::Key { kind, external_id } => {
                    item.insert(
                        name.into(),
                        json!({"type": kind, "external_id": external_id}),
                    );
                }
                End::OldId(old) => {
                    let Some(new) = new_id(old) else {
                        return Err(format!(
                            "{name}_id {old} is no entity this import has written (and the line \
                             has no `{name}` natural key)"
                        ));
                    };
                    item.insert(format!("{name}_id"), json!(new));
                }
            }
        }
        item.extend(self.fields.clone());
        Ok(item)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderLine {
    #[allow(dead_code)]
    kind: String,
    format: Option<String>,
    version: Option<u64>,
    #[allow(dead_code)]
    exported_at: Option<Value>,
    #[allow(dead_code)]
    as_of: Option<Value>,
    /// The entity types the export kept (absent or null: all).
    #[allow(dead_code)]
    types: Option<Value>,
}

/// The export's last line: what it wrote (`spingraph export` checks the counts; the importer
/// only checks its shape).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndLine {
    #[allow(dead_code)]
    kind: String,
    #[allow(dead_code)]
    entities: u64,
    #[allow(dead_code)]
    relationships: u64,
}

/// The Entity document of the API plus `kind`. What the importer does not write is still named,
/// so that a misspelt field is an error rather than silently dropped.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct EntityLine {
    kind: String,
    id: Option<Uuid>,
    #[serde(rename = "type")]
    entity_type: String,
    name: String,
    confidence: Option<f64>,
    metadata: Option<Map<String, Value>>,
    external_id: Option<String>,
    owner_id: Option<Value>,
    version: Option<Value>,
    created_at: Option<Value>,
    updated_at: Option<Value>,
    deleted_at: Option<Value>,
    deleted_by: Option<Value>,
    merged_into: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityRefLine {
    #[serde(rename = "type")]
    entity_type: String,
    external_id: String,
    /// Dropped: the import resolves keys among the importer's own entities.
    #[allow(dead_code)]
    owner_id: Option<Value>,
}

/// The Relationship document of the API plus `kind` and the ends' natural keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RelationshipLine {
    kind: String,
    id: Option<Uuid>,
    source_id: Option<Uuid>,
    target_id: Option<Uuid>,
    source: Option<EntityRefLine>,
    target: Option<EntityRefLine>,
    #[serde(rename = "type")]
    relationship_type: String,
    confidence: Option<f64>,
    metadata: Option<Map<String, Value>>,
    created_by: Option<Value>,
    version: Option<Value>,
    created_at: Option<Value>,
    updated_at: Option<Value>,
    deleted_at: Option<Value>,
    deleted_by: Option<Value>,
}

/// Read one NDJSON line (`first`: it is the file's first line, where a header may stand).
/// `Ok(None)` for a blank line; `Err` says what is wrong with it.
pub fn parse_line(text: &str, first: bool) -> Result<Option<Record>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let kind = match &value {
        Value::Object(obj) => match obj.get("kind") {
            Some(Value::String(kind)) => kind.clone(),
            Some(_) => return Err("`kind` must be a string".into()),
            None => return Err("missing field `kind`".into()),
        },
        _ => return Err("not a JSON object".into()),
    };
    let record = match kind.as_str() {
        "header" if first => header(value)?,
        "header" => return Err("a header may only be the first line".into()),
        "entity" => Record::Entity(entity(value)?),
        "relationship" => Record::Relationship(relationship(value)?),
        "end" => {
            serde_json::from_value::<EndLine>(value).map_err(|e| e.to_string())?;
            Record::Header
        }
        other => {
            return Err(format!(
                "unknown kind {other:?} (expected header, entity, relationship or end)"
            ));
        }
    };
    Ok(Some(record))
}

fn header(value: Value) -> Result<Record, String> {
    let line: HeaderLine = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if let Some(format) = &line.format
        && format != FORMAT
    {
        return Err(format!(
            "the header names format {format:?}; this importer reads {FORMAT:?}"
        ));
    }
    if let Some(version) = line.version
        && version != VERSION
    {
        return Err(format!(
            "the header names {FORMAT} version {version}; this spingraph reads version {VERSION} \
             (a newer spingraph wrote the file: import it with that one)"
        ));
    }
    Ok(Record::Header)
}

fn entity(value: Value) -> Result<EntityRecord, String> {
    let line: EntityLine = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if line.deleted_at.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(
            "a deleted entity (`deleted_at` is set): only live entities are imported".into(),
        );
    }
    let mut item = Map::new();
    item.insert("type".into(), json!(line.entity_type));
    item.insert("name".into(), json!(line.name));
    if let Some(confidence) = line.confidence {
        item.insert("confidence".into(), json!(confidence));
    }
    if let Some(metadata) = line.metadata {
        item.insert("metadata".into(), Value::Object(metadata));
    }
    if let Some(external_id) = line.external_id {
        item.insert("external_id".into(), json!(external_id));
    }
    Ok(EntityRecord {
        old_id: line.id,
        item,
    })
}

fn relationship(value: Value) -> Result<RelationshipRecord, String> {
    let line: RelationshipLine = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if line.deleted_at.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(
            "a deleted relationship (`deleted_at` is set): only live relationships are imported"
                .into(),
        );
    }
    let end = |name: &str, key: Option<EntityRefLine>, id: Option<Uuid>| match (key, id) {
        (Some(key), _) => Ok(End::Key {
            kind: key.entity_type,
            external_id: key.external_id,
        }),
        (None, Some(id)) => Ok(End::OldId(id)),
        (None, None) => Err(format!("missing field `{name}_id` (or `{name}`)")),
    };
    let source = end("source", line.source, line.source_id)?;
    let target = end("target", line.target, line.target_id)?;
    let mut fields = Map::new();
    fields.insert("type".into(), json!(line.relationship_type));
    if let Some(confidence) = line.confidence {
        fields.insert("confidence".into(), json!(confidence));
    }
    Ok(RelationshipRecord::new(
        source,
        target,
        fields,
        line.metadata,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0192e4a0-0000-7000-8000-000000000001";
    const ID2: &str = "0192e4a0-0000-7000-8000-000000000002";

    fn entity_line(extra: &str) -> String {
        format!(
            r#"{{"kind":"entity","id":"{ID}","type":"company","name":"Acme","confidence":0.9,"metadata":{{"a":1}},"owner_id":"{ID2}","version":3,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-02T00:00:00Z"{extra}}}"#
        )
    }

    #[test]
    fn an_exported_entity_becomes_a_batch_item_without_id_owner_version_or_times() {
        let record = parse_line(&entity_line(r#","external_id":"c-1""#), false).unwrap();
        let Some(Record::Entity(entity)) = record else {
            panic!("not an entity")
        };
        assert_eq!(entity.old_id, Some(ID.parse().unwrap()));
        assert_eq!(
            Value::Object(entity.item),
            json!({"type":"company","name":"Acme","confidence":0.9,"metadata":{"a":1},"external_id":"c-1"})
        );
        let record = parse_line(&entity_line(r#","external_id":null"#), false).unwrap();
        let Some(Record::Entity(entity)) = record else {
            panic!()
        };
        assert!(!entity.item.contains_key("external_id"));
    }

    #[test]
    fn a_relationship_end_is_its_natural_key_when_it_has_one_else_its_old_id() {
        let line = format!(
            r#"{{"kind":"relationship","id":"{ID}","source_id":"{ID}","target_id":"{ID2}","source":{{"type":"person","external_id":"p-1","owner_id":"{ID2}"}},"target":null,"type":"knows","confidence":1,"metadata":{{}},"created_by":"{ID2}","version":1,"created_at":"x","updated_at":"y"}}"#
        );
        let Some(Record::Relationship(rel)) = parse_line(&line, false).unwrap() else {
            panic!()
        };
        assert_eq!(
            rel.source,
            End::Key {
                kind: "person".into(),
                external_id: "p-1".into()
            }
        );
        assert_eq!(rel.target, End::OldId(ID2.parse().unwrap()));
        let new: Uuid = "0192e4a0-0000-7000-8000-0000000000ff".parse().unwrap();
        let item = rel
            .item(|old| (*old == ID2.parse::<Uuid>().unwrap()).then_some(new))
            .unwrap();
        // The key's owner is dropped: the importer's own keys.
        assert_eq!(
            Value::Object(item),
            json!({"source":{"type":"person","external_id":"p-1"},"target_id":new,
                   "type":"knows","confidence":1.0,"metadata":{}})
        );
        let unresolved = rel.item(|_| None).unwrap_err();
        assert!(unresolved.contains("target_id"), "{unresolved}");
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let err = |line: &str| parse_line(line, false).unwrap_err();
        assert!(err("{not json").starts_with("not JSON"));
        assert!(err("[1]").contains("object"));
        assert!(err(r#"{"type":"x"}"#).contains("missing field `kind`"));
        assert!(err(r#"{"kind":"node"}"#).contains("unknown kind \"node\""));
        assert!(err(r#"{"kind":"entity","type":"x"}"#).contains("missing field `name`"));
        assert!(err(&entity_line(r#","colour":"red""#)).contains("unknown field `colour`"));
        assert!(err(&entity_line(r#","deleted_at":"2026-01-01T00:00:00Z""#)).contains("deleted"));
        assert!(
            err(r#"{"kind":"relationship","type":"k","target_id":"0192e4a0-0000-7000-8000-000000000001"}"#)
                .contains("source_id")
        );
        assert!(err(r#"{"kind":"header","format":"spingraph-ndjson"}"#).contains("first line"));
        assert_eq!(
            parse_line(r#"{"kind":"end","entities":2,"relationships":1}"#, false),
            Ok(Some(Record::Header))
        );
        assert!(err(r#"{"kind":"end","entities":2}"#).contains("relationships"));
    }

    #[test]
    fn the_header_is_checked_when_present() {
        let ok = r#"{"kind":"header","format":"spingraph-ndjson","version":1,"exported_at":"2026-01-01T00:00:00Z","as_of":null}"#;
        assert_eq!(parse_line(ok, true).unwrap(), Some(Record::Header));
        let newer = parse_line(
            r#"{"kind":"header","format":"spingraph-ndjson","version":2}"#,
            true,
        );
        assert!(newer.unwrap_err().contains("version 2"));
        let other = parse_line(r#"{"kind":"header","format":"graphml"}"#, true);
        assert!(other.unwrap_err().contains("graphml"));
        assert_eq!(parse_line("   ", true).unwrap(), None);
    }
}
