//! Bounded breadth-first graph walks, the one form every walk takes: `GET /v1/graph/neighbors`
//! and `/v1/graph/path` (the relationships component) walk from one entity, `POST /v1/search`'s
//! `expand` (the search component) from all its hits at once, through the same statement text
//! ([`walk_bfs_sql!`], [`walk_neighbors_sql!`]), with the same bounds and the same visibility:
//! deleted entities and relationships are never walked.
//!
//! The statements' parameters: $1 the start (one entity id, or a jsonb array of ids), $2
//! direction (`out`, `in`, `both`), $3 the relationship type(s) (see [`of_type`]), $4 depth
//! bound, $5 node cap (per level; a neighbors answer's nodes in all), $6 the node to stop at once
//! reached (NULL = none), $7 the relationship budget ([`MAX_EDGES_VISITED`]), and for a
//! neighbors walk $8 the most edges it lists ([`MAX_EDGES`]).

/// The most edges a neighbors answer lists.
pub const MAX_EDGES: i64 = 5_000;

/// The most relationships one graph walk reads (`$7`): 20 000 index entries and entity look-ups
/// stay in the tens of milliseconds, far inside the statement timeout.
pub const MAX_EDGES_VISITED: i64 = 20_000;

/// Nodes in a neighbors answer (the start nodes included): at most 1000, 100 unless asked.
pub const MAX_NODES: i32 = 1000;
pub const DEFAULT_NODES: i32 = 100;

/// Which way relationships are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// source → target
    Out,
    /// target → source
    In,
    Both,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Out => "out",
            Direction::In => "in",
            Direction::Both => "both",
        }
    }

    /// `out`, `in` or `both`.
    pub fn parse(raw: &str) -> Option<Direction> {
        match raw {
            "out" => Some(Direction::Out),
            "in" => Some(Direction::In),
            "both" => Some(Direction::Both),
            _ => None,
        }
    }
}

/// The relationship types a walk follows, which decides what fills its `{of_type}` slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Types {
    /// Any type: $3 is a NULL text.
    Any,
    /// One type: $3 is text.
    One,
    /// Any of several: $3 is a jsonb array of strings.
    Many,
}

/// What fills a walk's `{of_type}` slot. Separate statement texts rather than `($3 IS NULL OR
/// r.type = $3)`, so that a generic plan (a prepared statement reused by the host's statement
/// cache) still probes the `(source_id, type)` / `(target_id, type)` indexes for a typed walk.
///
/// A typed condition compares in collation "C" (the same equality as the column's own), which
/// only the `(source_id, type COLLATE "C", ...)` / `(target_id, ...)` indexes serve: indexes
/// that lead with `type` cannot take it, so a walk never scans every relationship of a type,
/// however rare the statistics think that type is (a type new since the last ANALYZE looks
/// like it has no rows at all). The list of [`Types::Many`] is read once (an uncorrelated
/// subquery is an init plan), then compared per relationship like one type.
pub fn of_type(types: Types) -> &'static str {
    match types {
        Types::Any => "$3::text IS NULL",
        Types::One => "r.type COLLATE \"C\" = $3::text",
        Types::Many => {
            "r.type COLLATE \"C\" = ANY (ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))"
        }
    }
}

/// A walk statement for the relationship types `types` follows.
pub fn walk(statement: &str, types: Types) -> String {
    crate::sql::fill(statement, &[("of_type", of_type(types))])
}

/// The first level of a walk (the recursive CTE's base case): `one` starts from entity $1
/// (uuid), `many` from every entity of the jsonb array of ids $1 at once. No row when no start
/// entity is live.
#[doc(hidden)]
#[macro_export]
macro_rules! walk_start_sql {
    (one) => {
        concat!(
            "SELECT 0, ARRAY[e.id], ARRAY[NULL::uuid], ARRAY[NULL::uuid], ARRAY[e.id], 0::bigint ",
            "FROM entities e WHERE e.id = $1::uuid AND e.deleted_at IS NULL "
        )
    };
    (many) => {
        concat!(
            "SELECT 0, s.ids, array_fill(NULL::uuid, ARRAY[cardinality(s.ids)]), ",
            "array_fill(NULL::uuid, ARRAY[cardinality(s.ids)]), s.ids, 0::bigint ",
            "FROM (SELECT array_agg(e.id ORDER BY e.id) AS ids FROM entities e ",
            "WHERE e.id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid) ",
            "AND e.deleted_at IS NULL) s WHERE s.ids IS NOT NULL "
        )
    };
}

/// Breadth-first search from the start ([`walk_start_sql!`]: `one` or `many`) as one bounded
/// statement: one row per level holding the level's new nodes (with the parent and relationship
/// that reached each), every node seen so far and the relationships read so far (`scanned`), so
/// a node is expanded at most once (cycles terminate), each level holds at most $5 nodes, and the
/// whole walk reads at most $7 + 1 relationships: each level reads at most what is left of the
/// budget plus one, and no level starts once the budget is spent. Cost follows relationships
/// read, not nodes kept, so a hub with 100 000 relationships costs what $7 allows, whatever the
/// depth. Parameters: see the module. Deleted entities and relationships are never walked.
/// Produces CTE `reached(node, parent, edge, depth)`, each node once, and `budget_spent`: one
/// boolean row, true when the walk stopped for its budget (so a level may be partial and deeper
/// ones were not walked).
#[macro_export]
macro_rules! walk_bfs_sql {
    ($start:ident) => {
        concat!(
            "WITH RECURSIVE bfs(depth, nodes, parents, edges, visited, scanned) AS (",
            $crate::walk_start_sql!($start),
            "UNION ALL ",
            "SELECT b.depth + 1, n.nodes, n.parents, n.edges, b.visited || n.nodes, ",
            "b.scanned + n.scanned FROM bfs b ",
            "CROSS JOIN LATERAL (",
            // the relationships this level reads: what is left of the budget, plus one to tell
            // "exactly spent" from "more there"; each frontier node's by an equality on the
            // leading column of the `(source_id|target_id, type COLLATE "C", ...)` indexes (a
            // LATERAL that OFFSET 0 keeps a per-node probe): whatever the statistics say, the
            // plan is a probe per node, never a scan of an index by its second column
            "WITH x AS (",
            "SELECT e.target_id AS node, e.source_id AS parent, e.id AS edge ",
            "FROM unnest(b.nodes) AS f(node) CROSS JOIN LATERAL (",
            "SELECT r.source_id, r.target_id, r.id FROM relationships r WHERE r.source_id = f.node ",
            "AND r.deleted_at IS NULL AND {of_type} OFFSET 0) e ",
            "WHERE $2::text IN ('out', 'both') ",
            "UNION ALL ",
            "SELECT e.source_id, e.target_id, e.id ",
            "FROM unnest(b.nodes) AS f(node) CROSS JOIN LATERAL (",
            "SELECT r.source_id, r.target_id, r.id FROM relationships r WHERE r.target_id = f.node ",
            "AND r.deleted_at IS NULL AND {of_type} OFFSET 0) e ",
            "WHERE $2::text IN ('in', 'both') ",
            "LIMIT $7::bigint - b.scanned + 1) ",
            "SELECT (SELECT count(*) FROM x) AS scanned, ",
            "coalesce(array_agg(s.node ORDER BY s.node), '{}') AS nodes, ",
            "coalesce(array_agg(s.parent ORDER BY s.node), '{}') AS parents, ",
            "coalesce(array_agg(s.edge ORDER BY s.node), '{}') AS edges FROM (",
            "SELECT DISTINCT ON (x.node) x.node, x.parent, x.edge FROM x ",
            // each candidate's entity looked up by id: a LATERAL with LIMIT is never turned into
            // a hash join over the whole table, whatever the statistics say
            "CROSS JOIN LATERAL (SELECT 1 FROM entities e WHERE e.id = x.node ",
            "AND e.deleted_at IS NULL LIMIT 1) live ",
            // an anti-join against the seen set (hashed), not `<> ALL`, which is candidates × seen
            "WHERE NOT EXISTS (SELECT 1 FROM unnest(b.visited) AS v(id) WHERE v.id = x.node) ",
            "ORDER BY x.node, x.edge LIMIT $5::int) s) n ",
            "WHERE b.depth < $4::int AND cardinality(b.nodes) > 0 AND b.scanned <= $7::bigint ",
            "AND ($6::uuid IS NULL OR NOT ($6::uuid = ANY (b.visited)))), ",
            "reached AS (SELECT u.node, u.parent, u.edge, b.depth ",
            "FROM bfs b, unnest(b.nodes, b.parents, b.edges) AS u(node, parent, edge)), ",
            "budget_spent AS (SELECT coalesce(max(scanned), 0) > $7::bigint AS spent FROM bfs)"
        )
    };
}

/// The neighbourhood of the start (`one` or `many`, see [`walk_bfs_sql!`]) up to depth $4, at
/// most $5 nodes in all (the start nodes included, nearest first), and the visible relationships
/// (of the walk's types) among them, at most $8. `{found, nodes, edges, truncated,
/// budget_spent}`; `found` is false when no start entity is live; `truncated` is true when nodes
/// or edges were left out, for the limits or because the walk spent its budget. Each node is
/// the entity's document with its `depth`.
///
/// The edges are found from the kept nodes, never from the table: each kept node's outgoing
/// relationships through the `source_id` indexes (nearest nodes first, at most $7 + 1 in all,
/// the walk's own budget), kept when their target is kept too. So the statement reads about what
/// it answers, however large the table (issue 26: the old form was planned as a scan of every
/// live relationship). `{of_type}`: see [`of_type`].
#[macro_export]
macro_rules! walk_neighbors_sql {
    ($start:ident) => {
        concat!(
            $crate::walk_bfs_sql!($start),
            ", kept AS (SELECT * FROM reached ORDER BY depth, node LIMIT $5::int), ",
            // OFFSET 0 keeps the LATERAL a per-node index probe (it is never flattened into a
            // join that could be planned as a scan of the table)
            "edge_reads AS (SELECT r.* FROM kept k CROSS JOIN LATERAL (SELECT r.* FROM relationships r ",
            "WHERE r.source_id = k.node AND r.deleted_at IS NULL AND {of_type} OFFSET 0) r ",
            "LIMIT $7::bigint + 1), ",
            "edge_rows AS (SELECT c.* FROM edge_reads c WHERE c.target_id IN (SELECT node FROM kept) ",
            "ORDER BY c.id LIMIT $8::bigint + 1) ",
            "SELECT jsonb_build_object(",
            "'found', EXISTS (SELECT 1 FROM kept), ",
            // each node's document by id (a correlated subquery: an index probe per kept node)
            "'nodes', (SELECT coalesce(jsonb_agg((SELECT ",
            $crate::entity_json_sql!(),
            " || jsonb_build_object('depth', k.depth) FROM entities e WHERE e.id = k.node) ",
            "ORDER BY k.depth, k.node), '[]'::jsonb) FROM kept k), ",
            "'edges', (SELECT coalesce(jsonb_agg(",
            $crate::relationship_json_sql!(),
            " ORDER BY r.id), '[]'::jsonb) FROM (SELECT * FROM edge_rows ORDER BY id LIMIT $8::bigint) r), ",
            "'budget_spent', (SELECT spent FROM budget_spent), ",
            "'truncated', (SELECT count(*) FROM reached) > $5::int ",
            "OR (SELECT count(*) FROM edge_rows) > $8::bigint ",
            "OR (SELECT count(*) FROM edge_reads) > $7::bigint OR (SELECT spent FROM budget_spent)",
            ") AS j"
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = crate::walk_neighbors_sql!(one);
    const MANY: &str = crate::walk_neighbors_sql!(many);

    #[test]
    fn both_starts_walk_the_same_statement_after_their_first_level() {
        let tail = |s: &'static str| &s[s.find("UNION ALL ").unwrap()..];
        assert_eq!(tail(ONE), tail(MANY));
        assert!(ONE.contains("e.id = $1::uuid"));
        assert!(MANY.contains("jsonb_array_elements_text($1::jsonb)::uuid"));
    }

    #[test]
    fn every_walk_is_bounded_by_its_level_cap_depth_and_budget() {
        for statement in [ONE, MANY] {
            assert!(statement.starts_with("WITH RECURSIVE bfs"));
            assert!(statement.ends_with(") AS j"));
            assert!(statement.contains("NOT EXISTS (SELECT 1 FROM unnest(b.visited)"));
            assert!(statement.contains("LIMIT $5::int"));
            assert!(statement.contains("LIMIT $7::bigint - b.scanned + 1"));
            assert!(statement.contains("b.scanned <= $7::bigint"));
            assert!(statement.contains("b.depth < $4::int"));
        }
    }

    #[test]
    fn a_walk_names_its_types_only_when_typed() {
        let any = walk(ONE, Types::Any);
        let one = walk(ONE, Types::One);
        let many = walk(MANY, Types::Many);
        for s in [&any, &one, &many] {
            assert!(!s.contains("{of_type}"));
        }
        assert!(!any.contains("r.type COLLATE"));
        assert!(one.contains("r.type COLLATE \"C\" = $3::text"));
        assert!(many.contains(
            "r.type COLLATE \"C\" = ANY (ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))"
        ));
    }

    #[test]
    fn directions_parse_from_their_names() {
        for d in [Direction::Out, Direction::In, Direction::Both] {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
        assert_eq!(Direction::parse("up"), None);
    }
}
