//! Cursor (keyset) pagination for list endpoints. A cursor is the base64url of the last item's
//! (sort key, id) pair and the sort it belongs to; the next page starts strictly after that pair,
//! so rows inserted between pages never shift or repeat what the client has already seen. The
//! page writes its keyset condition and `LIMIT` into the list's [`Query`].
//!
//! ```ignore
//! let page = PageRequest::from_query(ctx, ENTITY_SORTS, Sort::desc(&ENTITY_SORTS[0]))?;
//! let mut q = Query::new();
//! let t = q.bind(ParameterValue::Str(kind));
//! q.filter(format!("e.type = {t}"));
//! page.after_cursor(&mut q, "e");
//! let sql = sql::fill(LIST, &[("where", &q.where_clause()), ("order_by", &page.order_by("e")), ("limit", &page.limit_sql())]);
//! let rows: Vec<Value> = db.json(&sql, q.params())?;
//! Ok(Reply::ok(&page.page(rows)))
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spin_sdk::pg4::ParameterValue;

use crate::context::Ctx;
use crate::error::{ApiError, Result};
use crate::sql::Query;
use crate::validate::{self, Errors};

/// `limit` when the client sends none.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u32 = 200;

/// How a sort key's values are compared in SQL and carried in the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `timestamptz`, carried as the item's RFC 3339 text (microsecond precision).
    Timestamp,
    /// `text`.
    Text,
    /// `float8`.
    Float,
}

/// One sortable key of a resource.
#[derive(Debug)]
pub struct SortKey {
    /// The API name (`sort=name`), also the item's JSON field holding the value.
    pub name: &'static str,
    /// The column, without table alias (`created_at`).
    pub column: &'static str,
    pub kind: KeyKind,
}

impl SortKey {
    /// `sort=created_at`: the creation time every resource table has.
    pub const CREATED_AT: SortKey = SortKey::new("created_at", KeyKind::Timestamp);
    /// `sort=confidence`: the `confidence` column entities and relationships share.
    pub const CONFIDENCE: SortKey = SortKey::new("confidence", KeyKind::Float);

    /// A key whose API name is its column's name.
    pub const fn new(name: &'static str, kind: KeyKind) -> SortKey {
        SortKey {
            name,
            column: name,
            kind,
        }
    }
}

/// A sort order: a key and a direction; ties are broken by `id` in the same direction.
#[derive(Debug, Clone, Copy)]
pub struct Sort {
    pub key: &'static SortKey,
    pub descending: bool,
}

impl Sort {
    pub fn asc(key: &'static SortKey) -> Sort {
        Sort {
            key,
            descending: false,
        }
    }
    pub fn desc(key: &'static SortKey) -> Sort {
        Sort {
            key,
            descending: true,
        }
    }

    /// `name` or `-name` among `keys`.
    pub fn parse(raw: &str, keys: &'static [SortKey]) -> Option<Sort> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        keys.iter()
            .find(|k| k.name == name)
            .map(|key| Sort { key, descending })
    }

    /// The `sort` parameter spelling (`-created_at`).
    pub fn as_param(&self) -> String {
        if self.descending {
            format!("-{}", self.key.name)
        } else {
            self.key.name.to_string()
        }
    }

    /// `e.created_at DESC, e.id DESC` for table alias `e`.
    pub fn order_by(&self, alias: &str) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        format!("{alias}.{} {dir}, {alias}.id {dir}", self.key.column)
    }
}

/// Where the next page starts: strictly after (`key`, `id`) in `sort` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort this cursor belongs to (`-created_at`); a cursor never crosses sorts.
    #[serde(rename = "s")]
    pub sort: String,
    /// The last item's sort-key value (RFC 3339 text, string or number).
    #[serde(rename = "k")]
    pub key: Value,
    /// The last item's id.
    #[serde(rename = "i")]
    pub id: String,
}

impl Cursor {
    /// The opaque form clients pass back.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Decode and check an opaque cursor against `sort`; `None` when it is not one of ours.
    pub fn decode(raw: &str, sort: &Sort) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim().trim_end_matches('='))
            .ok()?;
        let mut cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        validate::uuid_str(&cursor.id)?;
        if cursor.sort != sort.as_param() {
            return None;
        }
        match (sort.key.kind, &cursor.key) {
            // Read as the list filters read timestamps: an instant Postgres accepts, or no cursor.
            (KeyKind::Timestamp, Value::String(s)) => {
                cursor.key = Value::String(validate::rfc3339_utc(s)?);
            }
            (KeyKind::Text, Value::String(s)) if !s.contains('\0') => {}
            (KeyKind::Float, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {}
            _ => return None,
        }
        Some(cursor)
    }
}

/// One page of a list response: `{ "items": [...], "next_cursor": "..." | null }`.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
}

impl Page {
    /// Up to `limit + 1` rows, fetched in list order, as a page of at most `limit`; when the
    /// extra row shows another page exists, `cursor` of the last row shown is its `next_cursor`.
    fn of(mut rows: Vec<Value>, limit: u32, cursor: impl FnOnce(&Value) -> Option<String>) -> Page {
        let limit = limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().and_then(cursor)
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// `limit`, `sort` and `cursor` of a list request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u32,
    pub sort: Sort,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Read `limit` (1..=200, default 50), `sort` (one of `keys`, `-` for descending) and `cursor`
    /// from the query string; a bad value is a 400 naming the parameter.
    pub fn from_query(ctx: &Ctx, keys: &'static [SortKey], default: Sort) -> Result<PageRequest> {
        let mut errors = Errors::new();
        let page = PageRequest::parse(
            ctx.query_param("limit").as_deref(),
            ctx.query_param("sort").as_deref(),
            ctx.query_param("cursor").as_deref(),
            keys,
            default,
            &mut errors,
        );
        errors.into_query_result()?;
        page.ok_or_else(|| ApiError::bad_request("Invalid pagination parameters."))
    }

    /// [`PageRequest::from_query`] on raw values, collecting errors (400 field names).
    pub fn parse(
        limit: Option<&str>,
        sort: Option<&str>,
        cursor: Option<&str>,
        keys: &'static [SortKey],
        default: Sort,
        errors: &mut Errors,
    ) -> Option<PageRequest> {
        let limit = parse_limit(limit, errors);
        // An empty `sort=` is not one of the enum's values (`limit=` is rejected the same way).
        let sort = match sort.map(str::trim) {
            None => Some(default),
            Some(raw) => Sort::parse(raw, keys).or_else(|| {
                let names: Vec<&str> = keys.iter().map(|k| k.name).collect();
                errors.push(
                    "sort",
                    format!(
                        "must be one of {} (prefix - for descending)",
                        names.join(", ")
                    ),
                );
                None
            }),
        };
        let after = match (cursor.map(str::trim), sort) {
            (None | Some(""), _) => None,
            (Some(raw), Some(sort)) => match Cursor::decode(raw, &sort) {
                Some(c) => Some(c),
                None => {
                    errors.push(
                        "cursor",
                        "is not a cursor this list (with this sort) returned",
                    );
                    return None;
                }
            },
            (Some(_), None) => None,
        };
        Some(PageRequest {
            limit: limit?,
            sort: sort?,
            after,
        })
    }

    /// Add the keyset condition "after the cursor" on table alias `alias` to `q`.
    pub fn after_cursor(&self, q: &mut Query, alias: &str) {
        let Some(cursor) = &self.after else {
            return;
        };
        let key = match (self.sort.key.kind, &cursor.key) {
            (KeyKind::Timestamp, Value::String(s)) => {
                format!("{}::timestamptz", q.bind(ParameterValue::Str(s.clone())))
            }
            (KeyKind::Text, Value::String(s)) => q.bind(ParameterValue::Str(s.clone())),
            (KeyKind::Float, v) => q.bind(ParameterValue::Floating64(v.as_f64().unwrap_or(0.0))),
            // decode() admits only the pairs above
            _ => return,
        };
        let id = q.bind(ParameterValue::Uuid(cursor.id.clone()));
        let op = if self.sort.descending { "<" } else { ">" };
        q.filter(format!(
            "({alias}.{col}, {alias}.id) {op} ({key}, {id})",
            col = self.sort.key.column
        ));
    }

    /// `ORDER BY` terms for table alias `alias`.
    pub fn order_by(&self, alias: &str) -> String {
        self.sort.order_by(alias)
    }

    /// `limit + 1` (one extra row tells whether another page exists), to write after `LIMIT`:
    /// a literal (a validated integer, never client text) rather than a parameter, so that a
    /// generic plan (a statement the host keeps) knows it fetches a page and reads an index in
    /// order, instead of planning for an unknown row count and sorting the table (issue 26).
    pub fn limit_sql(&self) -> String {
        (u64::from(self.limit) + 1).to_string()
    }

    /// Turn up to `limit + 1` rows (in sort order) into a page with its `next_cursor`.
    pub fn page(&self, rows: Vec<Value>) -> Page {
        Page::of(rows, self.limit, |last| {
            Some(
                Cursor {
                    sort: self.sort.as_param(),
                    key: last.get(self.sort.key.name)?.clone(),
                    id: last.get("id")?.as_str()?.to_string(),
                }
                .encode(),
            )
        })
    }
}

/// `limit`: absent is [`DEFAULT_LIMIT`], else an integer 1..=[`MAX_LIMIT`]; anything else, an
/// empty `?limit=` included, is an error (the parameter is an integer, as openapi.yaml says).
fn parse_limit(raw: Option<&str>, errors: &mut Errors) -> Option<u32> {
    match raw.map(str::trim) {
        None => Some(DEFAULT_LIMIT),
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Some(n),
            _ => {
                errors.push("limit", format!("must be an integer from 1 to {MAX_LIMIT}"));
                None
            }
        },
    }
}

/// `limit` and `cursor` of a list with one fixed order, by id (UUIDv7: creation order), such as
/// users and API keys. The cursor is the last id of the previous page.
///
/// ```ignore
/// let page = IdPage::from_query(ctx)?;
/// // ... WHERE $1::uuid IS NULL OR u.id > $1::uuid ORDER BY u.id LIMIT $2::int8
/// let rows: Vec<Value> = db.json(SQL, &[page.after_param(), page.limit_param()])?;
/// Ok(Reply::ok(&page.page(rows)))
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdPage {
    pub limit: u32,
    pub after: Option<uuid::Uuid>,
}

impl IdPage {
    /// Read `limit` and `cursor` from the query string; a bad value is a 400 naming it.
    pub fn from_query(ctx: &Ctx) -> Result<IdPage> {
        let mut errors = Errors::new();
        let page = IdPage::parse(
            ctx.query_param("limit").as_deref(),
            ctx.query_param("cursor").as_deref(),
            &mut errors,
        );
        errors.into_query_result()?;
        page.ok_or_else(|| ApiError::bad_request("Invalid pagination parameters."))
    }

    /// [`IdPage::from_query`] on raw values, collecting errors.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>, errors: &mut Errors) -> Option<IdPage> {
        let limit = parse_limit(limit, errors);
        let after = match cursor.map(str::trim) {
            None | Some("") => Some(None),
            Some(raw) => match validate::uuid_str(raw) {
                Some(id) => Some(Some(id)),
                None => {
                    errors.push("cursor", "is not a cursor this list returned");
                    None
                }
            },
        };
        Some(IdPage {
            limit: limit?,
            after: after?,
        })
    }

    /// The cursor's id, or a typed SQL `NULL` on the first page.
    pub fn after_param(&self) -> ParameterValue {
        match self.after {
            Some(id) => ParameterValue::Uuid(id.to_string()),
            None => ParameterValue::DbNull,
        }
    }

    /// `limit + 1`: one extra row tells whether another page exists.
    pub fn limit_param(&self) -> ParameterValue {
        ParameterValue::Int64(i64::from(self.limit) + 1)
    }

    /// Up to `limit + 1` rows (in list order) as a page whose cursor is the last id shown.
    pub fn page(&self, rows: Vec<Value>) -> Page {
        Page::of(rows, self.limit, |last| {
            last.get("id")?.as_str().map(str::to_string)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static KEYS: &[SortKey] = &[
        SortKey::CREATED_AT,
        SortKey::new("name", KeyKind::Text),
        SortKey::CONFIDENCE,
    ];

    const ID: &str = "0192e4a0-0000-7000-8000-000000000001";

    fn parse(
        limit: Option<&str>,
        sort: Option<&str>,
        cursor: Option<&str>,
    ) -> (Option<PageRequest>, Vec<String>) {
        let mut errors = Errors::new();
        let p = PageRequest::parse(limit, sort, cursor, KEYS, Sort::desc(&KEYS[0]), &mut errors);
        (
            p,
            errors.as_slice().iter().map(|e| e.field.clone()).collect(),
        )
    }

    #[test]
    fn limit_defaults_to_50_and_accepts_1_to_200() {
        assert_eq!(parse(None, None, None).0.unwrap().limit, 50);
        assert_eq!(parse(Some("1"), None, None).0.unwrap().limit, 1);
        assert_eq!(parse(Some("200"), None, None).0.unwrap().limit, 200);
        for bad in ["0", "201", "-1", "x", "1.5", "", " "] {
            assert_eq!(parse(Some(bad), None, None).1, vec!["limit"], "{bad}");
        }
    }

    #[test]
    fn sort_accepts_known_keys_with_direction() {
        let p = parse(None, Some("-name"), None).0.unwrap();
        assert_eq!(p.sort.as_param(), "-name");
        assert_eq!(p.order_by("e"), "e.name DESC, e.id DESC");
        let p = parse(None, Some("confidence"), None).0.unwrap();
        assert_eq!(p.order_by("e"), "e.confidence ASC, e.id ASC");
        for bad in ["id; DROP TABLE x", "", " ", "-", "id"] {
            assert_eq!(parse(None, Some(bad), None).1, vec!["sort"], "{bad:?}");
        }
    }

    #[test]
    fn cursor_round_trips_and_is_bound_to_its_sort() {
        let p = parse(Some("2"), Some("name"), None).0.unwrap();
        let rows = vec![
            json!({"id": ID, "name": "a"}),
            json!({"id": ID, "name": "b"}),
            json!({"id": ID, "name": "c"}),
        ];
        let page = p.page(rows);
        assert_eq!(page.items.len(), 2);
        let cursor = page.next_cursor.unwrap();
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let next = parse(Some("2"), Some("name"), Some(&cursor)).0.unwrap();
        assert_eq!(next.after.as_ref().unwrap().key, json!("b"));
        // the same cursor under another sort is rejected
        assert_eq!(parse(None, Some("-name"), Some(&cursor)).1, vec!["cursor"]);
        assert_eq!(parse(None, None, Some("not-a-cursor")).1, vec!["cursor"]);
    }

    #[test]
    fn timestamp_cursors_are_read_as_utc_instants_postgres_accepts() {
        let forged = |key: &str| {
            Cursor {
                sort: "-created_at".into(),
                key: json!(key),
                id: ID.into(),
            }
            .encode()
        };
        let issued = "2026-01-02T03:04:05.123456Z";
        let p = parse(None, None, Some(&forged(issued))).0.unwrap();
        assert_eq!(
            p.after.unwrap().key,
            json!(issued),
            "a cursor we issued is kept as is"
        );
        let p = parse(None, None, Some(&forged("2026-01-02T23:04:05-20:00")))
            .0
            .unwrap();
        assert_eq!(p.after.unwrap().key, json!("2026-01-03T19:04:05.000000Z"));
        for bad in ["2026-02-31T00:00:00Z", "yesterday"] {
            assert_eq!(
                parse(None, None, Some(&forged(bad))).1,
                vec!["cursor"],
                "{bad}"
            );
        }
    }

    #[test]
    fn last_page_has_no_next_cursor() {
        let p = parse(Some("2"), None, None).0.unwrap();
        let page = p.page(vec![
            json!({"id": ID, "created_at": "2026-01-01T00:00:00.000000Z"}),
        ]);
        assert_eq!(page.next_cursor, None);
        let body = serde_json::to_value(&page).unwrap();
        assert_eq!(body["next_cursor"], Value::Null);
        let empty = serde_json::to_value(p.page(vec![])).unwrap();
        assert_eq!(empty, json!({"items": [], "next_cursor": null}));
    }

    #[test]
    fn keyset_condition_binds_key_and_id_in_sort_direction() {
        let cursor = Cursor {
            sort: "-created_at".into(),
            key: json!("2026-01-01T00:00:00.000001Z"),
            id: ID.into(),
        }
        .encode();
        let p = parse(None, None, Some(&cursor)).0.unwrap();
        let mut q = Query::new();
        let t = q.bind(ParameterValue::Str("person".into()));
        q.filter(format!("e.type = {t}"));
        p.after_cursor(&mut q, "e");
        assert_eq!(
            q.where_clause(),
            "WHERE e.type = $1::text AND (e.created_at, e.id) < ($2::text::timestamptz, $3::uuid)"
        );
        assert_eq!(p.limit_sql(), "51");
        assert_eq!(q.params().len(), 3);
    }

    #[test]
    fn float_cursor_compares_ascending() {
        let cursor = Cursor {
            sort: "confidence".into(),
            key: json!(0.25),
            id: ID.into(),
        }
        .encode();
        let p = parse(None, Some("confidence"), Some(&cursor)).0.unwrap();
        let mut q = Query::new();
        p.after_cursor(&mut q, "e");
        assert_eq!(
            q.where_clause(),
            "WHERE (e.confidence, e.id) > ($1::float8, $2::uuid)"
        );
    }

    #[test]
    fn id_pages_parse_limit_and_cursor_and_name_bad_ones() {
        let mut e = Errors::new();
        let first = IdPage::parse(None, None, &mut e).unwrap();
        assert_eq!(first.limit, DEFAULT_LIMIT);
        assert_eq!(first.after, None);
        assert!(matches!(first.after_param(), ParameterValue::DbNull));
        let id = "01a223dd-5272-75b5-a64f-49d7ea20b6ac";
        let next = IdPage::parse(Some("2"), Some(id), &mut e).unwrap();
        assert_eq!(next.after.unwrap().to_string(), id);
        assert!(matches!(next.limit_param(), ParameterValue::Int64(3)));
        assert!(e.is_empty());
        for (limit, cursor, field) in [
            (Some("0"), None, "limit"),
            (Some("201"), None, "limit"),
            (Some("x"), None, "limit"),
            (Some(""), None, "limit"),
            (None, Some("not-a-cursor"), "cursor"),
        ] {
            let mut e = Errors::new();
            assert!(IdPage::parse(limit, cursor, &mut e).is_none());
            let err = e.into_query_result().unwrap_err();
            match err {
                ApiError::InvalidQuery(errors) => assert_eq!(errors[0].field, field),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn id_page_cursor_is_the_last_id_shown_when_more_rows_exist() {
        let page = IdPage {
            limit: 2,
            after: None,
        };
        let rows = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| serde_json::json!({"id": format!("id-{i}")}))
                .collect()
        };
        let full = page.page(rows(3));
        assert_eq!(full.items.len(), 2);
        assert_eq!(full.next_cursor.as_deref(), Some("id-1"));
        let last = page.page(rows(2));
        assert_eq!(last.items.len(), 2);
        assert_eq!(last.next_cursor, None);
    }
}
