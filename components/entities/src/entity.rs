//! What clients send about entities, validated: a new entity, a batch of them, a JSON merge patch
//! (RFC 7396), and the filters of a list request. Pure functions, unit-tested natively.

use serde::Serialize;
use serde_json::{Map, Value};
use spingraph_guest::validate::{self, DEFAULT_CONFIDENCE, Errors, Fields};
use spingraph_guest::{ApiError, Result};

/// Most items one `POST /batch` may carry.
pub const BATCH_MAX_ITEMS: usize = 1000;
/// Most field errors one 422 lists (a batch of broken items could otherwise produce thousands).
pub const MAX_REPORTED_ERRORS: usize = 100;

/// Fields the server owns; a client sending them gets a 422 saying so.
const READ_ONLY: &[&str] = &[
    "id",
    "owner_id",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_by",
];

/// A validated entity to insert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewEntity {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub confidence: f64,
    pub metadata: Map<String, Value>,
}

/// Read one entity object, collecting errors under `prefix` (`""` or `items[3]`).
pub fn read_new(obj: &Map<String, Value>, prefix: &str, errors: &mut Errors) -> Option<NewEntity> {
    let mut f = Fields::new(obj, prefix, errors);
    let kind = f.kind("type");
    let name = f.name("name");
    let confidence = match f.raw("confidence") {
        None => Some(DEFAULT_CONFIDENCE),
        Some(_) => f.confidence("confidence"),
    };
    let metadata = match f.raw("metadata") {
        None => Some(Map::new()),
        Some(_) => f.metadata("metadata"),
    };
    deny_rest(&mut f);
    Some(NewEntity {
        kind: kind?,
        name: name?,
        confidence: confidence?,
        metadata: metadata?,
    })
}

/// The body of `POST /`.
pub fn parse_new(body: Value) -> Result<NewEntity> {
    let obj = validate::object(body)?;
    let mut errors = Errors::new();
    let entity = read_new(&obj, "", &mut errors);
    errors.into_result()?;
    entity.ok_or_else(|| ApiError::internal("validation passed without a value"))
}

/// The body of `POST /batch`: `{"items": [...]}` (or a bare array), 1..=1000 items; every item's
/// errors are reported under `items[i]`, so a client can find the bad one.
pub fn parse_batch(body: Value) -> Result<Vec<NewEntity>> {
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut obj) => {
            let items = obj.remove("items");
            let mut errors = Errors::new();
            for key in obj.keys() {
                errors.push(key.clone(), "unknown field");
            }
            match items {
                Some(Value::Array(items)) => {
                    errors.into_result()?;
                    items
                }
                Some(_) => {
                    errors.push("items", "must be an array of entities");
                    return Err(truncated(errors));
                }
                None => {
                    errors.push("items", "is required");
                    return Err(truncated(errors));
                }
            }
        }
        _ => return Err(ApiError::invalid("body", "must be an object with `items`")),
    };
    if items.is_empty() || items.len() > BATCH_MAX_ITEMS {
        return Err(ApiError::invalid(
            "items",
            format!(
                "must hold 1 to {BATCH_MAX_ITEMS} entities (has {})",
                items.len()
            ),
        ));
    }
    let mut errors = Errors::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("items[{i}]");
        match item {
            Value::Object(obj) => {
                if let Some(entity) = read_new(obj, &prefix, &mut errors) {
                    out.push(entity);
                }
            }
            _ => errors.push(prefix, "must be a JSON object"),
        }
    }
    if !errors.is_empty() {
        return Err(truncated(errors));
    }
    Ok(out)
}

fn truncated(errors: Errors) -> ApiError {
    let mut list = errors.as_slice().to_vec();
    list.truncate(MAX_REPORTED_ERRORS);
    ApiError::Validation(list)
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
        names
    }

    /// The stored metadata after this patch, validated like new metadata.
    pub fn merged_metadata(&self, current: &Value) -> Result<Option<Map<String, Value>>> {
        let Some(patch) = &self.metadata else {
            return Ok(None);
        };
        let mut errors = Errors::new();
        let merged = validate::patched_metadata(&mut errors, "metadata", Some(current), patch);
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
        patch.name = f.name("name");
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
    deny_rest(&mut f);
    errors.into_result()?;
    Ok(patch)
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
    filter.kind = text(&mut errors, "type", validate::TYPE_MAX_CHARS);
    filter.q = text(&mut errors, "q", validate::NAME_MAX_CHARS);
    if let Some(raw) = param("min_confidence") {
        filter.min_confidence = validate::confidence_str(&mut errors, "min_confidence", &raw);
    }
    if let Some(raw) = param("metadata") {
        match serde_json::from_str::<Value>(&raw) {
            Ok(v @ Value::Object(_)) => {
                filter.metadata = validate::metadata(&mut errors, "metadata", &v);
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
            if validate::is_rfc3339(raw.trim()) {
                *slot = Some(raw.trim().to_string());
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
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(e) | ApiError::InvalidQuery(e) => {
                e.into_iter().map(|e| e.field).collect()
            }
            other => panic!("{other:?}"),
        }
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
            parse_batch(json!({"items": items.clone()})).unwrap().len(),
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
            .merged_metadata(&json!({"a": 1, "c": 3}))
            .unwrap()
            .unwrap();
        assert_eq!(Value::Object(merged), json!({"b": 2, "c": 3}));
        let p = parse_patch(json!({"metadata": null})).unwrap();
        assert!(
            p.merged_metadata(&json!({"a": 1}))
                .unwrap()
                .unwrap()
                .is_empty()
        );
        let p = parse_patch(json!({"metadata": {"a": {"b": "\u{0}"}}})).unwrap();
        assert_eq!(
            fields(p.merged_metadata(&json!({})).unwrap_err()),
            vec!["metadata.a.b"]
        );
        let many: Map<String, Value> = (0..200).map(|i| (format!("n{i}"), json!(1))).collect();
        let p = parse_patch(json!({"metadata": many})).unwrap();
        let current: Map<String, Value> = (0..100).map(|i| (format!("o{i}"), json!(1))).collect();
        assert_eq!(
            p.merged_metadata(&Value::Object(current))
                .unwrap_err()
                .status(),
            422
        );
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
    fn like_pattern_escapes_wildcards() {
        assert_eq!(contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
