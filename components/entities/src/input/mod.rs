//! What clients send about entities, validated: a new entity, a batch of them, a JSON merge patch
//! (RFC 7396), a merge (`merge.rs`) and the filters of a list request. Pure functions,
//! unit-tested natively.

use serde::Serialize;
use serde_json::{Map, Value};
use spingraph_guest::batch;
use spingraph_guest::history::{self, AsOf};
use spingraph_guest::record;
use spingraph_guest::validate::{self, Errors, Fields};
use spingraph_guest::{ApiError, Result};

pub mod embedding;
mod merge;
pub use merge::{
    MERGE_MAX_FROM, MergeMetadata, MergeRequest, UnmergeRequest, parse_merge, parse_unmerge,
};

pub use spingraph_guest::record::EXTERNAL_ID_MAX_CHARS;
/// `name`: 1..=512 characters.
pub const NAME_MAX_CHARS: usize = 512;

/// Fields the server owns; a client sending them gets a 422 saying so.
const READ_ONLY: &[&str] = &[
    "id",
    "owner_id",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_by",
    "merged_into",
];

/// A validated entity to insert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewEntity {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub confidence: f64,
    pub metadata: Map<String, Value>,
    /// The writer's own key, unique per type among their live entities (a natural key is
    /// `(owner, type, external_id)`).
    pub external_id: Option<String>,
}

/// A validated `POST /batch` body; `on_conflict` concerns items whose `(type, external_id)` a
/// live entity of the writer's already has.
pub type Batch = batch::Batch<NewEntity>;

/// `name`: required, 1..=512 characters without control characters.
fn read_name(f: &mut Fields<'_>) -> Option<String> {
    f.required_str("name", NAME_MAX_CHARS)
}

/// `external_id`: absent or `null` is none; otherwise 1..=256 characters, no control characters.
fn external_id(f: &mut Fields<'_>) -> Option<Option<String>> {
    match f.raw("external_id") {
        None | Some(Value::Null) => Some(None),
        Some(_) => f
            .optional_str("external_id", EXTERNAL_ID_MAX_CHARS)
            .map(Some),
    }
}

/// Read one entity object, collecting errors under `prefix` (`""` or `items[3]`).
pub fn read_new(obj: &Map<String, Value>, prefix: &str, errors: &mut Errors) -> Option<NewEntity> {
    let mut f = Fields::new(obj, prefix, errors);
    let kind = f.kind("type");
    let name = read_name(&mut f);
    let confidence = f.new_confidence("confidence");
    let metadata = f.new_metadata("metadata");
    let external_id = external_id(&mut f);
    deny_rest(&mut f);
    Some(NewEntity {
        kind: kind?,
        name: name?,
        confidence: confidence?,
        metadata: metadata?,
        external_id: external_id?,
    })
}

/// The body of `PUT /by-external-id/{type}/{external_id}`: the whole entity (`name` required,
/// `confidence` and `metadata` default as on create); `type` and `external_id` come from the
/// path and, when the body repeats them, must match it.
pub fn parse_put(body: Value, kind: &str, external_id: &str) -> Result<NewEntity> {
    let mut errors = Errors::new();
    validate::check_text(&mut errors, "type", kind, record::TYPE_MAX_CHARS);
    validate::check_text(
        &mut errors,
        "external_id",
        external_id,
        EXTERNAL_ID_MAX_CHARS,
    );
    if !errors.is_empty() {
        // Path segments that cannot name an entity name none.
        return Err(ApiError::not_found(
            "No entity can have this type and external_id.",
        ));
    }
    let mut obj = validate::object(body)?;
    for (key, path_value) in [("type", kind), ("external_id", external_id)] {
        match obj.get(key) {
            None => {}
            Some(Value::String(s)) if s == path_value => {}
            Some(_) => errors.push(
                key,
                format!("must match the path ({path_value:?}) or be left out"),
            ),
        }
        obj.insert(key.to_string(), Value::String(path_value.to_string()));
    }
    let entity = read_new(&obj, "", &mut errors);
    errors.into_result()?;
    entity.ok_or_else(|| ApiError::internal("validation passed without a value"))
}

/// The body of `POST /`.
pub fn parse_new(body: Value) -> Result<NewEntity> {
    let obj = validate::object(body)?;
    let mut errors = Errors::new();
    let entity = read_new(&obj, "", &mut errors);
    errors.into_result()?;
    entity.ok_or_else(|| ApiError::internal("validation passed without a value"))
}

/// The body of `POST /batch` (see `spingraph_guest::batch::parse`): every item's errors are
/// reported under `items[i]`, so a client can find the bad one. Two items with one
/// `(type, external_id)` are a 422 on the second.
pub fn parse_batch(body: Value) -> Result<Batch> {
    batch::parse(body, "entities", read_new, |items, errors| {
        let key = |e: &NewEntity| Some((e.kind.clone(), e.external_id.clone()?));
        for (i, j) in batch::repeats(items.iter().map(Option::as_ref), key) {
            errors.push(
                format!("items[{i}].external_id"),
                format!("repeats items[{j}] (same type and external_id)"),
            );
        }
    })
}

/// Every key no reader asked for is an error: read-only fields say so, others are unknown.
fn deny_rest(f: &mut Fields<'_>) {
    f.read_only(READ_ONLY);
    f.deny_unknown();
}

/// A validated JSON merge patch of an entity. `metadata` is itself a merge patch of the stored
/// metadata (`null` removes a key; `"metadata": null` clears it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityPatch {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub confidence: Option<f64>,
    pub metadata: Option<Value>,
    /// `Some(None)` removes the external id.
    pub external_id: Option<Option<String>>,
}

impl EntityPatch {
    pub fn is_empty(&self) -> bool {
        self == &EntityPatch::default()
    }

    /// The names of the fields this patch touches (for the audit trail).
    pub fn fields(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.kind.is_some() {
            names.push("type");
        }
        if self.name.is_some() {
            names.push("name");
        }
        if self.confidence.is_some() {
            names.push("confidence");
        }
        if self.metadata.is_some() {
            names.push("metadata");
        }
        if self.external_id.is_some() {
            names.push("external_id");
        }
        names
    }

    /// The stored metadata after this patch, validated like new metadata.
    pub fn merged_metadata(
        &self,
        current: &Map<String, Value>,
    ) -> Result<Option<Map<String, Value>>> {
        let Some(patch) = &self.metadata else {
            return Ok(None);
        };
        let mut errors = Errors::new();
        let merged = record::patched_metadata(&mut errors, "metadata", current, patch);
        errors.into_result()?;
        Ok(merged)
    }
}

/// The body of `PATCH /{id}`.
pub fn parse_patch(body: Value) -> Result<EntityPatch> {
    let obj = validate::object(body)?;
    let mut errors = Errors::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let mut patch = EntityPatch::default();
    for key in ["type", "name", "confidence"] {
        if matches!(obj.get(key), Some(Value::Null)) {
            f.error(key, "cannot be removed (null); send a value");
        }
    }
    if f.has("type") && !matches!(obj.get("type"), Some(Value::Null)) {
        patch.kind = f.kind("type");
    } else {
        f.allow("type");
    }
    if f.has("name") && !matches!(obj.get("name"), Some(Value::Null)) {
        patch.name = read_name(&mut f);
    } else {
        f.allow("name");
    }
    if f.has("confidence") && !matches!(obj.get("confidence"), Some(Value::Null)) {
        patch.confidence = f.confidence("confidence");
    } else {
        f.allow("confidence");
    }
    // Checked once merged into the stored metadata (`EntityPatch::merged_metadata`).
    match f.raw("metadata") {
        None => {}
        Some(v @ (Value::Null | Value::Object(_))) => patch.metadata = Some(v.clone()),
        Some(_) => f.error("metadata", "must be a JSON object (a merge patch) or null"),
    }
    if f.has("external_id") {
        patch.external_id = external_id(&mut f);
    }
    deny_rest(&mut f);
    errors.into_result()?;
    Ok(patch)
}

/// Whose natural keys `GET|PUT /by-external-id/...` address: the `owner_id` query parameter (a
/// UUID; blank is none, as forms send it), else `caller`'s own. A malformed one is a 400.
pub fn parse_namespace(raw: Option<String>, caller: &str) -> Result<String> {
    let Some(raw) = raw.filter(|v| !v.trim().is_empty()) else {
        return Ok(caller.to_string());
    };
    let owner = validate::uuid_str(raw.trim());
    let mut errors = Errors::new();
    if owner.is_none() {
        errors.push("owner_id", "must be a UUID");
    }
    errors.into_query_result()?;
    Ok(owner.map(|id| id.to_string()).unwrap_or_default())
}

/// The filters of `GET /`, validated (400 naming the parameter; 422 for a bad `include_deleted`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    pub kind: Option<String>,
    pub q: Option<String>,
    pub min_confidence: Option<f64>,
    pub metadata: Option<Map<String, Value>>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub owner_id: Option<String>,
    pub include_deleted: bool,
    /// The graph as it was then (`as_of`), checked against the history horizon by the caller.
    pub as_of: Option<AsOf>,
}

/// Read the filters from `param` (the first value of a query parameter); an empty value
/// (`?type=`) is no filter, as forms send it.
pub fn parse_filter(raw_param: impl Fn(&str) -> Option<String>) -> Result<ListFilter> {
    let param = |name: &str| raw_param(name).filter(|v| !v.trim().is_empty());
    let mut errors = Errors::new();
    let mut filter = ListFilter::default();
    let text = |errors: &mut Errors, name: &str, max: usize| -> Option<String> {
        let raw = param(name)?;
        let before = errors.len();
        validate::check_text(errors, name, &raw, max);
        (errors.len() == before).then_some(raw)
    };
    filter.kind = text(&mut errors, "type", record::TYPE_MAX_CHARS);
    filter.q = text(&mut errors, "q", NAME_MAX_CHARS);
    if let Some(raw) = param("min_confidence") {
        filter.min_confidence = record::confidence_str(&mut errors, "min_confidence", &raw);
    }
    if let Some(raw) = param("metadata") {
        match serde_json::from_str::<Value>(&raw) {
            Ok(v @ Value::Object(_)) => {
                filter.metadata = record::metadata(&mut errors, "metadata", &v);
            }
            _ => errors.push(
                "metadata",
                "must be a JSON object, e.g. {\"source\":\"crm\"}",
            ),
        }
    }
    for (name, slot) in [
        ("created_after", &mut filter.created_after),
        ("created_before", &mut filter.created_before),
    ] {
        if let Some(raw) = param(name) {
            if let Some(utc) = validate::rfc3339_utc(raw.trim()) {
                *slot = Some(utc);
            } else {
                errors.push(
                    name,
                    "must be an RFC 3339 timestamp, e.g. 2026-01-02T03:04:05Z",
                );
            }
        }
    }
    if let Some(raw) = param("owner_id") {
        match validate::uuid_str(&raw) {
            Some(id) => filter.owner_id = Some(id.to_string()),
            None => errors.push("owner_id", "must be a UUID"),
        }
    }
    // Unlike the filters above, an empty flag (`?include_deleted=`) is not "no filter": it is
    // malformed like any other value but true/false/1/0.
    filter.include_deleted = validate::flag(
        &mut errors,
        "include_deleted",
        raw_param("include_deleted").as_deref(),
    );
    filter.as_of = AsOf::parse(&mut errors, raw_param(history::PARAM).as_deref());
    if filter.as_of.is_some() && filter.include_deleted {
        errors.push("include_deleted", history::NOT_WITH_DELETED);
    }
    errors.into_query_result()?;
    Ok(filter)
}

/// A `LIKE` pattern matching `needle` anywhere, with `\`, `%` and `_` taken literally.
pub fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;
    use spingraph_guest::batch::OnConflict;

    pub(super) fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(e) | ApiError::InvalidQuery(e) => {
                e.into_iter().map(|e| e.field).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_put_takes_type_and_external_id_from_the_path() {
        let e = parse_put(json!({"name": "Acme"}), "company", "c-1").unwrap();
        assert_eq!(
            (e.kind.as_str(), e.external_id.as_deref()),
            ("company", Some("c-1"))
        );
        assert_eq!(e.confidence, record::DEFAULT_CONFIDENCE);
        let same = parse_put(
            json!({"name": "Acme", "type": "company", "external_id": "c-1"}),
            "company",
            "c-1",
        );
        assert!(same.is_ok());
        assert_eq!(
            fields(
                parse_put(json!({"name": "A", "external_id": "c-2"}), "company", "c-1")
                    .unwrap_err()
            ),
            vec!["external_id"]
        );
        assert_eq!(
            parse_put(json!({"name": "A"}), "company", &"x".repeat(257))
                .unwrap_err()
                .status(),
            404
        );
    }

    #[test]
    fn batches_read_on_conflict_and_refuse_a_natural_key_twice() {
        let item = |xid: &str| json!({"type": "t", "name": "n", "external_id": xid});
        let b =
            parse_batch(json!({"items": [item("a"), item("b")], "on_conflict": "skip"})).unwrap();
        assert_eq!(b.on_conflict, OnConflict::Skip);
        assert_eq!(b.items[1].external_id.as_deref(), Some("b"));
        assert_eq!(
            parse_batch(json!([item("a")])).unwrap().on_conflict,
            OnConflict::Error
        );
        assert_eq!(
            fields(parse_batch(json!({"items": [item("a"), item("a")]})).unwrap_err()),
            vec!["items[1].external_id"]
        );
        assert_eq!(
            fields(parse_batch(json!({"items": [item("a")], "on_conflict": "x"})).unwrap_err()),
            vec!["on_conflict"]
        );
    }

    #[test]
    fn new_entity_defaults_confidence_and_metadata() {
        let e = parse_new(json!({"type": "person", "name": "Ada"})).unwrap();
        assert_eq!(e.confidence, 1.0);
        assert!(e.metadata.is_empty());
    }

    #[test]
    fn new_entity_rejects_read_only_and_unknown_fields() {
        let err = parse_new(json!({"type": "t", "name": "n", "id": "x", "colour": 1})).unwrap_err();
        assert_eq!(fields(err), vec!["id", "colour"]);
    }

    #[test]
    fn confidence_bounds_are_inclusive() {
        assert!(parse_new(json!({"type": "t", "name": "n", "confidence": 0})).is_ok());
        assert!(parse_new(json!({"type": "t", "name": "n", "confidence": 1})).is_ok());
        assert_eq!(
            fields(parse_new(json!({"type": "t", "name": "n", "confidence": -0.01})).unwrap_err()),
            vec!["confidence"]
        );
        assert_eq!(
            fields(parse_new(json!({"type": "t", "name": "n", "confidence": null})).unwrap_err()),
            vec!["confidence"]
        );
    }

    #[test]
    fn batch_errors_name_the_item_index() {
        let mut items: Vec<Value> = (0..1000)
            .map(|i| json!({"type": "t", "name": format!("n{i}")}))
            .collect();
        assert_eq!(
            parse_batch(json!({"items": items.clone()}))
                .unwrap()
                .items
                .len(),
            1000
        );
        items[517] = json!({"type": "t", "name": ""});
        assert_eq!(
            fields(parse_batch(json!({"items": items.clone()})).unwrap_err()),
            vec!["items[517].name"]
        );
        items[517] = json!("x");
        assert_eq!(
            fields(parse_batch(json!(items)).unwrap_err()),
            vec!["items[517]"]
        );
    }

    #[test]
    fn batch_size_is_1_to_1000() {
        let items: Vec<Value> = (0..1001)
            .map(|_| json!({"type": "t", "name": "n"}))
            .collect();
        assert_eq!(
            fields(parse_batch(json!({"items": items})).unwrap_err()),
            vec!["items"]
        );
        assert_eq!(
            fields(parse_batch(json!({"items": []})).unwrap_err()),
            vec!["items"]
        );
        assert_eq!(
            fields(parse_batch(json!({"things": []})).unwrap_err()),
            vec!["things", "items"]
        );
    }

    #[test]
    fn patch_reads_fields_and_rejects_removal_of_required_ones() {
        let p = parse_patch(json!({"name": "B", "metadata": {"x": null}})).unwrap();
        assert_eq!(p.name.as_deref(), Some("B"));
        assert_eq!(p.fields(), vec!["name", "metadata"]);
        assert_eq!(
            fields(parse_patch(json!({"name": null})).unwrap_err()),
            vec!["name"]
        );
        assert_eq!(
            fields(parse_patch(json!({"version": 3})).unwrap_err()),
            vec!["version"]
        );
        assert_eq!(
            fields(parse_patch(json!({"metadata": 5})).unwrap_err()),
            vec!["metadata"]
        );
        assert!(parse_patch(json!({})).unwrap().is_empty());
    }

    #[test]
    fn merged_metadata_is_validated_and_null_clears() {
        let p = parse_patch(json!({"metadata": {"b": 2, "a": null}})).unwrap();
        let merged = p
            .merged_metadata(json!({"a": 1, "c": 3}).as_object().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(Value::Object(merged), json!({"b": 2, "c": 3}));
        let p = parse_patch(json!({"metadata": null})).unwrap();
        assert!(
            p.merged_metadata(json!({"a": 1}).as_object().unwrap())
                .unwrap()
                .unwrap()
                .is_empty()
        );
        let p = parse_patch(json!({"metadata": {"a": {"b": "\u{0}"}}})).unwrap();
        assert_eq!(
            fields(p.merged_metadata(&Map::new()).unwrap_err()),
            vec!["metadata.a.b"]
        );
        let many: Map<String, Value> = (0..200).map(|i| (format!("n{i}"), json!(1))).collect();
        let p = parse_patch(json!({"metadata": many})).unwrap();
        let current: Map<String, Value> = (0..100).map(|i| (format!("o{i}"), json!(1))).collect();
        assert_eq!(p.merged_metadata(&current).unwrap_err().status(), 422);
    }

    #[test]
    fn list_filters_parse_and_bad_ones_are_400_naming_them() {
        let q = |pairs: &'static [(&'static str, &'static str)]| {
            parse_filter(move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert_eq!(
            q(&[("type", ""), ("q", " ")]).unwrap(),
            ListFilter::default()
        );
        let f = q(&[
            ("type", "person"),
            ("metadata", "{\"source\":\"crm\"}"),
            ("min_confidence", "0.5"),
            ("include_deleted", "true"),
        ])
        .unwrap();
        assert_eq!(f.kind.as_deref(), Some("person"));
        assert_eq!(f.metadata.unwrap()["source"], "crm");
        assert!(f.include_deleted);
        let err = q(&[
            ("metadata", "[1]"),
            ("min_confidence", "2"),
            ("created_after", "yesterday"),
            ("owner_id", "x"),
        ])
        .unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            fields(err),
            vec!["min_confidence", "metadata", "created_after", "owner_id"]
        );
    }

    #[test]
    fn natural_keys_are_the_callers_unless_owner_id_names_another() {
        let me = "0192e4a0-0000-7000-8000-000000000001";
        let other = "0192E4A0-0000-7000-8000-00000000000B";
        assert_eq!(parse_namespace(None, me).unwrap(), me);
        assert_eq!(parse_namespace(Some(" ".into()), me).unwrap(), me);
        assert_eq!(
            parse_namespace(Some(other.into()), me).unwrap(),
            other.to_lowercase()
        );
        let err = parse_namespace(Some("bob".into()), me).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(fields(err), vec!["owner_id"]);
    }

    #[test]
    fn include_deleted_is_the_shared_flag_and_a_bad_value_is_400() {
        let q = |value: &'static str| {
            parse_filter(move |name| (name == "include_deleted").then(|| value.to_string()))
        };
        assert!(q("1").unwrap().include_deleted);
        assert!(q("TRUE").unwrap().include_deleted);
        assert!(!q("false").unwrap().include_deleted);
        for bad in ["", "yes", "no"] {
            let err = q(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
            assert_eq!(fields(err), vec!["include_deleted"], "{bad:?}");
        }
        // Reported together with the other malformed parameters.
        let err = parse_filter(|name| match name {
            "owner_id" => Some("x".into()),
            "include_deleted" => Some("yes".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(fields(err), vec!["owner_id", "include_deleted"]);
    }

    #[test]
    fn missing_type_and_name_are_required() {
        assert_eq!(
            fields(parse_new(json!({})).unwrap_err()),
            vec!["type", "name"]
        );
        assert_eq!(
            fields(parse_new(json!({"type": null, "name": null})).unwrap_err()),
            vec!["type", "name"]
        );
    }

    #[test]
    fn type_and_name_lengths_count_characters() {
        let ok_type = "é".repeat(64);
        let long_type = "a".repeat(65);
        assert!(parse_new(json!({"type": ok_type, "name": "x".repeat(512)})).is_ok());
        assert_eq!(
            fields(parse_new(json!({"type": long_type, "name": "x".repeat(513)})).unwrap_err()),
            vec!["type", "name"]
        );
        assert_eq!(
            fields(parse_new(json!({"type": "   ", "name": "a"})).unwrap_err()),
            vec!["type"]
        );
    }

    #[test]
    fn control_characters_in_name_are_rejected() {
        assert_eq!(
            fields(parse_new(json!({"type": "t", "name": "a\u{0}b"})).unwrap_err()),
            vec!["name"]
        );
        assert_eq!(
            fields(parse_new(json!({"type": "t\u{7}", "name": "ab"})).unwrap_err()),
            vec!["type"]
        );
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
