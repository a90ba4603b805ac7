//! Input validation shared by entities and relationships: JSON bodies read as objects (so every
//! failure is collected, not just the first), the field rules of SPEC §4 (type, name, confidence,
//! metadata limits, no control characters), unknown fields, and boolean query flags — all as 422
//! errors naming the field (`name`, `metadata.a.b`, `items[517].confidence`, `include_deleted`).
//!
//! ```ignore
//! let body = validate::json_object(req, body::DEFAULT_LIMIT)?;
//! let mut errors = Errors::new();
//! let mut f = Fields::new(&body, "", &mut errors);
//! let kind = f.kind("type");
//! let name = f.name("name");
//! let confidence = f.confidence("confidence").unwrap_or(1.0);
//! let metadata = f.metadata("metadata");
//! f.deny_unknown();
//! errors.into_result()?;
//! ```

use serde_json::{Map, Value};
use spin_sdk::http::Request;

use crate::body;
use crate::context::{Ctx, header};
use crate::error::{ApiError, FieldError, Result};

/// `type`: 1..=64 characters.
pub const TYPE_MAX_CHARS: usize = 64;
/// `name`: 1..=512 characters.
pub const NAME_MAX_CHARS: usize = 512;
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

/// Field errors collected over a whole request (a batch collects over all its items).
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Errors {
        Errors(Vec::new())
    }
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn as_slice(&self) -> &[FieldError] {
        &self.0
    }
    /// `Ok(())` when nothing was collected, else a 422 with every error.
    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
    /// Like [`Errors::into_result`], as a 400 naming query parameters.
    pub fn into_query_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidQuery(self.0))
        }
    }
}

/// `prefix.name`, or `name` at the top.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The request's JSON body as a top-level object: 413, 415, 400 (malformed), 422 (not an
/// object, or a number too large for a float such as `1e999`, naming its field).
pub fn json_object(req: &Request, limit: usize) -> Result<Map<String, Value>> {
    object(parse_json(header(req, "content-type"), req.body(), limit)?)
}

/// The request's JSON body as any JSON value (see [`json_object`]).
pub fn json_value(req: &Request, limit: usize) -> Result<Value> {
    parse_json(header(req, "content-type"), req.body(), limit)
}

/// The body must be an object.
pub fn object(value: Value) -> Result<Map<String, Value>> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::invalid("body", "must be a JSON object")),
    }
}

/// Size, content type, then JSON. serde_json reports `1e999` as a syntax error; it is well-formed
/// JSON whose value is out of range, so it becomes a 422 on the field that holds it.
pub fn parse_json(content_type: Option<&str>, bytes: &[u8], limit: usize) -> Result<Value> {
    match body::parse_json::<Value>(content_type, bytes, limit) {
        Err(ApiError::BadRequest(detail)) if detail.contains("number out of range") => {
            let de = &mut serde_json::Deserializer::from_slice(bytes);
            let field = match serde_path_to_error::deserialize::<_, Value>(de) {
                Err(e) if e.path().iter().next().is_some() => e.path().to_string(),
                _ => "body".to_string(),
            };
            Err(ApiError::invalid(
                field,
                "number is out of range (must be a finite number)",
            ))
        }
        other => other,
    }
}

/// Reads the fields of one JSON object, collecting errors under `prefix` and remembering which
/// keys were read so [`Fields::deny_unknown`] can name the rest.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    prefix: String,
    errors: &'a mut Errors,
    seen: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    pub fn new(obj: &'a Map<String, Value>, prefix: &str, errors: &'a mut Errors) -> Fields<'a> {
        Fields {
            obj,
            prefix: prefix.to_string(),
            errors,
            seen: Vec::new(),
        }
    }

    /// The field's full path (`items[3].name`).
    pub fn path(&self, key: &str) -> String {
        join(&self.prefix, key)
    }

    /// The raw value; `None` when absent. JSON `null` is returned as `Some(Null)`.
    pub fn raw(&mut self, key: &'static str) -> Option<&'a Value> {
        self.seen.push(key);
        self.obj.get(key)
    }

    /// Whether the object has `key` at all (merge patches distinguish absent from null).
    pub fn has(&self, key: &str) -> bool {
        self.obj.contains_key(key)
    }

    /// Record an error on `key`.
    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        let path = self.path(key);
        self.errors.push(path, message);
    }

    /// Record an error at a full path (nested fields the caller walks itself).
    pub fn error_at(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(path, message);
    }

    /// A required string of 1..=`max` characters without control characters.
    pub fn required_str(&mut self, key: &'static str, max: usize) -> Option<String> {
        match self.raw(key) {
            None | Some(Value::Null) => {
                self.error(key, "is required");
                None
            }
            Some(v) => {
                let path = self.path(key);
                text(self.errors, &path, v, max)
            }
        }
    }

    /// An optional string (absent → `None`; `null` is an error) of 1..=`max` characters.
    pub fn optional_str(&mut self, key: &'static str, max: usize) -> Option<String> {
        match self.raw(key) {
            None => None,
            Some(v) => {
                let path = self.path(key);
                text(self.errors, &path, v, max)
            }
        }
    }

    /// `type`: required, 1..=64 characters.
    pub fn kind(&mut self, key: &'static str) -> Option<String> {
        self.required_str(key, TYPE_MAX_CHARS)
    }

    /// `name`: required, 1..=512 characters.
    pub fn name(&mut self, key: &'static str) -> Option<String> {
        self.required_str(key, NAME_MAX_CHARS)
    }

    /// `confidence`: `None` when absent (the caller applies [`DEFAULT_CONFIDENCE`] or keeps the old
    /// value) or invalid (the error is recorded); `null` is invalid.
    pub fn confidence(&mut self, key: &'static str) -> Option<f64> {
        let v = self.raw(key)?;
        let path = self.path(key);
        confidence(self.errors, &path, v)
    }

    /// `metadata`: `None` when absent or invalid; otherwise the validated object.
    pub fn metadata(&mut self, key: &'static str) -> Option<Map<String, Value>> {
        let v = self.raw(key)?;
        let path = self.path(key);
        metadata(self.errors, &path, v)
    }

    /// A required UUID string.
    pub fn uuid(&mut self, key: &'static str) -> Option<uuid::Uuid> {
        match self.raw(key) {
            None | Some(Value::Null) => {
                self.error(key, "is required");
                None
            }
            Some(v) => {
                let path = self.path(key);
                uuid_value(self.errors, &path, v)
            }
        }
    }

    /// Mark `key` as known without reading it (e.g. read-only fields a client may echo back).
    pub fn allow(&mut self, key: &'static str) {
        self.seen.push(key);
    }

    /// One "is read-only" error per key of `keys` the client sent (server-owned fields such as
    /// `id`, `version`, `created_at`), so [`Fields::deny_unknown`] does not call them unknown.
    pub fn read_only(&mut self, keys: &[&'static str]) {
        for key in keys {
            if self.has(key) {
                self.allow(key);
                self.error(key, "is read-only");
            }
        }
    }

    /// One error per key that no reader asked for.
    pub fn deny_unknown(&mut self) {
        let unknown: Vec<String> = self
            .obj
            .keys()
            .filter(|k| !self.seen.contains(&k.as_str()))
            .map(|k| self.path(k))
            .collect();
        for path in unknown {
            self.errors.push(path, "unknown field");
        }
    }
}

/// A string of 1..=`max` characters (Unicode scalar values) without control characters.
pub fn text(errors: &mut Errors, field: &str, value: &Value, max: usize) -> Option<String> {
    let Some(s) = value.as_str() else {
        errors.push(field, "must be a string");
        return None;
    };
    let before = errors.len();
    check_text(errors, field, s, max);
    (errors.len() == before).then(|| s.to_string())
}

/// Length 1..=`max` characters, no control characters.
pub fn check_text(errors: &mut Errors, field: &str, s: &str, max: usize) {
    let chars = s.chars().count();
    if chars == 0 || s.trim().is_empty() {
        errors.push(field, "must not be empty");
    } else if chars > max {
        errors.push(field, format!("must be at most {max} characters"));
    }
    if has_control(s) {
        errors.push(field, "must not contain control characters");
    }
}

/// NUL and every other Unicode control character (C0, DEL, C1).
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
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

/// What a boolean query flag may say, for its field error.
pub const FLAG_MESSAGE: &str = "must be true, false, 1 or 0";

/// A boolean query flag's value: `true`/`1` or `false`/`0`, letters in any case. Anything else,
/// an empty value (`?hard=`) included, is `None`: a flag is never guessed at.
pub fn parse_flag(raw: &str) -> Option<bool> {
    if raw == "1" || raw.eq_ignore_ascii_case("true") {
        Some(true)
    } else if raw == "0" || raw.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The flag `name` from its raw query value: absent is `false`; a value [`parse_flag`] rejects
/// is an error on `name` (and `false`).
pub fn flag(errors: &mut Errors, name: &str, raw: Option<&str>) -> bool {
    match raw.map(parse_flag) {
        None => false,
        Some(Some(value)) => value,
        Some(None) => {
            errors.push(name, FLAG_MESSAGE);
            false
        }
    }
}

/// The boolean query flag `name` of this request (`?include_deleted=true`, `?hard=1`): absent is
/// `false`, a value other than `true`/`false`/`1`/`0` is a 400 naming the parameter (SPEC §4:
/// a malformed query).
pub fn query_flag(ctx: &Ctx, name: &str) -> Result<bool> {
    let mut errors = Errors::new();
    let value = flag(&mut errors, name, ctx.query_param(name).as_deref());
    errors.into_query_result()?;
    Ok(value)
}

/// A UUID given as a JSON string.
pub fn uuid_value(errors: &mut Errors, field: &str, value: &Value) -> Option<uuid::Uuid> {
    match value.as_str().map(uuid_str) {
        Some(Some(id)) => Some(id),
        _ => {
            errors.push(field, "must be a UUID");
            None
        }
    }
}

/// Parse a UUID (hyphenated form); `None` when malformed.
pub fn uuid_str(raw: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::try_parse(raw.trim()).ok()
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
    current: Option<&Value>,
    patch: &Value,
) -> Option<Map<String, Value>> {
    let mut merged = match current {
        Some(v @ Value::Object(_)) => v.clone(),
        _ => Value::Object(Map::new()),
    };
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

/// An RFC 3339 date-time (`2026-01-02T03:04:05Z`, fraction and offset optional) or a date
/// (`2026-01-02`), checked by shape and ranges; Postgres parses the accepted text.
pub fn is_rfc3339(raw: &str) -> bool {
    let b = raw.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let num = |r: std::ops::Range<usize>| raw[r].parse::<u32>().unwrap_or(99);
    if b.len() < 10
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
    {
        return false;
    }
    if !(1..=12).contains(&num(5..7)) || !(1..=31).contains(&num(8..10)) {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    if !matches!(b[10], b'T' | b't' | b' ')
        || b.len() < 20
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    if num(11..13) > 23 || num(14..16) > 59 || num(17..19) > 60 {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &raw[i..] {
        "Z" | "z" => true,
        off => {
            let o = off.as_bytes();
            o.len() == 6
                && matches!(o[0], b'+' | b'-')
                && o[1..3].iter().all(u8::is_ascii_digit)
                && o[3] == b':'
                && o[4..6].iter().all(u8::is_ascii_digit)
        }
    }
}

/// `raw` (an RFC 3339 timestamp, or a bare date for its midnight UTC) as the UTC instant
/// `2026-01-02T03:04:05.000000Z`, which Postgres reads for every valid input: RFC 3339 allows
/// offsets up to ±23:59 where Postgres stops at ±15:59, and a day that does not exist (Feb 31)
/// is refused here rather than by the database. An instant outside years 1..=9999 lies before
/// or after every row, so it is clamped to that range's end (the filter selects the same rows).
pub fn rfc3339_utc(raw: &str) -> Option<String> {
    use chrono::{DateTime, NaiveDate, Utc};
    if !is_rfc3339(raw) {
        return None;
    }
    let instant: DateTime<Utc> = if raw.len() == 10 {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?
            .and_utc()
    } else {
        // RFC 3339 also allows `t`, a space and `z`; chrono reads the canonical spelling.
        let canonical = format!("{}T{}", &raw[..10], &raw[11..]).replace('z', "Z");
        DateTime::parse_from_rfc3339(&canonical).ok()?.to_utc()
    };
    let first = NaiveDate::from_ymd_opt(1, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)?
        .and_hms_micro_opt(23, 59, 59, 999_999)?
        .and_utc();
    Some(
        instant
            .clamp(first, last)
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields_of(body: Value) -> Vec<FieldError> {
        let obj = object(body).unwrap();
        let mut errors = Errors::new();
        let mut f = Fields::new(&obj, "", &mut errors);
        f.kind("type");
        f.name("name");
        f.confidence("confidence");
        f.metadata("metadata");
        f.deny_unknown();
        errors.0
    }

    fn fields_named(body: Value) -> Vec<String> {
        fields_of(body).into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn valid_entity_has_no_errors() {
        assert!(fields_of(json!({"type": "person", "name": "Ada", "confidence": 0, "metadata": {"a": [1, {"b": "c"}]}})).is_empty());
        assert!(fields_of(json!({"type": "person", "name": "Ada", "confidence": 1})).is_empty());
    }

    #[test]
    fn every_broken_field_is_collected_and_named() {
        let names = fields_named(
            json!({"type": "", "name": 5, "confidence": 1.01, "metadata": [], "colour": "red"}),
        );
        assert_eq!(
            names,
            vec!["type", "name", "confidence", "metadata", "colour"]
        );
    }

    #[test]
    fn missing_type_and_name_are_required() {
        assert_eq!(fields_named(json!({})), vec!["type", "name"]);
        assert_eq!(
            fields_named(json!({"type": null, "name": null})),
            vec!["type", "name"]
        );
    }

    #[test]
    fn type_and_name_lengths_count_characters() {
        let ok_type = "é".repeat(64);
        let long_type = "a".repeat(65);
        assert!(fields_of(json!({"type": ok_type, "name": "x".repeat(512)})).is_empty());
        assert_eq!(
            fields_named(json!({"type": long_type, "name": "x".repeat(513)})),
            vec!["type", "name"]
        );
        assert_eq!(
            fields_named(json!({"type": "   ", "name": "a"})),
            vec!["type"]
        );
    }

    #[test]
    fn control_characters_in_name_are_rejected() {
        assert_eq!(
            fields_named(json!({"type": "t", "name": "a\u{0}b"})),
            vec!["name"]
        );
        assert_eq!(
            fields_named(json!({"type": "t\u{7}", "name": "ab"})),
            vec!["type"]
        );
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
    fn out_of_range_number_is_422_naming_the_field() {
        let err = parse_json(
            Some("application/json"),
            br#"{"type":"t","confidence":1e999}"#,
            1024,
        )
        .unwrap_err();
        assert_eq!(
            err,
            ApiError::invalid(
                "confidence",
                "number is out of range (must be a finite number)"
            )
        );
        let err = parse_json(
            Some("application/json"),
            br#"{"items":[{},{"confidence":-1e999}]}"#,
            1024,
        )
        .unwrap_err();
        match err {
            ApiError::Validation(e) => assert_eq!(e[0].field, "items[1].confidence"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_json(Some("application/json"), b"{", 1024)
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            parse_json(Some("text/plain"), b"{}", 1024)
                .unwrap_err()
                .status(),
            415
        );
        assert_eq!(
            parse_json(Some("application/json"), b"{}", 1)
                .unwrap_err()
                .status(),
            413
        );
    }

    #[test]
    fn body_must_be_an_object() {
        assert_eq!(object(json!([1])).unwrap_err().status(), 422);
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
    fn prefix_names_batch_items() {
        let obj = object(json!({"name": ""})).unwrap();
        let mut errors = Errors::new();
        let mut f = Fields::new(&obj, "items[517]", &mut errors);
        f.name("name");
        assert_eq!(errors.as_slice()[0].field, "items[517].name");
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
        let current = json!({"a": 1, "c": 3});
        let merged = patched_metadata(
            &mut e,
            "metadata",
            Some(&current),
            &json!({"a": null, "b": 2}),
        );
        assert_eq!(Value::Object(merged.unwrap()), json!({"b": 2, "c": 3}));
        assert!(
            patched_metadata(&mut e, "metadata", Some(&current), &Value::Null)
                .unwrap()
                .is_empty()
        );
        assert!(e.is_empty());
        assert_eq!(
            patched_metadata(&mut e, "metadata", None, &json!({"x": "\u{0}"})),
            None
        );
        assert_eq!(patched_metadata(&mut e, "metadata", None, &json!(5)), None);
        let fields: Vec<&str> = e.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["metadata.x", "metadata"]);
    }

    #[test]
    fn read_only_fields_are_named_as_such_not_unknown() {
        let obj = object(json!({"id": "x", "name": "n", "zap": 1})).unwrap();
        let mut errors = Errors::new();
        let mut f = Fields::new(&obj, "", &mut errors);
        f.name("name");
        f.read_only(&["id", "version"]);
        f.deny_unknown();
        let got: Vec<(String, String)> =
            errors.0.into_iter().map(|e| (e.field, e.message)).collect();
        assert_eq!(
            got,
            vec![
                ("id".into(), "is read-only".into()),
                ("zap".into(), "unknown field".into())
            ]
        );
    }

    #[test]
    fn rfc3339_shapes() {
        for ok in [
            "2026-01-02",
            "2026-01-02T03:04:05Z",
            "2026-01-02T03:04:05.123456Z",
            "2026-01-02T03:04:05+01:00",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "2026-13-01",
            "2026-01-02T",
            "yesterday",
            "2026-01-02T03:04:05",
            "2026-01-02T03:04:05.Z",
            "2026-01-02T25:00:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn rfc3339_instants_are_normalized_to_utc_within_what_postgres_reads() {
        for (raw, utc) in [
            ("2026-01-02", "2026-01-02T00:00:00.000000Z"),
            ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000000Z"),
            ("2026-01-02t03:04:05.5z", "2026-01-02T03:04:05.500000Z"),
            ("2026-01-02 03:04:05+01:00", "2026-01-02T02:04:05.000000Z"),
            // Offsets past Postgres's ±15:59 (schemathesis sent these).
            ("5616-05-25T01:49:01-22:29", "5616-05-26T00:18:01.000000Z"),
            ("0992-05-18T13:35:38+17:48", "0992-05-17T19:47:38.000000Z"),
            // Past the ends of years 1..=9999: clamped.
            ("0001-01-01T00:00:00+00:01", "0001-01-01T00:00:00.000000Z"),
            ("9999-12-31T23:59:59-00:01", "9999-12-31T23:59:59.999999Z"),
        ] {
            assert_eq!(rfc3339_utc(raw).as_deref(), Some(utc), "{raw}");
        }
        for bad in [
            "2026-02-31",
            "2026-02-30T00:00:00Z",
            "2026-01-02T03:04:05+24:00",
            "yesterday",
            "",
        ] {
            assert_eq!(rfc3339_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn query_confidence_parses_text() {
        let mut e = Errors::new();
        assert_eq!(confidence_str(&mut e, "min_confidence", "0.5"), Some(0.5));
        assert_eq!(confidence_str(&mut e, "min_confidence", "NaN"), None);
        assert_eq!(confidence_str(&mut e, "min_confidence", "2"), None);
        assert_eq!(e.into_query_result().unwrap_err().status(), 400);
    }

    #[test]
    fn flags_are_true_false_1_or_0_in_any_case() {
        for yes in ["true", "TRUE", "True", "1"] {
            assert_eq!(parse_flag(yes), Some(true), "{yes}");
        }
        for no in ["false", "FALSE", "fAlSe", "0"] {
            assert_eq!(parse_flag(no), Some(false), "{no}");
        }
        for other in [
            "", " ", "yes", "no", "on", "off", "t", "f", "2", "-1", "01", " true", "true ",
        ] {
            assert_eq!(parse_flag(other), None, "{other:?}");
        }
    }

    #[test]
    fn absent_flag_is_false_and_a_bad_one_is_a_400_naming_it() {
        let mut e = Errors::new();
        assert!(!flag(&mut e, "include_deleted", None));
        assert!(flag(&mut e, "include_deleted", Some("True")));
        assert!(!flag(&mut e, "hard", Some("0")));
        assert!(e.is_empty());
        for bad in ["", "yes"] {
            let mut e = Errors::new();
            assert!(!flag(&mut e, "include_deleted", Some(bad)));
            let err = e.into_query_result().unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
            assert_eq!(
                err,
                ApiError::InvalidQuery(vec![FieldError::new("include_deleted", FLAG_MESSAGE)])
            );
        }
    }

    fn query_ctx(query: &str) -> Ctx {
        let mut b = Request::builder();
        b.method(spin_sdk::http::Method::Get)
            .uri(format!("/v1/entities?{query}"));
        Ctx::build("test", &b.build(), crate::Config::fixed(&[]))
    }

    #[test]
    fn query_flag_reads_the_request_and_rejects_empty_and_bare_flags() {
        assert!(!query_flag(&query_ctx(""), "hard").unwrap());
        assert!(!query_flag(&query_ctx("other=true"), "hard").unwrap());
        assert!(query_flag(&query_ctx("hard=TRUE"), "hard").unwrap());
        assert!(query_flag(&query_ctx("hard=1&hard=0"), "hard").unwrap());
        assert!(!query_flag(&query_ctx("hard=false"), "hard").unwrap());
        for bad in ["hard=", "hard", "hard=yes", "hard=%20"] {
            let err = query_flag(&query_ctx(bad), "hard").unwrap_err();
            assert_eq!(
                err,
                ApiError::InvalidQuery(vec![FieldError::new("hard", FLAG_MESSAGE)]),
                "{bad}"
            );
        }
    }
}
