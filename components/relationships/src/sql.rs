//! Every statement this component runs, named. Each query returns exactly one row whose first
//! column is `jsonb` built by Postgres (released-Spin rules, SPEC §2): no zero-row results and no
//! `timestamptz` columns cross the boundary. Parameters carry explicit casts so their types never
//! depend on inference. A mutation's `{audit}` slot takes `spingraph_guest::audit::Audit`'s row
//! and its `{change}` slot `spingraph_guest::changes::Change`'s (over the CTE `r`, parameters
//! bound after the statement's own), filled with `spingraph_guest::sql::fill`.
//!
//! Visibility: a relationship is visible when neither it nor either of its entities is
//! soft-deleted; soft-deleting an entity hides its relationships without touching them, so
//! restoring the entity brings them back.

use spingraph_guest::{entity_json_sql, relationship_json_sql as relationship_json};

/// `r` joined to both of its entities as `s` and `t`.
macro_rules! with_ends {
    () => {
        " relationships r JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id "
    };
}

/// Visible: neither the relationship nor either end soft-deleted.
macro_rules! visible {
    () => {
        " (r.deleted_at IS NULL AND s.deleted_at IS NULL AND t.deleted_at IS NULL) "
    };
}

/// A relationship row aliased `r` as the API's JSON (the change feed's document).
pub const RELATIONSHIP_JSON: &str = relationship_json!();

/// Conditions of `GET /v1/relationships` on `r` (with ends `s`, `t`) when it should show only
/// visible rows.
pub const LIST_VISIBLE: &str = visible!();

/// One relationship by id ($1 uuid); `$2` bool: include deleted ones (and those of deleted
/// entities). NULL when there is none.
pub const GET: &str = concat!(
    "SELECT (SELECT ",
    relationship_json!(),
    " FROM",
    with_ends!(),
    "WHERE r.id = $1::uuid AND ($2::bool OR",
    visible!(),
    ")) AS j"
);

/// `$col = $kind`, compared in collation "C" (the same equality as the column's own), which the
/// indexes leading with `type` cannot serve: a look-up by ends and type is always a probe by
/// `source_id` (and `target_id`), never a scan of every relationship of a type that stale
/// statistics think rare (an import's one type looked so until ANALYZE: 4 s a batch).
macro_rules! same_type {
    ($col:literal, $kind:literal) => {
        concat!($col, " COLLATE \"C\" = ", $kind)
    };
}

/// Whether another active relationship than `x` joins `x`'s ends with type `$kind`: what the
/// active (source, target, type) unique index would refuse, checked by the statement itself.
macro_rules! duplicate_of {
    ($kind:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM relationships d WHERE d.source_id = x.source_id ",
            "AND d.target_id = x.target_id AND ",
            same_type!("d.type", $kind),
            " AND d.deleted_at IS NULL AND d.id <> x.id)"
        )
    };
}

/// The live entity at one end of a new relationship: the one with id `$id`, or, when that is
/// NULL, the one of type `$kind` with external_id `$xid` among owner `$owner`'s (NULL:
/// `$caller`'s, natural keys being per owner). At most one row, `id`; the statement share-locks
/// it (a concurrent soft delete waits for the write).
macro_rules! live_end {
    ($id:literal, $kind:literal, $xid:literal, $owner:literal, $caller:literal) => {
        concat!(
            "SELECT e.id FROM entities e WHERE e.deleted_at IS NULL AND (e.id = ",
            $id,
            " OR (",
            $id,
            " IS NULL AND e.owner_id = coalesce(",
            $owner,
            ", ",
            $caller,
            ") AND e.type = ",
            $kind,
            " AND e.external_id = ",
            $xid,
            "))"
        )
    };
}

/// Insert relationship $1 from $2 to $3 (type $4, confidence $5, metadata $6, created_by $7)
/// when both entities exist and are not deleted; an end whose id is NULL is the live entity of
/// type $8 / $10 with external_id $9 / $11 instead, among those of owner $12 / $13 (NULL: $7's,
/// natural keys being per owner). The ends are share-locked so a concurrent
/// soft delete waits. `{source, target, duplicate, relationship}`: which ends exist, whether an
/// active relationship with the same (source, target, type) kept it from being written (`ON
/// CONFLICT DO NOTHING`: the statement says so itself, as no released Spin hands the guest the
/// SQLSTATE of an error raised while a query runs), and the new row (NULL when an end is missing,
/// both name one entity, or a duplicate). Audit source: `r`.
pub const INSERT: &str = concat!(
    "WITH s AS (",
    live_end!("$2::uuid", "$8::text", "$9::text", "$12::uuid", "$7::uuid"),
    " FOR SHARE), t AS (",
    live_end!(
        "$3::uuid",
        "$10::text",
        "$11::text",
        "$13::uuid",
        "$7::uuid"
    ),
    " FOR SHARE), ",
    "r AS (INSERT INTO relationships ",
    "(id, source_id, target_id, type, confidence, metadata, created_by, version, created_at, updated_at) ",
    "SELECT $1::uuid, s.id, t.id, $4::text, $5::float8, $6::jsonb, $7::uuid, 1, now(), now() ",
    "FROM s, t WHERE s.id <> t.id ",
    "ON CONFLICT (source_id, target_id, type) WHERE deleted_at IS NULL DO NOTHING RETURNING *), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT jsonb_build_object('source', EXISTS (SELECT 1 FROM s), 'target', EXISTS (SELECT 1 FROM t), ",
    "'duplicate', EXISTS (SELECT 1 FROM s, t WHERE s.id <> t.id) AND NOT EXISTS (SELECT 1 FROM r), ",
    "'relationship', (SELECT ",
    relationship_json!(),
    " FROM r)) AS j"
);

/// Find the ends of the batch items $1 (a jsonb array of `{ord, source_id, source_type,
/// source_xid, source_owner, target_id, ...}`, each end an id or a natural key as for
/// [`INSERT`]; natural keys among owner `*_owner`'s or, when NULL, $2's) and share-lock them, in
/// id order (as a merge locks: two writers never wait on each other in a cycle). `[{source_id,
/// target_id, existing}]` in `ord` order: each end's live entity (NULL when there is none, or it
/// was deleted before the lock) and the active relationship joining them with the item's `type`
/// (`{id, created_by}`, or NULL).
pub const RESOLVE_BATCH: &str = concat!(
    "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ord int, ",
    "source_id uuid, source_type text, source_xid text, source_owner uuid, ",
    "target_id uuid, target_type text, target_xid text, target_owner uuid, \"type\" text)), ",
    "found AS (SELECT i.ord, i.\"type\", s.id AS source_id, t.id AS target_id FROM input i ",
    "LEFT JOIN LATERAL (",
    live_end!(
        "i.source_id",
        "i.source_type",
        "i.source_xid",
        "i.source_owner",
        "$2::uuid"
    ),
    ") s ON true LEFT JOIN LATERAL (",
    live_end!(
        "i.target_id",
        "i.target_type",
        "i.target_xid",
        "i.target_owner",
        "$2::uuid"
    ),
    ") t ON true), ",
    // each end locked by an id probe, in id order (a join could be planned as a scan of every
    // live entity when the statistics are stale, as they are while an import grows the table)
    "locked AS (SELECT l.id FROM (SELECT source_id AS id FROM found UNION ",
    "SELECT target_id FROM found ORDER BY 1) f CROSS JOIN LATERAL (SELECT e.id FROM entities e ",
    "WHERE e.id = f.id AND e.deleted_at IS NULL FOR SHARE) l), ",
    "ends AS (SELECT f.ord, f.\"type\", ls.id AS source_id, lt.id AS target_id FROM found f ",
    "LEFT JOIN locked ls ON ls.id = f.source_id LEFT JOIN locked lt ON lt.id = f.target_id) ",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('source_id', n.source_id, 'target_id', n.target_id, ",
    "'existing', (SELECT jsonb_build_object('id', x.id, 'created_by', x.created_by) ",
    "FROM relationships x WHERE x.source_id = n.source_id AND x.target_id = n.target_id ",
    "AND ",
    same_type!("x.type", "n.\"type\""),
    " AND x.deleted_at IS NULL)) ORDER BY n.ord), '[]'::jsonb) AS j FROM ends n"
);

/// Write the batch items $1 (a jsonb array of `{ord, id, audit_id, action, existing, source_id,
/// target_id, type, confidence, metadata}`, the ends found by [`RESOLVE_BATCH`] in this
/// transaction) by user $2: `action` `create` inserts relationship `id` (unless an active one
/// joins its ends with its type by now: `ON CONFLICT DO NOTHING`), `update` gives the active
/// relationship `existing` the item's confidence and metadata, `skip` answers `existing` as it
/// is. `[{outcome, relationship}]` in `ord` order, an item missing when it was not written or
/// found. Audit and change sources: `created` and `updated` (slots `{created_log}`,
/// `{updated_log}`, `{created_feed}`, `{updated_feed}`).
pub const INSERT_BATCH: &str = concat!(
    "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ord int, id uuid, audit_id uuid, ",
    "action text, existing uuid, source_id uuid, target_id uuid, \"type\" text, confidence float8, ",
    "metadata jsonb)), ",
    "w AS (INSERT INTO relationships ",
    "(id, source_id, target_id, type, confidence, metadata, created_by, version, created_at, updated_at) ",
    "SELECT id, source_id, target_id, \"type\", confidence, metadata, $2::uuid, 1, now(), now() ",
    "FROM input WHERE action = 'create' ORDER BY ord ",
    "ON CONFLICT (source_id, target_id, type) WHERE deleted_at IS NULL DO NOTHING RETURNING *), ",
    "created AS (SELECT i.ord, i.audit_id, w.* FROM input i JOIN w ON w.id = i.id), ",
    "updated AS (UPDATE relationships x SET confidence = i.confidence, metadata = i.metadata, ",
    "version = x.version + 1, updated_at = now() FROM input i ",
    "WHERE i.action = 'update' AND x.id = i.existing AND x.deleted_at IS NULL ",
    "RETURNING i.ord, i.audit_id, x.*), ",
    "skipped AS (SELECT i.ord, x.* FROM input i JOIN relationships x ON x.id = i.existing ",
    "AND x.deleted_at IS NULL WHERE i.action = 'skip'), ",
    "log_c AS ({created_log}), log_u AS ({updated_log}), ",
    "feed_c AS ({created_feed}), feed_u AS ({updated_feed}) ",
    "SELECT coalesce(jsonb_agg(jsonb_build_object('outcome', o.outcome, 'relationship', o.doc) ",
    "ORDER BY o.ord), '[]'::jsonb) AS j FROM (",
    "SELECT r.ord, 'created' AS outcome, ",
    relationship_json!(),
    " AS doc FROM created r UNION ALL SELECT r.ord, 'updated', ",
    relationship_json!(),
    " FROM updated r UNION ALL SELECT r.ord, 'skipped', ",
    relationship_json!(),
    " FROM skipped r) o"
);

/// Set type $2, confidence $3 and metadata $4 of relationship $1 if it is still visible and at
/// version $5, bumping the version, unless another active relationship joins its ends with type
/// $2. `{duplicate, relationship}`: whether such a one kept it unwritten, and the new row (NULL
/// when it was a duplicate, changed or vanished meanwhile). Audit source: `r`.
pub const UPDATE: &str = concat!(
    "WITH cur AS (SELECT x.id, ",
    duplicate_of!("$2::text"),
    " AS duplicate FROM relationships x WHERE x.id = $1::uuid), ",
    "r AS (UPDATE relationships x SET type = $2::text, confidence = $3::float8, ",
    "metadata = $4::jsonb, version = x.version + 1, updated_at = now() ",
    "FROM cur WHERE x.id = cur.id AND NOT cur.duplicate ",
    "AND x.version = $5::bigint AND x.deleted_at IS NULL ",
    "AND EXISTS (SELECT 1 FROM entities s WHERE s.id = x.source_id AND s.deleted_at IS NULL) ",
    "AND EXISTS (SELECT 1 FROM entities t WHERE t.id = x.target_id AND t.deleted_at IS NULL) ",
    "RETURNING x.*), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT jsonb_build_object('duplicate', coalesce((SELECT duplicate FROM cur), false), ",
    "'relationship', (SELECT ",
    relationship_json!(),
    " FROM r)) AS j"
);

/// Soft-delete relationship $1 by user $2 if it is active and (when $3 is not NULL) at version
/// $3. The deleted row; NULL when nothing matched. Audit source: `r`.
pub const SOFT_DELETE: &str = concat!(
    "WITH r AS (UPDATE relationships x SET deleted_at = now(), deleted_by = $2::uuid, ",
    "version = x.version + 1, updated_at = now() ",
    "WHERE x.id = $1::uuid AND x.deleted_at IS NULL AND ($3::bigint IS NULL OR x.version = $3::bigint) ",
    "RETURNING x.*), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT (SELECT ",
    relationship_json!(),
    " FROM r) AS j"
);

/// Remove relationship $1 for good (deleted or not) if (when $2 is not NULL) it is at version
/// $2; `true` when a row went away. Audit source: `r`.
pub const HARD_DELETE: &str = "WITH r AS (DELETE FROM relationships \
     WHERE id = $1::uuid AND ($2::bigint IS NULL OR version = $2::bigint) \
     RETURNING id, type, version + 1 AS version), \
     log AS ({audit}), feed AS ({change}) \
     SELECT to_jsonb(EXISTS (SELECT 1 FROM r)) AS j";

/// Undelete relationship $1. `{found, deleted, ends_visible, duplicate, relationship}`; the row
/// is only restored when it was deleted, both entities are visible and no active relationship
/// joins its ends with its type (`duplicate`). Audit source: `r`.
pub const RESTORE: &str = concat!(
    "WITH cur AS (SELECT r.id, r.deleted_at IS NOT NULL AS deleted, ",
    "s.deleted_at IS NULL AND t.deleted_at IS NULL AS ends_visible FROM",
    with_ends!(),
    "WHERE r.id = $1::uuid FOR UPDATE OF r), ",
    "dup AS (SELECT ",
    duplicate_of!("x.type"),
    " AS duplicate FROM relationships x JOIN cur ON x.id = cur.id), ",
    "r AS (UPDATE relationships x SET deleted_at = NULL, deleted_by = NULL, ",
    "version = x.version + 1, updated_at = now() ",
    "FROM cur, dup WHERE x.id = cur.id AND cur.deleted AND cur.ends_visible AND NOT dup.duplicate ",
    "RETURNING x.*), ",
    "log AS ({audit}), feed AS ({change}) ",
    "SELECT jsonb_build_object('found', EXISTS (SELECT 1 FROM cur), ",
    "'deleted', coalesce((SELECT deleted FROM cur), false), ",
    "'ends_visible', coalesce((SELECT ends_visible FROM cur), false), ",
    "'duplicate', coalesce((SELECT duplicate FROM dup), false), ",
    "'relationship', (SELECT ",
    relationship_json!(),
    " FROM r)) AS j"
);

/// One page of relationships: `{where}` is a `WHERE ...` clause (or empty) over `r`, `s`, `t`
/// whose parameters the caller bound, `{order_by}` the keyset order, `{limit}` the bound row
/// count.
pub const LIST: &str = concat!(
    "SELECT coalesce(jsonb_agg(x.j ORDER BY x.n), '[]'::jsonb) AS j FROM (",
    "SELECT row_number() OVER (ORDER BY {order_by}) AS n, ",
    relationship_json!(),
    " AS j FROM",
    with_ends!(),
    "{where} ORDER BY {order_by} LIMIT {limit}) x"
);

/// The walks' statement text is shared with `POST /v1/search`'s `expand`
/// (`spingraph_guest::walk`): the bounds, the budget and what fills `{of_type}`.
pub use spingraph_guest::walk::{MAX_EDGES, MAX_EDGES_VISITED};

/// What fills a walk's `{of_type}` slot for an untyped or a one-type walk
/// (`spingraph_guest::walk::of_type`).
pub fn of_type(typed: bool) -> &'static str {
    spingraph_guest::walk::of_type(types(typed))
}

/// A walk statement (`NEIGHBORS`, `PATH`) for a typed or an untyped walk.
pub fn walk(statement: &str, typed: bool) -> String {
    spingraph_guest::walk::walk(statement, types(typed))
}

fn types(typed: bool) -> spingraph_guest::walk::Types {
    match typed {
        true => spingraph_guest::walk::Types::One,
        false => spingraph_guest::walk::Types::Any,
    }
}

/// Neighbors of entity $1 (see `spingraph_guest::walk_neighbors_sql!`): `{found, nodes, edges,
/// truncated, budget_spent}`.
pub const NEIGHBORS: &str = spingraph_guest::walk_neighbors_sql!(one);

/// Shortest path from entity $1 to entity $6 within $4 hops (see
/// `spingraph_guest::walk_bfs_sql!`; $5 caps each level, $7 is the relationship budget). `{from, to, nodes, edges, budget_spent}`: whether each end is
/// visible, then the path in order (nodes from $1 to $6, edges along it), both NULL when $6 was
/// not reached, and whether the walk stopped for its budget (so "not reached" proves nothing).
pub const PATH: &str = concat!(
    spingraph_guest::walk_bfs_sql!(one),
    ", walk(node, parent, edge, depth) AS (",
    "SELECT node, parent, edge, depth FROM reached WHERE node = $6::uuid ",
    "UNION ALL ",
    "SELECT p.node, p.parent, p.edge, p.depth FROM walk w JOIN reached p ON p.node = w.parent) ",
    "SELECT jsonb_build_object(",
    "'from', EXISTS (SELECT 1 FROM entities WHERE id = $1::uuid AND deleted_at IS NULL), ",
    "'to', EXISTS (SELECT 1 FROM entities WHERE id = $6::uuid AND deleted_at IS NULL), ",
    "'budget_spent', (SELECT spent FROM budget_spent), ",
    "'nodes', (SELECT jsonb_agg((SELECT ",
    entity_json_sql!(),
    " || jsonb_build_object('depth', w.depth) FROM entities e WHERE e.id = w.node) ",
    "ORDER BY w.depth) FROM walk w), ",
    "'edges', (SELECT coalesce(jsonb_agg((SELECT ",
    relationship_json!(),
    " FROM relationships r WHERE r.id = w.edge) ORDER BY w.depth), '[]'::jsonb) ",
    "FROM walk w WHERE w.edge IS NOT NULL)",
    ") AS j"
);

#[cfg(test)]
mod tests {
    use super::*;

    const MUTATIONS: [&str; 5] = [INSERT, UPDATE, SOFT_DELETE, HARD_DELETE, RESTORE];
    const BATCH: [&str; 2] = [RESOLVE_BATCH, INSERT_BATCH];

    #[test]
    fn every_statement_returns_one_jsonb_row() {
        for statement in MUTATIONS.iter().chain(&[GET, NEIGHBORS, PATH]) {
            // the final SELECT has no FROM of its own: exactly one row, built by Postgres
            assert!(statement.ends_with(" AS j"), "{statement}");
            assert!(
                statement.starts_with("SELECT (SELECT ") || statement.starts_with("WITH "),
                "{statement}"
            );
        }
        // an aggregate without GROUP BY: one row, `[]` when nothing matches
        assert!(LIST.starts_with("SELECT coalesce(jsonb_agg("), "{LIST}");
        assert!(!LIST.contains("GROUP BY"), "{LIST}");
        for statement in BATCH {
            assert!(statement.starts_with("WITH "), "{statement}");
            assert_eq!(statement.matches("SELECT coalesce(jsonb_agg(").count(), 1);
            assert!(!statement.contains("GROUP BY"), "{statement}");
        }
    }

    #[test]
    fn a_batch_writes_an_audit_and_a_change_row_for_what_it_creates_and_updates() {
        for slot in ["created_log", "updated_log", "created_feed", "updated_feed"] {
            let named = format!("{{{slot}}}");
            assert_eq!(INSERT_BATCH.matches(&named).count(), 1, "{slot}");
        }
        assert!(!RESOLVE_BATCH.contains("INSERT") && !RESOLVE_BATCH.contains("UPDATE"));
    }

    #[test]
    fn a_walk_statement_names_its_type_only_when_typed() {
        for statement in [NEIGHBORS, PATH] {
            assert!(statement.contains("{of_type}"), "{statement}");
            assert!(!statement.contains("$3::text IS NULL OR"), "{statement}");
            let typed = walk(statement, true);
            let untyped = walk(statement, false);
            assert!(!typed.contains("{of_type}") && !untyped.contains("{of_type}"));
            assert!(typed.contains("r.type COLLATE \"C\" = $3::text"), "{typed}");
            assert!(!untyped.contains("r.type COLLATE"), "{untyped}");
            assert!(untyped.contains("$3::text IS NULL"), "{untyped}");
        }
    }

    #[test]
    fn every_mutation_writes_its_audit_row_in_the_same_statement() {
        for statement in MUTATIONS {
            assert_eq!(statement.matches("{audit}").count(), 1, "{statement}");
            assert!(statement.contains("log AS ({audit})"), "{statement}");
        }
    }

    #[test]
    fn timestamps_leave_postgres_as_rfc3339_utc_text() {
        assert_eq!(
            spingraph_guest::sql_timestamp!("r.created_at"),
            "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        );
        for statement in [GET, NEIGHBORS, PATH] {
            assert!(
                !statement.contains("'created_at', r.created_at"),
                "{statement}"
            );
            assert!(
                !statement.contains("'created_at', e.created_at"),
                "{statement}"
            );
        }
    }
}
