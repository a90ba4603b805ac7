//! How every component writes SQL: a statement is a named constant with typed positional
//! parameters (`$1::uuid`), bound in order through a [`Query`]; what a builder makes at run time
//! (an audit row, a change-feed row, a list's `WHERE`) fills a named `{slot}` of the constant
//! with [`fill`], its values bound after the statement's own. Nothing a client sends is ever
//! spliced. Also here: the one timestamp format and the JSON shapes shared across components.
//!
//! ```ignore
//! const RESTORE: &str = "WITH r AS (UPDATE ... WHERE id = $1::uuid RETURNING *), log AS ({audit}) SELECT ...";
//! let mut q = Query::of([ParameterValue::Uuid(id)]);
//! let log = audit.insert_one(&mut q, "relationship.restore", "relationship", "r", None);
//! let row: Value = db.value(&sql::fill(RESTORE, &[("audit", &log)]), q.params())?;
//! ```

use spin_sdk::pg4::ParameterValue;

/// RFC 3339 UTC text (microseconds, `Z`) of a `timestamptz` SQL expression, as a string literal
/// for `concat!`: the one timestamp format of the API. Timestamps leave Postgres as text, never
/// as `timestamptz` (SPEC §2).
#[macro_export]
macro_rules! sql_timestamp {
    ($col:literal) => {
        concat!(
            "to_char(",
            $col,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
}

/// `'key', <RFC 3339 text of col>, ...` for `jsonb_build_object`, as a string literal:
/// `sql_timestamps!("created_at" => "e.created_at", "updated_at" => "e.updated_at")`.
#[macro_export]
macro_rules! sql_timestamps {
    ($key:literal => $col:literal $(, $more:literal => $more_col:literal)* $(,)?) => {
        concat!("'", $key, "', ", $crate::sql_timestamp!($col)
            $(, ", '", $more, "', ", $crate::sql_timestamp!($more_col))*)
    };
}

/// The API representation of an entity row aliased `e`, as a `jsonb` SQL expression (a string
/// literal): what the entities component returns and the nodes of the relationships component's
/// graph walks. Deleted rows also carry `deleted_at` and `deleted_by`.
#[macro_export]
macro_rules! entity_json_sql {
    () => {
        concat!(
            "(jsonb_build_object('id', e.id, 'type', e.type, 'name', e.name, ",
            "'confidence', e.confidence, 'metadata', e.metadata, 'owner_id', e.owner_id, ",
            "'external_id', e.external_id, 'version', e.version, ",
            $crate::sql_timestamps!("created_at" => "e.created_at", "updated_at" => "e.updated_at"),
            ") || CASE WHEN e.deleted_at IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(",
            $crate::sql_timestamps!("deleted_at" => "e.deleted_at"),
            ", 'deleted_by', e.deleted_by) || CASE WHEN e.merged_into IS NULL THEN '{}'::jsonb ",
            "ELSE jsonb_build_object('merged_into', e.merged_into) END END)"
        )
    };
}

/// The API representation of a relationship row aliased `r`, as a `jsonb` SQL expression (a
/// string literal); deleted rows also carry `deleted_at` and `deleted_by`.
#[macro_export]
macro_rules! relationship_json_sql {
    () => {
        concat!(
            "(jsonb_build_object('id', r.id, 'source_id', r.source_id, 'target_id', r.target_id, 'type', r.type, ",
            "'confidence', r.confidence, 'metadata', r.metadata, 'created_by', r.created_by, 'version', r.version, ",
            $crate::sql_timestamps!("created_at" => "r.created_at", "updated_at" => "r.updated_at"),
            ") || CASE WHEN r.deleted_at IS NULL THEN '{}'::jsonb ",
            "ELSE jsonb_build_object(", $crate::sql_timestamps!("deleted_at" => "r.deleted_at"), ", 'deleted_by', r.deleted_by) END)"
        )
    };
}

/// `template` with every `{name}` slot of `slots` replaced by its SQL. The fragments come from
/// builders ([`Query::where_clause`], `Audit::insert`, ...) that bound their values in the
/// statement's [`Query`], never from client text.
pub fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    slots
        .iter()
        .fold(template.to_string(), |sql, (name, fragment)| {
            sql.replace(&format!("{{{name}}}"), fragment)
        })
}

/// The parameters of one statement and the conditions of its `WHERE`. Every value is bound,
/// never spliced; [`Query::bind`] returns the placeholder with a cast matching the value's type
/// (`$3::uuid`), so Postgres infers the same type the value carries.
#[derive(Debug, Default)]
pub struct Query {
    params: Vec<ParameterValue>,
    conditions: Vec<String>,
}

impl Query {
    pub fn new() -> Query {
        Query::default()
    }

    /// A query whose first parameters are `values`, in order: the `$1`, `$2`, ... of a named
    /// statement.
    pub fn of(values: impl IntoIterator<Item = ParameterValue>) -> Query {
        let mut q = Query::new();
        for value in values {
            q.bind(value);
        }
        q
    }

    /// Bind a value; returns its typed placeholder (`$1::text`, `$2::uuid`, ...).
    pub fn bind(&mut self, value: ParameterValue) -> String {
        let cast = placeholder_cast(&value);
        self.params.push(value);
        let n = self.params.len();
        match cast {
            Some(cast) => format!("${n}::{cast}"),
            None => format!("${n}"),
        }
    }

    /// AND a condition (built from [`Query::bind`] placeholders).
    pub fn filter(&mut self, condition: impl Into<String>) {
        self.conditions.push(condition.into());
    }

    /// `WHERE a AND b`, or empty.
    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }

    pub fn params(&self) -> &[ParameterValue] {
        &self.params
    }
}

/// The SQL type a parameter is sent as.
pub fn placeholder_cast(value: &ParameterValue) -> Option<&'static str> {
    Some(match value {
        ParameterValue::Boolean(_) => "bool",
        ParameterValue::Int16(_) => "int2",
        ParameterValue::Int32(_) => "int4",
        ParameterValue::Int64(_) => "int8",
        ParameterValue::Floating32(_) => "float4",
        ParameterValue::Floating64(_) => "float8",
        ParameterValue::Str(_) => "text",
        ParameterValue::Uuid(_) => "uuid",
        ParameterValue::Jsonb(_) => "jsonb",
        ParameterValue::ArrayStr(_) => "text[]",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_as_utc_rfc3339_text_with_microseconds() {
        assert_eq!(
            sql_timestamp!("u.created_at"),
            r#"to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#
        );
    }

    #[test]
    fn timestamp_pairs_are_key_then_text() {
        assert_eq!(
            sql_timestamps!("a" => "t.a", "b" => "t.b"),
            concat!(
                "'a', ",
                sql_timestamp!("t.a"),
                ", 'b', ",
                sql_timestamp!("t.b")
            )
        );
    }

    #[test]
    fn a_statement_binds_its_own_values_first_and_fills_its_slots() {
        let mut q = Query::of([
            ParameterValue::Uuid("x".into()),
            ParameterValue::Boolean(true),
        ]);
        let next = q.bind(ParameterValue::Str("t".into()));
        assert_eq!(next, "$3::text");
        let sql = fill(
            "WITH r AS (SELECT $1::uuid), log AS ({audit}) SELECT '{}'::jsonb {audit}",
            &[("audit", "INSERT 1")],
        );
        assert_eq!(
            sql,
            "WITH r AS (SELECT $1::uuid), log AS (INSERT 1) SELECT '{}'::jsonb INSERT 1"
        );
    }

    #[test]
    fn conditions_join_into_one_where_clause() {
        let mut q = Query::new();
        assert_eq!(q.where_clause(), "");
        let t = q.bind(ParameterValue::Str("person".into()));
        q.filter(format!("e.type = {t}"));
        q.filter("e.deleted_at IS NULL");
        assert_eq!(
            q.where_clause(),
            "WHERE e.type = $1::text AND e.deleted_at IS NULL"
        );
        assert_eq!(q.params().len(), 1);
    }
}
