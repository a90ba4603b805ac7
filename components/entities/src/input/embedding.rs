//! What clients send about an entity's vectors (docs/retrieval.md, "An entity's vectors"): a
//! vector, a batch of them, and the query of `GET /{id}/duplicates`. Checked in two steps: the
//! shape first (an array of numbers, each a finite single-precision number: pgvector stores
//! `float4`), then, once the space is known, its length and (in a `cosine` space) that it is not
//! all zeros ([`fit`]). Pure functions, unit-tested natively.

use serde_json::{Map, Value};
use spingraph_guest::validate::{self, Errors, Fields};
use spingraph_guest::{ApiError, Result};

/// A batch holds 1..=256 vectors.
pub const BATCH_MAX_ITEMS: usize = 256;
/// `limit` of `GET /{id}/duplicates`: 1..=50, 10 when absent.
pub const DUPLICATES_MAX_LIMIT: u32 = 50;
pub const DUPLICATES_DEFAULT_LIMIT: u32 = 10;

/// What a vector must be measured against: its space's dimensions and distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape<'a> {
    pub dimensions: usize,
    pub distance: &'a str,
}

/// The numbers of a vector, as `f32` (what pgvector keeps).
#[derive(Debug, Clone, PartialEq)]
pub struct Numbers(pub Vec<f32>);

impl Numbers {
    /// pgvector's text form, bound as `$n::text::vector`: `[0.1,0.2]` (each number the shortest
    /// text that reads back as the same `f32`).
    pub fn text(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|x| x.to_string()).collect();
        format!("[{}]", parts.join(","))
    }
}

/// `value` as a vector's numbers, errors under `field`: an array of numbers, each finite as a
/// single-precision number.
pub fn numbers(errors: &mut Errors, field: &str, value: &Value) -> Option<Numbers> {
    let Some(items) = value.as_array() else {
        errors.push(field, "must be an array of numbers");
        return None;
    };
    if items.is_empty() {
        errors.push(field, "must hold at least one number");
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_f64() {
            None => {
                errors.push(
                    field,
                    format!("must be an array of numbers ({field}[{i}] is not a number)"),
                );
                return None;
            }
            Some(x) if !(x as f32).is_finite() => {
                errors.push(
                    field,
                    format!(
                        "must hold finite single-precision numbers ({field}[{i}] = {x:?} is out of range)"
                    ),
                );
                return None;
            }
            Some(x) => out.push(x as f32),
        }
    }
    Some(Numbers(out))
}

/// Whether `numbers` fits `shape`, errors under `field`: exactly its dimensions, and not all
/// zeros in a `cosine` space (a zero vector has no direction).
pub fn fit(errors: &mut Errors, field: &str, numbers: &Numbers, shape: Shape) -> bool {
    if numbers.0.len() != shape.dimensions {
        errors.push(
            field,
            format!(
                "must hold exactly {} numbers, the space's dimensions (has {})",
                shape.dimensions,
                numbers.0.len()
            ),
        );
        return false;
    }
    if shape.distance == "cosine" && numbers.0.iter().all(|x| *x == 0.0) {
        errors.push(
            field,
            "must not be all zeros in a cosine space (a zero vector has no direction)",
        );
        return false;
    }
    true
}

/// The body of `PUT /{id}/embeddings/{space}`: `{"vector": [...]}`, nothing else.
pub fn parse_put(body: Value) -> Result<Numbers> {
    let obj = validate::object(body)?;
    let mut errors = Errors::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let numbers = f.required("vector", numbers);
    f.deny_unknown();
    errors.into_result()?;
    numbers.ok_or_else(|| ApiError::internal("a vector passed validation unread"))
}

/// One item of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    pub entity_id: String,
    pub vector: Numbers,
}

/// A validated batch: the space's name and the items, in request order.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorBatch {
    pub space: String,
    pub items: Vec<BatchItem>,
}

/// The body of `POST /embeddings/batch`: `{"space": "s", "items": [{"entity_id", "vector"}]}`,
/// 1..=[`BATCH_MAX_ITEMS`] items, no entity twice. Every error of every item in one 422
/// (`items[3].vector`, `items[4].entity_id`).
pub fn parse_batch(body: Value) -> Result<VectorBatch> {
    let obj = validate::object(body)?;
    let mut errors = Errors::new();
    let mut f = Fields::new(&obj, "", &mut errors);
    let space = f.required("space", |errors, path, v| {
        validate::text(errors, path, v, 63)
    });
    // Read beside `f` (whose borrow of `errors` the items' own errors must not wait for).
    let (items, wrong) = match obj.get("items") {
        None | Some(Value::Null) => (None, Some("is required".to_string())),
        Some(Value::Array(items)) if items.is_empty() || items.len() > BATCH_MAX_ITEMS => (
            None,
            Some(format!(
                "must hold 1 to {BATCH_MAX_ITEMS} items (has {})",
                items.len()
            )),
        ),
        Some(Value::Array(items)) => (Some(items), None),
        Some(_) => (
            None,
            Some("must be an array of {entity_id, vector} objects".to_string()),
        ),
    };
    f.allow("items");
    if let Some(wrong) = wrong {
        f.error("items", wrong);
    }
    f.deny_unknown();
    let mut read = Vec::new();
    if let Some(items) = items {
        for (i, item) in items.iter().enumerate() {
            let prefix = format!("items[{i}]");
            read.push(match item {
                Value::Object(obj) => batch_item(obj, &prefix, &mut errors),
                _ => {
                    errors.push(prefix, "must be a JSON object");
                    None
                }
            });
        }
    }
    let repeated = spingraph_guest::batch::repeats(read.iter().map(Option::as_ref), |item| {
        Some(item.entity_id.clone())
    });
    for (i, first) in repeated {
        errors.push(
            format!("items[{i}].entity_id"),
            format!("repeats items[{first}].entity_id (one vector per entity and space)"),
        );
    }
    if !errors.is_empty() {
        return Err(spingraph_guest::batch::invalid(errors));
    }
    let items = read
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ApiError::internal("a batch item passed validation unread"))?;
    let space = space.ok_or_else(|| ApiError::internal("a space passed validation unread"))?;
    Ok(VectorBatch { space, items })
}

fn batch_item(obj: &Map<String, Value>, prefix: &str, errors: &mut Errors) -> Option<BatchItem> {
    let mut f = Fields::new(obj, prefix, errors);
    let entity_id = f.uuid("entity_id");
    let vector = f.required("vector", numbers);
    f.deny_unknown();
    Some(BatchItem {
        entity_id: entity_id?.to_string(),
        vector: vector?,
    })
}

/// The query of `GET /{id}/duplicates`: `space` (absent or empty: none) and `limit`; a bad
/// `limit` is a 400 naming it.
pub fn parse_duplicates(param: impl Fn(&str) -> Option<String>) -> Result<(Option<String>, u32)> {
    let mut errors = Errors::new();
    let space = param("space").filter(|s| !s.trim().is_empty());
    let limit = match param("limit") {
        None => DUPLICATES_DEFAULT_LIMIT,
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(n) if (1..=DUPLICATES_MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(
                    "limit",
                    format!("must be an integer from 1 to {DUPLICATES_MAX_LIMIT}"),
                );
                DUPLICATES_DEFAULT_LIMIT
            }
        },
    };
    errors.into_query_result()?;
    Ok((space, limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::input::tests::fields;

    const COSINE3: Shape = Shape {
        dimensions: 3,
        distance: "cosine",
    };

    fn checked(v: Value, shape: Shape) -> std::result::Result<Numbers, Vec<String>> {
        let mut errors = Errors::new();
        let n = numbers(&mut errors, "vector", &v);
        let ok = n
            .as_ref()
            .is_some_and(|n| fit(&mut errors, "vector", n, shape));
        match (n, ok) {
            (Some(n), true) => Ok(n),
            _ => Err(errors
                .as_slice()
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect()),
        }
    }

    #[test]
    fn a_vector_is_an_array_of_finite_numbers_of_the_spaces_length() {
        assert_eq!(
            checked(json!([0.5, -1, 2e-3]), COSINE3).unwrap(),
            Numbers(vec![0.5, -1.0, 0.002])
        );
        for (bad, why) in [
            (json!("0.1,0.2"), "must be an array of numbers"),
            (json!([]), "at least one"),
            (json!([0.1, "x", 0.3]), "vector[1] is not a number"),
            (json!([0.1, null, 0.3]), "vector[1] is not a number"),
            (json!([0.1, 1e39, 0.3]), "vector[1] = 1e39 is out of range"),
            (json!([0.1, 0.2]), "exactly 3 numbers"),
            (json!([0.1, 0.2, 0.3, 0.4]), "(has 4)"),
            (json!([0, 0.0, -0.0]), "all zeros"),
            // below f32's smallest positive value: zero once stored
            (json!([1e-50, 0, 0]), "all zeros"),
        ] {
            let errors = checked(bad.clone(), COSINE3).unwrap_err();
            assert_eq!(errors.len(), 1, "{bad}");
            assert!(errors[0].starts_with("vector: "), "{bad}: {errors:?}");
            assert!(errors[0].contains(why), "{bad}: {errors:?}");
        }
        // zeros are a vector in the other distances
        for distance in ["l2", "inner_product"] {
            let shape = Shape {
                dimensions: 2,
                distance,
            };
            assert!(checked(json!([0, 0]), shape).is_ok());
        }
    }

    #[test]
    fn the_text_form_reads_back_as_the_same_numbers() {
        let n = Numbers(vec![0.1, -2.0, 1e-7, 3.4028235e38]);
        let text = n.text();
        assert_eq!(
            text,
            "[0.1,-2,0.0000001,340282350000000000000000000000000000000]"
        );
        let back: Vec<f32> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, n.0);
    }

    #[test]
    fn a_put_body_holds_the_vector_and_nothing_else() {
        assert_eq!(
            parse_put(json!({"vector": [1, 2]})).unwrap(),
            Numbers(vec![1.0, 2.0])
        );
        assert_eq!(fields(parse_put(json!({})).unwrap_err()), vec!["vector"]);
        assert_eq!(
            fields(parse_put(json!({"vector": [1], "space": "s"})).unwrap_err()),
            vec!["space"]
        );
        assert_eq!(parse_put(json!([1, 2])).unwrap_err().status(), 422);
    }

    #[test]
    fn batch_errors_name_each_item_and_field() {
        let id = "0192e4a0-0000-7000-8000-000000000001";
        let ok = parse_batch(json!({"space": "s", "items": [{"entity_id": id, "vector": [1]}]}))
            .unwrap();
        assert_eq!(ok.space, "s");
        assert_eq!(ok.items[0].entity_id, id);
        let err = parse_batch(json!({"space": "s", "items": [
            {"entity_id": id, "vector": [1]},
            {"entity_id": "nope", "vector": [1]},
            {"entity_id": id, "vector": "x"},
            {"entity_id": id, "vector": [2]},
            7,
        ]}))
        .unwrap_err();
        assert_eq!(err.status(), 422);
        assert_eq!(
            fields(err),
            vec![
                "items[1].entity_id",
                "items[2].vector",
                "items[4]",
                "items[3].entity_id"
            ]
        );
        assert_eq!(
            fields(parse_batch(json!({"items": []})).unwrap_err()),
            vec!["space", "items"]
        );
        let many: Vec<Value> = (0..=BATCH_MAX_ITEMS)
            .map(|_| json!({"entity_id": id, "vector": [1]}))
            .collect();
        assert_eq!(
            fields(parse_batch(json!({"space": "s", "items": many})).unwrap_err()),
            vec!["items"]
        );
        assert_eq!(
            fields(parse_batch(json!({"space": "s", "items": [], "x": 1})).unwrap_err()),
            vec!["items", "x"]
        );
    }

    #[test]
    fn duplicates_limit_is_1_to_50_and_space_is_optional() {
        let q = |pairs: &'static [(&'static str, &'static str)]| {
            parse_duplicates(move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert_eq!(q(&[]).unwrap(), (None, 10));
        assert_eq!(q(&[("space", ""), ("limit", "50")]).unwrap(), (None, 50));
        assert_eq!(
            q(&[("space", "minilm")]).unwrap(),
            (Some("minilm".to_string()), 10)
        );
        for bad in ["0", "51", "x", "-1"] {
            let pairs: &'static [(&str, &str)] = Box::leak(Box::new([("limit", bad)]));
            let err = q(pairs).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert_eq!(fields(err), vec!["limit"]);
        }
    }
}
