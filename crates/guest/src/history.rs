//! As-of reads (issue 29): the graph as it was at an instant (transaction time), answered from
//! the change feed. Every mutation of an entity or relationship appends its document after the
//! change to `changes` in the same statement ([`crate::changes`]), so the newest row of a resource
//! at or before an instant is the resource as it was then: a tombstone (NULL document) means
//! deleted, and a soft-deleted entity hides its relationships exactly as it does live.
//!
//! [`AsOf::scope`] puts two CTEs named `entities` and `relationships` in front of a read
//! statement. A CTE's name shadows the table's, so the same statement that reads the live tables
//! reads the history instead, with no second copy of any query:
//!
//! ```ignore
//! let as_of = AsOf::read(ctx, &db, include_deleted)?; // 400 / 422 naming `as_of`
//! let entity: Option<Entity> = db.json(&history::scoped(as_of.as_ref(), sql::FIND), &params)?;
//! ```
//!
//! The instant is the changes' `at` (their transaction's start, `now()`). An instant before the
//! history horizon (`history_retention_days` back, or where the recorded history starts: the
//! `history` table) or in the future is a 422 naming `as_of`.
//!
//! Cost: a look-up by id (an entity, a relationship, an export page's ends and keyset) probes
//! `changes (resource_id, ...)`; a list or a walk reads each resource's history up to the
//! instant once per statement. As-of reads are for audits and publishing, not the hot path.

use std::borrow::Cow;

use serde::Deserialize;
use spin_sdk::pg4::ParameterValue;

use crate::db::Db;
use crate::error::{ApiError, FieldError, Result};
use crate::validate::{self, Errors};
use crate::{Ctx, sql_timestamps};

/// The query parameter.
pub const PARAM: &str = "as_of";

/// How many days back as-of reads reach (a Spin variable).
pub const RETENTION_VARIABLE: &str = "history_retention_days";

/// [`RETENTION_VARIABLE`] when unset.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// The columns of `entities` a document carries (the API's entity JSON), `id` aside.
const ENTITY_COLUMNS: &str = "type name confidence metadata owner_id version created_at updated_at \
                              deleted_at deleted_by external_id merged_into";

/// The columns of `relationships` a document carries, `id` aside.
const RELATIONSHIP_COLUMNS: &str = "source_id target_id type confidence metadata created_by \
                                    version created_at updated_at deleted_at deleted_by";

/// Why `include_deleted` and `as_of` do not go together.
pub const NOT_WITH_DELETED: &str =
    "cannot be combined with as_of: the history keeps what was live at an instant";

/// A validated instant: UTC RFC 3339 as [`validate::rfc3339_utc`] writes it (digits, `-`, `:`,
/// `.`, `T` and `Z` only), so it is spliced into statements as a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsOf(String);

impl AsOf {
    /// `as_of` from the request's query: `None` when absent or empty, a 400 naming it when it is
    /// not an RFC 3339 timestamp.
    pub fn from_query(ctx: &Ctx) -> Result<Option<AsOf>> {
        let mut errors = Errors::new();
        let found = AsOf::parse(&mut errors, ctx.query_param(PARAM).as_deref());
        errors.into_query_result()?;
        Ok(found)
    }

    /// `as_of` of a read on `db`: [`AsOf::from_query`], then [`AsOf::check`]. With
    /// `include_deleted` set it is a 400: the history keeps what was live.
    pub fn read(ctx: &Ctx, db: &Db, include_deleted: bool) -> Result<Option<AsOf>> {
        let Some(t) = AsOf::from_query(ctx)? else {
            return Ok(None);
        };
        if include_deleted {
            return Err(ApiError::InvalidQuery(vec![FieldError::new(
                "include_deleted",
                NOT_WITH_DELETED,
            )]));
        }
        t.check(ctx, db)?;
        Ok(Some(t))
    }

    /// [`AsOf::from_query`] for a parser collecting its parameters' errors in `errors`.
    pub fn parse(errors: &mut Errors, raw: Option<&str>) -> Option<AsOf> {
        let raw = raw.map(str::trim).filter(|v| !v.is_empty())?;
        let found = validate::rfc3339_utc(raw).map(AsOf);
        if found.is_none() {
            errors.push(
                PARAM,
                "must be an RFC 3339 timestamp, e.g. 2026-01-02T03:04:05Z",
            );
        }
        found
    }

    /// The instant, as the API writes timestamps.
    pub fn instant(&self) -> &str {
        &self.0
    }

    /// A 422 naming `as_of` when the instant is before the history horizon or in the future
    /// (one round trip).
    pub fn check(&self, ctx: &Ctx, db: &Db) -> Result<()> {
        let days = ctx
            .config
            .parse_or(RETENTION_VARIABLE, DEFAULT_RETENTION_DAYS)?;
        #[derive(Deserialize)]
        struct Horizon {
            horizon: String,
            before: bool,
            future: bool,
        }
        let found: Horizon = db.json(
            HORIZON,
            &[
                ParameterValue::Str(self.0.clone()),
                ParameterValue::Int32(i32::try_from(days).unwrap_or(i32::MAX)),
            ],
        )?;
        if found.before {
            return Err(ApiError::invalid(
                PARAM,
                format!(
                    "is before the history horizon {}: as-of reads reach back {days} days \
                     ({RETENTION_VARIABLE}) and no further than the recorded history",
                    found.horizon
                ),
            ));
        }
        if found.future {
            return Err(ApiError::invalid(PARAM, "is in the future"));
        }
        Ok(())
    }

    /// `statement` reading `entities` and `relationships` as they were at this instant. The
    /// entities CTE is always inlined, so a look-up by id probes `changes` by `resource_id`; the
    /// relationships CTE is left to the planner (inlined when read once, computed once when a
    /// walk reads it at every level).
    pub fn scope(&self, statement: &str) -> String {
        let ctes = format!(
            "entities AS NOT MATERIALIZED ({}), relationships AS ({})",
            self.documents("entity", "entities", ENTITY_COLUMNS),
            self.documents("relationship", "relationships", RELATIONSHIP_COLUMNS),
        );
        let trimmed = statement.trim_start();
        for head in ["WITH RECURSIVE ", "WITH "] {
            if let Some(rest) = trimmed.strip_prefix(head) {
                return format!("{head}{ctes}, {rest}");
            }
        }
        format!("WITH {ctes} {trimmed}")
    }

    /// The rows of `table` as they were: each resource's newest change at or before the instant,
    /// unless a tombstone. `id` comes from the change row itself, so a condition on it reaches
    /// the `changes (resource_id, ...)` index.
    fn documents(&self, kind: &str, table: &str, columns: &str) -> String {
        let columns: String = columns
            .split_whitespace()
            .map(|c| format!(", d.{c}"))
            .collect();
        format!(
            "SELECT h.id{columns} FROM (SELECT DISTINCT ON (c.resource_id) c.resource_id AS id, \
             c.document FROM changes c WHERE c.kind = '{kind}' AND c.at <= '{at}'::timestamptz \
             ORDER BY c.resource_id, c.seq DESC) h CROSS JOIN LATERAL \
             jsonb_populate_record(NULL::{table}, h.document) d WHERE h.document IS NOT NULL",
            at = self.0,
        )
    }
}

/// `statement` as of `as_of`, or as it is (reading the live tables, not copied: live reads are
/// the hot path) when there is none.
pub fn scoped<'a>(as_of: Option<&AsOf>, statement: &'a str) -> Cow<'a, str> {
    match as_of {
        Some(t) => Cow::Owned(t.scope(statement)),
        None => Cow::Borrowed(statement),
    }
}

/// `{horizon, before, future}` of instant $1 with $2 days of retention: the horizon is the later
/// of `now() - $2 days` and where the recorded history starts.
const HORIZON: &str = concat!(
    "SELECT jsonb_build_object(",
    sql_timestamps!("horizon" => "h.since"),
    ", 'before', $1::text::timestamptz < h.since, 'future', $1::text::timestamptz > now()) AS j ",
    "FROM (SELECT greatest(now() - make_interval(days => $2::int), ",
    "(SELECT complete_since FROM history)) AS since) h"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> AsOf {
        let mut errors = Errors::new();
        let found = AsOf::parse(&mut errors, Some(raw)).unwrap();
        assert!(errors.is_empty());
        found
    }

    #[test]
    fn an_instant_is_normalised_to_utc_and_anything_else_is_named() {
        assert_eq!(
            at("2026-03-04T05:06:07+02:00").instant(),
            "2026-03-04T03:06:07.000000Z"
        );
        let mut errors = Errors::new();
        assert_eq!(AsOf::parse(&mut errors, Some("yesterday")), None);
        assert_eq!(AsOf::parse(&mut errors, Some("'; DROP TABLE x; --")), None);
        assert_eq!(errors.len(), 2);
        assert_eq!(AsOf::parse(&mut Errors::new(), Some("  ")), None);
        assert_eq!(AsOf::parse(&mut Errors::new(), None), None);
    }

    #[test]
    fn scope_puts_the_history_in_front_of_any_statement() {
        let t = at("2026-01-01T00:00:00Z");
        let plain = t.scope("SELECT (SELECT 1 FROM entities e) AS j");
        assert!(plain.starts_with("WITH entities AS NOT MATERIALIZED (SELECT h.id, d.type"));
        assert!(plain.ends_with(") SELECT (SELECT 1 FROM entities e) AS j"));
        assert!(plain.contains("c.at <= '2026-01-01T00:00:00.000000Z'::timestamptz"));
        let with = t.scope("WITH x AS (SELECT 1) SELECT 1");
        assert!(with.starts_with("WITH entities AS NOT MATERIALIZED ("));
        assert!(with.ends_with("), x AS (SELECT 1) SELECT 1"));
        let recursive = t.scope("WITH RECURSIVE bfs(n) AS (SELECT 1) SELECT 1");
        assert!(recursive.starts_with("WITH RECURSIVE entities AS NOT MATERIALIZED ("));
        assert!(recursive.ends_with("), bfs(n) AS (SELECT 1) SELECT 1"));
        assert_eq!(recursive.matches("jsonb_populate_record").count(), 2);
    }

    #[test]
    fn documents_read_each_resources_newest_change_and_skip_tombstones() {
        let sql = at("2026-01-01T00:00:00Z").documents("relationship", "relationships", "type");
        assert_eq!(
            sql,
            "SELECT h.id, d.type FROM (SELECT DISTINCT ON (c.resource_id) c.resource_id AS id, \
             c.document FROM changes c WHERE c.kind = 'relationship' AND c.at <= \
             '2026-01-01T00:00:00.000000Z'::timestamptz ORDER BY c.resource_id, c.seq DESC) h \
             CROSS JOIN LATERAL jsonb_populate_record(NULL::relationships, h.document) d \
             WHERE h.document IS NOT NULL"
        );
    }
}
