//! What clients send: a new relationship (POST), a batch of them (`batch.rs`) and a JSON merge
//! patch (PATCH), validated with the rules of the fields entities and relationships share
//! (`spingraph_guest::record`); every broken field is reported at once as a 422.

use serde_json::{Map, Value};
use spingraph_guest::record::{self, EXTERNAL_ID_MAX_CHARS};
use spingraph_guest::validate::{Errors, Fields};
use spingraph_guest::{ApiError, Result};

use crate::store::Relationship;

mod batch;
pub use batch::{Action, Planned, parse_batch, plan};

/// Fields the server owns; a client sending them gets a 422 saying so.
const READ_ONLY: &[&str] = &[
    "id",
    "created_by",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_by",
];

/// Every key no reader asked for is an error: read-only fields say so, others are unknown.
fn deny_rest(f: &mut Fields<'_>) {
    f.read_only(READ_ONLY);
    f.deny_unknown();
}

/// One end of a new relationship: an entity id, or an entity's natural key. Natural keys are per
/// owner: `owner` names whose (`None`: the caller's own).
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    Id(uuid::Uuid),
    External {
        kind: String,
        external_id: String,
        owner: Option<uuid::Uuid>,
    },
}

impl End {
    /// `{end}_id` (a UUID) or `{end}` (`{"type", "external_id", "owner_id"?}`): exactly one of
    /// them.
    fn read(f: &mut Fields<'_>, id_key: &'static str, ref_key: &'static str) -> Option<End> {
        match (f.has(id_key), f.has(ref_key)) {
            (true, true) => {
                f.allow(id_key);
                f.allow(ref_key);
                f.error(ref_key, format!("give `{id_key}` or `{ref_key}`, not both"));
                None
            }
            (false, true) => {
                let path = f.path(ref_key);
                match f.raw(ref_key) {
                    Some(Value::Object(obj)) => {
                        let mut errors = Errors::new();
                        let mut g = Fields::new(obj, &path, &mut errors);
                        let kind = g.kind("type");
                        let external_id = g.required_str("external_id", EXTERNAL_ID_MAX_CHARS);
                        let owner = match g.has("owner_id") {
                            false => Some(None),
                            true => g.uuid("owner_id").map(Some),
                        };
                        g.deny_unknown();
                        for e in errors.as_slice() {
                            f.error_at(&e.field, e.message.clone());
                        }
                        Some(End::External {
                            kind: kind?,
                            external_id: external_id?,
                            owner: owner?,
                        })
                    }
                    _ => {
                        f.error(ref_key, "must be an object {\"type\", \"external_id\"}");
                        None
                    }
                }
            }
            _ => f.uuid(id_key).map(End::Id),
        }
    }

    /// `(id, type, external_id, owner)`: the unused ones `None` (a `None` owner is the caller).
    pub fn parts(
        &self,
    ) -> (
        Option<uuid::Uuid>,
        Option<&str>,
        Option<&str>,
        Option<uuid::Uuid>,
    ) {
        match self {
            End::Id(id) => (Some(*id), None, None, None),
            End::External {
                kind,
                external_id,
                owner,
            } => (None, Some(kind), Some(external_id), *owner),
        }
    }

    /// [`End::parts`] as bound values, `None` as NULL.
    pub fn params(&self) -> [spin_sdk::pg4::ParameterValue; 4] {
        use spin_sdk::pg4::ParameterValue as P;
        let (id, kind, external_id, owner) = self.parts();
        let uuid = |v: Option<uuid::Uuid>| v.map_or(P::DbNull, |v| P::Uuid(v.to_string()));
        let text = |v: Option<&str>| v.map_or(P::DbNull, |v| P::Str(v.to_string()));
        [uuid(id), text(kind), text(external_id), uuid(owner)]
    }

    /// The field that named this end: `{end}_id` for an id, `{end}` for a natural key.
    pub fn field(&self, end: &str) -> String {
        match self {
            End::Id(_) => format!("{end}_id"),
            End::External { .. } => end.to_string(),
        }
    }

    /// What a 422 says when no live entity is at this end.
    pub fn missing(&self) -> String {
        match self {
            End::Id(_) => "no such entity (or it is deleted)".into(),
            End::External {
                kind,
                external_id,
                owner: None,
            } => format!(
                "you have no live entity of type {kind:?} with external_id {external_id:?} \
                 (name another user's with \"owner_id\")"
            ),
            End::External {
                kind,
                external_id,
                owner: Some(owner),
            } => format!(
                "user {owner} has no live entity of type {kind:?} with external_id {external_id:?}"
            ),
        }
    }
}

/// A validated `POST /v1/relationships` body.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRelationship {
    pub source: End,
    pub target: End,
    pub kind: String,
    pub confidence: f64,
    pub metadata: Map<String, Value>,
}

impl NewRelationship {
    /// `{source_id | source, target_id | target, type, confidence?, metadata?}`, where `source`
    /// and `target` name an entity by `{type, external_id, owner_id?}` (the caller's own keys
    /// unless `owner_id` names another owner's); a self-loop is a 422 on the target.
    pub fn parse(body: &Map<String, Value>) -> Result<NewRelationship> {
        let mut errors = Errors::new();
        let new = NewRelationship::read(body, "", &mut errors);
        errors.into_result()?;
        new.ok_or_else(|| ApiError::internal("validated relationship field missing"))
    }

    /// Read one relationship object (see [`NewRelationship::parse`]), collecting errors under
    /// `prefix` (`""`, or `items[3]` in a batch).
    pub fn read(
        body: &Map<String, Value>,
        prefix: &str,
        errors: &mut Errors,
    ) -> Option<NewRelationship> {
        let mut f = Fields::new(body, prefix, errors);
        let source = End::read(&mut f, "source_id", "source");
        let target = End::read(&mut f, "target_id", "target");
        let kind = f.kind("type");
        let confidence = f.new_confidence("confidence");
        let metadata = f.new_metadata("metadata");
        deny_rest(&mut f);
        if let (Some(s), Some(t)) = (&source, &target)
            && s == t
        {
            f.error(
                &t.field("target"),
                "must differ from the source (no self-loops)",
            );
            return None;
        }
        Some(NewRelationship {
            source: source?,
            target: target?,
            kind: kind?,
            confidence: confidence?,
            metadata: metadata?,
        })
    }
}

/// The mutable fields of a relationship after a merge patch.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    pub kind: String,
    pub confidence: f64,
    pub metadata: Map<String, Value>,
}

impl Changes {
    /// Apply an RFC 7396 merge patch to `current` (the relationship as stored). `type` and
    /// `confidence` may be replaced (not removed); `metadata` is merged key by key (`null` removes
    /// a key; `"metadata": null` empties it); the ends, `id` and bookkeeping fields are read-only.
    pub fn merge(current: &Relationship, patch: &Map<String, Value>) -> Result<Changes> {
        let mut errors = Errors::new();
        let mut f = Fields::new(patch, "", &mut errors);
        for key in ["type", "confidence"] {
            if matches!(patch.get(key), Some(Value::Null)) {
                f.error(key, "cannot be removed (null); send a value");
            }
        }
        let given = |key: &str| patch.get(key).is_some_and(|v| !v.is_null());
        let kind = if given("type") { f.kind("type") } else { None };
        let confidence = if given("confidence") {
            f.confidence("confidence")
        } else {
            None
        };
        f.allow("type");
        f.allow("confidence");
        let metadata_patch = f.raw("metadata").cloned();
        for key in ["source_id", "target_id"] {
            if f.has(key) {
                f.error(
                    key,
                    "cannot be changed; delete this relationship and create another",
                );
            }
        }
        f.allow("source_id");
        f.allow("target_id");
        deny_rest(&mut f);
        // Absent, `metadata` is an empty patch: the stored metadata, still held to the limits.
        let metadata_patch = metadata_patch.unwrap_or_else(|| Value::Object(Map::new()));
        let metadata =
            record::patched_metadata(&mut errors, "metadata", &current.metadata, &metadata_patch);
        errors.into_result()?;
        let stored =
            |field: &str| ApiError::internal(format!("stored relationship lacks a valid {field}"));
        Ok(Changes {
            kind: kind.unwrap_or_else(|| current.kind.clone()),
            confidence: match confidence {
                Some(c) => c,
                None => current
                    .confidence
                    .as_f64()
                    .ok_or_else(|| stored("confidence"))?,
            },
            metadata: metadata.ok_or_else(|| stored("metadata"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "0192e4a0-0000-7000-8000-00000000000a";
    const B: &str = "0192e4a0-0000-7000-8000-00000000000b";

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    /// The fields a 422 names for a new relationship `body`.
    fn refused(body: Value) -> Vec<String> {
        fields(NewRelationship::parse(&obj(body)).unwrap_err())
    }

    #[test]
    fn an_end_is_an_id_or_a_natural_key_never_both() {
        for (source, owner) in [
            (json!({"type": "company", "external_id": "c-1"}), None),
            (
                json!({"type": "company", "external_id": "c-1", "owner_id": A}),
                Some(A.parse().unwrap()),
            ),
        ] {
            let body = json!({"source": source, "target_id": B, "type": "x"});
            let r = NewRelationship::parse(&obj(body)).unwrap();
            let end = End::External {
                kind: "company".into(),
                external_id: "c-1".into(),
                owner,
            };
            assert_eq!(r.source, end);
        }
        let both = json!({
            "source_id": A, "source": {"type": "t", "external_id": "e"},
            "target": {"type": "t", "extra": 1, "owner_id": "bob"}, "type": "x"
        });
        let named = [
            "source",
            "target.external_id",
            "target.owner_id",
            "target.extra",
        ];
        assert_eq!(refused(both), named);
        let same = json!({"type": "t", "external_id": "e"});
        let twice = json!({"source": same, "target": same, "type": "x"});
        assert_eq!(refused(twice), ["target"]);
    }

    #[test]
    fn new_relationship_defaults_confidence_and_metadata() {
        let r = NewRelationship::parse(&obj(
            json!({"source_id": A, "target_id": B, "type": "knows"}),
        ))
        .unwrap();
        assert_eq!(r.confidence, 1.0);
        assert!(r.metadata.is_empty());
        assert_eq!(r.kind, "knows");
    }

    #[test]
    fn self_loop_is_rejected_on_target_id() {
        let body = json!({"source_id": A, "target_id": A, "type": "x"});
        assert_eq!(refused(body), ["target_id"]);
    }

    #[test]
    fn every_broken_field_of_a_new_relationship_is_named() {
        let body = json!({
            "source_id": "nope", "type": "", "confidence": 2, "metadata": {"k": "\u{0}"}, "extra": 1
        });
        let named = [
            "source_id",
            "target_id",
            "type",
            "confidence",
            "metadata.k",
            "extra",
        ];
        assert_eq!(refused(body), named);
    }

    #[test]
    fn null_confidence_or_metadata_is_rejected_on_create() {
        let body = json!({
            "source_id": A, "target_id": B, "type": "x", "confidence": null, "metadata": null
        });
        assert_eq!(refused(body), ["confidence", "metadata"]);
    }

    fn current() -> Relationship {
        serde_json::from_value(
            json!({"id": "x", "source_id": A, "target_id": B, "type": "knows",
            "confidence": 0.5, "metadata": {"a": 1, "b": {"c": 2, "d": 3}}, "version": 1,
            "created_by": A, "created_at": "t", "updated_at": "t"}),
        )
        .unwrap()
    }

    #[test]
    fn merge_patch_replaces_scalars_and_merges_metadata() {
        let c = Changes::merge(
            &current(),
            &obj(json!({"confidence": 0.9, "metadata": {"a": null, "b": {"c": 5}, "e": [1]}})),
        )
        .unwrap();
        assert_eq!(c.kind, "knows");
        assert_eq!(c.confidence, 0.9);
        assert_eq!(
            Value::Object(c.metadata),
            json!({"b": {"c": 5, "d": 3}, "e": [1]})
        );
    }

    #[test]
    fn metadata_null_empties_it_and_empty_patch_changes_nothing() {
        let c = Changes::merge(&current(), &obj(json!({"metadata": null}))).unwrap();
        assert!(c.metadata.is_empty());
        let c = Changes::merge(&current(), &obj(json!({}))).unwrap();
        assert_eq!(c.metadata, current().metadata);
        assert_eq!(c.confidence, 0.5);
    }

    #[test]
    fn patching_ends_nulling_type_or_unknown_fields_is_422() {
        let err = Changes::merge(
            &current(),
            &obj(json!({"source_id": B, "type": null, "confidence": null, "colour": 1, "version": 3})),
        )
        .unwrap_err();
        assert_eq!(
            fields(err),
            vec!["type", "confidence", "source_id", "version", "colour"]
        );
    }

    #[test]
    fn merged_metadata_is_checked_against_the_limits() {
        let deep = json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}});
        let err = Changes::merge(&current(), &obj(json!({"metadata": {"x": deep}}))).unwrap_err();
        assert_eq!(fields(err).len(), 1);
        let err = Changes::merge(&current(), &obj(json!({"metadata": [1]}))).unwrap_err();
        assert_eq!(fields(err), vec!["metadata"]);
    }
}
