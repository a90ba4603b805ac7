//! An entity's vectors over the statements of [`crate::sql`] (docs/retrieval.md): read, written
//! one at a time or in a batch, deleted, and the duplicates of an entity. Vectors go in as
//! pgvector's text and come out as it ([`Stored`] reads it back as numbers); every write appends
//! an `embedding` change of the entity in the same statement.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spin_sdk::pg4::ParameterValue;
use spingraph_guest::audit::Audit;
use spingraph_guest::db::Db;
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::{ApiError, Result};

use super::{Entity, RESOURCE, change, nullable, uuid};
use crate::input::embedding::{BatchItem, Numbers, Shape};
use crate::sql;

/// An embedding space, as the entities component needs it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Space {
    pub id: i32,
    pub name: String,
    pub dimensions: i32,
    pub distance: String,
}

impl Space {
    /// What a vector in this space must be.
    pub fn shape(&self) -> Shape<'_> {
        Shape {
            dimensions: usize::try_from(self.dimensions).unwrap_or(0),
            distance: &self.distance,
        }
    }
}

/// The audit action of a vector write (`details`: the space, and whether the entity has a vector
/// there now).
pub const ACTION: &str = "entity.embedding";

/// The space named `name`, if any.
pub fn space(db: &Db, name: &str) -> Result<Option<Space>> {
    db.json(sql::SPACE, &[ParameterValue::Str(name.to_string())])
}

/// A vector as the API renders it: `{entity_id, space, dimensions, vector, updated_at}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub entity_id: String,
    pub space: String,
    pub dimensions: i32,
    /// Read from pgvector's text (`[0.1,0.2]`: JSON numbers).
    #[serde(deserialize_with = "from_vector_text")]
    pub vector: Vec<f64>,
    pub updated_at: String,
}

/// pgvector's text form of a vector as its numbers.
fn from_vector_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<f64>, D::Error> {
    let text = String::deserialize(d)?;
    parse_vector_text(&text).map_err(serde::de::Error::custom)
}

/// `[0.1,-2,1e-05]` (pgvector's output) as numbers.
pub fn parse_vector_text(text: &str) -> std::result::Result<Vec<f64>, String> {
    serde_json::from_str(text).map_err(|e| format!("vector text {text:?}: {e}"))
}

/// Entity `id`'s vector in `space`, if it has one.
pub fn vector(db: &Db, id: &str, space: &Space) -> Result<Option<Stored>> {
    db.json(sql::VECTOR, &[uuid(id), ParameterValue::Int32(space.id)])
}

/// Every vector of entity `id`, by space name.
pub fn vectors(db: &Db, id: &str) -> Result<Vec<Stored>> {
    db.json(sql::VECTORS, &[uuid(id)])
}

/// The actor of `audit` as a nullable uuid parameter.
fn actor(audit: &Audit) -> ParameterValue {
    nullable(audit.actor_id.map(|a| ParameterValue::Uuid(a.to_string())))
}

/// The `{change}` slot of a vector write: an `embedding` change of each entity the statement
/// touched (CTE `touched`), its document the entity plus what changed.
fn embedding_change(q: &mut Query, audit: &Audit) -> String {
    change("embedding", audit).insert_as(q, "touched", "e", Some(sql::EMBEDDING_DOCUMENT))
}

/// The `{audit}` and `{change}` slots of a write of one entity's vector in `space` (`present`:
/// written, or removed).
fn one_write(q: &mut Query, audit: &Audit, space: &Space, present: bool) -> (String, String) {
    let details = json!({"space": space.name, "present": present});
    let log = audit.insert_one(q, ACTION, RESOURCE, "touched", Some(&details));
    (log, embedding_change(q, audit))
}

/// Write live entity `id`'s vector in `space`: `(created, stored)`; `None` when the entity is
/// not live (deleted meanwhile).
pub fn put(
    db: &Db,
    audit: &Audit,
    id: &str,
    space: &Space,
    numbers: &Numbers,
) -> Result<Option<(bool, Stored)>> {
    let mut q = Query::of([
        uuid(id),
        ParameterValue::Int32(space.id),
        ParameterValue::Str(numbers.text()),
        actor(audit),
        ParameterValue::Str(space.name.clone()),
    ]);
    let (log, feed) = one_write(&mut q, audit, space, true);
    #[derive(Deserialize)]
    struct Put {
        created: bool,
        item: Stored,
    }
    let out: Option<Put> = db.json(
        &fill(sql::PUT_VECTOR, &[("audit", &log), ("change", &feed)]),
        q.params(),
    )?;
    Ok(out.map(|p| (p.created, p.item)))
}

/// One item of a batch as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Written {
    pub entity_id: String,
    pub created: bool,
}

/// Write every item's vector in `space` in one statement, all or nothing: a 409 when an item's
/// entity was deleted meanwhile (the caller's transaction rolls the rest back).
pub fn put_batch(
    db: &Db,
    audit: &Audit,
    space: &Space,
    items: &[BatchItem],
) -> Result<Vec<Written>> {
    let rows = spingraph_guest::batch::rows(
        items,
        |item| json!({"entity_id": item.entity_id, "vector": item.vector.text()}),
    );
    let mut q = Query::of([
        rows,
        ParameterValue::Int32(space.id),
        actor(audit),
        ParameterValue::Str(space.name.clone()),
    ]);
    // One audit row per item, each with the id the statement gave it.
    let log = audit.insert(
        &mut q,
        ACTION,
        RESOURCE,
        "touched",
        true,
        Some(&json!({"space": space.name, "present": true, "batch": true})),
    );
    let feed = embedding_change(&mut q, audit);
    let out: Vec<Written> = db.json(
        &fill(sql::PUT_VECTORS, &[("audit", &log), ("change", &feed)]),
        q.params(),
    )?;
    if out.len() != items.len() {
        return Err(ApiError::conflict(
            "An entity of the batch was deleted while it was written; nothing was written.",
        ));
    }
    Ok(out)
}

/// Delete live entity `id`'s vector in `space`; whether there was one.
pub fn delete(db: &Db, audit: &Audit, id: &str, space: &Space) -> Result<bool> {
    let mut q = Query::of([
        uuid(id),
        ParameterValue::Int32(space.id),
        ParameterValue::Str(space.name.clone()),
    ]);
    let (log, feed) = one_write(&mut q, audit, space, false);
    let out: Value = db.json(
        &fill(sql::DELETE_VECTOR, &[("audit", &log), ("change", &feed)]),
        q.params(),
    )?;
    Ok(out["deleted"].as_bool().unwrap_or(false))
}

/// One candidate of `GET /{id}/duplicates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Duplicate {
    pub entity: Entity,
    pub score: f64,
    pub vector_distance: Option<f64>,
    pub name_similarity: f64,
}

/// How many candidates each list of the fusion reads for an answer of `limit`.
pub fn candidates(limit: u32) -> u32 {
    (limit * 4).max(40)
}

/// The statement of [`duplicates`] for `space` (`None`: by name alone).
pub fn duplicates_statement(space: Option<&Space>) -> Result<String> {
    let list = match space {
        None => sql::NO_VECTOR_LIST.to_string(),
        Some(s) => {
            let op = sql::distance_operator(&s.distance).ok_or_else(|| {
                ApiError::internal(format!("space {} has distance {:?}", s.name, s.distance))
            })?;
            sql::vector_list(s.id, s.dimensions, op)
        }
    };
    Ok(fill(sql::DUPLICATES, &[("vector_list", &list)]))
}

/// The duplicates of live `entity`, nearest in `space` (when given) and by name: see
/// [`sql::DUPLICATES`]. With a space, in a transaction whose HNSW scans are iterative
/// (`hnsw.iterative_scan = relaxed_order`), so the type and owner filters still fill the list;
/// the statement re-sorts what the index returns.
pub fn duplicates(
    db: &Db,
    entity: &Entity,
    space: Option<&Space>,
    limit: u32,
) -> Result<Vec<Duplicate>> {
    let statement = duplicates_statement(space)?;
    let params = [
        uuid(&entity.id),
        ParameterValue::Str(entity.kind.clone()),
        uuid(&entity.owner_id),
        ParameterValue::Str(entity.name.clone()),
        ParameterValue::Int32(candidates(limit) as i32),
        ParameterValue::Int32(limit as i32),
    ];
    match space {
        None => db.json(&statement, &params),
        Some(_) => db.nearest_neighbours(|db| db.json(&statement, &params)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_vector_reads_pgvectors_text_back_as_numbers() {
        let row = r#"{"entity_id":"e","space":"s","dimensions":3,"vector":"[0.1,-2,1e-05]","updated_at":"t"}"#;
        let v: Stored = serde_json::from_str(row).unwrap();
        assert_eq!(v.vector, vec![0.1, -2.0, 1e-5]);
        assert_eq!(
            serde_json::to_value(&v).unwrap()["vector"],
            json!([0.1, -2.0, 0.00001])
        );
        assert!(parse_vector_text("[0.1,").is_err());
    }

    #[test]
    fn each_list_reads_four_times_the_limit_and_at_least_forty() {
        assert_eq!(candidates(1), 40);
        assert_eq!(candidates(10), 40);
        assert_eq!(candidates(50), 200);
    }

    #[test]
    fn the_duplicates_statement_names_the_spaces_index_by_literals() {
        let space = Space {
            id: 3,
            name: "minilm".into(),
            dimensions: 384,
            distance: "cosine".into(),
        };
        let sql = duplicates_statement(Some(&space)).unwrap();
        assert!(sql.contains("c.space_id = 3 AND"), "{sql}");
        assert!(
            sql.contains("ORDER BY c.embedding::vector(384) <=> (SELECT q.embedding::vector(384)"),
            "{sql}"
        );
        for slot in ["{vector_list}", "{space}", "{dims}", "{op}"] {
            assert!(!sql.contains(slot), "{slot} filled: {sql}");
        }
        let l2 = Space {
            distance: "l2".into(),
            ..space.clone()
        };
        assert!(duplicates_statement(Some(&l2)).unwrap().contains("<->"));
        let none = duplicates_statement(None).unwrap();
        assert!(none.contains(sql::NO_VECTOR_LIST) && !none.contains("vector("));
        let odd = Space {
            distance: "manhattan".into(),
            ..space
        };
        assert_eq!(duplicates_statement(Some(&odd)).unwrap_err().status(), 500);
    }
}
