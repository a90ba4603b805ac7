//! The fields every entity and relationship has (SPEC §4) and their rules: `type`, `confidence`
//! and `metadata` (its limits, and the JSON merge patch that changes it), plus the natural key
//! (`external_id`) entities carry and relationships name their ends by. Errors name the field
//! (`metadata.a.b`, `items[517].confidence`). What only one of them has (an entity's `name`)
//! is that component's.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::validate::{Errors, Fields, has_control, join};

/// When and by whom an entity or relationship was soft-deleted, as the API renders it: only
/// deleted ones carry it, as `#[serde(flatten)] Option<Deletion>` (absent: live).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    pub deleted_at: String,
    /// The user who deleted it (`null` when unknown).
    pub deleted_by: Option<String>,
}

/// `type`: 1..=64 characters.
pub const TYPE_MAX_CHARS: usize = 64;
/// `metadata` serialized: at most 10 KiB.
pub const METADATA_MAX_BYTES: usize = 10 * 1024;
/// `metadata` nesting: the top-level object is depth 1.
pub const METADATA_MAX_DEPTH: usize = 8;
/// `metadata` keys counted over every nested object.
pub const METADATA_MAX_KEYS: usize = 256;
/// Each `metadata` key: at most 128 characters.
pub const METADATA_KEY_MAX_CHARS: usize = 128;
/// `confidence` when the client sends none.
pub const DEFAULT_CONFIDENCE: f64 = 1.0;

/// `external_id`, an entity's natural key (relationships name their ends by it): 1..=256
/// characters.
pub const EXTERNAL_ID_MAX_CHARS: usize = 256;

impl Fields<'_> {
    /// `type`: required, 1..=64 characters.
    pub fn kind(&mut self, key: &'static str) -> Option<String> {
        self.required_str(key, TYPE_MAX_CHARS)
    }

    /// `confidence`: `None` when absent (the caller applies [`DEFAULT_CONFIDENCE`] or keeps the old
    /// value) or invalid (the error is recorded); `null` is invalid.
    pub fn confidence(&mut self, key: &'static str) -> Option<f64> {
        self.optional(key, confidence)
    }

    /// `metadata`: `None` when absent or invalid; otherwise the validated object.
    pub fn metadata(&mut self, key: &'static str) -> Option<Map<String, Value>> {
        self.optional(key, metadata)
    }

    /// `confidence` of a new record: [`DEFAULT_CONFIDENCE`] when absent, `None` when invalid
    /// (`null` included).
    pub fn new_confidence(&mut self, key: &'static str) -> Option<f64> {
        match self.has(key) {
            true => self.confidence(key),
            false => Some(DEFAULT_CONFIDENCE),
        }
    }

    /// `metadata` of a new record: empty when absent, `None` when invalid (`null` included).
    pub fn new_metadata(&mut self, key: &'static str) -> Option<Map<String, Value>> {
        match self.has(key) {
            true => self.metadata(key),
            false => Some(Map::new()),
        }
    }
}

/// A finite number in 0.0..=1.0.
pub fn confidence(errors: &mut Errors, field: &str, value: &Value) -> Option<f64> {
    match value.as_f64() {
        Some(c) if c.is_finite() && (0.0..=1.0).contains(&c) => Some(c),
        Some(_) => {
            errors.push(field, "must be a finite number between 0 and 1");
            None
        }
        None => {
            errors.push(field, "must be a number between 0 and 1");
            None
        }
    }
}

/// A confidence given as text (query parameters): finite, 0..=1.
pub fn confidence_str(errors: &mut Errors, field: &str, raw: &str) -> Option<f64> {
    match raw.trim().parse::<f64>() {
        Ok(c) if c.is_finite() && (0.0..=1.0).contains(&c) => Some(c),
        _ => {
            errors.push(field, "must be a finite number between 0 and 1");
            None
        }
    }
}

/// Metadata rules of SPEC §4: an object, ≤ 10 KiB serialized, depth ≤ 8, ≤ 256 keys in all, keys
/// ≤ 128 characters, no control characters in any key or string. Errors name the nested field.
pub fn metadata(errors: &mut Errors, field: &str, value: &Value) -> Option<Map<String, Value>> {
    let Value::Object(map) = value else {
        errors.push(field, "must be a JSON object");
        return None;
    };
    let before = errors.len();
    let size = serde_json::to_string(value)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    if size > METADATA_MAX_BYTES {
        errors.push(
            field,
            format!("must be at most {METADATA_MAX_BYTES} bytes serialized (is {size})"),
        );
    }
    let mut walk = MetadataWalk {
        errors,
        keys: 0,
        too_deep: false,
    };
    walk.value(field, value, 1);
    if walk.keys > METADATA_MAX_KEYS {
        let keys = walk.keys;
        errors.push(
            field,
            format!("must have at most {METADATA_MAX_KEYS} keys in all (has {keys})"),
        );
    }
    (errors.len() == before).then(|| map.clone())
}

struct MetadataWalk<'e> {
    errors: &'e mut Errors,
    keys: usize,
    too_deep: bool,
}

impl MetadataWalk<'_> {
    // `depth` is the nesting level of `value` when it is a container (top-level object = 1).
    fn value(&mut self, path: &str, value: &Value, depth: usize) {
        match value {
            Value::Object(map) => {
                if self.too_deep_at(path, depth) {
                    return;
                }
                for (key, child) in map {
                    self.keys += 1;
                    let child_path = join(path, key);
                    if key.chars().count() > METADATA_KEY_MAX_CHARS {
                        self.errors.push(
                            child_path.clone(),
                            format!("key must be at most {METADATA_KEY_MAX_CHARS} characters"),
                        );
                    }
                    if key.is_empty() {
                        self.errors
                            .push(child_path.clone(), "key must not be empty");
                    }
                    if has_control(key) {
                        self.errors.push(
                            child_path.clone(),
                            "key must not contain control characters",
                        );
                    }
                    self.value(&child_path, child, depth + 1);
                }
            }
            Value::Array(items) => {
                if self.too_deep_at(path, depth) {
                    return;
                }
                for (i, child) in items.iter().enumerate() {
                    self.value(&format!("{path}[{i}]"), child, depth + 1);
                }
            }
            Value::String(s) if has_control(s) => {
                self.errors
                    .push(path, "must not contain control characters");
            }
            _ => {}
        }
    }

    fn too_deep_at(&mut self, path: &str, depth: usize) -> bool {
        if depth <= METADATA_MAX_DEPTH {
            return false;
        }
        if !self.too_deep {
            self.too_deep = true;
            self.errors.push(
                path,
                format!("metadata must be nested at most {METADATA_MAX_DEPTH} levels deep"),
            );
        }
        true
    }
}

/// RFC 7396 JSON merge patch: apply `patch` to `target` (`null` removes a key, objects merge
/// recursively, anything else replaces).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// The metadata after a merge patch of `field`: `null` clears it, an object merges into
/// `current` (RFC 7396), anything else is an error; the result obeys [`metadata`]'s limits.
pub fn patched_metadata(
    errors: &mut Errors,
    field: &str,
    current: &Map<String, Value>,
    patch: &Value,
) -> Option<Map<String, Value>> {
    let mut merged = Value::Object(current.clone());
    match patch {
        Value::Null => merged = Value::Object(Map::new()),
        Value::Object(_) => merge_patch(&mut merged, patch),
        _ => {
            errors.push(field, "must be a JSON object (a merge patch) or null");
            return None;
        }
    }
    metadata(errors, field, &merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::FieldError;
    use crate::validate::object;
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        a: u8,
        #[serde(flatten)]
        deletion: Option<Deletion>,
        z: u8,
    }

    #[test]
    fn a_deletion_is_there_only_on_deleted_rows_in_its_place() {
        let live = r#"{"a":1,"z":2}"#;
        let row: Row = serde_json::from_str(live).unwrap();
        assert_eq!(row.deletion, None);
        assert_eq!(serde_json::to_string(&row).unwrap(), live);
        let deleted = r#"{"a":1,"deleted_at":"t","deleted_by":null,"z":2}"#;
        let row: Row = serde_json::from_str(deleted).unwrap();
        assert_eq!(row.deletion.as_ref().unwrap().deleted_by, None);
        assert_eq!(serde_json::to_string(&row).unwrap(), deleted);
    }

    fn fields_of(body: Value) -> Vec<FieldError> {
        let obj = object(body).unwrap();
        let mut errors = Errors::new();
        let mut f = Fields::new(&obj, "", &mut errors);
        f.kind("type");
        f.allow("name"); // an entity's own field (the entities component reads it)
        f.confidence("confidence");
        f.metadata("metadata");
        f.deny_unknown();
        errors.as_slice().to_vec()
    }

    fn fields_named(body: Value) -> Vec<String> {
        fields_of(body).into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn valid_shared_fields_have_no_errors() {
        assert!(fields_of(json!({"type": "person", "name": "Ada", "confidence": 0, "metadata": {"a": [1, {"b": "c"}]}})).is_empty());
        assert!(fields_of(json!({"type": "person", "name": "Ada", "confidence": 1})).is_empty());
    }

    #[test]
    fn every_broken_field_is_collected_and_named() {
        let names =
            fields_named(json!({"type": "", "confidence": 1.01, "metadata": [], "colour": "red"}));
        assert_eq!(names, vec!["type", "confidence", "metadata", "colour"]);
    }

    #[test]
    fn confidence_outside_unit_interval_or_not_a_number_is_rejected() {
        for bad in [
            json!(-0.01),
            json!(1.01),
            json!("0.5"),
            json!(null),
            json!(true),
        ] {
            assert_eq!(
                fields_named(json!({"type": "t", "name": "n", "confidence": bad})),
                vec!["confidence"]
            );
        }
    }

    #[test]
    fn metadata_nul_in_nested_string_names_the_path() {
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": {"a": {"b": "x\u{0}"}}})),
            vec!["metadata.a.b"]
        );
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": {"a": ["ok", "\u{1f}"]}})),
            vec!["metadata.a[1]"]
        );
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": {"k\u{0}": 1}})),
            vec!["metadata.k\u{0}"]
        );
    }

    #[test]
    fn metadata_depth_eight_is_allowed_and_nine_is_not() {
        let nest = |levels: usize| {
            let mut v = json!(1);
            for _ in 0..levels {
                v = json!({"a": v});
            }
            v
        };
        assert!(fields_of(json!({"type": "t", "name": "n", "metadata": nest(8)})).is_empty());
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": nest(9)})).len(),
            1
        );
        // arrays count as levels too
        let mut v = json!([1]);
        for _ in 0..8 {
            v = json!({"a": v});
        }
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": v})).len(),
            1
        );
    }

    #[test]
    fn metadata_key_count_length_and_size_limits() {
        let keys = |n: usize| Value::Object((0..n).map(|i| (format!("k{i}"), json!(1))).collect());
        assert!(fields_of(json!({"type": "t", "name": "n", "metadata": keys(256)})).is_empty());
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": keys(257)})),
            vec!["metadata"]
        );
        // nested keys count too
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": {"x": keys(256)}})),
            vec!["metadata"]
        );
        let long_key = "k".repeat(129);
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": {long_key.clone(): 1}})),
            vec![format!("metadata.{long_key}")]
        );
        let big = "x".repeat(METADATA_MAX_BYTES);
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": {"a": big}})),
            vec!["metadata"]
        );
        assert_eq!(
            fields_named(json!({"type": "t", "name": "n", "metadata": "x"})),
            vec!["metadata"]
        );
    }

    #[test]
    fn merge_patch_follows_rfc7396() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [1]});
        merge_patch(&mut target, &json!({"a": {"b": 1}, "n": null}));
        assert_eq!(target, json!({"a": {"b": 1}}));
        let mut target = json!({"a": [{"b": "c"}]});
        merge_patch(&mut target, &json!({"a": [1]}));
        assert_eq!(target, json!({"a": [1]}));
        let mut target = json!(["a"]);
        merge_patch(&mut target, &json!({"a": {"bb": {"ccc": null}}}));
        assert_eq!(target, json!({"a": {"bb": {}}}));
    }

    #[test]
    fn patched_metadata_merges_clears_and_validates() {
        let mut e = Errors::new();
        let current = json!({"a": 1, "c": 3}).as_object().unwrap().clone();
        let merged = patched_metadata(&mut e, "metadata", &current, &json!({"a": null, "b": 2}));
        assert_eq!(Value::Object(merged.unwrap()), json!({"b": 2, "c": 3}));
        assert!(
            patched_metadata(&mut e, "metadata", &current, &Value::Null)
                .unwrap()
                .is_empty()
        );
        assert!(e.is_empty());
        assert_eq!(
            patched_metadata(&mut e, "metadata", &Map::new(), &json!({"x": "\u{0}"})),
            None
        );
        assert_eq!(
            patched_metadata(&mut e, "metadata", &Map::new(), &json!(5)),
            None
        );
        let fields: Vec<&str> = e.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["metadata.x", "metadata"]);
    }

    #[test]
    fn query_confidence_parses_text() {
        let mut e = Errors::new();
        assert_eq!(confidence_str(&mut e, "min_confidence", "0.5"), Some(0.5));
        assert_eq!(confidence_str(&mut e, "min_confidence", "NaN"), None);
        assert_eq!(confidence_str(&mut e, "min_confidence", "2"), None);
        assert_eq!(e.into_query_result().unwrap_err().status(), 400);
    }
}
