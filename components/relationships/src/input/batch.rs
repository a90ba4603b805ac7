//! `POST /v1/relationships/batch`: the body (items read as `POST /v1/relationships` reads one,
//! under `items[i]`), and what to write for each item once its ends are found ([`plan`]): a 422
//! naming every item whose ends are missing, deleted, one entity, or the ends and type of an
//! earlier item; a 409 or a 403 for the first item a live relationship already stands for, as
//! `on_conflict` says.

use serde_json::Value;
use spingraph_guest::batch::{self, Batch, OnConflict};
use spingraph_guest::validate::Errors;
use spingraph_guest::{ApiError, Result};

use super::{End, NewRelationship};
use crate::store::{Existing, Resolved};

/// The body of `POST /v1/relationships/batch` (see `spingraph_guest::batch::parse`).
pub fn parse_batch(body: Value) -> Result<Batch<NewRelationship>> {
    batch::parse(body, "relationships", NewRelationship::read, |_, _| {})
}

/// What the batch does with one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create,
    /// The active relationship (its id) that joins the item's ends with its type takes the
    /// item's confidence and metadata.
    Update(String),
    /// That relationship stays as it is and is the item's answer.
    Skip(String),
}

/// One item with its ends found.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned<'a> {
    pub item: &'a NewRelationship,
    pub source_id: String,
    pub target_id: String,
    pub action: Action,
}

/// Each item of `batch` with what `found` (one entry per item, in order) says of its ends. A
/// 422 names every item whose end is no live entity (`items[3].target_id`, or `items[3].target`
/// for a natural key), whose ends are one entity, or which repeats an earlier item's ends and
/// type; then, for the first item an active relationship already stands for, `on_conflict`
/// `error` is a 409, and `update` a 403 unless `may_update` allows its creator (the caller
/// made it, or is an admin).
pub fn plan<'a>(
    batch: &'a Batch<NewRelationship>,
    found: Vec<Resolved>,
    may_update: impl Fn(&str) -> bool,
) -> Result<Vec<Planned<'a>>> {
    if found.len() != batch.items.len() {
        return Err(ApiError::internal(
            "the batch's ends were not all looked up",
        ));
    }
    let mut errors = Errors::new();
    let mut joined = Vec::with_capacity(found.len());
    for (i, (item, f)) in batch.items.iter().zip(found).enumerate() {
        let mut live = |id: Option<String>, end: &End, name: &str| {
            if id.is_none() {
                errors.push(format!("items[{i}].{}", end.field(name)), end.missing());
            }
            id
        };
        let source = live(f.source_id, &item.source, "source");
        let target = live(f.target_id, &item.target, "target");
        let ends = match (source, target) {
            (Some(s), Some(t)) if s == t => {
                let field = item.target.field("target");
                errors.push(
                    format!("items[{i}].{field}"),
                    "names the source entity (no self-loops)",
                );
                None
            }
            (Some(s), Some(t)) => Some((s, t)),
            _ => None,
        };
        joined.push(ends.map(|(s, t)| (item, s, t, f.existing)));
    }
    let key = |(item, s, t, _): &(&NewRelationship, String, String, Option<Existing>)| {
        Some((s.clone(), t.clone(), item.kind.clone()))
    };
    for (i, j) in batch::repeats(joined.iter().map(Option::as_ref), key) {
        errors.push(
            format!("items[{i}]"),
            format!("repeats items[{j}] (the same source, target and type)"),
        );
    }
    if !errors.is_empty() {
        return Err(batch::invalid(errors));
    }
    let mut planned = Vec::with_capacity(joined.len());
    for (i, (item, source_id, target_id, existing)) in joined.into_iter().flatten().enumerate() {
        let action = match (existing, batch.on_conflict) {
            (None, _) => Action::Create,
            (Some(e), OnConflict::Error) => {
                return Err(ApiError::conflict(format!(
                    "items[{i}]: the active relationship {} already joins these ends with this \
                     type; send \"on_conflict\": \"update\" or \"skip\" to upsert.",
                    e.id
                )));
            }
            (Some(e), OnConflict::Update) if !may_update(&e.created_by) => {
                return Err(ApiError::forbidden(format!(
                    "items[{i}]: only the creator of relationship {} or an admin may update it; \
                     send \"on_conflict\": \"skip\" to leave it as it is.",
                    e.id
                )));
            }
            (Some(e), OnConflict::Update) => Action::Update(e.id),
            (Some(e), OnConflict::Skip) => Action::Skip(e.id),
        };
        planned.push(Planned {
            item,
            source_id,
            target_id,
            action,
        });
    }
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "0192e4a0-0000-7000-8000-00000000000a";
    const B: &str = "0192e4a0-0000-7000-8000-00000000000b";
    const C: &str = "0192e4a0-0000-7000-8000-00000000000c";
    const ME: &str = "0192e4a0-0000-7000-8000-0000000000f1";

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    fn by_id(source: &str, target: &str, kind: &str) -> Value {
        json!({"source_id": source, "target_id": target, "type": kind})
    }

    fn batch(items: Value, on_conflict: &str) -> Batch<NewRelationship> {
        parse_batch(json!({"items": items, "on_conflict": on_conflict})).unwrap()
    }

    /// Both ends found, no relationship there yet.
    fn found(source: &str, target: &str) -> Resolved {
        Resolved {
            source_id: Some(source.into()),
            target_id: Some(target.into()),
            existing: None,
        }
    }

    fn there(source: &str, target: &str, id: &str, created_by: &str) -> Resolved {
        Resolved {
            existing: Some(Existing {
                id: id.into(),
                created_by: created_by.into(),
            }),
            ..found(source, target)
        }
    }

    #[test]
    fn items_are_read_as_single_creates_under_their_index() {
        let b = batch(
            json!([by_id(A, B, "knows"), {"source": {"type": "t", "external_id": "x"}, "target_id": C, "type": "k", "confidence": 0.5}]),
            "skip",
        );
        assert_eq!(b.on_conflict, OnConflict::Skip);
        assert_eq!(b.items[1].confidence, 0.5);
        assert!(matches!(b.items[1].source, End::External { .. }));
        let broken = json!({"items": [
            by_id(A, B, "knows"), by_id(A, A, "x"), {"source_id": "no", "type": ""},
            {"source": {"type": "t", "external_id": "x"}, "target": {"type": "t", "external_id": "x"}, "type": "k"},
            "x", {"source_id": A, "target_id": B, "type": "k", "id": A}
        ]});
        assert_eq!(
            fields(parse_batch(broken).unwrap_err()),
            [
                "items[1].target_id",
                "items[2].source_id",
                "items[2].target_id",
                "items[2].type",
                "items[3].target",
                "items[4]",
                "items[5].id"
            ]
        );
        let many: Vec<Value> = (0..1001).map(|_| by_id(A, B, "k")).collect();
        assert_eq!(fields(parse_batch(json!(many)).unwrap_err()), ["items"]);
    }

    #[test]
    fn missing_ends_self_loops_and_repeats_are_422_naming_every_item() {
        let items = json!([
            by_id(A, B, "knows"),
            {"source": {"type": "person", "external_id": "p"}, "target_id": C, "type": "knows"},
            by_id(A, C, "knows"),
            {"source_id": A, "target": {"type": "person", "external_id": "b"}, "type": "knows"},
            by_id(B, C, "knows"),
        ]);
        let b = batch(items, "error");
        let missing = Resolved {
            source_id: None,
            ..found(A, C)
        };
        let err = plan(
            &b,
            vec![found(A, B), missing, found(A, A), found(A, B), found(B, C)],
            |_| true,
        )
        .unwrap_err();
        assert_eq!(
            fields(err),
            ["items[1].source", "items[2].target_id", "items[3]"]
        );
    }

    #[test]
    fn an_existing_relationship_is_409_updated_or_skipped_as_on_conflict_says() {
        let items = json!([by_id(A, B, "knows"), by_id(B, C, "knows")]);
        let found = || vec![found(A, B), there(B, C, "r-1", ME)];
        let err = plan(&batch(items.clone(), "error"), found(), |_| true).unwrap_err();
        assert_eq!(err.status(), 409);
        let b = batch(items.clone(), "update");
        let planned = plan(&b, found(), |_| true).unwrap();
        assert_eq!(planned[0].action, Action::Create);
        assert_eq!(
            (planned[1].source_id.as_str(), planned[1].target_id.as_str()),
            (B, C)
        );
        assert_eq!(planned[1].action, Action::Update("r-1".into()));
        let err = plan(&b, found(), |creator| creator != ME).unwrap_err();
        assert_eq!(err.status(), 403);
        let b = batch(items, "skip");
        let planned = plan(&b, found(), |_| false).unwrap();
        assert_eq!(planned[1].action, Action::Skip("r-1".into()));
    }
}
