//! The embedding spaces, the vectors, the text documents and the graph, read (and a space made
//! or dropped) over the statements of `sql`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use spingraph_guest::audit::Audit;
use spingraph_guest::db::{Db, ParameterValue};
use spingraph_guest::sql::{Query, fill};
use spingraph_guest::walk::{self, MAX_EDGES, MAX_EDGES_VISITED, Types};
use spingraph_guest::{ApiError, Result};

use crate::input::{Distance, Expand, Filter, SpaceDefinition};
use crate::sql;

/// An embedding space as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Space {
    /// Internal: what its index and its vectors name it by.
    #[serde(skip_serializing)]
    pub id: i32,
    pub name: String,
    pub dimensions: i32,
    pub distance: String,
    pub model: Option<String>,
    pub created_at: String,
    /// How many vectors it holds: counted by the space routes, not by a search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<i64>,
}

impl Space {
    pub fn distance(&self) -> Result<Distance> {
        Distance::parse(&self.distance).ok_or_else(|| {
            ApiError::internal(format!(
                "space {} has distance {}",
                self.name, self.distance
            ))
        })
    }

    /// Whether `def` defines this space as it is.
    pub fn is(&self, def: &SpaceDefinition) -> bool {
        self.dimensions == def.dimensions
            && self.distance == def.distance.as_str()
            && self.model == def.model
    }
}

fn text(s: &str) -> ParameterValue {
    ParameterValue::Str(s.to_string())
}

fn jsonb(value: &impl Serialize) -> ParameterValue {
    ParameterValue::Jsonb(serde_json::to_vec(value).expect("JSON values serialize"))
}

pub fn spaces(db: &Db) -> Result<Vec<Space>> {
    db.json(sql::LIST_SPACES, &[])
}

pub fn space(db: &Db, name: &str) -> Result<Option<Space>> {
    db.json(sql::GET_SPACE, &[text(name)])
}

/// The space named `name` without its count of vectors (what a search reads).
pub fn space_definition(db: &Db, name: &str) -> Result<Option<Space>> {
    db.json(sql::SPACE_DEFINITION, &[text(name)])
}

/// Make the space `def` (its index too) as `audit`'s actor; `None` when the name is taken
/// (by a concurrent request, since the caller looked).
pub fn create_space(db: &Db, audit: &Audit, def: &SpaceDefinition) -> Result<Option<Space>> {
    let made = db.transaction(|db| {
        db.execute(
            sql::CREATE_SPACE,
            &[
                text(&def.name),
                ParameterValue::Int32(def.dimensions),
                text(def.distance.as_str()),
                def.model.as_deref().map_or(ParameterValue::DbNull, text),
                ParameterValue::Uuid(audit.actor_id.unwrap_or_default().to_string()),
            ],
        )?;
        let mut q = Query::of([text(&def.name)]);
        let details = json!({"name": def.name, "dimensions": def.dimensions,
            "distance": def.distance.as_str(), "model": def.model});
        let log = audit.insert_one(
            &mut q,
            "embedding_space.create",
            "embedding_space",
            "a",
            Some(&details),
        );
        db.json::<Option<Space>>(&fill(sql::CREATED_SPACE, &[("audit", &log)]), q.params())
    });
    match made {
        Err(ApiError::Conflict(_)) => Ok(None),
        Ok(None) => Err(ApiError::internal("a space just made is missing")),
        other => other,
    }
}

/// Drop space `name` with its vectors and index; whether there was one.
pub fn drop_space(db: &Db, audit: &Audit, name: &str) -> Result<bool> {
    let mut q = Query::of([text(name)]);
    let log = audit.insert_one(
        &mut q,
        "embedding_space.delete",
        "embedding_space",
        "a",
        Some(&json!({"name": name})),
    );
    db.json(&fill(sql::DROP_SPACE, &[("audit", &log)]), q.params())
}

/// Which entities a search sees: every owner's live ones (and merged ones with
/// `include_merged`), narrowed by the request's filters (`owner` among them). Conditions on `e`,
/// their values bound in `q`.
pub fn filter_sql(q: &mut Query, filter: &Filter) -> String {
    let mut conditions = vec![match filter.include_merged {
        true => "(e.deleted_at IS NULL OR e.merged_into IS NOT NULL)".to_string(),
        false => "e.deleted_at IS NULL".to_string(),
    }];
    if let Some(owner) = &filter.owner {
        let p = q.bind(ParameterValue::Uuid(owner.clone()));
        conditions.push(format!("e.owner_id = {p}"));
    }
    if let Some(types) = &filter.types {
        let p = q.bind(jsonb(types));
        conditions.push(format!("e.type IN (SELECT jsonb_array_elements_text({p}))"));
    }
    if let Some(min) = filter.min_confidence {
        let p = q.bind(ParameterValue::Floating64(min));
        conditions.push(format!("e.confidence >= {p}"));
    }
    if let Some(metadata) = &filter.metadata {
        let p = q.bind(jsonb(metadata));
        conditions.push(format!("e.metadata @> {p}"));
    }
    if let Some(after) = &filter.created_after {
        let p = q.bind(text(after));
        conditions.push(format!("e.created_at > {p}::timestamptz"));
    }
    if let Some(before) = &filter.created_before {
        let p = q.bind(text(before));
        conditions.push(format!("e.created_at < {p}::timestamptz"));
    }
    format!("({})", conditions.join(" AND "))
}

/// One candidate of a list: an entity id and its measure (a distance, or a text rank).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Candidate {
    pub id: String,
    #[serde(alias = "distance", alias = "rank")]
    pub measure: f64,
}

/// The `limit` vectors of `space` nearest `vector` (pgvector's text form) among the entities the
/// filter keeps, nearest first. Runs inside a transaction of its own (or the caller's): the
/// iterative-scan settings are `SET LOCAL`.
pub fn nearest(
    db: &Db,
    space: &Space,
    vector: &str,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<Candidate>> {
    let statement = sql::nearest(space.id, space.dimensions, space.distance()?.operator());
    db.nearest_neighbours(|db| {
        let mut q = Query::of([text(vector), ParameterValue::Int64(limit)]);
        let condition = filter_sql(&mut q, filter);
        db.json(&fill(&statement, &[("filter", &condition)]), q.params())
    })
}

/// The `limit` entities the filter keeps that best match `text`: full-text matches first, then
/// names similar to it.
pub fn matching(db: &Db, text_query: &str, filter: &Filter, limit: i64) -> Result<Vec<Candidate>> {
    let mut q = Query::of([text(text_query), ParameterValue::Int64(limit)]);
    let condition = filter_sql(&mut q, filter);
    db.json(&fill(sql::MATCHING, &[("filter", &condition)]), q.params())
}

/// The documents of the entities `ids`, by id.
pub fn entities(db: &Db, ids: &[&str]) -> Result<Map<String, Value>> {
    db.json(sql::ENTITIES, &[jsonb(&ids)])
}

/// The subgraph around `ids` as `expand` bounds it: `{nodes, edges, truncated}`.
pub fn expand(db: &Db, ids: &[&str], expand: &Expand) -> Result<Value> {
    let (types, kinds) = match &expand.types {
        Some(kinds) => (Types::Many, jsonb(kinds)),
        None => (Types::Any, ParameterValue::DbNull),
    };
    let out = db.value(
        &walk::walk(sql::EXPAND, types),
        &[
            jsonb(&ids),
            text(expand.direction.as_str()),
            kinds,
            ParameterValue::Int32(expand.depth),
            ParameterValue::Int32(expand.max_nodes),
            ParameterValue::DbNull,
            ParameterValue::Int64(MAX_EDGES_VISITED),
            ParameterValue::Int64(MAX_EDGES),
        ],
    )?;
    Ok(json!({
        "nodes": out["nodes"],
        "edges": out["edges"],
        "truncated": out["truncated"],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_binds_every_value_after_the_statements_own() {
        let mut q = Query::of([text("[1]"), ParameterValue::Int64(40)]);
        let filter = Filter {
            types: Some(vec!["person".into()]),
            min_confidence: Some(0.5),
            metadata: Some(serde_json::from_str(r#"{"lang":"en"}"#).unwrap()),
            owner: Some("0192e4a0-0000-7000-8000-000000000001".into()),
            created_after: Some("2026-01-01T00:00:00Z".into()),
            created_before: Some("2027-01-01T00:00:00Z".into()),
            include_merged: true,
        };
        let sql = filter_sql(&mut q, &filter);
        assert_eq!(
            sql,
            "((e.deleted_at IS NULL OR e.merged_into IS NOT NULL) AND e.owner_id = $3::uuid \
             AND e.type IN (SELECT jsonb_array_elements_text($4::jsonb)) AND e.confidence >= $5::float8 \
             AND e.metadata @> $6::jsonb AND e.created_at > $7::text::timestamptz \
             AND e.created_at < $8::text::timestamptz)"
        );
        assert_eq!(q.params().len(), 8);
        let mut q = Query::new();
        assert_eq!(
            filter_sql(&mut q, &Filter::default()),
            "(e.deleted_at IS NULL)"
        );
    }

    #[test]
    fn a_space_is_its_definition() {
        let space: Space = serde_json::from_value(json!({"id": 3, "name": "s", "dimensions": 4,
            "distance": "l2", "model": null, "created_at": "t", "vectors": 0}))
        .unwrap();
        let def = |model: Option<&str>| SpaceDefinition {
            name: "s".into(),
            dimensions: 4,
            distance: Distance::L2,
            model: model.map(str::to_string),
        };
        assert!(space.is(&def(None)));
        assert!(!space.is(&def(Some("m"))));
        // the internal id is never answered
        assert!(serde_json::to_value(&space).unwrap().get("id").is_none());
    }
}
