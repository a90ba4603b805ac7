//! What clients send to the search component, validated: an embedding space's definition (`PUT
//! /v1/embedding-spaces/{name}`), a search request (`POST /v1/search`) and a query vector. Pure
//! functions, unit-tested natively; every failure is a 422 naming its field.

use serde_json::{Map, Value};
use spingraph_guest::record;
use spingraph_guest::validate::{self, Errors, Fields};
use spingraph_guest::walk::{DEFAULT_NODES, Direction, MAX_NODES};
use spingraph_guest::{ApiError, Result};

/// `dimensions`: what pgvector's HNSW indexes take for `vector`.
pub const MAX_DIMENSIONS: i64 = 2000;
/// `model`: 1..=200 characters.
pub const MODEL_MAX_CHARS: usize = 200;
/// `limit`: 1..=200 hits, 10 unless asked.
pub const MAX_LIMIT: i64 = 200;
pub const DEFAULT_LIMIT: i64 = 10;
/// `expand.depth`: 0..=2, 1 unless asked.
pub const MAX_EXPAND_DEPTH: i64 = 2;
/// `text`: at most 1000 characters.
pub const TEXT_MAX_CHARS: usize = 1000;
/// `filter.types` and `expand.types`: at most 32 types.
pub const MAX_TYPES: usize = 32;

/// How a space compares vectors (pgvector's operators `<=>`, `<->`, `<#>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distance {
    Cosine,
    L2,
    InnerProduct,
}

impl Distance {
    pub fn parse(raw: &str) -> Option<Distance> {
        match raw {
            "cosine" => Some(Distance::Cosine),
            "l2" => Some(Distance::L2),
            "inner_product" => Some(Distance::InnerProduct),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Distance::Cosine => "cosine",
            Distance::L2 => "l2",
            Distance::InnerProduct => "inner_product",
        }
    }

    /// pgvector's operator: smaller is nearer for all three (`<#>` is the negative inner
    /// product).
    pub fn operator(self) -> &'static str {
        match self {
            Distance::Cosine => "<=>",
            Distance::L2 => "<->",
            Distance::InnerProduct => "<#>",
        }
    }
}

/// A space's name: `^[a-z0-9][a-z0-9_-]{0,62}$` (the table's own check).
pub fn is_space_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let word = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (1..=63).contains(&bytes.len())
        && word(&bytes[0])
        && bytes[1..]
            .iter()
            .all(|b| word(b) || *b == b'_' || *b == b'-')
}

/// The rule of a space name, for its 422.
pub const SPACE_NAME_RULE: &str =
    "must be 1 to 63 characters of a-z, 0-9, _ and -, starting with a letter or digit";

/// A validated space definition.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceDefinition {
    pub name: String,
    pub dimensions: i32,
    pub distance: Distance,
    pub model: Option<String>,
}

/// `PUT /v1/embedding-spaces/{name}`: `name` from the path, `{dimensions, distance, model?}`.
pub fn parse_space(name: &str, body: &Map<String, Value>) -> Result<SpaceDefinition> {
    let mut errors = Errors::new();
    if !is_space_name(name) {
        errors.push("name", SPACE_NAME_RULE);
    }
    let mut f = Fields::new(body, "", &mut errors);
    let dimensions = f.required("dimensions", |errors, path, v| {
        int_in(errors, path, v, 1, MAX_DIMENSIONS)
    });
    let distance = f.required("distance", |errors, path, v| {
        let parsed = v.as_str().and_then(Distance::parse);
        if parsed.is_none() {
            errors.push(path, "must be cosine, l2 or inner_product");
        }
        parsed
    });
    let model = match f.raw("model") {
        None | Some(Value::Null) => Some(None),
        Some(_) => f.optional_str("model", MODEL_MAX_CHARS).map(Some),
    };
    // a space read back from a GET may be sent as it is: its name must be the path's
    let echoed = f.raw("name").cloned();
    f.read_only(&["created_at", "vectors"]);
    f.deny_unknown();
    if echoed.is_some_and(|e| e.as_str() != Some(name)) {
        errors.push("name", "must be the name in the path when given");
    }
    errors.into_result()?;
    Ok(SpaceDefinition {
        name: name.to_string(),
        dimensions: dimensions.expect("checked") as i32,
        distance: distance.expect("checked"),
        model: model.expect("checked"),
    })
}

/// An integer (JSON number without a fraction) in `min..=max`.
fn int_in(errors: &mut Errors, path: &str, v: &Value, min: i64, max: i64) -> Option<i64> {
    let n = v
        .as_i64()
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64));
    match n {
        Some(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            errors.push(path, format!("must be an integer from {min} to {max}"));
            None
        }
    }
}

/// The filters of a search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub types: Option<Vec<String>>,
    pub min_confidence: Option<f64>,
    pub metadata: Option<Map<String, Value>>,
    pub owner: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub include_merged: bool,
}

/// What `expand` asks for: the subgraph around the hits.
#[derive(Debug, Clone, PartialEq)]
pub struct Expand {
    pub depth: i32,
    pub direction: Direction,
    pub types: Option<Vec<String>>,
    pub max_nodes: i32,
}

/// A validated `POST /v1/search` body. `vector` is checked against its space by
/// [`check_vector`] once the space is read.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub text: Option<String>,
    pub vector: Option<Vec<f64>>,
    pub space: Option<String>,
    pub filter: Filter,
    pub limit: i64,
    pub expand: Option<Expand>,
}

impl SearchRequest {
    /// How many candidates each list brings to the fusion: `max(limit × 4, 40)`.
    pub fn candidates(&self) -> i64 {
        (self.limit * 4).max(40)
    }
}

/// `POST /v1/search`'s body.
pub fn parse_search(body: &Map<String, Value>) -> Result<SearchRequest> {
    let mut errors = Errors::new();
    let mut f = Fields::new(body, "", &mut errors);
    let text = f.optional("text", |errors, path, v| {
        let s = validate::text(errors, path, v, TEXT_MAX_CHARS)?;
        if s.trim().is_empty() {
            errors.push(path, "must not be blank");
            return None;
        }
        Some(s)
    });
    let vector = f.optional("vector", numbers);
    let space = f.optional("space", |errors, path, v| {
        let name = v.as_str().filter(|s| is_space_name(s));
        if name.is_none() {
            errors.push(path, SPACE_NAME_RULE);
        }
        name.map(str::to_string)
    });
    let sent_vector = f.has("vector");
    let sent_text = f.has("text");
    let sent_space = f.has("space");
    let filter = f.optional("filter", read_filter).unwrap_or_default();
    let limit = f
        .optional("limit", |errors, path, v| {
            int_in(errors, path, v, 1, MAX_LIMIT)
        })
        .unwrap_or(DEFAULT_LIMIT);
    let expand = f.optional("expand", read_expand);
    f.deny_unknown();
    if !sent_text && !sent_vector {
        errors.push("text", "at least one of text and vector is required");
    }
    if sent_vector && !sent_space {
        errors.push("space", "is required with vector");
    }
    if sent_space && !sent_vector {
        errors.push("vector", "is required with space");
    }
    errors.into_result()?;
    Ok(SearchRequest {
        text,
        vector,
        space,
        filter,
        limit,
        expand,
    })
}

/// A JSON array of numbers (each finite: `1e999` never parses).
fn numbers(errors: &mut Errors, path: &str, v: &Value) -> Option<Vec<f64>> {
    let Some(items) = v.as_array() else {
        errors.push(path, "must be an array of numbers");
        return None;
    };
    let numbers: Option<Vec<f64>> = items.iter().map(Value::as_f64).collect();
    if numbers.is_none() {
        errors.push(path, "must be an array of numbers");
    }
    numbers
}

/// `vector` for a space of `dimensions` compared by `distance`: its length, every number a
/// finite 32-bit float (what pgvector stores), and not all zeros in a `cosine` space (it has no
/// direction). Errors name `field`.
pub fn check_vector(
    field: &str,
    vector: &[f64],
    dimensions: i32,
    distance: Distance,
) -> Result<String> {
    if vector.len() != dimensions as usize {
        return Err(ApiError::invalid(
            field,
            format!(
                "must have {dimensions} numbers (the space's dimensions), not {}",
                vector.len()
            ),
        ));
    }
    if let Some(i) = vector.iter().position(|x| !(*x as f32).is_finite()) {
        return Err(ApiError::invalid(
            format!("{field}[{i}]"),
            "must be a finite 32-bit float",
        ));
    }
    if distance == Distance::Cosine && vector.iter().all(|x| *x as f32 == 0.0) {
        return Err(ApiError::invalid(
            field,
            "must not be all zeros in a cosine space",
        ));
    }
    Ok(vector_text(vector))
}

/// pgvector's text form, `[0.1,0.2]`: how a vector crosses the pg4 boundary.
pub fn vector_text(vector: &[f64]) -> String {
    let items: Vec<String> = vector.iter().map(|x| (*x as f32).to_string()).collect();
    format!("[{}]", items.join(","))
}

/// A list of 1..=[`MAX_TYPES`] relationship or entity types.
fn type_list(errors: &mut Errors, path: &str, v: &Value) -> Option<Vec<String>> {
    let Some(items) = v
        .as_array()
        .filter(|a| !a.is_empty() && a.len() <= MAX_TYPES)
    else {
        errors.push(
            path,
            format!("must be an array of 1 to {MAX_TYPES} type names"),
        );
        return None;
    };
    let before = errors.len();
    let types: Vec<String> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            validate::text(
                errors,
                &format!("{path}[{i}]"),
                item,
                record::TYPE_MAX_CHARS,
            )
        })
        .collect();
    (errors.len() == before).then_some(types)
}

fn read_filter(errors: &mut Errors, path: &str, v: &Value) -> Option<Filter> {
    let Some(obj) = v.as_object() else {
        errors.push(path, "must be a JSON object");
        return None;
    };
    let mut f = Fields::new(obj, path, errors);
    let mut filter = Filter {
        types: f.optional("types", type_list),
        min_confidence: f.optional("min_confidence", record::confidence),
        metadata: f.optional("metadata", record::metadata),
        ..Filter::default()
    };
    filter.owner = f.optional("owner", |errors, path, v| {
        validate::uuid_value(errors, path, v).map(|u| u.to_string())
    });
    for (name, slot) in [
        ("created_after", &mut filter.created_after),
        ("created_before", &mut filter.created_before),
    ] {
        *slot = f.optional(name, |errors, path, v| {
            let utc = v.as_str().and_then(validate::rfc3339_utc);
            if utc.is_none() {
                errors.push(
                    path,
                    "must be an RFC 3339 timestamp, e.g. 2026-01-02T03:04:05Z",
                );
            }
            utc
        });
    }
    filter.include_merged = f
        .optional("include_merged", |errors, path, v| {
            let b = v.as_bool();
            if b.is_none() {
                errors.push(path, "must be true or false");
            }
            b
        })
        .unwrap_or(false);
    f.deny_unknown();
    Some(filter)
}

fn read_expand(errors: &mut Errors, path: &str, v: &Value) -> Option<Expand> {
    let Some(obj) = v.as_object() else {
        errors.push(path, "must be a JSON object");
        return None;
    };
    let before = errors.len();
    let mut f = Fields::new(obj, path, errors);
    let depth = f
        .optional("depth", |errors, path, v| {
            int_in(errors, path, v, 0, MAX_EXPAND_DEPTH)
        })
        .unwrap_or(1);
    let direction = f
        .optional("direction", |errors, path, v| {
            let d = v.as_str().and_then(Direction::parse);
            if d.is_none() {
                errors.push(path, "must be out, in or both");
            }
            d
        })
        .unwrap_or(Direction::Both);
    let types = f.optional("types", type_list);
    let max_nodes = f
        .optional("max_nodes", |errors, path, v| {
            int_in(errors, path, v, 1, MAX_NODES.into())
        })
        .unwrap_or(DEFAULT_NODES.into());
    f.deny_unknown();
    (errors.len() == before).then_some(Expand {
        depth: depth as i32,
        direction,
        types,
        max_nodes: max_nodes as i32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(result: Result<impl std::fmt::Debug>) -> Vec<String> {
        match result.unwrap_err() {
            ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_space_needs_a_good_name_dimensions_and_distance() {
        let ok = parse_space(
            "minilm",
            &obj(json!({"dimensions": 384, "distance": "cosine", "model": "all-MiniLM-L6-v2"})),
        )
        .unwrap();
        assert_eq!(
            (ok.dimensions, ok.distance, ok.model.as_deref()),
            (384, Distance::Cosine, Some("all-MiniLM-L6-v2"))
        );
        assert_eq!(
            fields(parse_space(
                "Bad Name",
                &obj(json!({"dimensions": 2001, "distance": "dot", "model": "", "x": 1}))
            )),
            vec!["name", "dimensions", "distance", "model", "x"]
        );
        assert_eq!(
            fields(parse_space("s", &obj(json!({})))),
            vec!["dimensions", "distance"]
        );
        assert_eq!(
            fields(parse_space(
                "s",
                &obj(json!({"dimensions": 1.5, "distance": "l2"}))
            )),
            vec!["dimensions"]
        );
        for good in ["a", "a-b_c9", &"x".repeat(63)] {
            assert!(is_space_name(good), "{good}");
        }
        for bad in ["", "-a", "_a", "A", "a b", "a.b", &"x".repeat(64)] {
            assert!(!is_space_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_search_needs_text_or_a_vector_with_its_space() {
        assert_eq!(fields(parse_search(&obj(json!({})))), vec!["text"]);
        assert_eq!(
            fields(parse_search(&obj(json!({"vector": [1.0]})))),
            vec!["space"]
        );
        assert_eq!(
            fields(parse_search(&obj(json!({"text": "x", "space": "s"})))),
            vec!["vector"]
        );
        assert_eq!(
            fields(parse_search(&obj(json!({"text": " "})))),
            vec!["text"]
        );
        let r = parse_search(&obj(json!({"text": "ada"}))).unwrap();
        assert_eq!((r.limit, r.candidates(), r.expand), (10, 40, None));
        let r = parse_search(&obj(json!({"text": "ada", "limit": 200}))).unwrap();
        assert_eq!(r.candidates(), 800);
    }

    #[test]
    fn every_bound_and_unknown_field_is_named() {
        let body = json!({
            "text": "x", "limit": 0, "colour": 1,
            "filter": {"types": [], "min_confidence": 2, "metadata": [], "owner": "x",
                       "created_after": "yesterday", "include_merged": "yes", "size": 1},
            "expand": {"depth": 3, "direction": "up", "types": [""], "max_nodes": 1001, "k": 1}
        });
        assert_eq!(
            fields(parse_search(&obj(body))),
            vec![
                "filter.types",
                "filter.min_confidence",
                "filter.metadata",
                "filter.owner",
                "filter.created_after",
                "filter.include_merged",
                "filter.size",
                "limit",
                "expand.depth",
                "expand.direction",
                "expand.types[0]",
                "expand.max_nodes",
                "expand.k",
                "colour",
            ]
        );
        let ok = parse_search(&obj(json!({"text": "x", "limit": 200,
            "expand": {"depth": 0, "direction": "in", "types": ["knows"], "max_nodes": 1000}})))
        .unwrap();
        assert_eq!(
            ok.expand,
            Some(Expand {
                depth: 0,
                direction: Direction::In,
                types: Some(vec!["knows".into()]),
                max_nodes: 1000
            })
        );
    }

    #[test]
    fn a_vector_must_fit_its_space() {
        let field = |r: Result<String>| match r.unwrap_err() {
            ApiError::Validation(e) => e[0].field.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            check_vector("vector", &[0.5, 1.0], 2, Distance::Cosine).unwrap(),
            "[0.5,1]"
        );
        assert_eq!(
            field(check_vector("vector", &[0.5], 2, Distance::L2)),
            "vector"
        );
        assert_eq!(
            field(check_vector("vector", &[0.0, 0.0], 2, Distance::Cosine)),
            "vector"
        );
        assert!(check_vector("vector", &[0.0, 0.0], 2, Distance::L2).is_ok());
        assert_eq!(
            field(check_vector("vector", &[1.0, 1e39], 2, Distance::L2)),
            "vector[1]"
        );
        assert_eq!(
            fields(parse_search(&obj(
                json!({"vector": [1, "a"], "space": "s"})
            ))),
            vec!["vector"]
        );
    }
}
