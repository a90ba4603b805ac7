//! What every batch write shares (`POST /v1/entities/batch`, `POST /v1/relationships/batch`):
//! the body `{"items": [...], "on_conflict"?}` (or a bare array) of 1..=[`MAX_ITEMS`] items read
//! one by one under `items[i]`, what to do with an item that conflicts with a live row
//! ([`OnConflict`]), and the answer `{items, outcomes}` ([`reply`]). The body cap is
//! `body::BATCH_LIMIT`.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use spin_sdk::pg4::ParameterValue;

use crate::error::{ApiError, Result};
use crate::reply::Reply;
use crate::validate::Errors;

/// Most items one batch may carry.
pub const MAX_ITEMS: usize = 1000;
/// Most field errors one 422 lists (a batch of broken items could otherwise produce thousands).
pub const MAX_REPORTED_ERRORS: usize = 100;

/// What a batch does with an item that a live row already stands for (an entity's natural key,
/// a relationship's active source, target and type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// The batch fails with a 409 naming the item (the default).
    #[default]
    Error,
    /// The existing row stays as it is (and is the item's answer).
    Skip,
    /// The existing row takes the item's values.
    Update,
}

impl OnConflict {
    pub fn parse(raw: &str) -> Option<OnConflict> {
        match raw {
            "error" => Some(OnConflict::Error),
            "skip" => Some(OnConflict::Skip),
            "update" => Some(OnConflict::Update),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OnConflict::Error => "error",
            OnConflict::Skip => "skip",
            OnConflict::Update => "update",
        }
    }
}

/// A validated batch body.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<T> {
    pub items: Vec<T>,
    pub on_conflict: OnConflict,
}

/// Read a batch of `noun` (`entities`, `relationships`): `{"items": [...], "on_conflict"?}` or a
/// bare array, 1..=[`MAX_ITEMS`] items, each an object read by `read` under its prefix
/// (`items[3]`), then `across` on what was read (`None` where an item was not: indexes stay the
/// request's) for rules between items. Every error of every item is one 422 (at most
/// [`MAX_REPORTED_ERRORS`] listed).
pub fn parse<T>(
    body: Value,
    noun: &str,
    mut read: impl FnMut(&Map<String, Value>, &str, &mut Errors) -> Option<T>,
    across: impl FnOnce(&[Option<T>], &mut Errors),
) -> Result<Batch<T>> {
    let mut on_conflict = OnConflict::default();
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut obj) => {
            let items = obj.remove("items");
            let mut errors = Errors::new();
            let raw = obj.remove("on_conflict");
            match raw
                .as_ref()
                .map(|raw| raw.as_str().and_then(OnConflict::parse))
            {
                None => {}
                Some(Some(parsed)) => on_conflict = parsed,
                Some(None) => {
                    errors.push("on_conflict", "must be one of `error`, `skip`, `update`")
                }
            }
            for key in obj.keys() {
                errors.push(key.clone(), "unknown field");
            }
            match items {
                Some(Value::Array(items)) => {
                    errors.into_result()?;
                    items
                }
                Some(_) => {
                    errors.push("items", format!("must be an array of {noun}"));
                    return Err(invalid(errors));
                }
                None => {
                    errors.push("items", "is required");
                    return Err(invalid(errors));
                }
            }
        }
        _ => return Err(ApiError::invalid("body", "must be an object with `items`")),
    };
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            "items",
            format!("must hold 1 to {MAX_ITEMS} {noun} (has {})", items.len()),
        ));
    }
    let mut errors = Errors::new();
    let read: Vec<Option<T>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let prefix = format!("items[{i}]");
            match item {
                Value::Object(obj) => read(obj, &prefix, &mut errors),
                _ => {
                    errors.push(prefix, "must be a JSON object");
                    None
                }
            }
        })
        .collect();
    across(&read, &mut errors);
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let items = read.into_iter().collect::<Option<Vec<T>>>();
    let items = items.ok_or_else(|| ApiError::internal("a batch item passed validation unread"))?;
    Ok(Batch { items, on_conflict })
}

/// Each item whose `key` an earlier item has, as `(index, index of the first)`; items without a
/// key (`None`, or not read) repeat nothing.
pub fn repeats<'a, T: 'a, K: Eq + Hash>(
    items: impl IntoIterator<Item = Option<&'a T>>,
    key: impl Fn(&'a T) -> Option<K>,
) -> Vec<(usize, usize)> {
    let mut first: HashMap<K, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if let Some(k) = item.and_then(&key) {
            match first.get(&k) {
                Some(&j) => out.push((i, j)),
                None => {
                    first.insert(k, i);
                }
            }
        }
    }
    out
}

/// `items` as one jsonb parameter for `jsonb_to_recordset`: an array of the objects `row` makes
/// of them, each with its index as `ord` (so a statement answers in request order).
pub fn rows<T>(items: &[T], row: impl Fn(&T) -> Value) -> ParameterValue {
    let rows: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(ord, item)| {
            let mut row = row(item);
            if let Value::Object(fields) = &mut row {
                fields.insert("ord".into(), json!(ord));
            }
            row
        })
        .collect();
    ParameterValue::Jsonb(Value::Array(rows).to_string().into_bytes())
}

/// A 422 listing `errors`, at most [`MAX_REPORTED_ERRORS`] of them.
pub fn invalid(errors: Errors) -> ApiError {
    let mut list = errors.as_slice().to_vec();
    list.truncate(MAX_REPORTED_ERRORS);
    ApiError::Validation(list)
}

/// What a batch did with one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    /// A live row stood for the item (`on_conflict: skip`): that one is the item's answer.
    Skipped,
}

/// The answer of a batch: `{items, outcomes}` in request order, `outcomes[i]` saying what
/// happened to `items[i]`; 201 when an item was created, else 200.
pub fn reply<T: Serialize>(stored: impl IntoIterator<Item = (T, Outcome)>) -> Reply {
    let (items, outcomes): (Vec<T>, Vec<Outcome>) = stored.into_iter().unzip();
    let status = if outcomes.contains(&Outcome::Created) {
        201
    } else {
        200
    };
    Reply::json(status, &json!({ "items": items, "outcomes": outcomes }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(e) => e.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    /// Items `{"n": <string>}`; a batch of them.
    fn names(body: Value) -> Result<Batch<String>> {
        parse(
            body,
            "things",
            |obj, prefix, errors| match obj.get("n").and_then(Value::as_str) {
                Some(n) => Some(n.to_string()),
                None => {
                    errors.push(format!("{prefix}.n"), "is required");
                    None
                }
            },
            |items, errors| {
                for (i, j) in repeats(items.iter().map(Option::as_ref), |n| Some(n.clone())) {
                    errors.push(format!("items[{i}].n"), format!("repeats items[{j}]"));
                }
            },
        )
    }

    #[test]
    fn a_batch_is_an_object_with_items_or_a_bare_array() {
        let b = names(json!({"items": [{"n": "a"}], "on_conflict": "update"})).unwrap();
        assert_eq!(
            (b.items, b.on_conflict),
            (vec!["a".into()], OnConflict::Update)
        );
        let b = names(json!([{"n": "a"}, {"n": "b"}])).unwrap();
        assert_eq!((b.items.len(), b.on_conflict), (2, OnConflict::Error));
        assert_eq!(
            fields(names(json!({"things": [], "on_conflict": 1})).unwrap_err()),
            ["on_conflict", "things", "items"]
        );
        assert_eq!(fields(names(json!({"items": {}})).unwrap_err()), ["items"]);
        assert_eq!(fields(names(json!("x")).unwrap_err()), ["body"]);
    }

    #[test]
    fn a_batch_holds_1_to_1000_items() {
        let many = |n: usize| {
            json!(
                (0..n)
                    .map(|i| json!({"n": i.to_string()}))
                    .collect::<Vec<_>>()
            )
        };
        assert_eq!(names(many(1000)).unwrap().items.len(), 1000);
        for n in [0, 1001] {
            assert_eq!(fields(names(many(n)).unwrap_err()), ["items"], "{n}");
        }
    }

    #[test]
    fn errors_name_the_item_index_even_after_a_broken_item() {
        let err = names(json!([{"x": 1}, "no", {"n": "a"}, {"n": "b"}, {"n": "a"}])).unwrap_err();
        assert_eq!(fields(err), ["items[0].n", "items[1]", "items[4].n"]);
    }

    #[test]
    fn at_most_100_errors_are_listed() {
        let broken = json!((0..500).map(|_| json!({})).collect::<Vec<_>>());
        assert_eq!(
            fields(names(broken).unwrap_err()).len(),
            MAX_REPORTED_ERRORS
        );
    }

    #[test]
    fn rows_carry_their_index_as_ord() {
        let ParameterValue::Jsonb(bytes) = rows(&["a", "b"], |n| json!({ "n": n })) else {
            panic!("not jsonb");
        };
        let rows: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(rows, json!([{"n": "a", "ord": 0}, {"n": "b", "ord": 1}]));
    }

    #[test]
    fn a_batch_is_201_when_it_created_anything() {
        let created = reply([(1, Outcome::Skipped), (2, Outcome::Created)]);
        assert_eq!(created.status(), 201);
        let none = reply([(1, Outcome::Updated), (2, Outcome::Skipped)]);
        assert_eq!(none.status(), 200);
    }
}
